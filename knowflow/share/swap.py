"""Putting a newly built site in place of the old one, so that DIR always holds a whole
site, and clearing what killed publishes left beside it.

The site is built in ``.DIR.knowflow-PID`` beside DIR, then the two folders trade
places in one step (Linux's ``renameat2`` with ``RENAME_EXCHANGE``, macOS's
``renamex_np`` with ``RENAME_SWAP``): DIR stays a real folder, a web server or an
``rsync`` pointed at it never finds it missing or half-written, and the old site,
now at the build's name, is deleted. Where the file system cannot exchange, DIR is
moved aside to ``.DIR.old-PID`` and the new site renamed in; a run killed between
those two renames leaves no DIR, and the next publish puts the old site back first.

Why not make DIR a symlink to versioned folders, swapped by one rename? It is as
atomic, but DIR would then be a link: ``cp -r DIR`` and ``rsync -a DIR`` (without
a trailing slash) copy the link rather than the site, and a folder the person
already serves would have to be deleted to make room for the link. Why not swap
the files one by one inside DIR? A reader would see a mix of two sites.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
from pathlib import Path

from knowflow.errors import PublishError
from knowflow.vault.files import crash_point, process_alive

# What a file system says when it cannot exchange two names in one step.
_CANNOT_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}


def build_folder(target: Path) -> Path:
    """Where this process builds the site that will replace ``target``."""
    return target.parent / f".{target.name}.knowflow-{os.getpid()}"


def clear_leftovers(target: Path) -> None:
    """Delete the build and old folders that publishes since killed left beside
    ``target``; if one was killed between its two renames (so that no site is at
    ``target``), its old site goes back in place first."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(knowflow|old)-(\d+)")
    try:
        beside = list(target.parent.iterdir())
    except OSError:
        return
    stale = []
    for folder in beside:
        found = pattern.fullmatch(folder.name)
        if found and not process_alive(int(found.group(2))):
            stale.append((found.group(1), folder))
    for kind, folder in sorted(stale, key=lambda s: s[0] != "old"):
        if kind == "old" and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                folder.rename(target)
                continue
        shutil.rmtree(folder, ignore_errors=True)


def swap_in(built: Path, target: Path) -> None:
    """Put the site built at ``built`` in place at ``target``; the old one is deleted."""
    crash_point("publish-built")
    if not target.exists():
        _rename(built, target)
        return
    with contextlib.suppress(OSError):  # DIR keeps the permissions it was given
        built.chmod(stat.S_IMODE(target.stat().st_mode))
    try:
        _exchange(built, target)
    except OSError as exc:
        if exc.errno not in _CANNOT_EXCHANGE:
            _refuse(built, target, exc)
        _two_renames(built, target)
        return
    crash_point("publish-swapped")
    shutil.rmtree(built, ignore_errors=True)  # the old site, now at the build's name


def _two_renames(built: Path, target: Path) -> None:
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    try:
        target.rename(old)
    except OSError as exc:
        _refuse(built, target, exc)
    crash_point("publish-between-renames")
    try:
        built.rename(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            old.rename(target)
        _refuse(built, target, exc)
    shutil.rmtree(old, ignore_errors=True)


def _rename(built: Path, target: Path) -> None:
    try:
        built.rename(target)
    except OSError as exc:
        _refuse(built, target, exc)


def _refuse(built: Path, target: Path, exc: OSError) -> None:
    shutil.rmtree(built, ignore_errors=True)
    hint = " (a mount point cannot be replaced: publish into a folder inside it)"
    raise PublishError(
        f"cannot put the site in place at {target}: {exc.strerror or exc}"
        + (hint if exc.errno == errno.EBUSY else "")
        + "; the site there was kept as it was"
    ) from None


def _exchange(a: Path, b: Path) -> None:
    """Trade the names of two folders in one step, or OSError (ENOSYS where the system
    has no way to)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        done = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        done = libc.renamex_np(os.fsencode(a), os.fsencode(b), 2)  # RENAME_SWAP
    else:
        raise OSError(errno.ENOSYS, "no atomic exchange of two names here")
    if done != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(b))

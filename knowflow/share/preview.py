""" "View as": an audience's site, built exactly as ``publish`` builds it, into a cache
folder of the vault's own (``.knowflow/view/<audience>/``), so that the person can
read what the audience would read, page by page, before publishing it.

The cache is built again only when something it is made from changed: the indexed
files (path, size, time and content hash of each) and config.toml. A rebuild is
publish's incremental one: only pages whose inputs changed are rendered again.
Whatever the gate leaves out of a site is not in the cache either; it is the same
code path, not a second renderer that could disagree with it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path, PurePosixPath

from knowflow import __version__
from knowflow.index.index import Index
from knowflow.share.audiences import audience as find_audience
from knowflow.share.site import FORMAT, Progress, publish
from knowflow.vault.files import FileStamp, atomic_write
from knowflow.vault.vault import Vault

FOLDER = "view"
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_lock = threading.Lock()


def view_folder(vault: Vault, audience_name: str) -> Path:
    """The cache folder of an audience's site ('+' stands for '/', which no audience
    name holds twice in a row and no folder name can hold)."""
    return vault.state_dir / FOLDER / audience_name.replace("/", "+")


def inputs_digest(index: Index) -> str:
    """A digest of everything a site is made from, as the index knows it."""
    digest = hashlib.sha256(f"{__version__}\x00{FORMAT}\x00".encode())
    try:
        digest.update(index.vault.config_path.read_bytes())
    except OSError:
        digest.update(b"no config")
    rows = index.conn.execute(
        "SELECT path, size, mtime_ns, coalesce(hash, '') FROM files ORDER BY path"
    )
    for path, size, mtime, content in rows:
        digest.update(f"{path}\x00{size}\x00{mtime}\x00{content}\x01".encode())
    for row in index.conn.execute("SELECT path, kind FROM problems ORDER BY path, kind"):
        digest.update(f"{row[0]}\x00{row[1]}\x02".encode())
    return digest.hexdigest()


def view_site(index: Index, audience_name: str, progress: Progress | None = None) -> Path:
    """The folder holding the audience's site as of the index now, built or brought up
    to date first if need be (AudienceNotFound for an audience config.toml lacks).
    The caller scans the index first if the files may have changed; ``progress`` is
    told of each note's page, as publish tells it."""
    vault = index.vault
    find_audience(vault, audience_name)
    folder = view_folder(vault, audience_name)
    stamp = folder.with_name(folder.name + ".inputs")
    with _lock(vault, audience_name):
        wanted = inputs_digest(index)  # before building: a change meanwhile rebuilds next time
        try:
            if folder.is_dir() and stamp.read_text("utf-8") == wanted:
                return folder
        except OSError:
            pass
        folder.parent.mkdir(parents=True, exist_ok=True)
        publish(index, audience_name, folder, progress=progress, record=False)
        atomic_write(stamp, wanted, _stamp_of(stamp), durable=False)
    return folder


def site_file(folder: Path, relative: str) -> Path | None:
    """The file of the site in ``folder`` at the address ``relative`` (a folder's
    address, empty or ending in '/', means its ``index.html``), or None when there is
    none or the address would leave the folder (``..``, absolute, hidden names such as
    the site's manifest, a symlink out)."""
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    parts = PurePosixPath(relative).parts
    if (
        "\\" in relative
        or "\x00" in relative
        or relative.startswith("/")
        or any(part in ("", ".", "..") or part.startswith(".") for part in parts)
    ):
        return None
    root = folder.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _lock(vault: Vault, audience_name: str) -> threading.Lock:
    key = (str(vault.root), audience_name)
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


def _stamp_of(path: Path) -> FileStamp | None:
    return FileStamp.of(path) if path.exists() else None

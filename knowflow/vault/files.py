"""Files in the vault: walking the folder, reading safely, writing atomically.

Everything here treats the person's files as precious: reads never modify,
writes go to a temporary file that replaces the original in one rename, and a
write refuses to go ahead when the file changed on disk since it was read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from knowflow.errors import ConflictError, DiskFull, is_disk_full

NOTE_SUFFIXES = (".md",)
# Folders that belong to tools, not to the person's notes.
SKIPPED_DIRS = frozenset({".knowflow", ".obsidian", ".git", ".trash", "node_modules"})


def content_hash(data: bytes) -> str:
    """A short, stable fingerprint of a file's bytes."""
    import hashlib  # here, not at the top: commands that only look things up never hash

    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FileStamp(NamedTuple):
    """What a file looked like when it was read: compared again before a write."""

    size: int
    mtime_ns: int
    hash: str

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        data = path.read_bytes()
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, content_hash(data))


class WalkEntry(NamedTuple):
    """One file found in the vault.

    A tuple, because a rescan makes one per file before every command, and compares
    it as a whole with the (path, size, mtime, is_note) rows of the index.
    """

    path: str  # vault-relative, with '/' separators
    size: int
    mtime_ns: int
    is_note: bool


class WalkProblem(NamedTuple):
    """Something found while walking that could not be indexed normally."""

    path: str
    kind: str  # 'symlink-loop' or 'unreadable'
    message: str


def is_note_path(name: str) -> bool:
    return name.lower().endswith(NOTE_SUFFIXES)


def walk_vault(root: Path) -> tuple[list[WalkEntry], list[WalkProblem]]:
    """List every note and attachment under root.

    Symlinked folders are followed, as Obsidian does, but a folder already
    visited (by device and inode) is reported as a symlink loop instead of
    being walked again. Hidden folders and tool folders are skipped. A symlink
    (to a file or a folder) whose target lies outside the vault is reported as
    ``outside-vault``: what it leads to is indexed, but not published.
    """
    walk = _Walk(root)
    while walk.stack:
        abs_dir, rel_dir = walk.stack.pop()
        try:
            with os.scandir(abs_dir) as it:
                children = list(it)
        except OSError as exc:
            walk.problems.append(WalkProblem(rel_dir or ".", "unreadable", _describe(exc)))
            continue
        base = f"{rel_dir}/" if rel_dir else ""
        entries = walk.entries
        for child in children:
            name = child.name
            # The common case inline: a plain file that is not a symlink.
            if not name.startswith(".") and child.is_file(follow_symlinks=False):
                try:
                    st = child.stat()
                except OSError:
                    pass  # gone or unreadable meanwhile: visit says which
                else:
                    note = name.lower().endswith(NOTE_SUFFIXES)
                    entries.append(WalkEntry(base + name, st.st_size, st.st_mtime_ns, note))
                    continue
            walk.visit(child, base + name)
    return walk.entries, walk.problems


class _Walk:
    """What a walk has found so far, and the folders it has still to read."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.entries: list[WalkEntry] = []
        self.problems: list[WalkProblem] = []
        root_st = root.stat()
        self.seen_dirs = {(root_st.st_dev, root_st.st_ino)}
        self.stack: list[tuple[str, str]] = [(str(root), "")]  # (folder, its vault path)

    def visit(self, child: os.DirEntry[str], rel: str) -> None:
        name = child.name
        try:
            st = child.stat()  # follows symlinks
        except OSError as exc:
            if child.is_symlink():
                kind = "symlink-loop" if _is_loop_error(exc) else "unreadable"
                if kind == "symlink-loop" or is_note_path(name):
                    self.problems.append(WalkProblem(rel, kind, _describe(exc)))
            else:
                self.problems.append(WalkProblem(rel, "unreadable", _describe(exc)))
            return
        if name.startswith(".") and (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            return
        if stat.S_ISDIR(st.st_mode):
            if name in SKIPPED_DIRS:
                return
            if child.is_symlink():
                self._check_target(child.path, rel)
            key = (st.st_dev, st.st_ino)
            if key in self.seen_dirs:
                self.problems.append(
                    WalkProblem(rel, "symlink-loop", "folder already visited through another path")
                )
                return
            self.seen_dirs.add(key)
            self.stack.append((child.path, rel))
        elif stat.S_ISREG(st.st_mode):
            if child.is_symlink():
                self._check_target(child.path, rel)
            self.entries.append(WalkEntry(rel, st.st_size, st.st_mtime_ns, is_note_path(name)))
        elif is_note_path(name):
            self.problems.append(WalkProblem(rel, "unreadable", "not a regular file"))

    def _check_target(self, link: str, rel: str) -> None:
        """Report a symlink whose target lies outside the vault (what lies under a folder
        it leads to is then outside too, and the gate leaves it all out)."""
        real = os.path.realpath(link)
        if real == self.root or real.startswith(self.root + os.sep):
            return
        self.problems.append(
            WalkProblem(
                rel,
                "outside-vault",
                f"a symlink to {real}, outside the vault",  # check says what follows
            )
        )


def _is_loop_error(exc: OSError) -> bool:
    return exc.errno == errno.ELOOP


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def read_bytes(path: Path) -> bytes:
    """Read a whole file; OSError propagates for the caller to report."""
    with path.open("rb") as fh:
        return fh.read()


def atomic_write(
    path: Path, text: str | bytes, expected: FileStamp | None = None, *, durable: bool = True
) -> FileStamp:
    """Write text (UTF-8) or bytes to path so that readers see the old file or the new,
    never half.

    With ``expected``, the write is refused (ConflictError) if the file on disk
    no longer matches what was read; with ``expected=None`` the file must not
    exist yet. ``durable=False`` skips the fsyncs, for bulk writers that sync
    once at the end; the write stays atomic.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    if expected is not None and path.is_symlink():
        # A symlinked file is written where the link leads, and the link stays a link
        # (as an editor writes it): replacing it would cut it off from its file.
        path = Path(os.path.realpath(path))
    _check_unchanged(path, expected)
    try:
        return _write_replacing(path, data, expected, durable)
    except OSError as exc:
        if is_disk_full(exc):
            what = "was not changed" if expected is not None else "was not written"
            raise DiskFull(f"the disk is full: {path} {what}") from None
        raise


def _umask() -> int:
    """The process's umask, read without setting it (os.umask can only swap it, which
    would race with other threads); 022 where /proc does not say."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _write_replacing(
    path: Path, data: bytes, expected: FileStamp | None, durable: bool
) -> FileStamp:
    import tempfile

    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if path.exists():
            tmp.chmod(stat.S_IMODE(path.stat().st_mode))
        else:  # as open() would make it (mkstemp's 0600 would hide it from a sync tool)
            tmp.chmod(0o666 & ~_umask())
        # Checked again right before the rename to keep the race window small.
        _check_unchanged(path, expected)
        if expected is None:
            # link() fails if the target appeared meanwhile, unlike replace().
            os.link(tmp, path)
            tmp.unlink()
        else:
            tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)
    st = path.stat()
    return FileStamp(st.st_size, st.st_mtime_ns, content_hash(data))


def _temp_start(path: Path) -> str:
    """How the names of temporary files for ``path`` start: hidden, naming the file
    (cut so that a temporary name fits a file name's 255 bytes)."""
    return f".{path.name.encode()[:150].decode('utf-8', 'ignore')}."


def _temp_prefix(path: Path) -> str:
    # The writer's process id, so a file a killed writer left is told from one being written.
    return f"{_temp_start(path)}{os.getpid()}."


def clear_stale_temps(path: Path) -> None:
    """Delete temporary files that writers of ``path`` killed mid-write left beside it."""
    start = _temp_start(path)
    with contextlib.suppress(OSError):
        for other in path.parent.iterdir():
            name = other.name
            if not (name.startswith(start) and name.endswith(".tmp")):
                continue
            pid = name[len(start) :].split(".", 1)[0]
            if pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(FileNotFoundError):
                    other.unlink()


def process_alive(pid: int) -> bool:
    """Whether a process with this id is running (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_unchanged(path: Path, expected: FileStamp | None) -> None:
    if expected is None:
        if os.path.lexists(path):  # a symlink, even to nothing, is a file in the way
            raise ConflictError(f"{path} already exists")
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConflictError(f"{path} was deleted since it was read") from None
    if st.st_size == expected.size and st.st_mtime_ns == expected.mtime_ns:
        return
    if content_hash(read_bytes(path)) != expected.hash:
        raise ConflictError(f"{path} changed on disk since it was read; not overwritten")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def iter_parents(path: Path) -> Iterator[Path]:
    """path itself, then each folder above it."""
    yield path
    yield from path.parents


def crash_point(name: str) -> None:
    """Die here, as ``kill -9`` would, when ``KNOWFLOW_CRASH_AT`` names this point.

    Kill tests set it to land a crash exactly at a moment that random kills rarely
    hit (between two renames, say); nothing else reads it, and unset it costs a
    dictionary lookup."""
    if os.environ.get("KNOWFLOW_CRASH_AT") == name:
        os._exit(137)

"""Renaming and moving a note or attachment without breaking a link to anything.

Every link that led to the file is rewritten to lead to it under its new name:
wikilinks written with or without folders, Markdown links (URL-encoded),
embeds; heading and block anchors and display text stay as written, and the new
target is the shortest form that stays unambiguous. Links elsewhere that would
now resolve differently (a link ``[[New]]`` that meant another ``New.md``, or
the moved note's own relative links) are rewritten too, so that after the
change every link leads where it led before. Links in code and comments are
not links and are left alone.

The work is journaled in ``.knowflow/rename.json`` before anything is written:
each file is written atomically and only if it is still as it was read, then
the file itself is renamed. A run that is killed leaves the journal, and the
next rename or move finishes it first, so the result is that of one clean run.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from knowflow.errors import (
    AmbiguousNote,
    ConflictError,
    KnowflowError,
    NoteExists,
    NoteNotFound,
)
from knowflow.index.index import Index
from knowflow.vault.files import (
    FileStamp,
    atomic_write,
    clear_stale_temps,
    content_hash,
    read_bytes,
)
from knowflow.vault.markdown import Link, link_spans
from knowflow.vault.names import file_keys, name_key, strip_md, target_keys
from knowflow.vault.resolve import Candidate, Names, Resolution, resolve

JOURNAL = "rename.json"  # a rename under way
DONE = "renamed.json"  # the last rename finished
MAX_NAME_BYTES = 255  # what Linux, macOS and Windows file systems allow in one name
# Characters that a file name may not hold, or that would break a link to it.
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]]')
# What a Markdown link leaves unencoded, as a browser's encodeURI does (but # and ?).
_URL_SAFE = "/!$&'()*+,;=:@~"
_WIKI_TARGET = re.compile(r"^(!?\[\[)([^#|\\\]]*)")
_MD_HREF = re.compile(r"\]\(\s*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)")


@dataclass(frozen=True, slots=True)
class LinkEdit:
    """One link rewritten: in which file (as it is named now), on which line."""

    path: str
    line: int
    before: str
    after: str

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "before": self.before, "after": self.after}


@dataclass
class Renaming:
    """A rename or move: the file's old and new vault paths and every link edit."""

    old: str
    new: str
    edits: list[LinkEdit] = field(default_factory=list)
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (hash, new text)
    skipped: list[str] = field(default_factory=list)  # files changed meanwhile: not written
    already: bool = False  # done before, by a run that finished or was killed after it

    def as_dict(self) -> dict[str, object]:
        return {
            "old": self.old,
            "new": self.new,
            "edits": [e.as_dict() for e in self.edits],
            "files": sorted(self.texts),
            "skipped": self.skipped,
            "already": self.already,
        }


def rename(index: Index, name: str, new_name: str, *, dry_run: bool = False) -> Renaming:
    """Rename the note or attachment ``name`` to ``new_name`` in its folder (an
    attachment keeps its extension unless a new one is given)."""
    clean = _check_name(new_name)

    def renamed(old: str) -> str:
        named = clean
        if old.endswith(".md"):
            named = strip_md(clean) + ".md"
        elif "." not in clean and "." in posixpath.basename(old):
            named += posixpath.splitext(old)[1]
        return posixpath.join(posixpath.dirname(old), named)

    return _change(index, name, renamed, dry_run)


def move(index: Index, name: str, folder: str, *, dry_run: bool = False) -> Renaming:
    """Move the note or attachment ``name`` into ``folder`` (vault-relative; made if
    need be), keeping its name."""
    target = posixpath.normpath(folder.strip().replace("\\", "/").strip("/") or ".")
    if target.startswith("..") or any(p.startswith(".") for p in target.split("/") if p != "."):
        raise ValueError(f"{folder!r} is not a folder of the vault's notes")

    def moved(old: str) -> str:
        return posixpath.normpath(posixpath.join(target, posixpath.basename(old)))

    return _change(index, name, moved, dry_run)


def _change(index: Index, name: str, new_path: Callable[[str], str], dry_run: bool) -> Renaming:
    """Rename the file ``name`` names to ``new_path(its path)``, once any rename a
    killed run left is finished. When the file is gone because this very change was
    made already (a run killed after it, or the same command twice), say so."""
    finish_interrupted(index)
    try:
        old = find_file(index, name)
    except NoteNotFound:
        last = _last_done(index)
        if last is None or not _is(name, last.old) or new_path(last.old) != last.new:
            raise
        if not (index.vault.root / last.new).exists():
            raise
        last.already = True
        return last
    return _renamed(index, old, new_path(old), dry_run)


def _is(name: str, path: str) -> bool:
    """Whether a name as given on the command line named this path (by path or name)."""
    wanted = name_key(strip_md(name.strip().lstrip("/")))
    return wanted in (name_key(strip_md(path)), file_keys(path, path.endswith(".md"))[0])


def find_file(index: Index, name: str) -> str:
    """The vault path of a note (by path, title, alias) or an attachment (by path or
    file name)."""
    try:
        return index.note(name).path
    except AmbiguousNote:
        raise
    except NoteNotFound:
        key = name_key(name.strip().lstrip("/"))
        rows = index.conn.execute(
            "SELECT path FROM files WHERE is_note = 0 AND (path_key = ? OR name_key = ?)"
            " ORDER BY path",
            (key, key),
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        if rows:
            paths = ", ".join(r[0] for r in rows)
            raise NoteNotFound(f"{name!r} names {len(rows)} files: {paths}") from None
        raise NoteNotFound(f"no note or attachment named {name!r}") from None


def _check_name(new_name: str) -> str:
    clean = new_name.strip()
    if not clean or clean in (".", ".."):
        raise ValueError("a new name is needed")
    if clean.startswith("."):
        raise ValueError(f"{clean!r} starts with a dot: hidden files are not notes (Obsidian too)")
    if bad := sorted(set(_UNSAFE.findall(clean))):
        hint = "; to change folders, use `knowflow move`" if "/" in bad or "\\" in bad else ""
        raise ValueError(
            f"{clean!r} holds {' '.join(bad)}, which a file name cannot hold or a link "
            f"cannot name{hint}"
        )
    _check_length(clean + ".md")
    return clean


def _check_length(name: str) -> None:
    if len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"{name!r} is longer than a file name may be ({MAX_NAME_BYTES} bytes)")


def _renamed(index: Index, old: str, new: str, dry_run: bool) -> Renaming:
    if new == old:
        return Renaming(old, new, already=True)
    root = index.vault.root
    for part in new.split("/"):
        _check_length(part)
    parent = (root / new).parent
    while parent != root and not parent.is_dir():
        if parent.exists():
            raise NoteExists(f"{parent.relative_to(root)} is a file, not a folder; nothing moved")
        parent = parent.parent
    taken = index.conn.execute(
        "SELECT path FROM files WHERE path_key = ? AND path != ?",
        (name_key(strip_md(new) if new.endswith(".md") else new), old),
    ).fetchone()
    if taken or ((root / new).exists() and name_key(new) != name_key(old)):
        raise NoteExists(f"{new} already exists; nothing renamed")
    plan = _plan(index, old, new)
    if not dry_run:
        _apply(index, plan)
    return plan


def _plan(index: Index, old: str, new: str) -> Renaming:
    """Every link edit the change needs, worked out on the files as they are now."""
    files = index.conn.execute("SELECT path, is_note FROM files").fetchall()
    before = _names((p, bool(n)) for p, n in files)
    after = _names((new if p == old else p, bool(n)) for p, n in files)
    old_key = file_keys(old, old.endswith(".md"))[0]
    new_key = file_keys(new, new.endswith(".md"))[0]
    sources = {
        p
        for (p,) in index.conn.execute(
            "SELECT DISTINCT f.path FROM links l JOIN files f ON f.id = l.file_id"
            " WHERE l.resolved_path = ? OR l.target_key IN (?, ?)",
            (old, old_key, new_key),
        )
    }
    if old.endswith(".md"):
        sources.add(old)
    plan = Renaming(old, new)
    for source in sorted(sources):
        _plan_file(index.vault.root, source, plan, before, after)
    return plan


def _plan_file(root: Path, source: str, plan: Renaming, before: Names, after: Names) -> None:
    try:
        data = read_bytes(root / source)
    except OSError:
        return  # gone since the index saw it: nothing of it to rewrite
    # Bytes that are not UTF-8 pass through untouched: only links are rewritten.
    text = data.decode("utf-8", "surrogateescape")
    moved_to = plan.new if source == plan.old else source
    out, pos = [], 0
    for start, end, link in link_spans(text):
        was = _lead(link, source, before)
        expected = plan.new if was.path == plan.old else was.path
        now = _lead(link, moved_to, after)
        # Rewritten when it would lead elsewhere, or would now fit several files.
        if expected is None or (now.path == expected and (was.ambiguous or not now.ambiguous)):
            continue
        written = text[start:end]
        rewritten = _rewrite(written, link, expected, moved_to, after)
        out.append(text[pos:start] + rewritten)
        pos = end
        line = text.count("\n", 0, start) + 1
        plan.edits.append(LinkEdit(moved_to, line, written, rewritten))
    if out:
        plan.texts[source] = (content_hash(data), "".join(out) + text[pos:])


def link_name(index: Index, target: str, source: str) -> str:
    """What a new wikilink in ``source`` should name to lead to ``target``: the
    shortest form that leads there and nowhere else, as links rewritten here are."""
    files = index.conn.execute("SELECT path, is_note FROM files").fetchall()
    return _shortest(target, source, _names((p, bool(n)) for p, n in files))


def _names(files: Iterable[tuple[str, bool]]) -> Names:
    names: Names = {}
    for path, is_note in files:
        nkey, pkey = file_keys(path, is_note)
        names.setdefault(nkey, []).append(Candidate(path, pkey))
    return names


def _lead(link: Link, source: str, names: Names) -> Resolution:
    """Where a link leads from ``source``, as the index resolves it."""
    if not link.target:
        return Resolution(source)
    markdown = link.kind.startswith("markdown")
    key = target_keys(link.target, source)[0]
    return resolve(link.target, source, names.get(key, []), markdown=markdown)


def _rewrite(written: str, link: Link, target: str, source: str, names: Names) -> str:
    """The link as written, leading to ``target`` instead: only its path part changes,
    so anchors, display text and the rest stay as the person wrote them."""
    if not link.kind.startswith("markdown"):
        m = _WIKI_TARGET.match(written)
        if m is None:
            return written
        return written[: m.start(2)] + _shortest(target, source, names) + written[m.end(2) :]
    m = _MD_HREF.search(written)
    if m is None:
        return written
    href = m.group(1)
    bracketed = href.startswith("<")
    path_part, hash_, anchor = (href[1:-1] if bracketed else href).partition("#")
    new_path = _markdown_target(unquote(path_part), target, source, names)
    new_href = (new_path if bracketed else quote(new_path, safe=_URL_SAFE)) + hash_ + anchor
    if bracketed:
        new_href = f"<{new_href}>"
    return written[: m.start(1)] + new_href + written[m.end(1) :]


def _shortest(target: str, source: str, names: Names) -> str:
    """The shortest path suffix naming ``target`` that leads to it from ``source`` and
    could mean nothing else (a note without its ``.md``), else its whole vault path."""
    linkable = strip_md(target) if target.endswith(".md") else target
    parts = linkable.split("/")
    for n in range(1, len(parts)):
        suffix = "/".join(parts[-n:])
        found = resolve(suffix, source, names.get(target_keys(suffix, source)[0], []))
        if found.path == target and not found.ambiguous:
            return suffix
    return linkable


def _markdown_target(written: str, target: str, source: str, names: Names) -> str:
    """A Markdown link's new path: the bare file name when the link was bare and the
    name is unambiguous, else the path relative to the linking note (as Markdown
    renderers read it); ``.md`` kept or left out as it was."""
    keep_md = written.lower().endswith(".md") or not target.endswith(".md")
    name = posixpath.basename(target)
    name = name if keep_md else strip_md(name)
    if "/" not in written:
        bare = Link(0, "markdown", name, "", None)
        found = _lead(bare, source, names)
        if found.path == target and not found.ambiguous:
            return name
    relative = posixpath.relpath(target, posixpath.dirname(source) or ".")
    return relative if keep_md else strip_md(relative)


# Applying a plan, through a journal that a killed run leaves for the next to finish.


def _apply(index: Index, plan: Renaming) -> None:
    journal = index.vault.state_dir / JOURNAL
    atomic_write(journal, json.dumps(plan.as_dict() | {"texts": plan.texts}), _stamp(journal))
    _complete(index, plan)


def _complete(index: Index, plan: Renaming) -> None:
    """Carry out a journaled plan; if the disk refuses (full, read-only, a name too
    long for it), say what stopped it and how it will be finished."""
    try:
        _finish(index.vault.root, plan)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise KnowflowError(
            f"renaming {plan.old} to {plan.new} stopped: {exc.strerror or exc}{where}."
            " Once that is put right, the next rename or move finishes it; or delete"
            f" {index.vault.state_dir / JOURNAL} to leave things as they are now"
        ) from None
    _follow(index, plan)
    _close(index, plan)


def _follow(index: Index, plan: Renaming) -> None:
    """What the vault keeps about the note by its path (its review schedule) follows
    it; done before the journal is dropped, so a killed run does it on the next."""
    from knowflow.seek.state import open_state
    from knowflow.sense.review import follow_move

    conn = open_state(index.vault)
    try:
        follow_move(conn, plan.old, plan.new)
    finally:
        conn.close()


def _close(index: Index, plan: Renaming) -> None:
    """Keep what was done as the last rename (so that running it again says it is done),
    then drop the journal."""
    done = index.vault.state_dir / DONE
    atomic_write(done, json.dumps(plan.as_dict()), _stamp(done))
    (index.vault.state_dir / JOURNAL).unlink()


def _last_done(index: Index) -> Renaming | None:
    try:
        saved = json.loads((index.vault.state_dir / DONE).read_text("utf-8"))
        plan = Renaming(saved["old"], saved["new"])
        plan.edits = [LinkEdit(**e) for e in saved["edits"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return plan


def finish_interrupted(index: Index) -> Renaming | None:
    """Finish a rename or move that was killed half-way (its journal is still there);
    returns it, or None when there was none."""
    journal = index.vault.state_dir / JOURNAL
    clear_stale_temps(journal)
    clear_stale_temps(index.vault.state_dir / DONE)
    try:
        saved = json.loads(journal.read_text("utf-8"))
        plan = Renaming(saved["old"], saved["new"])
        plan.texts = {p: (h, t) for p, (h, t) in saved["texts"].items()}
        plan.edits = [LinkEdit(**e) for e in saved["edits"]]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        journal.unlink()  # a journal cut short was never acted on: nothing to finish
        return None
    _complete(index, plan)
    index.scan()
    return plan


def _finish(root: Path, plan: Renaming) -> None:
    """Write each file whose text is still as planned, then rename the file itself.
    Safe to run again: what was done is recognised and left as it is."""
    for rel, (old_hash, text) in plan.texts.items():
        path = root / rel
        if not path.exists() and rel == plan.old:
            path = root / plan.new  # renamed already by a run that was killed
        path = path.resolve()  # a symlinked note is edited where it is, the link kept
        clear_stale_temps(path)
        try:
            data = read_bytes(path)
        except FileNotFoundError:
            continue
        now = content_hash(data)
        if now == content_hash(_encoded(text)):
            continue  # written already
        if now != old_hash:
            plan.skipped.append(rel)  # the person changed it meanwhile: never overwritten
            continue
        st = path.stat()
        try:
            atomic_write(path, _encoded(text), FileStamp(st.st_size, st.st_mtime_ns, now))
        except ConflictError:
            plan.skipped.append(rel)
    _move_file(root / plan.old, root / plan.new)


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _move_file(old: Path, new: Path) -> None:
    if not old.exists():
        return  # moved already
    new.parent.mkdir(parents=True, exist_ok=True)
    if name_key(str(old)) == name_key(str(new)):
        old.rename(new)  # the same name in another case: the same file on some systems
        return
    os.link(old, new)  # fails if the new name appeared meanwhile, unlike rename()
    with contextlib.suppress(FileNotFoundError):
        old.unlink()


def _stamp(path: Path) -> FileStamp | None:
    try:
        return FileStamp.of(path)
    except FileNotFoundError:
        return None

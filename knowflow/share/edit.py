"""Sharing and un-sharing a note: its ``share:`` line changes, nothing else in the file.

The edit is made on the text, not by writing the front matter out again, so
comments, key order, quoting and the body stay exactly as the person wrote
them. The result is parsed back and compared before anything is written, and
the write is atomic and refused if the file changed meanwhile.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.share.audiences import PRIVATE, read_share
from knowflow.share.audiences import audience as find_audience
from knowflow.vault.files import FileStamp, atomic_write, clear_stale_temps, content_hash
from knowflow.vault.frontmatter import (
    BOM,
    front_matter_span,
    parse_front_matter,
    split_front_matter,
)
from knowflow.vault.vault import Vault

_SHARE_KEY = re.compile(r"share[ \t]*:")
_CONTINUATION = re.compile(r"(?:[ \t]+\S|[ \t]*-[ \t]|[ \t]*-\s*$|\s*$)")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # as the front matter reader splits
_BREAK = re.compile(r"\r\n|\r|\n")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes surrogateescape could not decode


@dataclass(frozen=True, slots=True)
class ShareChange:
    """What a share or unshare did to one note."""

    path: str
    before: list[str]
    after: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {"path": self.path, "before": self.before, "after": self.after}
        if self.warnings:
            doc["warnings"] = self.warnings
        return doc


def share_note(vault: Vault, path: Path, names: list[str]) -> ShareChange:
    """Add these audiences to the note's ``share:`` (each must be defined in config)."""
    for name in names:
        find_audience(vault, name)
    return _edit(vault, path, lambda now: list(dict.fromkeys([*now, *names])))


def unshare_note(vault: Vault, path: Path, names: list[str] | None = None) -> ShareChange:
    """Take these audiences (all of them when none are named) off the note's ``share:``.

    A name must be an audience config.toml defines, ``public``, ``private`` (which
    changes nothing), or one the note is shared with now (an audience since taken
    out of config.toml can still be taken off): a typo is AudienceNotFound, as
    ``share_note`` refuses it, not a silent success that leaves the note shared."""
    drop = set(names or [])

    def change(now: list[str]) -> list[str]:
        for name in names or []:
            if name not in now and name.casefold() != PRIVATE:
                find_audience(vault, name)
        return [n for n in now if names and n not in drop]

    return _edit(vault, path, change)


def _edit(vault: Vault, path: Path, change: Callable[[list[str]], list[str]]) -> ShareChange:
    rel = path.relative_to(vault.root).as_posix()
    try:
        st = path.stat()  # through a symlink: the note is edited where it is
        data = path.read_bytes()
    except OSError as exc:
        raise KnowflowError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    stamp = FileStamp(st.st_size, st.st_mtime_ns, content_hash(data))
    text = _text(data, path)
    front = parse_front_matter(text)
    if front.error:
        raise KnowflowError(f"{path}: front matter cannot be read ({front.error}); fix it first")
    before = list(read_share(front.data.get("share")).names)
    after = change(before)
    warnings = _warnings(vault, path, after)
    if after == before and "share" in front.data:
        return ShareChange(rel, before, after, warnings)
    empties = _EmptyBlocks(vault)
    span = front_matter_span(text)
    was_empty = span is not None and span.start == span.end
    new_text = _with_share(text, after, keep_empty=rel in empties.paths)
    _check(text, new_text, after, path)
    if was_empty and after:
        # Noted before the note is written: a run killed between the two leaves a note
        # that keeps an empty block, never one that loses it.
        empties.mark(rel, True)
    atomic_write(path, new_text.encode("utf-8", "surrogateescape"), stamp)
    if not after:
        empties.mark(rel, False)
    return ShareChange(rel, before, after, warnings)


def _text(data: bytes, path: Path) -> str:
    """The note's text; bytes that are not UTF-8 are kept as they are (they come back
    unchanged on writing), but not in the front matter, where the edit is made."""
    text = data.decode("utf-8", "surrogateescape")
    bad = _NOT_UTF8.search(text)
    if bad is None:
        return text
    span = front_matter_span(text)
    if span is not None and bad.start() < span.body_start:
        offset = len(text[: bad.start()].encode("utf-8", "surrogateescape"))
        line = text.count("\n", 0, bad.start()) + 1
        raise KnowflowError(
            f"{path}:{line}: the front matter is not valid UTF-8 (byte {offset});"
            " fix it first (nothing was written)"
        )
    return text


def _warnings(vault: Vault, path: Path, names: list[str]) -> list[str]:
    """What the person should know about where the shared note will (not) go."""
    if names and vault.outside(path) and not vault.publishes_outside():
        return [
            f"{path} is a link to {path.resolve()}, outside the vault: publish and bundle"
            " leave it out unless [share] publish_outside_vault = true in config.toml"
        ]
    return []


class _EmptyBlocks:
    """Notes whose empty front matter block (``---`` then ``---``) ``share`` filled.

    Unsharing such a note leaves the empty block as it was; unsharing a note that had
    no front matter takes away the block ``share`` added. The file alone cannot tell
    the two apart, so ``share`` notes the first kind in ``.knowflow/``."""

    def __init__(self, vault: Vault) -> None:
        self.file = vault.state_dir / "empty-front-matter.json"
        try:
            raw = self.file.read_bytes()
            self.stamp: FileStamp | None = FileStamp.of(self.file)
            loaded = json.loads(raw)
        except (OSError, ValueError):
            self.stamp, loaded = None, []
        self.paths: set[str] = (
            {p for p in loaded if isinstance(p, str)} if isinstance(loaded, list) else set()
        )

    def mark(self, rel: str, empty: bool) -> None:
        if (rel in self.paths) == empty:
            return
        self.paths = self.paths | {rel} if empty else self.paths - {rel}
        clear_stale_temps(self.file)
        if self.stamp is None and self.file.exists():
            self.file.unlink()  # unreadable: it is only a hint, written again whole
        text = json.dumps(sorted(self.paths), ensure_ascii=False)
        self.stamp = atomic_write(self.file, text, self.stamp)


def _with_share(text: str, names: list[str], *, keep_empty: bool = False) -> str:
    """The text with ``share:`` set to these names (removed when there are none)."""
    span = front_matter_span(text)
    head = len(BOM) if text.startswith(BOM) else 0  # a byte order mark stays first
    if span is None:
        if not names:
            return text
        newline = _newline(text, 0)
        block = f"---{newline}{_share_line(names, False)}{newline}---{newline}"
        return text[:head] + block + text[head:]
    newline = _newline(text, head)
    lines = _LINE.findall(text[span.start : span.end])
    found = next((n for n, line in enumerate(lines) if _SHARE_KEY.match(line)), None)
    if found is None:
        if not names:
            return text
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(_share_line(names, False) + newline)
    else:
        end = found + 1
        while end < len(lines) and _CONTINUATION.match(lines[end]) and lines[end].strip():
            end += 1
        block_style = not lines[found].split(":", 1)[1].strip() and end > found + 1
        replacement = [_share_line(names, block_style, newline) + newline] if names else []
        lines[found:end] = replacement
        if not lines and not keep_empty:
            return text[:head] + text[span.body_start :]  # share: was all it held
    return text[: span.start] + "".join(lines) + text[span.end :]


def _newline(text: str, start: int) -> str:
    """The line break the text uses (its first one after start)."""
    found = _BREAK.search(text, start)
    return found.group() if found else "\n"


def _share_line(names: list[str], block_style: bool, newline: str = "\n") -> str:
    if block_style:
        return "share:" + "".join(f"{newline}  - {n}" for n in names)
    if len(names) == 1:
        return f"share: {names[0]}"
    return "share: [" + ", ".join(names) + "]"


def _check(old: str, new: str, names: list[str], path: Path) -> None:
    """The edit must change ``share:`` and nothing else that YAML can see."""
    before, after = parse_front_matter(old).data, parse_front_matter(new)
    expected = {k: v for k, v in before.items() if k != "share"}
    got = {k: v for k, v in after.data.items() if k != "share"}
    if after.error or got != expected or list(read_share(after.data.get("share")).names) != names:
        raise KnowflowError(f"{path}: could not change share: safely; nothing was written")
    if old[split_front_matter(old)[1] :] != new[split_front_matter(new)[1] :]:
        raise KnowflowError(f"{path}: could not change share: safely; nothing was written")

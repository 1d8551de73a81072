"""Sharing and un-sharing a note: its ``share:`` line changes, nothing else in the file.

The edit is made on the text, not by writing the front matter out again, so
comments, key order, quoting and the body stay exactly as the person wrote
them. The result is parsed back and compared before anything is written, and
the write is atomic and refused if the file changed meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.share.audiences import PRIVATE, read_share
from knowflow.share.audiences import audience as find_audience
from knowflow.vault.files import FileStamp, atomic_write, content_hash
from knowflow.vault.frontmatter import parse_front_matter, split_front_matter
from knowflow.vault.vault import Vault

_SHARE_KEY = re.compile(r"^share[ \t]*:", re.MULTILINE)
_CONTINUATION = re.compile(r"^(?:[ \t]+\S|[ \t]*-[ \t]|[ \t]*-$|[ \t]*$)")


@dataclass(frozen=True, slots=True)
class ShareChange:
    """What a share or unshare did to one note."""

    path: str
    before: list[str]
    after: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "before": self.before, "after": self.after}


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
    st = path.stat()
    data = path.read_bytes()
    stamp = FileStamp(st.st_size, st.st_mtime_ns, content_hash(data))
    text = data.decode("utf-8")
    front = parse_front_matter(text)
    if front.error:
        raise KnowflowError(f"{path}: front matter cannot be read ({front.error}); fix it first")
    before = list(read_share(front.data.get("share")).names)
    after = change(before)
    rel = path.relative_to(vault.root).as_posix()
    if after == before and "share" in front.data:
        return ShareChange(rel, before, after)
    new_text = _with_share(text, after)
    _check(text, new_text, after, path)
    atomic_write(path, new_text, stamp)
    return ShareChange(rel, before, after)


def _with_share(text: str, names: list[str]) -> str:
    """The text with ``share:`` set to these names (removed when there are none)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    yaml_text, body_start, _ = split_front_matter(text)
    if yaml_text is None:
        if not names:
            return text
        return f"---{newline}{_share_line(names, False)}{newline}---{newline}{text}"
    yaml_start = text.index(yaml_text, 0, body_start) if yaml_text else text.index("\n") + 1
    lines = yaml_text.splitlines(keepends=True)
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
        if not lines:
            return text[body_start:]  # share: was all it held: no empty front matter left
    return text[:yaml_start] + "".join(lines) + text[yaml_start + len(yaml_text) :]


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

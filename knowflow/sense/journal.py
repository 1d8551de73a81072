"""The person's own record of their practice: experiments and narration.

An experiment note (``type: experiment``) holds an idea, who it was tried with, what
happened, what was learned, and a date to look back on it. A narration note
(``type: narration``) is one a week, and working out loud appends a dated entry to
it. Both are private (``share: private``) until the person shares them, and both are
written with knowflow's atomic writer: a reader sees the old file or the new, and an
append never overwrites an edit made on disk meanwhile.

Folders: ``[sense] experiments_folder`` (default ``Experiments``) and
``[sense] narration_folder`` (default ``Narration``) in config.toml; with no setting,
a folder of that name already in the vault in another case (``experiments/``) is
used rather than a second one beside it.

``due_look_backs`` names the experiments whose look-back date has come and that say
nothing learned yet: the practice report lists them, and review can bring them back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowflow.errors import ConflictError, KnowflowError
from knowflow.index.index import Index
from knowflow.vault.files import FileStamp, atomic_write, content_hash
from knowflow.vault.frontmatter import parse_front_matter
from knowflow.vault.vault import Vault

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

LOOK_BACK_DAYS = 14
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f]')
_NAME_BYTES = 120  # of the idea, in a file name
# C0 and C1 control characters (an ANSI escape starts with one), but not tab or newline.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_ATX = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LEARNED = re.compile(r"^#{1,6}\s+what was learned\s*#*\s*$", re.IGNORECASE | re.MULTILINE)
_SETEXT = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^ {0,3}(?:[-*+>|#]|\d{1,9}[.)]\s|```|~~~)")
_NEXT_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_COMMENTS = re.compile(r"%%.*?%%|<!--.*?-->", re.DOTALL)


def clean_text(text: str) -> str:
    """The person's text as they wrote it, less what a terminal would act on: ANSI
    escape sequences and C0/C1 control characters (tab and newline stay)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ANSI.sub("", text))


def one_line(text: str) -> str:
    """A single-line field (an idea in a title, who it was tried with): its words,
    one space between them, wherever it is written."""
    return " ".join(clean_text(text).split())


def _file_title(text: str) -> str:
    clean = " ".join(_UNSAFE.sub(" ", text).split()).lstrip(".")
    while len(clean.encode()) > _NAME_BYTES:
        clean = clean[:-1]
    return clean.rstrip() or "Untitled"


def _front(data: Mapping[str, object]) -> str:
    """Front matter the person can read: YAML with their own characters kept as they
    are (PyYAML's pure emitter: libyaml's writes an emoji as an escape)."""
    text: str = yaml.dump(data, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False)
    return text.strip()


def _write_new(folder: Path, stem: str, text_of: Callable[[str], str]) -> Path:
    """Write ``text_of(name)`` to ``folder/name.md``, the name ``stem`` (or ``stem 2``,
    ... if taken, whatever the case), never over a file."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = {p.name.casefold() for p in folder.iterdir()}
    for n in range(1, 1000):
        name = stem if n == 1 else f"{stem} {n}"
        path = folder / f"{name}.md"
        if path.name.casefold() in taken or path.exists():
            continue
        try:
            atomic_write(path, text_of(name))
        except (FileExistsError, ConflictError):
            continue  # made meanwhile by another writer
        return path
    raise KnowflowError(f"{folder}: too many notes named {stem!r}")


def _folder(vault: Vault, key: str, default: str) -> Path:
    """The folder ``[sense] key`` names, or else one already in the vault whose name is
    ``default`` in any case (the sample vault's ``experiments/``), or else ``default``."""
    configured = vault.config().get("sense", {}).get(key)
    folder = vault.folder_setting("sense", key, default)
    if configured is None and not folder.is_dir():
        try:
            found = sorted(
                p
                for p in vault.root.iterdir()
                if p.is_dir() and p.name.casefold() == default.casefold()
            )
        except OSError:
            found = []
        if found:
            return found[0]
    return folder


def new_experiment(
    vault: Vault,
    idea: str,
    audience: str,
    today: dt.date | None = None,
    look_back_days: int = LOOK_BACK_DAYS,
) -> Path:
    """Open an experiment note for ``idea`` tried with ``audience``; return its path.

    The idea is the person's own Markdown and goes into the body as written (links,
    tags, emphasis and all); its one-line form names the note and sits, with the
    other fields, in front matter as plain YAML. The title is the file's name, so
    a second note for the same idea (``... 2``) has a title of its own, as
    Obsidian would show it."""
    written = clean_text(idea).strip()
    line = one_line(idea)
    who = one_line(audience)
    if not line:
        raise KnowflowError("an experiment needs an idea")
    if not who:
        raise KnowflowError("say who the idea is tried with: --with AUDIENCE")
    today = today or dt.date.today()
    stem = _file_title(f"Experiment {today.isoformat()} {line}")

    def text_of(name: str) -> str:
        front = {
            "type": "experiment",
            "title": name,
            "created": today.isoformat(),
            "idea": line,
            "tried_with": who,
            "look_back": (today + dt.timedelta(days=look_back_days)).isoformat(),
            "share": "private",
            "tags": ["experiment"],
        }
        body = "\n".join(
            [
                f"# {name}",
                "",
                "## Idea",
                "",
                demote_headings(written),
                "",
                "## Tried with",
                "",
                who,
                "",
                "## What happened",
                "",
                "",
                "## What was learned",
                "",
                "",
            ]
        )
        return f"---\n{_front(front)}\n---\n{body}"

    folder = _folder(vault, "experiments_folder", "Experiments")
    return _logged(vault, "experiment_opened", _write_new(folder, stem, text_of), audience=who)


def _logged(vault: Vault, action: str, path: Path, **detail: object) -> Path:
    """Log the write in the activity log (practice counts it), whoever asked for it."""
    from knowflow.seek.state import open_state, record

    conn = open_state(vault)
    try:
        record(conn, action, path.relative_to(vault.root).as_posix(), **detail)
    finally:
        conn.close()
    return path


def demote_headings(text: str, by: int = 2) -> str:
    """``text`` with each ATX heading (outside code fences) ``by`` levels deeper, at
    most 6: so a heading the person wrote never reads as one of the note's own."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
        elif fence is not None and m and m.group(1).startswith(fence):
            fence = None
        elif fence is None and (h := _ATX.match(line)):
            level = min(6, len(h.group(2)) + by)
            line = h.group(1) + "#" * level + line[h.end() :]
        elif fence is None and (u := _SETEXT.match(line)) and _paragraph_line(out):
            # "Title" over "===" (or "---") is a heading too: written as the ATX
            # heading it is, made as much deeper, and its underline dropped.
            level = min(6, (1 if u.group(1)[0] == "=" else 2) + by)
            out[-1] = "#" * level + " " + out[-1].strip()
            continue
        out.append(line)
    return "\n".join(out)


def _paragraph_line(out: list[str]) -> bool:
    """Whether the last line written is paragraph text a setext underline would make
    a heading of (not blank, not a list item, quote, table row or heading)."""
    return bool(out) and bool(out[-1].strip()) and not _NOT_PARAGRAPH.match(out[-1])


@dataclass(frozen=True)
class LookBack:
    """An experiment whose look-back date has come, with nothing learned written yet."""

    path: str
    title: str
    look_back: str
    tried_with: str

    def as_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "title": self.title,
            "look_back": self.look_back,
            "tried_with": self.tried_with,
        }


def learned(text: str) -> bool:
    """Whether an experiment note says what was learned: text (not only comments)
    under its "What was learned" heading, or a ``learned:`` in front matter."""
    front = parse_front_matter(text)
    data = front.data if isinstance(front.data, dict) else {}
    if str(data.get("learned") or "").strip():
        return True
    body = text[front.body_start :]
    m = _LEARNED.search(body)
    if not m:
        return False
    rest = body[m.end() :]
    nxt = _NEXT_HEADING.search(rest)
    section = rest[: nxt.start()] if nxt else rest
    return bool(_COMMENTS.sub("", section).strip())


def due_look_backs(index: Index, today: dt.date) -> list[LookBack]:
    """Experiments whose ``look_back:`` date is ``today`` or before and that have no
    "what was learned" yet, oldest date first (for practice, and for review to
    bring back)."""
    due = []
    for path, title, look_back, who in index.conn.execute(
        "SELECT path, title, json_extract(front_matter, '$.look_back'),"
        " json_extract(front_matter, '$.tried_with') FROM files"
        " WHERE is_note = 1 AND type = 'experiment'"
        " AND json_extract(front_matter, '$.look_back') IS NOT NULL ORDER BY path"
    ):
        day = str(look_back)[:10]
        if not _DAY.fullmatch(day) or day > today.isoformat():
            continue
        try:
            text = (index.vault.root / path).read_text("utf-8", "replace")
        except OSError:
            continue
        if not learned(text):
            due.append(LookBack(str(path), str(title), day, str(who or "")))
    due.sort(key=lambda d: (d.look_back, d.path))
    return due


def week_of(moment: dt.datetime) -> str:
    """The ISO week, as ``2026-W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def narration_path(vault: Vault, moment: dt.datetime) -> Path:
    folder = _folder(vault, "narration_folder", "Narration")
    return folder / f"Narration {week_of(moment)}.md"


def narrate(vault: Vault, text: str, now: dt.datetime | None = None) -> Path:
    """Append a dated entry to the week's narration note (made if need be); return its
    path. The note is rewritten whole and atomically, and only if nobody changed it
    since it was read (else read again and tried again).

    The text is kept as written, less control characters and terminal escapes; a
    heading in it is made two levels deeper, so that only the entry's own
    ``## YYYY-MM-DD HH:MM`` heading reads as an entry."""
    return _logged(vault, "narration_added", _append_entry(vault, text, now))


def _append_entry(vault: Vault, text: str, now: dt.datetime | None) -> Path:
    text = demote_headings(clean_text(text).strip("\n").rstrip())
    if not text.strip():
        raise KnowflowError("narrate needs some text")
    moment = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    path = narration_path(vault, moment)
    entry = f"## {moment.strftime('%Y-%m-%d %H:%M')}\n\n{text}\n"
    for _ in range(5):
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            week = week_of(moment)
            front = {
                "type": "narration",
                "title": f"Narration {week}",
                "week": week,
                "share": "private",
                "tags": ["narration"],
            }
            whole = f"---\n{_front(front)}\n---\n# Narration {week}\n\n{entry}"
            try:
                atomic_write(path, whole)
            except (FileExistsError, ConflictError):
                continue  # made meanwhile: append to it instead
            return path
        stamp = FileStamp.of(path)
        data = path.read_bytes()
        if content_hash(data) != stamp.hash:
            continue  # changed between the two reads
        old = data.decode("utf-8")
        sep = "" if old.endswith("\n\n") or not old else ("\n" if old.endswith("\n") else "\n\n")
        try:
            atomic_write(path, old + sep + entry, stamp)
        except ConflictError:
            continue
        return path
    raise ConflictError(f"{path} kept changing while the entry was appended; try again")

"""The person's own record of their practice: experiments and narration.

An experiment note (``type: experiment``) holds an idea, who it was tried with, what
happened, what was learned, and a date to look back on it. A narration note
(``type: narration``) is one a week, and working out loud appends a dated entry to
it. Both are private (``share: private``) until the person shares them, and both are
written with knowflow's atomic writer: a reader sees the old file or the new, and an
append never overwrites an edit made on disk meanwhile.

Folders: ``[sense] experiments_folder`` (default ``Experiments``) and
``[sense] narration_folder`` (default ``Narration``) in config.toml.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from knowflow.errors import ConflictError, KnowflowError
from knowflow.vault.files import FileStamp, atomic_write, content_hash
from knowflow.vault.frontmatter import dump_front_matter
from knowflow.vault.vault import Vault

LOOK_BACK_DAYS = 14
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f]')
_NAME_BYTES = 120  # of the idea, in a file name


def _file_title(text: str) -> str:
    clean = " ".join(_UNSAFE.sub(" ", text).split()).lstrip(".")
    while len(clean.encode()) > _NAME_BYTES:
        clean = clean[:-1]
    return clean.rstrip() or "Untitled"


def _write_new(folder: Path, stem: str, text: str) -> Path:
    """Write ``text`` to ``folder/stem.md`` (or ``stem 2.md``, ... if taken), never
    over a file."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = folder / (f"{stem}.md" if n == 1 else f"{stem} {n}.md")
        if path.exists():
            continue
        try:
            atomic_write(path, text)
        except (FileExistsError, ConflictError):
            continue  # made meanwhile by another writer
        return path
    raise KnowflowError(f"{folder}: too many notes named {stem!r}")


def new_experiment(
    vault: Vault,
    idea: str,
    audience: str,
    today: dt.date | None = None,
    look_back_days: int = LOOK_BACK_DAYS,
) -> Path:
    """Open an experiment note for ``idea`` tried with ``audience``; return its path."""
    idea = " ".join(idea.split())
    audience = audience.strip()
    if not idea:
        raise KnowflowError("an experiment needs an idea")
    if not audience:
        raise KnowflowError("say who the idea is tried with: --with AUDIENCE")
    today = today or dt.date.today()
    stem = _file_title(f"Experiment {today.isoformat()} {idea}")
    front = {
        "type": "experiment",
        "title": f"Experiment: {idea}",
        "created": today.isoformat(),
        "idea": idea,
        "tried_with": audience,
        "look_back": (today + dt.timedelta(days=look_back_days)).isoformat(),
        "share": "private",
        "tags": ["experiment"],
    }
    body = "\n".join(
        [
            f"# Experiment: {_md_line(idea)}",
            "",
            "## Idea",
            "",
            _md_line(idea),
            "",
            "## Tried with",
            "",
            _md_line(audience),
            "",
            "## What happened",
            "",
            "",
            "## What was learned",
            "",
            "",
        ]
    )
    text = f"---\n{dump_front_matter(front)}\n---\n{body}"
    folder = vault.folder_setting("sense", "experiments_folder", "Experiments")
    return _write_new(folder, stem, text)


def _md_line(text: str) -> str:
    """Text shown as itself in Markdown: no heading, list, link or HTML made of it."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-!|~>])", r"\\\1", " ".join(text.split()))


def week_of(moment: dt.datetime) -> str:
    """The ISO week, as ``2026-W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def narration_path(vault: Vault, moment: dt.datetime) -> Path:
    folder = vault.folder_setting("sense", "narration_folder", "Narration")
    return folder / f"Narration {week_of(moment)}.md"


def narrate(vault: Vault, text: str, now: dt.datetime | None = None) -> Path:
    """Append a dated entry to the week's narration note (made if need be); return its
    path. The note is rewritten whole and atomically, and only if nobody changed it
    since it was read (else read again and tried again)."""
    text = text.strip()
    if not text:
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
            whole = f"---\n{dump_front_matter(front)}\n---\n# Narration {week}\n\n{entry}"
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

"""The digest: a periodic "finds" post drafted from what was marked for an audience.

``draft_digest`` gathers the clippings and notes shared in the period (with one
audience, or with any), each with the person's own comment, grouped by tag,
into a new ``type: digest`` note. It is a draft and it is private: the person
edits it, and only sharing it publishes it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.errors import ConfigError, ConflictError, KnowflowError, NoteExists
from knowflow.index.index import Index
from knowflow.share.audiences import audience as find_audience
from knowflow.share.audiences import audiences
from knowflow.share.catalog import Catalog, VisibleNote
from knowflow.share.edit import ShareChange, share_note
from knowflow.vault.files import FileStamp, atomic_write, read_bytes
from knowflow.vault.frontmatter import dump_front_matter, parse_front_matter
from knowflow.when import moment

CADENCES = {"weekly": 7, "fortnightly": 14, "monthly": 30}
DIGEST_FOLDER = "digests"
NO_COMMENT = "_(your comment)_"


@dataclass
class Digest:
    """A drafted digest: where it was written and what it holds."""

    path: Path
    since: str
    items: int
    groups: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "since": self.since,
            "items": self.items,
            "groups": self.groups,
        }


def period_start(since: str | None, cadence: str, now: dt.datetime) -> dt.datetime:
    """The start of the period: ``since`` ('7d', '2w', an ISO date) or the cadence."""
    if since is None:
        if cadence not in CADENCES:  # config.toml's is checked when it is read
            raise ConfigError(f"digest_cadence must be one of {', '.join(CADENCES)}")
        return now - dt.timedelta(days=CADENCES[cadence])
    try:
        return moment(since, now)
    except KnowflowError as exc:
        raise ConfigError(str(exc)) from None


@dataclass
class DigestDraft:
    """A digest as it would be drafted now, not yet written: where it goes and its text.
    ``existing`` when that audience's digest of the day is already drafted: the text is
    then the file's, as the person may have edited it."""

    path: Path
    text: str
    since: str
    items: int
    groups: dict[str, list[str]] = field(default_factory=dict)
    existing: bool = False


def compose_digest(
    index: Index,
    *,
    audience: str | None = None,
    since: str | None = None,
    now: dt.datetime | None = None,
) -> DigestDraft:
    """The draft ``draft_digest`` would write, or the one already written today."""
    vault = index.vault
    settings = vault.config().get("share", {})
    moment = now or dt.datetime.now(dt.UTC)
    start = period_start(since, settings.get("digest_cadence", "weekly"), moment)
    names = [audience] if audience else sorted(audiences(vault))
    chosen: dict[str, VisibleNote] = {}
    for name in names:
        for note in Catalog.build(index, find_audience(vault, name)).notes.values():
            if note.type != "digest" and _when(note) >= start.isoformat(timespec="seconds"):
                chosen.setdefault(note.path, note)
    groups = _groups(list(chosen.values()))
    title = f"Finds {moment.date().isoformat()}" + (f" for {audience}" if audience else "")
    folder = vault.folder_setting("share", "digest_folder", DIGEST_FOLDER)
    path, existing = _digest_path(folder, title, audience)
    front: dict[str, object] = {
        "type": "digest",
        "title": title if path.stem != title else None,  # a file name holds no "/"
        "period": f"{start.date().isoformat()} to {moment.date().isoformat()}",
        "audience": audience,
        "tags": ["digest"],
    }
    text = _text(front, title, groups, audience)
    if existing:
        text = read_bytes(path).decode("utf-8", "replace")
    return DigestDraft(
        path,
        text,
        start.isoformat(timespec="seconds"),
        len(chosen),
        {tag: [n.title for n in notes] for tag, notes in groups.items()},
        existing,
    )


def draft_digest(
    index: Index,
    *,
    audience: str | None = None,
    since: str | None = None,
    now: dt.datetime | None = None,
) -> Digest:
    """Write a new private draft digest note; NoteExists if that audience's digest (or,
    without an audience, the digest for all of them) is already drafted today."""
    draft = compose_digest(index, audience=audience, since=since, now=now)
    if draft.existing:
        raise NoteExists(_drafted(draft.path))
    draft.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(draft.path, draft.text, None)  # None: refused if the file appeared meanwhile
    except ConflictError:
        raise NoteExists(_drafted(draft.path)) from None
    _log(index, "digest_drafted", draft.path, audience, draft.items)
    return Digest(draft.path, draft.since, draft.items, draft.groups)


@dataclass
class SharedDigest:
    """A digest saved with the person's text and shared with its audience."""

    path: Path
    change: ShareChange


def share_digest(
    index: Index,
    audience: str,
    text: str,
    *,
    shown: str | None = None,
    since: str | None = None,
    now: dt.datetime | None = None,
) -> SharedDigest:
    """Save ``text`` as the audience's digest of the day (where ``draft_digest`` would
    write it) and share it with the audience. When that digest is already drafted,
    ``shown`` must be the ``content_hash`` of the file as the person saw it: a file
    changed since is never overwritten (ConflictError); a digest drafted meanwhile,
    when none was shown, is NoteExists."""
    vault = index.vault
    find_audience(vault, audience)
    draft = compose_digest(index, audience=audience, since=since, now=now)
    if draft.existing:
        stamp = FileStamp.of(draft.path)
        if shown is None:
            raise NoteExists(_drafted(draft.path))
        if stamp.hash != shown:
            raise ConflictError(f"{draft.path} changed on disk since it was shown; not overwritten")
        atomic_write(draft.path, text, stamp)
    else:
        draft.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(draft.path, text, None)
        except ConflictError:
            raise NoteExists(_drafted(draft.path)) from None
    shared = SharedDigest(draft.path, share_note(vault, draft.path, [audience]))
    _log(index, "digest_shared", draft.path, audience, draft.items)
    return shared


def _log(index: Index, action: str, path: Path, audience: str | None, items: int) -> None:
    """The digest in the vault's activity log (what ``knowflow practice`` counts)."""
    from knowflow.seek.state import open_state, record  # the log lives in state.db

    conn = open_state(index.vault)
    try:
        rel = path.relative_to(index.vault.root).as_posix()
        record(conn, action, rel, audience=audience, items=items)
    finally:
        conn.close()


def _digest_path(folder: Path, title: str, audience: str | None) -> tuple[Path, bool]:
    """``Finds 2026-11-30.md`` for every audience, ``Finds 2026-11-30 for team-platform.md``
    for one: each audience can have its digest of the day, and a second draft of the
    same one is refused, never written over. Only a name taken by another audience's
    digest (``team-platform`` and ``team/platform`` meet in a file name) gets a number;
    any other file there, edited beyond recognition or not a digest, is the one already
    drafted (True: the caller refuses to write over it)."""
    stem = title.replace("/", "-")
    path, n = folder / f"{stem}.md", 2
    while path.exists():
        if not _for_another_audience(path, audience):
            return path, True
        path, n = folder / f"{stem} ({n}).md", n + 1
    return path, False


def _for_another_audience(path: Path, audience: str | None) -> bool:
    try:
        data = parse_front_matter(path.read_text("utf-8", "replace")).data
    except OSError:
        return False
    return data.get("type") == "digest" and data.get("audience") != audience


def _drafted(path: Path) -> str:
    return f"{path} is already drafted; edit it, or remove it to draft anew"


def _when(note: VisibleNote) -> str:
    captured = note.front_matter.get("captured")
    if note.type == "clipping" and captured:
        return str(captured) if "T" in str(captured) else f"{captured}T00:00:00+00:00"
    return note.updated


def _groups(notes: list[VisibleNote]) -> dict[str, list[VisibleNote]]:
    groups: dict[str, list[VisibleNote]] = defaultdict(list)
    for note in sorted(notes, key=lambda n: n.title.casefold()):
        tags = [t for t in note.tags if t.casefold() not in ("clipping", "digest")]
        groups[tags[0] if tags else "other"].append(note)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "other", kv[0].casefold())))


def _text(
    front: dict[str, object], title: str, groups: dict[str, list[VisibleNote]], who: str | None
) -> str:
    front = {k: v for k, v in front.items() if v is not None}
    lines = ["---", dump_front_matter(front), "---", f"# {title}", ""]
    lines.append(
        "Draft: edit the comments, then share it (knowflow share NOTE AUDIENCE)"
        + (f" with {who}." if who else ".")
    )
    if not groups:
        lines += ["", "Nothing was shared in this period."]
    for tag, notes in groups.items():
        lines += ["", f"## {tag}", ""]
        for note in notes:
            lines.append(f"- {_item(note)}")
    return "\n".join(lines) + "\n"


def _item(note: VisibleNote) -> str:
    link = f"[[{note.path[:-3] if note.path.endswith('.md') else note.path}|{note.title}]]"
    url = note.front_matter.get("url")
    if note.type == "clipping" and isinstance(url, str) and url:
        link += f" ([original]({url}))"
    comment = note.front_matter.get("comment") or note.front_matter.get("summary")
    return f"{link}: {' '.join(str(comment).split()) if comment else NO_COMMENT}"

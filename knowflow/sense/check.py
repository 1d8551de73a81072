"""What is broken in a vault: unresolved and ambiguous links, links to headings and
blocks that do not exist, unreadable or malformed files."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from knowflow.index.index import Index
from knowflow.sense.graph import LinkRow, ambiguous, unresolved
from knowflow.vault.names import heading_key, slug_key

# Kinds of finding, for scripts that read ``knowflow check --json``.
KINDS = (
    "unresolved-link",
    "ambiguous-link",
    "missing-heading",
    "missing-block",
    "malformed-front-matter",
    "invalid-encoding",
    "binary",
    "too-large",
    "unreadable",
    "symlink-loop",
    "name-collision",
)


class Finding(NamedTuple):
    """One thing ``check`` reports, with the file and line where it is."""

    kind: str
    path: str
    line: int | None
    message: str
    target: str | None = None
    candidates: list[str] = []  # noqa: RUF012 -- shared, but records are never changed

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "message": self.message,
        }
        if self.target is not None:
            out["target"] = self.target
        if self.candidates:
            out["candidates"] = self.candidates
        return out


OUTSIDE_HELD_BACK = (
    ": not published (set publish_outside_vault = true in [share] of config.toml to publish it)"
)
OUTSIDE_PUBLISHED = ": published, as publish_outside_vault is set"


def check(index: Index) -> list[Finding]:
    """Every problem the index knows of, ordered by file and line."""
    written = _AsWritten(index.vault.root)
    findings = [
        Finding(
            "unresolved-link",
            link.path,
            link.line,
            f"{written(link)} leads to no file",
            link.target,
        )
        for link in unresolved(index)
    ]
    for link, paths in ambiguous(index):
        findings.append(
            Finding(
                "ambiguous-link",
                link.path,
                link.line,
                f"{written(link)} fits {len(paths)} files; it resolves to {link.resolved}",
                link.target,
                paths,
            )
        )
    findings.extend(_missing_sections(index, written))
    published_anyway = index.vault.publishes_outside()
    for path, kind, line, message in index.conn.execute(
        "SELECT path, kind, line, message FROM problems"
    ):
        if kind == "outside-vault":  # what follows depends on config.toml, read here
            message += OUTSIDE_PUBLISHED if published_anyway else OUTSIDE_HELD_BACK
        findings.append(Finding(kind, path, line, message))
    findings.extend(_collisions(index))
    findings.sort(key=lambda f: (f.path, f.line or 0, f.kind))
    return findings


def _missing_sections(index: Index, written: _AsWritten) -> list[Finding]:
    """Links to a heading or block (``[[Note#Heading]]``, ``[[Note#^id]]``, and the
    same in Markdown links and embeds) that the note they reach does not have."""
    rows = index.conn.execute(
        "SELECT src.path, l.line, l.kind, l.target, l.subpath, l.status, l.resolved_path, t.id"
        " FROM links l JOIN files src ON src.id = l.file_id"
        " JOIN files t ON t.path = l.resolved_path"
        " WHERE l.subpath != '' AND t.is_note = 1 ORDER BY src.path, l.line"
    ).fetchall()
    if not rows:
        return []
    sections = _Sections(index, {row[-1] for row in rows})
    out = []
    for *fields, target_id in rows:
        link = LinkRow(*fields)
        kind, missing = sections.missing(target_id, link)
        if missing is None:
            continue
        note = Path(link.resolved or "").stem
        what = "block" if kind == "missing-block" else "heading"
        out.append(
            Finding(
                kind,
                link.path,
                link.line,
                f'{written(link)}: "{note}" has no {what} "{missing}"',
                link.target + link.subpath,
            )
        )
    return out


class _Sections:
    """The headings and block ids of the notes that links point into, as keys."""

    def __init__(self, index: Index, ids: set[int]) -> None:
        self.headings: dict[int, set[str]] = defaultdict(set)
        self.slugs: dict[int, set[str]] = defaultdict(set)
        self.blocks: dict[int, set[str]] = defaultdict(set)
        marks = ",".join("?" * len(ids))
        for file_id, text in index.conn.execute(
            f"SELECT file_id, text FROM headings WHERE file_id IN ({marks})", list(ids)
        ):
            self.headings[file_id].add(heading_key(text))
            self.slugs[file_id].add(slug_key(text))
        for file_id, block_id in index.conn.execute(
            f"SELECT file_id, block_id FROM blocks WHERE file_id IN ({marks})", list(ids)
        ):
            self.blocks[file_id].add(block_id.casefold())

    def missing(self, file_id: int, link: LinkRow) -> tuple[str, str | None]:
        """(kind, the part of the subpath the note lacks, or None when all is there)."""
        sub = link.subpath
        if sub.startswith("#^"):
            found = sub[2:].strip().casefold() in self.blocks[file_id]
            return "missing-block", None if found else sub[2:]
        # #A#B names heading B under heading A: each must exist. A Markdown link may
        # name a heading by the slug a site or GitHub gives it (#d-d-wotc).
        keys = self.headings[file_id]
        if link.kind.startswith("markdown"):
            keys = keys | self.slugs[file_id]
        for part in sub.strip("#").split("#"):
            if part.strip() and heading_key(part) not in keys:
                return "missing-heading", part.strip()
        return "missing-heading", None


class _AsWritten:
    """A link as its note writes it (``[text](Missing%20note.md)``, ``[[Note|shown]]``),
    read from the note's line; the index keeps links parsed, not as written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lines: dict[str, list[str]] = {}

    def __call__(self, link: LinkRow) -> str:
        from knowflow.vault.markdown import link_spans  # only when a link is broken

        line = self._line(link.path, link.line)
        for start, end, found in link_spans(line):
            if (found.target, found.subpath, found.kind) == (
                link.target,
                link.subpath,
                link.kind,
            ):
                return line[start:end]
        return f"[[{link.target}{link.subpath}]]"

    def _line(self, path: str, number: int) -> str:
        if path not in self.lines:
            try:
                text = (self.root / path).read_text("utf-8", "replace")
            except OSError:
                text = ""
            self.lines[path] = text.split("\n")
        lines = self.lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


def _collisions(index: Index) -> list[Finding]:
    """Files whose paths differ only in case or Unicode normalisation."""
    rows = index.conn.execute(
        "SELECT path_key, group_concat(path, char(0)) FROM files"
        " GROUP BY path_key, is_note HAVING count(*) > 1"
    ).fetchall()
    out = []
    for _, joined in rows:
        paths = sorted(joined.split("\0"))
        for path in paths:
            others = [p for p in paths if p != path]
            out.append(
                Finding(
                    "name-collision",
                    path,
                    None,
                    "name differs only in case or Unicode form from " + ", ".join(others),
                    candidates=others,
                )
            )
    return out

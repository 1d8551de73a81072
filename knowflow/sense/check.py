"""What is broken in a vault: unresolved and ambiguous links, unreadable or malformed files."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowflow.index.index import Index
from knowflow.sense.graph import ambiguous, unresolved

# Kinds of finding, for scripts that read ``knowflow check --json``.
KINDS = (
    "unresolved-link",
    "ambiguous-link",
    "malformed-front-matter",
    "invalid-encoding",
    "binary",
    "too-large",
    "unreadable",
    "symlink-loop",
    "name-collision",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing ``check`` reports, with the file and line where it is."""

    kind: str
    path: str
    line: int | None
    message: str
    target: str | None = None
    candidates: list[str] = field(default_factory=list)

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


def check(index: Index) -> list[Finding]:
    """Every problem the index knows of, ordered by file and line."""
    findings = [
        Finding(
            "unresolved-link",
            link.path,
            link.line,
            f"[[{link.target}]] leads to no file",
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
                f"{link.target!r} fits {len(paths)} files; it resolves to {link.resolved}",
                link.target,
                paths,
            )
        )
    for path, kind, line, message in index.conn.execute(
        "SELECT path, kind, line, message FROM problems"
    ):
        findings.append(Finding(kind, path, line, message))
    findings.extend(_collisions(index))
    findings.sort(key=lambda f: (f.path, f.line or 0, f.kind))
    return findings


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

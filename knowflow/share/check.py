"""What is wrong with the way notes are shared, for ``knowflow check``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from knowflow.errors import ConfigError
from knowflow.index.index import Index
from knowflow.share.audiences import audiences, read_share

KINDS = ("unknown-audience", "malformed-share", "bad-config")


@dataclass(frozen=True, slots=True)
class ShareProblem:
    """A note shared with an audience config.toml does not define, or an unreadable
    ``share:``. Either way the note stays private as far as that value goes."""

    kind: str
    path: str
    line: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "path": self.path, "line": self.line, "message": self.message}


def check_shares(index: Index) -> list[ShareProblem]:
    """Every note whose ``share:`` names an undefined audience or cannot be read."""
    try:
        defined = audiences(index.vault)
    except ConfigError as exc:
        return [ShareProblem("bad-config", ".knowflow/config.toml", None, str(exc))]
    problems = []
    for path, text in index.conn.execute(
        "SELECT path, front_matter FROM files WHERE is_note = 1 AND front_matter LIKE '%\"share\"%'"
        " ORDER BY path"
    ):
        data = json.loads(text) if text else {}
        if not isinstance(data, dict) or "share" not in data:
            continue
        value = read_share(data["share"])
        for problem in value.problems:
            problems.append(ShareProblem("malformed-share", path, None, f"{problem}; ignored"))
        for name in value.names:
            if name not in defined:
                problems.append(
                    ShareProblem(
                        "unknown-audience",
                        path,
                        None,
                        f"shared with {name!r}, which config.toml does not define;"
                        " private to it until it does",
                    )
                )
    return problems

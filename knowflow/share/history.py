"""What was published, and where: the last publish of each audience, kept in
``.knowflow/published/`` so that the app (and a person reading the folder) can say
when an audience's site was last written, where, and how big it was.

One small JSON file per audience: two audiences published at once never write the
same file, and a publish killed midway leaves the previous record whole (it is
written atomically, and only once the site is in place).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowflow.errors import ConfigError
from knowflow.share.audiences import audience as find_audience
from knowflow.vault.files import FileStamp, atomic_write
from knowflow.vault.vault import Vault

if TYPE_CHECKING:
    from knowflow.share.site import PublishReport

FOLDER = "published"


@dataclass(frozen=True, slots=True)
class PublishRecord:
    """One publish of one audience's site."""

    audience: str
    out: str  # the site's folder, absolute
    when: str  # ISO 8601, UTC, to the second
    notes: int  # the notes the site shows
    files: int  # every file the site holds (pages, feeds, attachments, scripts)
    written: int  # files written anew by that publish
    removed: int  # files it took away (no longer visible)
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        doc = asdict(self)
        doc["warnings"] = list(self.warnings)
        return doc


def record_file(vault: Vault, audience_name: str) -> Path:
    # '/' cannot be in a file name; '+' cannot be in an audience name, so none collide.
    return vault.state_dir / FOLDER / (audience_name.replace("/", "+") + ".json")


def record_publish(
    vault: Vault, report: PublishReport, *, when: dt.datetime | None = None
) -> PublishRecord:
    """Keep ``report`` as the last publish of its audience."""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    record = PublishRecord(
        audience=report.audience,
        out=report.out,
        when=moment.isoformat(timespec="seconds"),
        notes=report.notes,
        files=len(report.written) + report.unchanged,
        written=len(report.written),
        removed=len(report.removed),
        warnings=tuple(report.warnings),
    )
    path = record_file(vault, report.audience)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record.as_dict(), ensure_ascii=False, indent=2) + "\n"
    stamp = FileStamp.of(path) if path.exists() else None
    atomic_write(path, text, stamp)
    return record


def last_publish(vault: Vault, audience_name: str) -> PublishRecord | None:
    """The audience's last publish, or None when it was never published (or its
    record cannot be read: it is knowflow's own, and the next publish writes it anew)."""
    try:
        doc = json.loads(record_file(vault, audience_name).read_text("utf-8"))
        return PublishRecord(
            audience=str(doc["audience"]),
            out=str(doc["out"]),
            when=str(doc["when"]),
            notes=int(doc["notes"]),
            files=int(doc["files"]),
            written=int(doc["written"]),
            removed=int(doc["removed"]),
            warnings=tuple(str(w) for w in doc.get("warnings", [])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def publish_folder(vault: Vault, audience_name: str) -> Path | None:
    """Where the audience's site goes by default: ``out`` in its table of config.toml
    (``[audiences."team/platform"] out = "~/sites/platform"``, a relative folder taken
    from the vault's), else where it was last published, else None."""
    find_audience(vault, audience_name)  # AudienceNotFound for a name config lacks
    table = vault.config().get("audiences", {}).get(audience_name)
    configured = table.get("out") if isinstance(table, dict) else None
    if configured is not None:
        if not isinstance(configured, str) or not configured.strip():
            where = vault.config_where(f"audiences.{audience_name}", "out")
            raise ConfigError(f"{where}: out must be a folder, as text, not {configured!r}")
        return vault.root / Path(configured.strip()).expanduser()
    last = last_publish(vault, audience_name)
    return Path(last.out) if last else None

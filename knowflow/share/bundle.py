"""The bundle: what an audience may see, as one JSON document a hub can ingest.

The schema is described in ``docs/bundle.md``; ``version`` changes when it does.
Every note in it passed the gate, and its Markdown was rewritten so that links
to notes the audience may not see keep only their words.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from knowflow.errors import PublishError
from knowflow.index.index import Index
from knowflow.share.audiences import audience as find_audience
from knowflow.share.catalog import Catalog
from knowflow.vault.files import FileStamp, atomic_write, content_hash

FORMAT = "knowflow-bundle"
VERSION = 1


def bundle(index: Index, audience_name: str) -> dict[str, object]:
    """The bundle for one audience, as a dict ready for ``json.dumps``."""
    vault = index.vault
    settings = vault.config().get("share", {})
    audience = find_audience(vault, audience_name)
    catalog = Catalog.build(index, audience)
    renderer = catalog.renderer()
    notes = []
    for note in sorted(catalog.notes.values(), key=lambda n: n.path):
        markdown = renderer.markdown(note.path)
        notes.append(
            {
                "id": note.id,
                "path": note.path,
                "url": note.url,
                "title": note.title,
                "type": note.type,
                "tags": note.tags,
                "aliases": note.aliases,
                "markdown": markdown,
                "html": renderer.note(note.path),
                "links": [catalog.notes[t].id for t in note.links_to],
                "created": note.created,
                "updated": note.updated,
                "content_hash": content_hash(markdown.encode("utf-8")),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "audience": audience.as_dict(),
        "author": {"name": str(settings.get("author") or "Anonymous")},
        "notes": notes,
    }


def write_bundle(index: Index, audience_name: str, out: Path) -> dict[str, object]:
    """Write the bundle to a file, atomically; returns it."""
    doc = bundle(index, audience_name)
    if out.is_dir():
        raise PublishError(f"{out} is a folder; name the bundle file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
        atomic_write(out, text, FileStamp.of(out) if out.exists() else None)
    except OSError as exc:
        raise PublishError(f"cannot write {out}: {exc.strerror}") from None
    return doc

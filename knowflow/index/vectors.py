"""Note embeddings in the index: brought up to date incrementally, searched with numpy.

Each note's vector is stored with the content hash and title it was computed
from (``embeddings``, migration m005); a note whose hash or title changed is
embedded again, a deleted note's row is dropped. Work is committed a batch at a
time, so an update killed part-way keeps what it finished and the next one does
the rest: the same rows as one clean run.

The model is optional (``knowflow[semantic]`` and the model package): without it
nothing here is called but ``available``, and related notes and search use words
and links alone.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowflow.index import encoder
from knowflow.index.encoder import INSTALL_HINT, ModelUnavailable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from knowflow.index.index import Index, NoteRef

    Vectors = npt.NDArray[np.float32]
    Ids = npt.NDArray[np.int64]

__all__ = ["INSTALL_HINT", "ModelUnavailable", "available", "update"]

BATCH = 64  # notes embedded and committed together
MAX_CHARS = 20_000  # of a note's text handed to the tokenizer: far past its 256 tokens
OFF_NOTICE = (
    "Related notes and search use words and links only: the semantic model is not"
    f" installed ({INSTALL_HINT})."
)

Progress = Callable[[int, int], None]


def available() -> bool:
    """Whether the semantic extra and the packaged model are installed."""
    return encoder.available()


@dataclass
class EmbedReport:
    embedded: int = 0
    dropped: int = 0
    seconds: float = 0.0
    model: str = encoder.MODEL_NAME

    def as_dict(self) -> dict[str, object]:
        return {
            "embedded": self.embedded,
            "dropped": self.dropped,
            "seconds": round(self.seconds, 3),
            "model": self.model,
        }


def note_text(title: str, body: str) -> str:
    """What is embedded for a note: its title, then its text."""
    return f"{title}\n{body[:MAX_CHARS]}" if body else title


def stale(index: Index) -> list[int]:
    """Ids of the notes with no vector, or one computed from other text or model."""
    rows = index.conn.execute(
        "SELECT f.id FROM files f LEFT JOIN embeddings e ON e.file_id = f.id"
        " WHERE f.is_note = 1 AND f.hash IS NOT NULL AND (e.file_id IS NULL"
        " OR e.hash != f.hash OR e.title != f.title OR e.model != ?) ORDER BY f.id",
        (encoder.MODEL_NAME,),
    )
    return [r[0] for r in rows]


def drop_gone(index: Index) -> int:
    """Delete the vectors of files that are gone or no longer notes."""
    cur = index.conn.execute(
        "DELETE FROM embeddings WHERE file_id NOT IN (SELECT id FROM files WHERE is_note = 1)"
    )
    return cur.rowcount


def update(index: Index, progress: Progress | None = None) -> EmbedReport:
    """Embed the notes that are new or changed since their vector was stored.

    Raises ModelUnavailable when the model is not installed.
    """
    import numpy as np

    started = time.perf_counter()
    report = EmbedReport()
    todo = stale(index)
    with index.conn:  # one short transaction
        report.dropped = drop_gone(index)
    if todo:
        model = encoder.load()
        for start in range(0, len(todo), BATCH):
            ids = todo[start : start + BATCH]
            rows = _texts(index, ids)
            vectors = model.encode([note_text(title, body) for _, _, title, body in rows])
            index.conn.execute("BEGIN IMMEDIATE")
            try:
                index.conn.executemany(
                    "INSERT OR REPLACE INTO embeddings (file_id, hash, title, model, vector)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (fid, digest, title, model.name, vec.astype(np.float32).tobytes())
                        for (fid, digest, title, _), vec in zip(rows, vectors, strict=True)
                    ],
                )
                index.conn.execute("COMMIT")
            except BaseException:
                index.conn.execute("ROLLBACK")
                raise
            report.embedded += len(rows)
            if progress:
                progress(start + len(ids), len(todo))
    report.seconds = time.perf_counter() - started
    return report


def _texts(index: Index, ids: list[int]) -> list[tuple[int, str, str, str]]:
    """(id, hash, title, body) of these notes, from the full-text table."""
    marks = ",".join("?" * len(ids))
    rows = index.conn.execute(
        f"SELECT f.id, f.hash, f.title, coalesce(n.body, '') FROM files f"
        f" LEFT JOIN notes_fts n ON n.rowid = f.id WHERE f.id IN ({marks}) ORDER BY f.id",
        ids,
    ).fetchall()
    return [(int(i), str(h), str(t), str(b)) for i, h, t, b in rows]


def count(index: Index) -> int:
    return int(index.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])


@dataclass(frozen=True)
class Matrix:
    """Every stored vector at once: row i is note ids[i]."""

    ids: Ids
    vectors: Vectors
    row: dict[int, int]


# One matrix per open index, read again only when the database changed: by this
# connection (total_changes) or another one (data_version).
_CACHE: weakref.WeakKeyDictionary[Index, tuple[tuple[int, int], Matrix]] = (
    weakref.WeakKeyDictionary()
)


def matrix(index: Index) -> Matrix:
    import numpy as np

    version = int(index.conn.execute("PRAGMA data_version").fetchone()[0])
    key = (version, index.conn.total_changes)
    cached = _CACHE.get(index)
    if cached and cached[0] == key:
        return cached[1]
    rows = index.conn.execute(
        "SELECT e.file_id, e.vector FROM embeddings e JOIN files f ON f.id = e.file_id"
        " WHERE f.is_note = 1 AND e.model = ? ORDER BY e.file_id",
        (encoder.MODEL_NAME,),
    ).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(r[1] for r in rows)
    vectors = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1) if rows else None
    if vectors is None:
        vectors = np.zeros((0, 0), dtype=np.float32)
    found = Matrix(ids, vectors, {int(i): n for n, i in enumerate(ids.tolist())})
    _CACHE[index] = (key, found)
    return found


def vector_of(index: Index, note: NoteRef) -> Vectors:
    """The note's stored vector, or one computed now when it has none yet."""
    m = matrix(index)
    n = m.row.get(note.id)
    if n is not None:
        found: Vectors = m.vectors[n]
        return found
    rows = _texts(index, [note.id])
    title, body = (rows[0][2], rows[0][3]) if rows else (note.title, "")
    return embed_query(note_text(title, body))


def embed_query(text: str) -> Vectors:
    vector: Vectors = encoder.load().encode([text])[0]
    return vector


def nearest(
    index: Index,
    vector: Vectors,
    limit: int,
    exclude: int | None = None,
    allowed: set[int] | None = None,
) -> list[tuple[int, float]]:
    """The ``limit`` notes closest to vector by cosine, as (id, similarity)."""
    import numpy as np

    m = matrix(index)
    if not len(m.ids):
        return []
    scores = m.vectors @ vector
    if exclude is not None and exclude in m.row:
        scores[m.row[exclude]] = -np.inf
    if allowed is not None:
        keep = np.isin(m.ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        scores[~keep] = -np.inf
    take = min(limit, len(scores))
    top = np.argpartition(-scores, take - 1)[:take]
    order = top[np.lexsort((m.ids[top], -scores[top]))]
    return [(int(m.ids[i]), float(scores[i])) for i in order if np.isfinite(scores[i])]

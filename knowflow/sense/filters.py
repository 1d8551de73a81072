"""Search filters (tag:, path:, type:, share:, links-to:, has:) as SQL on ``files f``.

A filter on related rows can be written two ways: ``f.id IN (list)``, which
builds the whole list first, or a correlated ``EXISTS``, which costs a probe
per note examined. The list is cheap when it is short and ruinous when it
covers half the vault, so each filter counts (up to a bound) how many rows it
has and picks the form that stays fast.
"""

from __future__ import annotations

from typing import NamedTuple

from knowflow.errors import NoteNotFound
from knowflow.index.index import Index
from knowflow.sense.query import Term
from knowflow.vault.names import name_key

NARROW = 20_000  # a set of at most this many rows is listed; a larger one is probed


class RowSet(NamedTuple):
    """Notes with a row in ``table`` whose ``key`` equals the note's ``column``."""

    table: str
    key: str  # column of `table` pointing at the note
    column: str  # column of files it points at
    where: str
    args: tuple[object, ...] = ()
    list_hint: str = ""  # a redundant test that lets the list use a partial index

    @property
    def probe_index(self) -> str:
        """The index on ``key``: a probe must use it, not one on the filtered column."""
        return f"{self.table}_{'file' if self.key == 'file_id' else self.key}"

    def sql(self, index: Index) -> tuple[str, list[object]]:
        count = index.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {self.table} WHERE {self.where}"
            f"{self.list_hint} LIMIT {NARROW + 1})",
            self.args,
        ).fetchone()[0]
        if count <= NARROW:
            sql = (
                f"f.{self.column} IN (SELECT {self.key} FROM {self.table}"
                f" WHERE {self.where}{self.list_hint})"
            )
        else:
            # Without INDEXED BY, SQLite may pick the index on the filtered
            # column and scan it for every note: quadratic on a large vault.
            sql = (
                f"EXISTS (SELECT 1 FROM {self.table} INDEXED BY {self.probe_index}"
                f" WHERE {self.key} = f.{self.column} AND ({self.where}))"
            )
        return sql, list(self.args)


def filter_sql(index: Index, term: Term) -> tuple[str, list[object]]:
    """The SQL condition for one filter term (not negated; the caller does that)."""
    value = term.value
    match term.field:
        case "path":
            return "instr(lower(f.path), ?) > 0", [value.casefold()]
        case "type":
            return "coalesce(f.type, 'note') = ?", [value.casefold()]
        case "share" if value.casefold() == "private":
            shared = RowSet("shares", "file_id", "id", "audience != 'private'")
            sql, args = shared.sql(index)
            return f"NOT {sql}", args
    return _row_set(index, term).sql(index)


def _row_set(index: Index, term: Term) -> RowSet:
    value = term.value
    match term.field:
        case "tag":
            tag = value.lstrip("#").casefold().rstrip("/")
            # From x/ up to x0 ('0' follows '/'): every tag nested under x, by index range.
            where = "tag_key = ? OR (tag_key > ? AND tag_key < ?)"
            return RowSet("tags", "file_id", "id", where, (tag, tag + "/", tag + "0"))
        case "share":
            return RowSet("shares", "file_id", "id", "audience = ?", (value,))
        case "links-to":
            try:
                target = index.note(value)
            except NoteNotFound:
                key = name_key(value).rsplit("/", 1)[-1]
                return RowSet("links", "file_id", "id", "target_key = ?", (key,))
            return RowSet("links", "file_id", "id", "resolved_path = ?", (target.path,))
    what = value.casefold()
    if what in ("unresolved", "ambiguous"):
        # The hint lets a list use the partial index of unsettled links.
        return RowSet("links", "file_id", "id", "status = ?", (what,), " AND status != 'resolved'")
    if what == "problems":
        return RowSet("problems", "path", "path", "1")
    return RowSet("links" if what == "links" else "tags", "file_id", "id", "1")

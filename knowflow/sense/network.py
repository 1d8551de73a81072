"""The link graph as a network to draw: notes as nodes, links between notes as edges,
for the whole vault or for one note's neighbourhood, and where each node is drawn.

A layout of a large vault is costly to compute (the app runs ForceAtlas2 in the
browser), so it is computed once and kept in ``.knowflow/graph-layout.json``, keyed
by the network's signature (its notes and links, not their titles). When the vault
changed since, the notes still there keep their place and only the new ones are
placed (beside a neighbour already placed), so a refinement starts from the old
drawing instead of from nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from knowflow.index.index import Index, NoteRef
from knowflow.vault.vault import Vault

LAYOUT_FILE = "graph-layout.json"
NEIGHBOURHOOD_LIMIT = 1500  # notes drawn around one note; the rest are counted
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
SPACING = 10.0  # distance between seeded neighbours, in layout units

# Every link from one note to another (not to itself, not to an attachment), once.
_EDGES = (
    "SELECT DISTINCT l.file_id, t.id FROM links l JOIN files t ON t.path = l.resolved_path"
    " WHERE t.is_note = 1 AND t.id != l.file_id"
)


class GraphNode(NamedTuple):
    """A note as drawn: its path, title, top folder and top tag (for colours), and
    how many steps it lies from the note a neighbourhood is drawn around."""

    path: str
    title: str
    folder: str  # first folder of its path; '' at the vault's root
    tag: str  # first part of its first tag; '' when it has none
    step: int = 0


@dataclass
class Network:
    """Nodes in path order and edges as (source, target) positions in ``nodes``: the
    source note links to the target note."""

    nodes: list[GraphNode]
    edges: list[tuple[int, int]]
    focus: str | None = None  # the note a neighbourhood is drawn around
    left_out: int = 0  # notes of the neighbourhood beyond the limit, not drawn
    _signature: str = field(default="", repr=False)

    def signature(self) -> str:
        """A digest of the notes and links: the same network, the same layout."""
        if not self._signature:
            digest = hashlib.sha256()
            for node in self.nodes:
                digest.update(node.path.encode("utf-8", "surrogatepass") + b"\0")
            digest.update(b"\1")
            for source, target in sorted(self.edges):
                digest.update(f"{source},{target};".encode())
            self._signature = digest.hexdigest()[:32]
        return self._signature

    def degrees(self) -> list[int]:
        """Links in and out of each node."""
        counts = [0] * len(self.nodes)
        for source, target in self.edges:
            counts[source] += 1
            counts[target] += 1
        return counts

    def unlinked(self) -> int:
        """Nodes with no link in or out (orphans, for the whole vault)."""
        return sum(1 for d in self.degrees() if d == 0)


# The last whole-vault network of each index, with the index's stamp when it was read:
# the graph page and its data are asked for one after the other, and a 10,000-note
# network takes a few hundred milliseconds to read.
_LAST: dict[str, tuple[tuple[int, ...], Network]] = {}


def _stamp(index: Index) -> tuple[int, ...] | None:
    """Size and modification time of the index and its write-ahead log: every commit
    changes one of them."""
    try:
        stamps: list[int] = []
        for suffix in ("", "-wal"):
            path = Path(f"{index.path}{suffix}")
            st = path.stat() if path.exists() else None
            stamps += [st.st_size, st.st_mtime_ns, st.st_ino] if st else [-1, -1, -1]
        return tuple(stamps)
    except OSError:
        return None


def vault_network(index: Index) -> Network:
    """Every note of the vault and every link between two notes."""
    stamp = _stamp(index)
    key = str(index.path)
    last = _LAST.get(key)
    if stamp is not None and last is not None and last[0] == stamp:
        return last[1]
    network = _read_network(index)
    if stamp is not None:
        _LAST[key] = (stamp, network)
    return network


def _read_network(index: Index) -> Network:
    rows = index.conn.execute(
        "SELECT id, path, title FROM files WHERE is_note = 1 ORDER BY path"
    ).fetchall()
    tags = _first_tags(index, None)
    position = {file_id: n for n, (file_id, _, _) in enumerate(rows)}
    nodes = [GraphNode(path, title, _folder(path), tags.get(fid, "")) for fid, path, title in rows]
    edges = [
        (position[s], position[t])
        for s, t in index.conn.execute(_EDGES)
        if s in position and t in position
    ]
    return Network(nodes, sorted(edges))


def neighbourhood(
    index: Index, note: NoteRef, steps: int = 2, limit: int = NEIGHBOURHOOD_LIMIT
) -> Network:
    """The note, the notes it links to and that link to it, and so on for ``steps``
    steps, with every link among them. Beyond ``limit`` notes, the nearer ones are
    kept (then by path) and the rest counted in ``left_out``."""
    step_of = {note.id: 0}
    frontier = [note.id]
    left_out = 0
    for step in range(1, steps + 1):
        found = sorted(_adjacent(index, frontier) - step_of.keys())
        room = max(0, limit - len(step_of))
        left_out += max(0, len(found) - room)
        kept = _by_path(index, found)[:room]
        step_of.update((fid, step) for fid in kept)
        frontier = kept
    ids = list(step_of)
    rows = index.conn.execute(
        "SELECT id, path, title FROM files WHERE id IN (SELECT value FROM json_each(?))"
        " ORDER BY path",
        (json.dumps(ids),),
    ).fetchall()
    tags = _first_tags(index, ids)
    position = {fid: n for n, (fid, _, _) in enumerate(rows)}
    nodes = [
        GraphNode(path, title, _folder(path), tags.get(fid, ""), step_of[fid])
        for fid, path, title in rows
    ]
    inside = (
        f"{_EDGES} AND l.file_id IN (SELECT value FROM json_each(?1))"
        " AND t.id IN (SELECT value FROM json_each(?1))"
    )
    edges = [(position[s], position[t]) for s, t in index.conn.execute(inside, (json.dumps(ids),))]
    return Network(nodes, sorted(edges), focus=note.path, left_out=left_out)


def _adjacent(index: Index, ids: list[int]) -> set[int]:
    """Notes linked to or from any of these notes."""
    if not ids:
        return set()
    listed = json.dumps(ids)
    out = index.conn.execute(
        f"{_EDGES} AND l.file_id IN (SELECT value FROM json_each(?))", (listed,)
    )
    found = {t for _, t in out}
    into = index.conn.execute(f"{_EDGES} AND t.id IN (SELECT value FROM json_each(?))", (listed,))
    found.update(s for s, _ in into)
    return found


def _by_path(index: Index, ids: list[int]) -> list[int]:
    if not ids:
        return []
    rows = index.conn.execute(
        "SELECT id FROM files WHERE id IN (SELECT value FROM json_each(?))"
        " AND is_note = 1 ORDER BY path",
        (json.dumps(ids),),
    )
    return [fid for (fid,) in rows]


def _first_tags(index: Index, ids: list[int] | None) -> dict[int, str]:
    """Each note's first tag (as written first), cut to its top level."""
    sql = "SELECT file_id, tag, min(rowid) FROM tags"
    args: tuple[str, ...] = ()
    if ids is not None:
        sql += " WHERE file_id IN (SELECT value FROM json_each(?))"
        args = (json.dumps(ids),)
    rows = index.conn.execute(sql + " GROUP BY file_id", args)
    return {fid: tag.lstrip("#").split("/", 1)[0] for fid, tag, _ in rows}


def _folder(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else ""


# -- Layout -----------------------------------------------------------------------------


class Layout(NamedTuple):
    """Where each node of a network is drawn, in the order of its nodes.

    ``source`` says how it was found: ``saved`` (the layout kept for this very
    network: draw it as it is), ``partly saved`` (kept for the notes still there,
    new ones placed beside their neighbours: refine it) or ``seeded`` (nothing kept:
    a spiral by folder, or rings around the focus note, to refine)."""

    positions: list[tuple[float, float]]
    source: str


class StaleLayout(ValueError):
    """A layout sent for a network that is no longer the vault's."""


def layout_path(vault: Vault) -> Path:
    """Where the whole vault's layout is kept."""
    return vault.state_dir / LAYOUT_FILE


def layout(vault: Vault, network: Network) -> Layout:
    """The saved layout of the whole vault's network, or a start for computing one;
    a neighbourhood is always seeded (rings around its note: it is small)."""
    if network.focus is not None:
        return Layout(_rings(network), "seeded")
    saved_signature, saved = _read_saved(vault)
    if saved_signature == network.signature() and len(saved) >= len(network.nodes):
        positions = [saved.get(node.path) for node in network.nodes]
        if all(p is not None for p in positions):
            return Layout([p for p in positions if p is not None], "saved")
    known = {n: saved[node.path] for n, node in enumerate(network.nodes) if node.path in saved}
    return Layout(_placed(network, known), "partly saved" if known else "seeded")


def save_layout(
    vault: Vault, network: Network, signature: str, positions: Sequence[Sequence[float]]
) -> None:
    """Keep the layout computed for ``network`` (its signature as the app received
    it); refused with StaleLayout when the vault changed since, or ValueError when
    the positions do not fit the network."""
    if signature != network.signature():
        raise StaleLayout("the vault's notes or links changed since this layout began")
    if len(positions) != len(network.nodes):
        raise ValueError(f"{len(positions)} positions for {len(network.nodes)} notes")
    table: dict[str, list[float]] = {}
    for node, point in zip(network.nodes, positions, strict=True):
        if len(point) != 2 or not all(_finite(v) for v in point):
            raise ValueError(f"not a position: {point!r}")
        table[node.path] = [round(float(point[0]), 2), round(float(point[1]), 2)]
    document = {"version": 1, "signature": signature, "positions": table}
    _write_replacing(vault, json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e9


def _read_saved(vault: Vault) -> tuple[str, dict[str, tuple[float, float]]]:
    """The saved signature and positions; nothing when the file is missing or not
    one this code wrote (it is a cache: a damaged one is simply computed again)."""
    try:
        document = json.loads(layout_path(vault).read_text("utf-8"))
        table = document["positions"]
        positions = {str(p): (float(xy[0]), float(xy[1])) for p, xy in table.items()}
        return str(document["signature"]), positions
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return "", {}


def _write_replacing(vault: Vault, text: str) -> None:
    """Write the cache so a reader sees the old file or the new one, never half."""
    vault.state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".graph-layout-", suffix=".tmp", dir=vault.state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(layout_path(vault))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


def _placed(network: Network, known: dict[int, tuple[float, float]]) -> list[tuple[float, float]]:
    """Known positions kept; each other node beside its placed neighbours if it has
    any, else on a spiral (notes of one folder next to each other)."""
    positions: list[tuple[float, float] | None] = [known.get(n) for n in range(len(network.nodes))]
    neighbours: list[list[int]] = [[] for _ in network.nodes]
    for source, target in network.edges:
        neighbours[source].append(target)
        neighbours[target].append(source)
    spiral = 0
    for n in sorted(range(len(network.nodes)), key=lambda n: (network.nodes[n].folder, n)):
        if positions[n] is not None:
            continue
        placed = [p for p in (positions[m] for m in neighbours[n]) if p is not None]
        if known and placed:
            x = sum(p[0] for p in placed) / len(placed)
            y = sum(p[1] for p in placed) / len(placed)
            dx, dy = _jitter(network.nodes[n].path)
            positions[n] = (x + dx, y + dy)
        else:
            positions[n] = _on_spiral(spiral)
            spiral += 1
    return [p if p is not None else (0.0, 0.0) for p in positions]


def _on_spiral(i: int, spacing: float = SPACING) -> tuple[float, float]:
    """The i-th point of a sunflower spiral: evenly spread, any number of points."""
    radius = spacing * math.sqrt(i + 0.5)
    angle = i * GOLDEN_ANGLE
    return (round(radius * math.cos(angle), 2), round(radius * math.sin(angle), 2))


def _jitter(path: str, spacing: float = SPACING) -> tuple[float, float]:
    """A small offset fixed by the path, so two new notes beside one neighbour part."""
    h = int.from_bytes(
        hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    )
    angle = (h % 3600) / 3600 * 2 * math.pi
    return (spacing * math.cos(angle), spacing * math.sin(angle))


def _rings(network: Network) -> list[tuple[float, float]]:
    """The focus note in the middle, each step on a ring around it, its notes in
    path order (the layout the browser refines)."""
    by_step: dict[int, list[int]] = {}
    for n, node in enumerate(network.nodes):
        by_step.setdefault(node.step, []).append(n)
    positions = [(0.0, 0.0)] * len(network.nodes)
    for step, members in by_step.items():
        radius = 0.0 if step == 0 else 100.0 * step + 2 * len(members)
        for k, n in enumerate(members):
            angle = 2 * math.pi * k / max(1, len(members)) + step * 0.5
            positions[n] = (round(radius * math.cos(angle), 2), round(radius * math.sin(angle), 2))
    return positions


def network_json(network: Network, where: Layout) -> dict[str, object]:
    """The network and its layout as the app's graph page reads it: compact (a
    10,000-note vault is a megabyte, not ten): folders and tags named once, nodes
    as rows, edges as a flat list of node positions."""
    folders = _names(node.folder for node in network.nodes)
    tags = _names(node.tag for node in network.nodes)
    folder_at = {name: n for n, name in enumerate(folders)}
    tag_at = {name: n for n, name in enumerate(tags)}
    nodes = [
        [node.path, node.title, folder_at[node.folder], tag_at[node.tag], x, y, node.step]
        for node, (x, y) in zip(network.nodes, where.positions, strict=True)
    ]
    return {
        "signature": network.signature(),
        "focus": network.focus,
        "layout": where.source,
        "folders": folders,
        "tags": tags,
        "nodes": nodes,
        "edges": [n for edge in network.edges for n in edge],
        "left_out": network.left_out,
    }


def _names(values: Iterable[str]) -> list[str]:
    """Names most used first, so the first colours go to the largest groups."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))

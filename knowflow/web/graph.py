"""The graph: one note's neighbourhood (links and backlinks, two steps) or the whole
vault, drawn by sigma.js (WebGL) from ``/graph/data.json``; and the tag tree.

The drawing's layout is computed in the browser (ForceAtlas2, in a worker) the first
time, sent back and kept (``knowflow.sense.network``), so the next visit draws at
once. Each page carries a text alternative: the neighbourhood's notes as links, or
for the whole vault a summary with its most linked notes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import AmbiguousNote, NoteNotFound
from knowflow.index import Index, NoteRef
from knowflow.sense.graph import tag_tree
from knowflow.sense.network import (
    Network,
    StaleLayout,
    layout,
    neighbourhood,
    network_json,
    save_layout,
    vault_network,
)
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import page

MOST_LINKED = 20  # notes the whole vault's summary lists
MAX_LAYOUT_BODY = 64 * 1024 * 1024  # positions of a very large vault, as JSON


def _focus(index: Index, name: str | None) -> NoteRef | None:
    if not name:
        return None
    try:
        return index.note(name)
    except (NoteNotFound, AmbiguousNote) as exc:
        raise HTTPException(404, str(exc)) from None


def graph_page(request: Request) -> Response:
    with open_index(request) as index:
        focus = _focus(index, request.query_params.get("note"))
        network = neighbourhood(index, focus) if focus else vault_network(index)
    context: dict[str, Any] = {
        "focus": focus,
        "network": network,
        "links": len(network.edges),
        "data_src": "/graph/data.json" + (f"?{urlencode({'note': focus.path})}" if focus else ""),
    }
    if focus:
        context["steps"] = _by_step(network)
        title = f"Graph around {focus.title}"
    else:
        context["most_linked"] = _most_linked(network)
        context["unlinked"] = network.unlinked()
        title = "Graph of the vault"
    return page(request, "graph.html", section="graph", title=title, **context)


def _by_step(network: Network) -> dict[int, list[Any]]:
    """The neighbourhood's notes by their distance from its note (1 and 2)."""
    steps: dict[int, list[Any]] = {}
    for node in network.nodes:
        if node.step:
            steps.setdefault(node.step, []).append(node)
    for members in steps.values():
        members.sort(key=lambda n: (n.title.casefold(), n.path))
    return dict(sorted(steps.items()))


def _most_linked(network: Network) -> list[tuple[Any, int]]:
    degrees = network.degrees()
    ranked = sorted(range(len(network.nodes)), key=lambda n: (-degrees[n], network.nodes[n].path))
    return [(network.nodes[n], degrees[n]) for n in ranked[:MOST_LINKED] if degrees[n]]


def graph_data(request: Request) -> Response:
    """The network to draw, with its layout (saved, or a start to refine)."""
    vault = vault_of(request)
    with open_index(request) as index:
        focus = _focus(index, request.query_params.get("note"))
        network = neighbourhood(index, focus) if focus else vault_network(index)
    return JSONResponse(network_json(network, layout(vault, network)))


async def save_graph_layout(request: Request) -> Response:
    """Keep the layout the browser computed for the whole vault. A vault changed in
    the meantime is answered (200) with ``stored: false``: the next visit computes
    again, and the browser has nothing to report as an error."""
    if int(request.headers.get("content-length") or 0) > MAX_LAYOUT_BODY:
        raise HTTPException(413, "This layout is larger than any vault's.")
    try:
        body = await request.json()
        signature = str(body["signature"])
        flat = body["positions"]
        positions = [flat[i : i + 2] for i in range(0, len(flat), 2)]
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(400, f"Not a layout: {exc}") from None

    def store() -> dict[str, object]:
        vault = vault_of(request)
        with open_index(request) as index:
            network = vault_network(index)
        try:
            save_layout(vault, network, signature, positions)
        except StaleLayout as exc:
            return {"stored": False, "reason": str(exc)}
        return {"stored": True, "notes": len(network.nodes)}

    try:
        return JSONResponse(await run_in_threadpool(store))
    except ValueError as exc:
        raise HTTPException(400, f"Not a layout of this vault: {exc}") from None


def tags_page(request: Request) -> Response:
    with open_index(request) as index:
        tree = tag_tree(index)
    return page(request, "tags.html", section="graph", title="Tags", tree=tree)


routes: list[BaseRoute] = [
    Route("/graph", graph_page, name="graph"),
    Route("/graph/data.json", graph_data, name="graph_data"),
    Route("/graph/layout", save_graph_layout, methods=["POST"], name="graph_layout"),
    Route("/tags", tags_page, name="tags"),
]

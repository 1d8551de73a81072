"""The hub's API beyond push and search: insight (the people directory, who knows
about X, the flow map, the digest and its Atom feed), communities, feed tokens and
the OpenAPI description.

What a reader gets is computed only from what they may see: the artifacts of their
audiences are read by SQL that names those audiences, then passed through
``visible_to`` (a second filter, so a forgotten ``WHERE`` stays harmless). The
``Visible`` is cached per (reader's audience set, hub version): the analysis of a
large hub is paid once per push or membership change, not once per request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from knowflow.hub import admin, artifact, communities, flow, insight
from knowflow.hub.admin import Member
from knowflow.hub.db import reading
from knowflow.hub.errors import Forbidden, HubError, NotFound

HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
DIGEST_DAYS = 7  # the digest's default period, back from now
EVIDENCE_CHARS = 280  # of an artifact's text shown as evidence in who-knows
CACHED = 16  # audience sets kept per hub version


def _json(data: object, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=HEADERS)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _member(request: Request) -> Member:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return await run_in_threadpool(admin.authenticate, _engine(request), token.strip())


# -- what a reader may see, cached -------------------------------------------------------


class Seen:
    """One reader's Visible and, once asked for, its analysis, directory and flow map:
    each made once, however many requests ask for it at the same moment."""

    def __init__(self, visible: insight.Visible) -> None:
        self.visible = visible
        self._flow: flow.FlowMap | None = None
        self._directory: list[dict[str, object]] | None = None
        self._lock = threading.Lock()

    def analysed(self) -> insight.Visible:
        """The Visible, its TF-IDF analysis made (the costly part, at 100,000 artifacts)."""
        with self._lock:
            self.visible.analysis()
        return self.visible

    def directory(self) -> list[dict[str, object]]:
        visible = self.analysed()
        with self._lock:
            if self._directory is None:
                self._directory = [p.as_dict() for p in insight.directory(visible)]
            return self._directory

    def flow(self) -> flow.FlowMap:
        with self._lock:
            if self._flow is None:
                self._flow = flow.flow_map(self.visible)
            return self._flow


Key = tuple[frozenset[str], tuple[int, int]]


class InsightCache:
    """Visibles by (audience set, hub version). The version is the audit log's last id
    and length: every push, deletion and membership change writes to it in its own
    transaction, and the length also moves when a transaction that took an earlier id
    commits late. Entries of an older version are dropped as a newer one comes."""

    def __init__(self, size: int = CACHED) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Seen] = OrderedDict()
        self._lock = threading.Lock()
        self._gates: dict[Key, threading.Lock] = {}  # one build at a time per key
        self.builds = 0  # how many Visibles were built (for tests and benchmarks)

    def seen(self, engine: Engine, reader: Member) -> Seen:
        with reading(engine) as conn:
            audiences = reader_audiences(conn, reader)
            key = (audiences, hub_version(conn))
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:  # requests that come during a build wait for it, not build again
            found = self._cached(key)
            if found is not None:
                return found
            # Read after the version: what is read can only be newer than the key says,
            # and a newer version's key then builds again.
            with reading(engine) as conn:
                artifacts = load_artifacts(conn, audiences)
            made = Seen(insight.visible_to(artifacts, audiences))
            self._store(key, made)
        return made

    def _cached(self, key: Key) -> Seen | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def _store(self, key: Key, made: Seen) -> None:
        with self._lock:
            self.builds += 1
            for old in [k for k in self._entries if k[1] != key[1]]:
                del self._entries[old]
            self._entries[key] = made
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            for old in [k for k in self._gates if k[1] != key[1]]:
                del self._gates[old]


_CACHE_LOCK = threading.Lock()


def cache(request: Request) -> InsightCache:
    """The app's cache, made on first use."""
    with _CACHE_LOCK:
        found = getattr(request.app.state, "insight_cache", None)
        if found is None:
            found = request.app.state.insight_cache = InsightCache()
    assert isinstance(found, InsightCache)
    return found


def reader_audiences(conn: Connection, reader: Member) -> frozenset[str]:
    """The audiences reader reads: their own, and every public one."""
    rows = conn.execute(
        text(
            "SELECT name FROM audiences WHERE kind = 'public' OR id IN"
            " (SELECT audience_id FROM memberships WHERE member_id = :m)"
        ),
        {"m": reader.id},
    ).scalars()
    return frozenset(str(name) for name in rows)


def hub_version(conn: Connection) -> tuple[int, int]:
    row = conn.execute(text("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM audit")).one()
    return int(row[0]), int(row[1])


_ARTIFACTS = text(
    "SELECT m.name AS author, au.name AS audience, au.kind, f.title, f.markdown, f.tags,"
    " f.shared_at, f.note_id FROM artifacts f JOIN members m ON m.id = f.author_id"
    " JOIN audiences au ON au.id = f.audience_id"
    " WHERE au.name IN :names AND m.revoked = 0 ORDER BY f.id"
).bindparams(bindparam("names", expanding=True))


def load_artifacts(conn: Connection, audiences: frozenset[str]) -> list[insight.Artifact]:
    """The artifacts of these audiences, and no others, as insight reads them."""
    if not audiences:
        return []
    rows = conn.execute(_ARTIFACTS, {"names": sorted(audiences)})
    return [
        insight.Artifact(
            author=str(r.author),
            audience=str(r.audience),
            audience_kind=str(r.kind),
            title=str(r.title),
            text=str(r.markdown),
            tags=tuple(_tags(r.tags)),
            shared=dt.datetime.fromisoformat(str(r.shared_at)),
            ref=artifact.ref(str(r.author), str(r.note_id)),
        )
        for r in rows
    ]


def _tags(raw: str) -> list[str]:
    import json

    found = json.loads(raw)
    return [str(t) for t in found] if isinstance(found, list) else []


async def _seen(request: Request, reader: Member) -> Seen:
    return await run_in_threadpool(cache(request).seen, _engine(request), reader)


# -- insight -----------------------------------------------------------------------------


async def directory_endpoint(request: Request) -> Response:
    seen = await _seen(request, await _member(request))
    return _json({"people": await run_in_threadpool(seen.directory)})


def _evidence(artifact: insight.Artifact) -> dict[str, object]:
    found = insight.artifact_dict(artifact)
    text_ = str(found.pop("text"))
    found["excerpt"] = text_[:EVIDENCE_CHARS] + ("…" if len(text_) > EVIDENCE_CHARS else "")
    return found


async def who_knows_endpoint(request: Request) -> Response:
    seen = await _seen(request, await _member(request))
    query = request.query_params.get("q", "")
    limit = _number(request, "limit", 20)
    experts = await run_in_threadpool(lambda: insight.who_knows(seen.analysed(), query))
    people = [
        {
            "person": e.person,
            "score": round(e.score, 6),
            "artifacts": [_evidence(a) for a in e.artifacts],
        }
        for e in experts[:limit]
    ]
    return _json({"query": query, "people": people})


async def flow_endpoint(request: Request) -> Response:
    seen = await _seen(request, await _member(request))
    found = await run_in_threadpool(seen.flow)
    return _json(flow.flow_json(found))


async def flow_svg_endpoint(request: Request) -> Response:
    seen = await _seen(request, await _member(request))
    svg = await run_in_threadpool(lambda: flow.flow_svg(seen.flow()))
    return Response(svg, media_type="image/svg+xml", headers=HEADERS)


def _number(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name, str(default))
    if not value.isdigit():
        raise HubError(f"{name} must be a number")
    return max(1, min(int(value), 1000))


def _moment(request: Request, name: str, default: dt.datetime) -> dt.datetime:
    value = request.query_params.get(name, "")
    if not value:
        return default
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise HubError(f"{name} must be a date or time (ISO 8601), not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _digest(request: Request, seen: Seen) -> insight.Digest:
    end = _moment(request, "until", dt.datetime.now(dt.UTC))
    start = _moment(request, "since", end - dt.timedelta(days=DIGEST_DAYS))
    found = insight.digest(seen.visible, start, end)
    audience = request.query_params.get("audience", "")
    if not audience:
        return found
    if audience not in seen.visible.audiences:
        # The same answer whether or not the audience exists: its name tells nothing.
        raise Forbidden(f"you do not read the audience {audience!r}")
    sections = tuple(s for s in found.sections if s.audience == audience)
    return insight.Digest(found.start, found.end, sections)


async def digest_endpoint(request: Request) -> Response:
    seen = await _seen(request, await _member(request))
    found = await run_in_threadpool(_digest, request, seen)
    return _json(found.as_dict())


async def atom_endpoint(request: Request) -> Response:
    token = request.query_params.get("token", "")
    reader = await run_in_threadpool(admin.feed_reader, _engine(request), token)
    seen = await _seen(request, reader)
    found = await run_in_threadpool(_digest, request, seen)
    # The feed's own address without its token: a feed shown or shared elsewhere
    # must not carry the key that reads it.
    address = str(request.url.remove_query_params("token"))
    atom = await run_in_threadpool(
        insight.digest_atom, found, address, f"Digest for {reader.name}", address,
        str(request.base_url),
    )  # fmt: skip
    return Response(atom, media_type="application/atom+xml; charset=utf-8", headers=HEADERS)


async def artifact_endpoint(request: Request) -> Response:
    """One shared note, whole, if the reader may see it (else 404, as for no note)."""
    member = await _member(request)
    return _json(await read_artifact(request, member, request.path_params["ref"]))


async def read_artifact(request: Request, reader: Member, wanted: str) -> dict[str, Any]:
    """The note at ``wanted`` for reader (``artifact.read_note``), its author found in
    the reader's cached Visible first, so only that author's rows are read and hashed."""
    seen = await _seen(request, reader)
    author = next((a.author for a in seen.visible.artifacts if a.ref == wanted), None)
    if author is None:
        raise NotFound(artifact.MISSING)
    found: dict[str, Any] = await run_in_threadpool(
        artifact.read_note, _engine(request), reader, wanted, author
    )
    return found


async def feed_token_endpoint(request: Request) -> Response:
    member = await _member(request)
    token = await run_in_threadpool(admin.new_feed_token, _engine(request), member)
    feed = str(request.url_for("atom_feed").include_query_params(token=token))
    return _json({"token": token, "feed": feed})


async def revoke_feed_token_endpoint(request: Request) -> Response:
    member = await _member(request)
    revoked = await run_in_threadpool(admin.revoke_feed_token, _engine(request), member)
    return _json({"revoked": revoked})


# -- communities -------------------------------------------------------------------------


async def community_endpoint(request: Request) -> Response:
    member = await _member(request)
    name = request.path_params["name"]
    return _json(await run_in_threadpool(communities.page, _engine(request), member, name))


async def join_endpoint(request: Request) -> Response:
    member = await _member(request)
    name = request.path_params["name"]
    return _json(await run_in_threadpool(communities.ask, _engine(request), member, name))


async def requests_endpoint(request: Request) -> Response:
    member = await _member(request)
    name = request.path_params["name"]
    return _json(await run_in_threadpool(communities.requests, _engine(request), member, name))


def _deciding(admit: bool) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        steward = await _member(request)
        name, who = request.path_params["name"], request.path_params["member"]
        found = await run_in_threadpool(
            lambda: communities.decide(_engine(request), steward, name, who, admit=admit)
        )
        return _json(found)

    return endpoint


async def openapi_endpoint(request: Request) -> Response:
    from knowflow.hub.openapi import document

    return _json(document(request.app.routes))


# Audience and member names may hold "/": path parameters, and the page itself last,
# after the routes whose paths it would otherwise swallow.
_COMMUNITY = "/api/communities/{name:path}"
routes = [
    Route("/api/directory", directory_endpoint, methods=["GET"]),
    Route("/api/who-knows", who_knows_endpoint, methods=["GET"]),
    Route("/api/flow", flow_endpoint, methods=["GET"]),
    Route("/api/flow.svg", flow_svg_endpoint, methods=["GET"]),
    Route("/api/digest", digest_endpoint, methods=["GET"]),
    Route("/api/artifacts/{ref}", artifact_endpoint, methods=["GET"]),
    Route("/feeds/digest.atom", atom_endpoint, methods=["GET"], name="atom_feed"),
    Route("/api/feed-token", feed_token_endpoint, methods=["POST"]),
    Route("/api/feed-token", revoke_feed_token_endpoint, methods=["DELETE"]),
    Route(_COMMUNITY + "/join", join_endpoint, methods=["POST"]),
    Route(_COMMUNITY + "/requests", requests_endpoint, methods=["GET"]),
    Route(_COMMUNITY + "/admit/{member:path}", _deciding(True), methods=["POST"]),
    Route(_COMMUNITY + "/decline/{member:path}", _deciding(False), methods=["POST"]),
    Route(_COMMUNITY, community_endpoint, methods=["GET"]),
    Route("/api/openapi.json", openapi_endpoint, methods=["GET"]),
]

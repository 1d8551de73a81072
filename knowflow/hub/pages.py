"""The hub's pages: search, the people directory, a person, communities, the flow map
and the digest, server-rendered in the local app's look (one template set: the hub's
templates first, then the local app's; the local app's style sheet and scripts).

Every page is computed from what the signed-in member may see and nothing else: search
through ``read.search`` (membership in its SQL), the rest from one ``Visible`` built from
SQL filtered by the member's audiences (``visible``), the community pages through
``communities.page``. Sign-in, sign-out and the one-time links are in ``signin``.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from knowflow.hub import admin, api, artifact, communities, read, session, signin
from knowflow.hub.api import Seen
from knowflow.hub.db import reading
from knowflow.hub.errors import Forbidden, HubError
from knowflow.hub.flow import flow_svg
from knowflow.hub.insight import Artifact, Visible, digest, directory, who_knows
from knowflow.hub.pagekit import HEADERS, HERE, Page, engine_of, error, render, signed_in
from knowflow.web.templating import HERE as WEB

SEARCH_LIMIT = 100


# -- what a member may see ---------------------------------------------------------------


async def _seen(request: Request, me: session.Session) -> Seen:
    # The API's cache: one Visible per audience set and hub version, built from SQL
    # filtered by the reader's audiences, then by ``visible_to``.
    return await run_in_threadpool(api.cache(request).seen, engine_of(request), me.member)


async def _visible(request: Request, me: session.Session) -> Visible:
    return (await _seen(request, me)).visible


def _excerpt(artifact: Artifact, size: int = 240) -> Markup:
    shown = " ".join(artifact.text.split())
    return Markup(html.escape(shown if len(shown) <= size else shown[: size - 1] + "…"))


def _hit(artifact: Artifact) -> dict[str, Any]:
    return {
        "title": artifact.title,
        "author": artifact.author,
        "audience": artifact.audience,
        "tags": list(artifact.tags),
        "shared_at": artifact.shared.isoformat(timespec="seconds"),
        "snippet": _excerpt(artifact),
        "ref": artifact.ref,
    }


# -- search ------------------------------------------------------------------------------


def _day(value: str) -> dt.datetime | None:
    """A day of the digest's form; a HubError (400) for what is not a date."""
    value = value.strip()
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC) if value else None
    except ValueError:
        raise HubError(f"not a date (YYYY-MM-DD): {value!r}") from None


async def search_page(request: Request, me: session.Session) -> Response:
    params = request.query_params
    query = params.get("q", "").strip()
    chosen = {k: params.get(k, "").strip() for k in ("audience", "person", "tag", "since", "until")}
    offset = params.get("offset", "0")
    try:
        filters = read.Filters.parse(**chosen)
    except HubError as exc:
        return error(request, 400, str(exc))
    # The filters and the page are in the search's SQL (as for GET /api/search): every
    # match is found, not only those among the best hundred. Without words: the newest.
    found = await run_in_threadpool(
        read.find, engine_of(request), me.member, query, filters, SEARCH_LIMIT,
        int(offset) if offset.isdigit() else 0,
    )  # fmt: skip
    seen = await _visible(request, me)  # the choices offered: only what the member may see
    return render(
        request,
        "hub_search.html",
        section="search",
        title="Search",
        query=query,
        chosen=chosen,
        # snippets escaped, with <mark>s; each title links to the note's page
        hits=[_linked(h) | {"snippet": Markup(h["snippet"])} for h in found.hits],
        audiences=sorted(seen.audiences),
        people=sorted({a.author for a in seen.artifacts}),
        tags=sorted({t for a in seen.artifacts for t in a.tags}),
    )


def _linked(hit: dict[str, Any]) -> dict[str, Any]:
    """A hit of SQL (its note id as "id") with the address of its note's page."""
    return hit | {"ref": artifact.ref(str(hit["author"]), str(hit["id"]))}


# -- one shared note ---------------------------------------------------------------------


async def artifact_page(request: Request, me: session.Session) -> Response:
    # NotFound for a note the member may not see, as for none: signed_in's error page.
    found = await api.read_artifact(request, me.member, request.path_params["ref"])
    return render(
        request,
        "hub_artifact.html",
        title=found["title"] or "(untitled)",
        note=found,
        body=Markup(found["html"]),  # cleaned by nh3 in read_note
    )


# -- people ------------------------------------------------------------------------------


async def people_page(request: Request, me: session.Session) -> Response:
    query = request.query_params.get("q", "").strip()
    seen = await _visible(request, me)
    profiles = await run_in_threadpool(directory, seen)
    experts = await run_in_threadpool(who_knows, seen, query) if query else []
    return render(
        request,
        "hub_people.html",
        section="people",
        title="People",
        query=query,
        profiles=profiles,
        experts=[(e.person, e.score, [_hit(a) for a in e.artifacts]) for e in experts],
    )


async def person_page(request: Request, me: session.Session) -> Response:
    name = request.path_params["name"]
    seen = await _visible(request, me)
    profile = next((p for p in await run_in_threadpool(directory, seen) if p.person == name), None)
    if profile is None:
        # The same answer for a member who shared nothing the reader may see and for no
        # member at all: the page says nothing of what it cannot show.
        return error(request, 404, f"Nobody named {name!r} shared anything you can see.")
    theirs = sorted((a for a in seen.artifacts if a.author == name), key=lambda a: a.shared)
    return render(
        request,
        "hub_person.html",
        section="people",
        title=name,
        profile=profile,
        hits=[_hit(a) for a in reversed(theirs)],
    )


# -- communities -------------------------------------------------------------------------


def _community_names(engine: Engine, reader: admin.Member) -> list[dict[str, Any]]:
    """Every community (no secret: anyone may ask to join one) and the reader's own
    teams (never another team: who is in it is the admin's business), each marked
    ``mine`` when the reader is in it."""
    with reading(engine) as conn:
        rows = conn.execute(
            text(
                "SELECT a.name, a.kind, a.title, s.member_id IS NOT NULL AS mine"
                " FROM audiences a LEFT JOIN memberships s"
                " ON s.audience_id = a.id AND s.member_id = :m"
                " WHERE a.kind = 'community' OR (a.kind = 'team' AND s.member_id IS NOT NULL)"
                " ORDER BY a.kind, a.name"
            ),
            {"m": reader.id},
        )
        return [
            {"name": str(r.name), "kind": str(r.kind), "title": str(r.title), "mine": bool(r.mine)}
            for r in rows
        ]


async def communities_page(request: Request, me: session.Session) -> Response:
    found = await run_in_threadpool(_community_names, engine_of(request), me.member)
    return render(
        request,
        "hub_communities.html",
        section="communities",
        title="Communities",
        found=[c for c in found if c["kind"] == "community"],
        teams=[c for c in found if c["kind"] == "team"],
    )


def _team(engine: Engine, reader: admin.Member, name: str) -> dict[str, Any] | None:
    """A team as its member sees it (who is in it, what was shared there); None for
    anyone else, who then gets the community page's refusal, as before."""
    with reading(engine) as conn:
        row = conn.execute(
            text(
                "SELECT a.id, a.name, a.kind, a.title FROM audiences a JOIN memberships s"
                " ON s.audience_id = a.id AND s.member_id = :m WHERE a.name = :n"
                " AND a.kind = 'team'"
            ),
            {"m": reader.id, "n": name},
        ).first()
        if row is None:
            return None
        people = communities._people(conn, int(row.id))
        found: dict[str, Any] = {"name": str(row.name), "kind": "team", "title": str(row.title)}
        found["stewards"] = [p["name"] for p in people if p["role"] == "steward"]
        return found | {"member": True, "members": people} | communities._shared(conn, row.id)


async def _community_or_team(engine: Engine, reader: admin.Member, name: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = await run_in_threadpool(communities.page, engine, reader, name)
        return found
    except Forbidden:  # a team: its own members read it here too
        team = await run_in_threadpool(_team, engine, reader, name)
        if team is None:
            raise
        return team


async def community_page(request: Request, me: session.Session) -> Response:
    name = request.path_params["name"]
    engine = engine_of(request)
    found = await _community_or_team(engine, me.member, name)
    found["shared_hits"] = [
        _linked(item) | {"audience": name, "snippet": ""} for item in found.get("shared", [])
    ]
    asking: list[dict[str, str]] = []
    if found["kind"] == "community" and me.member.name in found.get("stewards", []):
        asking = (await run_in_threadpool(communities.requests, engine, me.member, name))[
            "requests"
        ]
    return render(
        request,
        "hub_community.html",
        section="communities",
        title=found["title"],
        community=found,
        asking=asking,
        done=request.query_params.get("done", ""),
    )


async def join(request: Request, me: session.Session) -> Response:
    name = request.path_params["name"]
    await run_in_threadpool(communities.ask, engine_of(request), me.member, name)
    return RedirectResponse(f"/communities/{quote(name)}?done=asked", 303, HEADERS)


async def admit(request: Request, me: session.Session) -> Response:
    return await _decide(request, me, admit=True)


async def decline(request: Request, me: session.Session) -> Response:
    return await _decide(request, me, admit=False)


async def _decide(request: Request, me: session.Session, *, admit: bool) -> Response:
    name, who = request.path_params["name"], request.path_params["who"]
    await run_in_threadpool(
        lambda: communities.decide(engine_of(request), me.member, name, who, admit=admit)
    )
    done = "admitted" if admit else "declined"
    return RedirectResponse(f"/communities/{quote(name)}?done={done}", 303, HEADERS)


# -- the flow map ------------------------------------------------------------------------


async def flow_page(request: Request, me: session.Session) -> Response:
    flow = await run_in_threadpool((await _seen(request, me)).flow)
    drawing = await run_in_threadpool(flow_svg, flow, "Knowledge flow you can see")
    return render(
        request,
        "hub_flow.html",
        section="flow",
        title="Flow map",
        flow=flow,
        svg=Markup(drawing),  # lxml escaped every name in it
        edges=sorted(flow.weights.items()),
    )


# -- the digest --------------------------------------------------------------------------


async def digest_page(request: Request, me: session.Session) -> Response:
    params = request.query_params
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:  # a bad date is said, as the API's 400 says it, not quietly replaced
        start = _day(params.get("since", "")) or today - dt.timedelta(days=7)
        end = (_day(params.get("until", "")) or today) + dt.timedelta(days=1)
    except HubError as exc:
        return error(request, 400, str(exc))
    audience = params.get("audience", "")
    seen = await _visible(request, me)
    found = await run_in_threadpool(digest, seen, start, end)
    sections = [s for s in found.sections if not audience or s.audience == audience]
    return render(
        request,
        "hub_digest.html",
        section="digest",
        title="Digest",
        since=start.date().isoformat(),
        until=(end - dt.timedelta(days=1)).date().isoformat(),
        audience=audience,
        audiences=sorted(seen.audiences),
        sections=[(s.audience, s.kind, [_hit(a) for a in s.artifacts]) for s in sections],
        feed=request.query_params.get("feed", ""),
    )


async def revoke_feed(request: Request, me: session.Session) -> Response:
    """Stop the member's digest feed address from working (a leaked one, say)."""
    gone = await run_in_threadpool(admin.revoke_feed_token, engine_of(request), me.member)
    return RedirectResponse(f"/digest?feed={'revoked' if gone else 'none'}", 303, HEADERS)


async def feed_token(request: Request, me: session.Session) -> Response:
    """A new address for the member's digest feed (the old one stops working); shown once."""
    token = await run_in_threadpool(admin.new_feed_token, engine_of(request), me.member)
    address = f"{request.base_url}feeds/digest.atom?token={token}"
    return render(
        request, "hub_feed.html", section="digest", title="Your digest feed", address=address
    )


async def home(request: Request, me: session.Session) -> Response:
    return RedirectResponse("/search", 303, HEADERS)


def _all_routes() -> list[BaseRoute]:
    get: list[tuple[str, Page]] = [
        ("/", home),
        ("/search", search_page),
        ("/people", people_page),
        ("/people/{name:path}", person_page),
        ("/communities", communities_page),
        ("/communities/{name:path}", community_page),
        ("/flow", flow_page),
        ("/digest", digest_page),
        ("/artifacts/{ref}", artifact_page),
    ]
    post: list[tuple[str, Page]] = [
        ("/communities/{name:path}/join", join),
        ("/communities/{name:path}/admit/{who:path}", admit),
        ("/communities/{name:path}/decline/{who:path}", decline),
        ("/digest/feed", feed_token),
        ("/digest/feed/revoke", revoke_feed),
    ]
    routes: list[BaseRoute] = [Route(p, signed_in(fn), methods=["GET"]) for p, fn in get]
    routes += [Route(p, signed_in(fn), methods=["POST"]) for p, fn in post]
    routes += signin.routes
    # The hub's own few rules, then the local app's style sheet and scripts (first match
    # wins, so /static/hub/ is the hub's folder and the rest of /static/ the app's).
    routes.append(Mount("/static/hub", StaticFiles(directory=HERE / "static"), name="hub-static"))
    routes.append(Mount("/static", StaticFiles(directory=WEB / "static"), name="static"))
    return routes


routes = _all_routes()

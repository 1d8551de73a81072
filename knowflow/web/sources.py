"""The sources page: follow, rename, pause, remove; OPML in and out; update now with
its progress; the bookmarklet's capture window; and ``/events``, the change notices
open pages listen to.

Every change is a form that posts and redirects (it works without script); the page's
script only adds the confirm step in place and htmx polls the update's progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError
from knowflow.seek.sources import KINDS, Source, Sources, unread_by_source
from knowflow.seek.state import open_state, update_holder
from knowflow.seek.update import next_fetches
from knowflow.web.app import open_index, vault_of
from knowflow.web.background import Notices, Updates, event_stream
from knowflow.web.templating import page, templates

MAX_OPML = 5 * 1024 * 1024


@contextlib.contextmanager
def _state(request: Request) -> Iterator[sqlite3.Connection]:
    conn = open_state(vault_of(request))
    try:
        yield conn
    finally:
        conn.close()


def _updates(request: Request) -> Updates:
    """The app's updates (made by the lifespan; made here for an app run without it)."""
    state = request.app.state
    if getattr(state, "updates", None) is None:
        state.notices = Notices()
        state.updates = Updates(vault_of(request), state.notices)
    updates: Updates = state.updates
    return updates


def _back(message: str = "", error: bool = False) -> RedirectResponse:
    """Back to the list, with what happened said there (a 303: the browser GETs it)."""
    query = f"?{'error' if error else 'done'}={quote(message)}" if message else ""
    return RedirectResponse(f"/sources{query}", status_code=303)


def _source(conn: sqlite3.Connection, ident: object) -> Source:
    """A source by its id (names may hold anything; ids make plain addresses)."""
    for source in Sources(conn).list():
        if str(source.id) == str(ident):
            return source
    raise HTTPException(404, "No such source (removed meanwhile?).")


def _listing(conn: sqlite3.Connection) -> dict[str, Any]:
    """The sources by kind, each with its unread count and next scheduled fetch."""
    unread = unread_by_source(conn)
    plan = next_fetches(conn)
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for source in Sources(conn).list():
        when = plan.get(source.id)
        groups[source.kind].append(
            {
                "source": source,
                "unread": unread.get(source.id, 0),
                "next": _moment(when.isoformat(timespec="seconds")) if when else None,
            }
        )
    totals = {kind: sum(item["unread"] for item in items) for kind, items in groups.items()}
    return {"groups": groups, "totals": totals, "count": sum(map(len, groups.values()))}


def _moment(iso: str | None) -> str | None:
    """An ISO time as the person reads it: local, to the minute."""
    if not iso:
        return None
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _status(request: Request) -> dict[str, Any]:
    """What the update status says: the app's run (under way, or waiting for another
    process's update), the last one finished, and any other process updating."""
    updates = _updates(request)
    with _state(request) as conn:
        holder = update_holder(conn)
    return {
        "run": updates.current,
        "last": updates.last,
        "other": holder if holder is not None and holder.pid != os.getpid() else None,
        "moment": _moment,
    }


def bookmarklet(address: str) -> str:
    """The bookmarklet: opens the app's capture window on the page being read, with its
    title and the selected text. A ``javascript:`` address is what a bookmarklet is;
    the person drags it to the bookmarks bar, and it runs on their page, not ours."""
    target = address.rstrip("/") + "/capture"
    code = (
        "(function(){var e=encodeURIComponent,s=String(window.getSelection());"
        f"window.open('{target}?url='+e(location.href)+'&title='+e(document.title)"
        "+'&selection='+e(s.slice(0,4000)),'knowflow','width=560,height=700');})()"
    )
    return "javascript:" + quote(code, safe="(){}=+,.;:'/?&!")


def sources_page(request: Request) -> Response:
    with _state(request) as conn:
        listing = _listing(conn)
    return page(
        request,
        "sources.html",
        section="sources",
        title="Sources",
        kinds=KINDS,
        done=request.query_params.get("done", ""),
        error=request.query_params.get("error", ""),
        bookmarklet=bookmarklet(request.app.state.address),
        **listing,
        **_status(request),
    )


def status_partial(request: Request, asked: bool = False) -> Response:
    """The update's progress, polled by the page while an update runs; once it has
    finished (or when one just ``asked`` for is already done) the list is told to
    reload."""
    context = _status(request)
    response = templates.TemplateResponse(request, "sources_status.html", context)
    finished = asked or request.query_params.get("was") == "running"
    if context["run"] is None and finished:
        response.headers["HX-Trigger"] = "sources-changed"  # the list has news
    return response


def list_partial(request: Request) -> Response:
    with _state(request) as conn:
        listing = _listing(conn)
    context = {"moment": _moment, "kinds": KINDS, "csrf": request.state.csrf, **listing}
    return templates.TemplateResponse(request, "sources_list.html", context)


async def add(request: Request) -> Response:
    form = await request.form()
    address = str(form.get("address", "")).strip()
    name = str(form.get("name", "")).strip() or None
    kind = str(form.get("kind", "network"))
    tags = [t for t in str(form.get("tags", "")).replace(",", " ").split() if t]
    discover = form.get("no_discover") is None
    try:
        added = await run_in_threadpool(_add, request, address, name, kind, tags, discover)
    except (KnowflowError, ValueError) as exc:
        return _back(str(exc), error=True)
    return _back(f"Following {added.name} ({added.kind}): {added.url}")


def _add(
    request: Request, address: str, name: str | None, kind: str, tags: list[str], discover: bool
) -> Source:
    from knowflow.seek.discover import discover_feed
    from knowflow.seek.http import FetchError
    from knowflow.seek.sources import check_url

    site = None
    check_url(address)
    if discover:
        try:
            feed, title = discover_feed(address)
        except FetchError as exc:
            raise ValueError(f"no feed found at {address}: {exc}") from None
        site, address, name = (address if feed != address else None), feed, name or title or None
    with _state(request) as conn:
        return Sources(conn).add(address, name, kind, tags, site)


async def change(request: Request) -> Response:
    """Rename, pause, resume or remove one source."""
    ident, action = request.path_params["ident"], request.path_params["action"]
    form = await request.form()
    with _state(request) as conn:
        source = _source(conn, ident)
        sources = Sources(conn)
        try:
            if action == "rename":
                renamed = sources.rename(source.name, str(form.get("name", "")))
                return _back(f"Renamed {source.name} to {renamed.name}")
            if action in ("pause", "resume"):
                sources.set_paused(source.name, action == "pause")
                return _back(f"{action.capitalize()}d {source.name}")
            if action == "remove" and form.get("confirm") == "yes":
                sources.remove(source.name)
                return _back(f"Removed {source.name}; its kept notes stay in the vault")
        except (KnowflowError, ValueError) as exc:
            return _back(str(exc), error=True)
    raise HTTPException(404, "No such change.")


def confirm_remove(request: Request) -> Response:
    """The confirm step of removing a source, as a page of its own (without script)."""
    with _state(request) as conn:
        source = _source(conn, request.path_params["ident"])
        unread = unread_by_source(conn).get(source.id, 0)
    return page(
        request,
        "sources_remove.html",
        section="sources",
        title=f"Remove {source.name}?",
        source=source,
        unread=unread,
    )


async def update_now(request: Request) -> Response:
    form = await request.form()
    ident = str(form.get("source", "")).strip()
    if ident:
        with _state(request) as conn:
            names: list[str] | None = [_source(conn, ident).name]
    else:
        names = None  # every due source
    started = _updates(request).start(names, reason=names[0] if names else "now")
    if request.headers.get("hx-request"):
        return status_partial(request, asked=True)
    return _back("Update started" if started else "An update is already running")


async def import_opml(request: Request) -> Response:
    from knowflow.seek.opml import import_document

    form = await request.form(max_part_size=MAX_OPML)
    upload = form.get("file")
    kind = str(form.get("kind", "network"))
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _back("Choose an OPML file to import", error=True)
    data = await upload.read(MAX_OPML + 1)
    if len(data) > MAX_OPML:
        return _back("That file is too large for an OPML list (5 MB at most)", error=True)

    def run() -> str:
        with _state(request) as conn:
            report = import_document(Sources(conn), data, str(upload.filename), kind)
        failed = "; ".join(f"{name}: {why}" for name, why in report.failed[:5])
        return (
            f"Imported {upload.filename}: {len(report.added)} added, {len(report.skipped)}"
            f" already followed, {len(report.failed)} failed" + (f" ({failed})" if failed else "")
        )

    try:
        return _back(await run_in_threadpool(run))
    except (KnowflowError, ValueError) as exc:  # an OpmlError is a KnowflowError
        return _back(str(exc), error=True)


def export_opml(request: Request) -> Response:
    from knowflow.seek.opml import write_opml

    with _state(request) as conn:
        text = write_opml(Sources(conn).list())
    name = f"knowflow-sources-{vault_of(request).root.name}.opml"
    return Response(
        text,
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


def events(request: Request) -> Response:
    """Server-sent events: ``note-changed`` (a vault path), ``update`` (progress) and
    ``entries-added`` (how many), for live.js on every page."""
    app = request.app
    _updates(request)  # an app run without its lifespan has notices all the same

    def stopping() -> bool:
        server = getattr(app.state, "server", None)
        return bool(getattr(server, "should_exit", False))

    return StreamingResponse(
        event_stream(app, stopping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# The bookmarklet's window.


def _web_address(url: str) -> str | None:
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def capture_page(request: Request) -> Response:
    params = request.query_params
    url = params.get("url", "")
    context: dict[str, Any] = {
        "url": url,
        "page_title": params.get("title", "")[:500],
        "selection": params.get("selection", "")[:10000],
    }
    if _web_address(url) is None:
        return _capture_refused(request, url, context)
    from knowflow.seek.capture import clipping_of

    with open_index(request) as index:
        context["kept"] = clipping_of(index, url)  # kept before: say so, and where
    return page(request, "capture.html", section="capture", title="Capture", **context)


def _capture_refused(request: Request, url: str, context: dict[str, Any]) -> Response:
    message = (
        f"Only web pages (http or https) can be captured, not {url[:200]!r}."
        if url
        else "No page to capture: use the bookmarklet from a web page."
    )
    return page(
        request,
        "capture.html",
        status_code=400,
        section="capture",
        title="Capture",
        refused=message,
        **context,
    )


async def capture_post(request: Request) -> Response:
    form = await request.form()
    url = str(form.get("url", ""))
    context: dict[str, Any] = {
        "url": url,
        "page_title": str(form.get("title", ""))[:500],
        "selection": str(form.get("selection", ""))[:10000],
        "tags": str(form.get("tags", "")),
        "comment": str(form.get("comment", "")),
    }
    if _web_address(url) is None:
        return _capture_refused(request, url, context)
    try:
        saved, warning = await run_in_threadpool(_capture, request, context)
    except Exception as exc:  # a fetch or extraction failure, said in the window
        from knowflow.seek.http import FetchError

        if not isinstance(exc, FetchError | KnowflowError | ValueError):
            raise
        return page(
            request,
            "capture.html",
            status_code=502 if isinstance(exc, FetchError) else 422,
            section="capture",
            title="Capture",
            failed=f"Could not capture {url}: {exc}",
            **context,
        )
    return page(
        request,
        "capture_saved.html",
        section="capture",
        title="Saved",
        saved=saved,
        warning=warning,
        **context,
    )


def _capture(request: Request, context: dict[str, Any]) -> tuple[str, str | None]:
    """Capture the page (unless kept before) and add the selection as a highlight;
    returns the note's vault path and what could not be done, if anything."""
    from knowflow.seek.capture import capture, clipping_of, fetch_page
    from knowflow.seek.highlights import add_highlight

    vault = vault_of(request)
    url = context["url"].strip()
    tags = [t for t in context["tags"].replace(",", " ").split() if t]
    comment = context["comment"].strip() or None
    with open_index(request) as index:
        index.scan()
        saved = clipping_of(index, url)
    warnings = []
    if saved is None:
        fetched = fetch_page(url)
        with _state(request) as conn:
            path = capture(vault, conn, fetched, tags=tags, note=comment)
        saved = path.relative_to(vault.root).as_posix()
    elif tags or comment:
        warnings.append("This page was kept before: its note keeps its own tags and comment.")
    if context["selection"].strip():
        try:
            add_highlight(vault.root / saved, context["selection"])
        except KnowflowError as exc:
            warnings.append(f"The selection was not kept as a highlight: {exc}")
    with open_index(request) as index:
        index.scan()
    return saved, " ".join(warnings) or None


routes: list[BaseRoute] = [
    Route("/sources", sources_page),
    Route("/sources/status", status_partial),
    Route("/sources/list", list_partial),
    Route("/sources/add", add, methods=["POST"]),
    Route("/sources/update", update_now, methods=["POST"]),
    Route("/sources/import", import_opml, methods=["POST"]),
    Route("/sources/export.opml", export_opml),
    Route("/sources/{ident:int}/remove", confirm_remove),
    Route("/sources/{ident}/{action}", change, methods=["POST"]),
    Route("/events", events),
    Route("/capture", capture_page),
    Route("/capture", capture_post, methods=["POST"]),
]

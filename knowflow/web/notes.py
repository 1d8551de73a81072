"""The note page: a note rendered as the published site renders it, with its backlinks
(and the line each stands on), links, tags, highlights and audiences; the files it
embeds; sharing, renaming and moving from the page; a new note from a title.

Everything here is a thin layer over the Python API: the renderer of ``share``
(``share.owner``), the graph of ``sense``, ``share.edit`` for audiences,
``sense.rename`` for rename and move, ``Vault.new_note`` for new notes. Editing is in
``edit.py``; related notes and suggested links in ``connections.py``.
"""

from __future__ import annotations

import mimetypes
import posixpath
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError, NoteExists
from knowflow.index import Index
from knowflow.index.index import NoteRef
from knowflow.seek.highlights import Highlight, highlights
from knowflow.sense import rename as renaming
from knowflow.sense.graph import LinkRow, backlinks, note_at, note_tags, outgoing
from knowflow.sense.rename import Renaming
from knowflow.share.audiences import Audience, audiences, read_share
from knowflow.share.edit import share_note, unshare_note
from knowflow.share.media import kind_of
from knowflow.share.owner import Addresses, owner_renderer
from knowflow.vault.files import content_hash
from knowflow.vault.frontmatter import parse_front_matter
from knowflow.web import connections
from knowflow.web.app import note_file, open_index, vault_of
from knowflow.web.edit import routes as edit_routes
from knowflow.web.security import CSP
from knowflow.web.templating import hold_remote_media, note_url, page

DONE = {
    "saved": "Saved.",
    "created": "Note created.",
    "audiences": "Audiences changed.",
    "renamed": "Renamed; every link to it now leads here.",
    "moved": "Moved; every link to it now leads here.",
}
# Files shown in the page itself (by <img>, <audio>, <video>, a frame) or as text;
# anything else is downloaded, never rendered by the browser as a page of the app.
INLINE_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/plain")


def file_url(path: str) -> str:
    """The app's address of a file of the vault, served as it is."""
    return "/file/" + quote(path)


def tag_search_url(tag: str) -> str:
    return "/search?" + urlencode({"q": f"tag:{tag}"})


def new_note_url(target: str) -> str:
    """The new-note form for a link that leads nowhere (``[[folder/Title]]``)."""
    folder, title = posixpath.split(target.strip().strip("/"))
    return "/new?" + urlencode({"title": title, **({"folder": folder} if folder else {})})


ADDRESSES = Addresses(note=note_url, file=file_url, tag=tag_search_url, new_note=new_note_url)


def note_page(request: Request, template: str, path: str, **context: Any) -> Response:
    """A page about the note at ``path``, with what its templates use."""
    context.setdefault("finished", False)
    return page(
        request,
        template,
        section="notes",
        path=path,
        quoted=quote(path),
        name_of=_stem,
        new_url=new_note_url,
        tag_url=tag_search_url,
        **context,
    )


@dataclass
class Side:
    """What stands beside the note's text."""

    backlinks: list[LinkRow]
    outgoing: list[LinkRow]
    unresolved: list[LinkRow]
    tags: list[str]
    highlights: list[Highlight]
    shared_with: list[str]
    audiences: list[Audience]
    audience_error: str = ""


def show_note(request: Request) -> Response:
    rel = request.path_params["path"]
    file = note_file(request, rel)
    if not rel.lower().endswith(".md"):
        return _show_file(request, rel)
    data = file.read_bytes()
    text = data.decode("utf-8", "replace")
    with open_index(request) as index:
        ref = note_at(index, rel)
        body = owner_renderer(index, ADDRESSES).note(rel, frames=True)
        side = _side(index, ref, text)
        connected = connections.context_for(request, index, rel, ref)
    heading, body = _own_heading(body)
    body = hold_remote_media(request, body)
    return note_page(
        request,
        "note.html",
        rel,
        title=ref.title if ref else _stem(rel),
        heading=heading,
        body=body,
        side=side,
        version=content_hash(data),  # live.js: a change it made itself is no news
        defined_names={a.name for a in side.audiences},
        done=DONE.get(request.query_params.get("done", ""), ""),
        stem=_stem(rel),
        folder=posixpath.dirname(rel),
        **connected,
    )


def _side(index: Index, ref: NoteRef | None, text: str) -> Side:
    front = parse_front_matter(text)
    shared = list(read_share(front.data.get("share")).names)
    try:
        defined = list(audiences(index.vault).values())
        error = ""
    except KnowflowError as exc:
        defined, error = [], str(exc)
    if ref is None:  # not in the index yet (the watcher will add it)
        return Side([], [], [], [], highlights(text), shared, defined, error)
    links = outgoing(index, ref)
    resolved = _unique(link for link in links if link.resolved and link.resolved != ref.path)
    missing = _unique(link for link in links if link.status == "unresolved" and link.target)
    return Side(
        backlinks(index, ref),
        resolved,
        missing,
        note_tags(index, ref),
        highlights(text),
        shared,
        defined,
        error,
    )


def _unique(links: Iterable[LinkRow]) -> list[LinkRow]:
    seen: dict[tuple[str, str | None], LinkRow] = {}
    for link in links:
        seen.setdefault((link.target.casefold(), link.resolved), link)
    return list(seen.values())


def _own_heading(body: str) -> tuple[str, str]:
    """The note's own first-level heading, when its text starts with one, is the page's
    title (the page has one <h1>), as on the published site."""
    stripped = body.lstrip()
    if stripped.startswith("<h1") and "</h1>" in stripped:
        end = stripped.index("</h1>") + len("</h1>")
        return stripped[:end], stripped[end:]
    return "", body


def _stem(rel: str) -> str:
    name = posixpath.basename(rel)
    return name[:-3] if name.lower().endswith(".md") else name


def _show_file(request: Request, rel: str) -> Response:
    return note_page(
        request,
        "note_file.html",
        rel,
        title=posixpath.basename(rel),
        kind=kind_of(rel),
        url=file_url(rel),
    )


def serve_file(request: Request) -> Response:
    """A file of the vault as it is: images, sound, video, PDFs and plain text shown by
    the browser, everything else downloaded. Nothing served here can run as a page of
    the app: an SVG or HTML file is sandboxed or downloaded."""
    rel = request.path_params["path"]
    file = note_file(request, rel)
    guessed = mimetypes.guess_type(rel)[0] or "application/octet-stream"
    inline = guessed.startswith(INLINE_TYPES)
    media_type = guessed if inline else "application/octet-stream"
    if inline and guessed.startswith("text/"):
        media_type = "text/plain; charset=utf-8"
    response = FileResponse(
        file,
        media_type=media_type,
        filename=posixpath.basename(rel),
        content_disposition_type="inline" if inline else "attachment",
    )
    if guessed != "application/pdf":  # the browser's PDF viewer does not run sandboxed
        # The app's own policy (a response that sets one replaces it), and a sandbox.
        response.headers["content-security-policy"] = f"{CSP}; sandbox"
    return response


async def change_audiences(request: Request) -> Response:
    """The note's ``share:`` made to name the audiences ticked (none: private), by the
    same edits as ``knowflow share`` and ``unshare``."""
    rel = request.path_params["path"]
    form = await request.form()
    wanted = [str(v) for v in form.getlist("audience")]
    shown = [str(v) for v in form.getlist("shown")]
    return await run_in_threadpool(_set_audiences, request, rel, wanted, shown)


def _set_audiences(request: Request, rel: str, wanted: list[str], shown: list[str]) -> Response:
    file = note_file(request, rel)
    vault = vault_of(request)
    text = file.read_bytes().decode("utf-8", "replace")
    now = list(read_share(parse_front_matter(text).data.get("share")).names)
    added = [name for name in wanted if name not in now]
    dropped = [name for name in now if name in shown and name not in wanted]
    try:
        if added:
            share_note(vault, vault.root / rel, added)
        if dropped:
            unshare_note(vault, vault.root / rel, dropped)
    except KnowflowError as exc:
        raise HTTPException(409, str(exc)) from None
    _rescan(request)
    return RedirectResponse(f"{note_url(rel)}?done=audiences#audiences", status_code=303)


def _rescan(request: Request) -> None:
    with open_index(request) as index:
        index.scan()


def rename_form(request: Request) -> Response:
    """What renaming (or moving) would change, link by link, before it is done."""
    rel, kind = request.path_params["path"], _kind(request)
    note_file(request, rel)
    value = request.query_params.get("to", "").strip()
    plan, error = None, ""
    if value:
        with open_index(request) as index:
            try:
                plan = _renaming(index, kind, rel, value, dry_run=True)
            except (KnowflowError, ValueError) as exc:
                error = str(exc)
    return note_page(
        request,
        "note_rename.html",
        rel,
        title=f"{kind.capitalize()} {_stem(rel)}",
        kind=kind,
        value=value or (_stem(rel) if kind == "rename" else posixpath.dirname(rel)),
        asked=bool(value),
        plan=plan,
        error=error,
    )


async def rename_done(request: Request) -> Response:
    rel, kind = request.path_params["path"], _kind(request)
    note_file(request, rel)
    value = str((await request.form()).get("to", "")).strip()
    return await _run_in_thread(request, rel, kind, value)


async def _run_in_thread(request: Request, rel: str, kind: str, value: str) -> Response:
    return await run_in_threadpool(_rename_now, request, rel, kind, value)


def _rename_now(request: Request, rel: str, kind: str, value: str) -> Response:
    with open_index(request) as index:
        try:
            plan = _renaming(index, kind, rel, value, dry_run=False)
        except (KnowflowError, ValueError) as exc:
            return note_page(
                request,
                "note_rename.html",
                rel,
                title=f"{kind.capitalize()} {_stem(rel)}",
                kind=kind,
                value=value,
                asked=True,
                plan=None,
                error=str(exc),
            )
        index.scan()
    if plan.skipped:
        return note_page(
            request,
            "note_rename.html",
            plan.new,
            title=f"{kind.capitalize()} {_stem(rel)}",
            kind=kind,
            value=value,
            asked=True,
            plan=plan,
            error="",
            finished=True,
        )
    done = "renamed" if kind == "rename" else "moved"
    return RedirectResponse(f"{note_url(plan.new)}?done={done}", status_code=303)


def _kind(request: Request) -> str:
    return "rename" if request.url.path.startswith("/rename/") else "move"


def _renaming(index: Index, kind: str, rel: str, value: str, *, dry_run: bool) -> Renaming:
    if kind == "rename":
        return renaming.rename(index, rel, value, dry_run=dry_run)
    root = index.vault.root.resolve()
    if not (root / value.strip().strip("/")).resolve().is_relative_to(root):
        # A folder of the vault that is a symlink leading out of it: a path from a
        # request never leaves the vault.
        raise ValueError(f"{value!r} leads out of the vault")
    return renaming.move(index, rel, value, dry_run=dry_run)


def new_form(request: Request) -> Response:
    return _new_page(
        request,
        request.query_params.get("title", ""),
        request.query_params.get("folder", ""),
    )


def _new_page(
    request: Request, title: str, folder: str, error: str = "", existing: str = ""
) -> Response:
    return page(
        request,
        "note_new.html",
        section="new",
        title="New note",
        note_title=title,
        folder=folder,
        error=error,
        existing=existing,
    )


async def new_note(request: Request) -> Response:
    """A note made from the vault's template (as ``knowflow new``), then opened to edit."""
    form = await request.form()
    title = str(form.get("title", "")).strip()
    folder = str(form.get("folder", "")).strip().strip("/")

    return await run_in_threadpool(_create, request, title, folder)


def _create(request: Request, title: str, folder: str) -> Response:
    vault = vault_of(request)
    if any(part.startswith(".") for part in Path(folder).parts):
        return _new_page(request, title, folder, f"{folder!r} is not a folder for notes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a missing template: the default one is used
            path = vault.new_note(title, folder or None)
    except NoteExists as exc:
        existing = str(exc).removesuffix(" already exists")
        return _new_page(request, title, folder, str(exc), existing)
    except (KnowflowError, ValueError) as exc:
        return _new_page(request, title, folder, str(exc))
    _rescan(request)
    rel = path.relative_to(vault.root).as_posix()
    return RedirectResponse("/edit/" + quote(rel), status_code=303)


routes: list[BaseRoute] = [
    Route("/note/{path:path}", show_note, methods=["GET"]),
    Route("/file/{path:path}", serve_file, methods=["GET"]),
    Route("/audiences/{path:path}", change_audiences, methods=["POST"]),
    Route("/rename/{path:path}", rename_form, methods=["GET"]),
    Route("/rename/{path:path}", rename_done, methods=["POST"]),
    Route("/move/{path:path}", rename_form, methods=["GET"]),
    Route("/move/{path:path}", rename_done, methods=["POST"]),
    Route("/new", new_form, methods=["GET"]),
    Route("/new", new_note, methods=["POST"]),
    *edit_routes,
    *connections.routes,
]

"""The Share page: each audience, what it sees, its last publish and a publish button;
the digest draft to edit and share; and "view as": the audience's own site, built as
publish builds it, served under /view/<audience>/ with a banner saying whose view it is.

Everything here calls knowflow.share (the gate, publish, the digest, the view-as
cache); this module only reads forms and renders."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import ConflictError, KnowflowError, NoteExists
from knowflow.index import Index
from knowflow.share import Audience, Gate, audiences, publish
from knowflow.share.audiences import PUBLIC
from knowflow.share.digest import DigestDraft, compose_digest, share_digest
from knowflow.share.history import PublishRecord, last_publish, publish_folder
from knowflow.share.pages import DIAGRAM_SCRIPT_NAME
from knowflow.share.preview import site_file, view_folder, view_site
from knowflow.vault.files import content_hash
from knowflow.vault.vault import Vault
from knowflow.web.app import open_index, vault_of
from knowflow.web.security import CSP
from knowflow.web.templating import page

DIAGRAM_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_NO_DIGEST: dict[str, Any] = {"chosen": None, "since": None}  # the page, its draft to come
FIRST_WAIT = 1.5  # seconds a first view waits for its site before saying how far it is
FRESH = 2.0  # seconds a page's style sheet, scripts and images are served without a rescan
_scanning: dict[str, threading.Lock] = {}
_checked: dict[tuple[str, str], float] = {}  # (vault, audience) -> when last brought up to date


@dataclass
class AudienceRow:
    """One audience as the Share page shows it."""

    audience: Audience
    sees: int
    last: PublishRecord | None
    folder: str  # where the publish button publishes by default

    @property
    def anchor(self) -> str:
        return "audience-" + self.audience.name.replace("/", "-")


def share_page(request: Request) -> HTMLResponse:
    """The page; the digest's draft comes in after it (``draft_fragment``) unless the
    address asks for one (the Draft button, or a browser without JavaScript)."""
    query = request.query_params
    return _render(request, chosen=query.get("digest"), since=query.get("since") or None)


def draft_fragment(request: Request) -> HTMLResponse:
    """The digest's draft alone, for htmx to put into the page once it has loaded."""
    query = request.query_params
    with _scanned(request) as index:
        digest = _digest(index, query.get("digest") or PUBLIC, query.get("since") or None)
    return page(request, "share_digest.html", **digest)


def _render(
    request: Request,
    *,
    chosen: str | None,
    since: str | None,
    status_code: int = 200,
    error: str = "",
    digest_text: str | None = None,
    digest_error: str = "",
) -> HTMLResponse:
    published = request.query_params.get("published")
    with _scanned(request) as index:
        rows = [_row(index, a) for a in audiences(index.vault).values()]
        if chosen is None:
            digest: dict[str, Any] = {
                "lazy": urlencode({"digest": PUBLIC}),
                "digest_audience": PUBLIC,
                "since": "",
            }
        else:
            digest = _digest(index, chosen, since, digest_text, digest_error)
    return page(
        request,
        "share.html",
        section="share",
        title="Share",
        status_code=status_code,
        rows=rows,
        error=error,
        published=next((r for r in rows if r.audience.name == published), None),
        shared=request.query_params.get("shared"),
        **digest,
    )


def _digest(
    index: Index, chosen: str, since: str | None, text: str | None = None, error: str = ""
) -> dict[str, Any]:
    """What the digest's part of the page shows: the draft for ``chosen``, or the
    person's own text again with what went wrong when sharing it."""
    if chosen not in audiences(index.vault):
        raise HTTPException(404, f"No audience {chosen!r} in config.toml.")
    try:
        draft: DigestDraft | None = compose_digest(index, audience=chosen, since=since)
    except KnowflowError as exc:
        draft, error = None, error or str(exc)
    return {
        "lazy": "",
        "digest_audience": chosen,
        "since": since or "",
        "draft": draft,
        "digest_text": text if text is not None else (draft.text if draft else ""),
        "shown": content_hash(draft.text.encode()) if draft and draft.existing else "",
        "digest_error": error,
        "draft_path": _vault_path(index.vault.root, draft.path) if draft else "",
    }


def _row(index: Index, audience: Audience) -> AudienceRow:
    vault = index.vault
    try:
        folder = publish_folder(vault, audience.name)
    except KnowflowError:
        folder = None
    if folder is None:  # a suggestion beside the vault, never inside it
        folder = vault.root.parent / f"{vault.root.name}-site-{audience.name.replace('/', '-')}"
    return AudienceRow(
        audience,
        len(Gate.build(index, audience).notes),
        last_publish(vault, audience.name),
        str(folder),
    )


async def publish_action(request: Request) -> Response:
    """Publish an audience's site into the folder the form names, in the threadpool (a
    large site takes seconds: the event loop goes on serving meanwhile)."""
    return await run_in_threadpool(_publish, request, await _form(request))


def _publish(request: Request, form: dict[str, str]) -> Response:
    name, out = form.get("audience", ""), form.get("out", "").strip()
    if name not in audiences(vault_of(request)):
        raise HTTPException(404, f"No audience {name!r} in config.toml.")
    if not out:
        return _render(
            request, **_NO_DIGEST, status_code=400, error="Give the folder to publish into."
        )
    folder = vault_of(request).root / Path(out).expanduser()
    try:
        with _scanned(request) as index:
            publish(index, name, folder)
    except KnowflowError as exc:
        return _render(request, **_NO_DIGEST, status_code=409, error=f"Not published: {exc}")
    query = urlencode({"published": name})
    return RedirectResponse(f"/share?{query}", status_code=303)


async def digest_action(request: Request) -> Response:
    """Save the digest text the form holds as the audience's digest, shared with it."""
    return await run_in_threadpool(_share_digest, request, await _form(request))


def _share_digest(request: Request, form: dict[str, str]) -> Response:
    name = form.get("audience", "")
    text = form.get("text", "").replace("\r\n", "\n")  # a browser sends a textarea's lines so
    if name not in audiences(vault_of(request)):
        raise HTTPException(404, f"No audience {name!r} in config.toml.")
    try:
        with _scanned(request) as index:
            saved = share_digest(
                index, name, text, shown=form.get("shown") or None, since=form.get("since") or None
            )
    except (ConflictError, NoteExists) as exc:
        status, message = 409, str(exc)
    except KnowflowError as exc:
        status, message = 400, str(exc)
    else:
        shared = _vault_path(vault_of(request).root, saved.path)
        query = urlencode({"digest": name, "shared": shared})
        return RedirectResponse(f"/share?{query}#digest", status_code=303)
    since = form.get("since") or None
    return _render(
        request,
        chosen=name,
        since=since,
        status_code=status,
        digest_text=text,
        digest_error=message,
    )


def view_page(request: Request) -> Response:
    """A page (or file) of an audience's site, exactly as the audience would get it."""
    rest = request.path_params["rest"]
    defined = audiences(vault_of(request))
    # An audience name may hold '/': the longest defined name the address starts with.
    name = max((n for n in defined if rest == n or rest.startswith(n + "/")), key=len, default="")
    if not name:
        raise HTTPException(404, "No such audience in config.toml.")
    if rest == name:
        return RedirectResponse(f"/view/{quote(name)}/", status_code=307)
    relative = rest[len(name) + 1 :]
    page_asked = relative == "" or relative.endswith(("/", ".html"))
    folder = _fresh_site(request, name, page_asked)
    if isinstance(folder, FirstBuild):
        return page(
            request,
            "view_building.html",
            section="share",
            title=f"Building what {name} sees",
            status_code=500 if folder.error else 200,
            audience=defined[name],
            build=folder,
        )
    found = site_file(folder, relative)
    if found is None:
        if relative and site_file(folder, relative + "/") is not None:
            return RedirectResponse(f"/view/{quote(name)}/{quote(relative)}/", status_code=307)
        raise HTTPException(404, f"{defined[name].name} would find nothing at {relative!r}.")
    if found.suffix == ".html":
        html = found.read_text("utf-8", "replace")
        # Mermaid writes its diagrams' styles inline; the site's script stays 'self'.
        headers = {"content-security-policy": DIAGRAM_CSP} if DIAGRAM_SCRIPT_NAME in html else {}
        return HTMLResponse(_with_banner(html, defined[name]), headers=headers)
    return FileResponse(found)


def _fresh_site(request: Request, name: str, page_asked: bool) -> Path | FirstBuild:
    """The audience's view-as site, brought up to date for every page; a page's style
    sheet, scripts and images, which follow it at once, come from the site as it was
    a moment ago. The first build of a large site runs on beside the request, which
    then gets how far it is (FirstBuild)."""
    vault = vault_of(request)
    key = (str(vault.root), name)
    folder = view_folder(vault, name)
    if not folder.is_dir():
        build = _first_build(vault, name)
        build.wait(FIRST_WAIT)
        if build.running or build.error:
            return build
    recent = time.monotonic() - _checked.get(key, -FRESH) < FRESH
    if recent and not page_asked and folder.is_dir():
        return folder  # swapped in whole by each rebuild, so never seen half built
    with open_index(request) as index:
        _scan(index)
        folder = view_site(index, name)
    _checked[key] = time.monotonic()
    return folder


@dataclass
class FirstBuild:
    """An audience's first view-as site, being built in a thread of its own."""

    done: int = 0
    total: int = 0
    error: str = ""
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def wait(self, seconds: float) -> None:
        if self.thread is not None:
            self.thread.join(seconds)


_builds: dict[tuple[str, str], FirstBuild] = {}
_builds_lock = threading.Lock()


def _first_build(vault: Vault, name: str) -> FirstBuild:
    """The build of the audience's site under way, or a new one (one at a time)."""
    key = (str(vault.root), name)
    with _builds_lock:
        build = _builds.get(key)
        if build is None or not build.running:
            build = FirstBuild()
            build.thread = threading.Thread(target=_build_first, args=(vault, name, build))
            build.thread.daemon = True  # a server stopping does not wait for it
            _builds[key] = build
            build.thread.start()
    return build


def _build_first(vault: Vault, name: str, build: FirstBuild) -> None:
    def progress(done: int, total: int) -> None:
        build.done, build.total = done, total

    try:
        with Index(vault) as index:
            _scan(index)
            view_site(index, name, progress)
    except (KnowflowError, OSError) as exc:
        build.error = str(exc)


BANNER = (
    '<aside class="knowflow-viewing" aria-label="View as">\n'
    "<p><strong>Viewing as {title}</strong>{name}: this is what they see."
    ' <a href="/share">Back to Share</a></p>\n</aside>\n'
)
SKIP = '<a class="skip" href="#main">'


def _with_banner(html: str, audience: Audience) -> str:
    """The site's page with the banner first in its body (after its skip link, which
    stays the first thing a keyboard reaches) and the banner's own style sheet."""
    name = f" ({escape(audience.name)})" if audience.title != audience.name else ""
    banner = BANNER.format(title=escape(audience.title), name=name)
    html = html.replace("</head>", '<link rel="stylesheet" href="/static/share.css">\n</head>', 1)
    at = html.find(SKIP)
    if at >= 0:
        end = html.index("</a>", at) + len("</a>")
        return html[:end] + "\n" + banner + html[end:]
    body = html.find("<body")
    end = html.index(">", body) + 1 if body >= 0 else 0
    return html[:end] + "\n" + banner + html[end:]


@contextmanager
def _scanned(request: Request) -> Iterator[Index]:
    """The request's index, brought up to date with the files first."""
    with open_index(request) as index:
        _scan(index)
        yield index


def _scan(index: Index) -> None:
    """One scan at a time per vault (the file watcher may be scanning too)."""
    lock = _scanning.setdefault(str(index.vault.root), threading.Lock())
    with lock:
        index.scan()


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _vault_path(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


routes: list[BaseRoute] = [
    Route("/share", share_page, methods=["GET"]),
    Route("/share/draft", draft_fragment, methods=["GET"]),
    Route("/share/publish", publish_action, methods=["POST"]),
    Route("/share/digest", digest_action, methods=["POST"]),
    Route("/view/{rest:path}", view_page, methods=["GET", "HEAD"]),
]

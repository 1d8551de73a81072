"""Editing a note: Markdown in a textarea beside a preview rendered by the site's renderer.

The form carries the hash of the file as it was when the page was opened. Saving
writes atomically only over that same file (``vault.editing.save_edit``); when the
file changed on disk meanwhile (Obsidian open on the same folder), nothing is
written: the page shows both versions with a line diff, and the person chooses to
keep theirs, take the one on disk, or edit further.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import ConflictError, KnowflowError
from knowflow.share.owner import Addresses, owner_renderer
from knowflow.vault.editing import NotText, editable, read_for_editing, save_edit
from knowflow.web.app import note_file, open_index, vault_of
from knowflow.web.templating import note_url, page


@dataclass(frozen=True, slots=True)
class Submitted:
    """An edit as the form sends it."""

    text: str
    base: str  # the hash of the file when the page was opened ("" for none)
    newline: str
    bom: bool

    @classmethod
    async def read(cls, request: Request) -> Submitted:
        form = await request.form()
        return cls(
            text=str(form.get("text", "")).replace("\r\n", "\n"),
            base=str(form.get("base", "")),
            newline=str(form.get("newline", "lf")),
            bom=form.get("bom") == "1",
        )


def _addresses() -> Addresses:
    from knowflow.web.notes import ADDRESSES  # notes imports this module's routes

    return ADDRESSES


def editable_path(request: Request, rel: str) -> Path:
    """The note a request may edit: a Markdown file in the vault (note_file's rules), or
    one that is gone since its page was opened, whose folder is in the vault."""
    if not rel.lower().endswith(".md"):
        raise HTTPException(404, f"Only notes (.md) are edited here, not {rel!r}.")
    try:
        return note_file(request, rel)
    except HTTPException:
        vault = vault_of(request)
        path = vault.root / rel
        parts = Path(rel).parts
        inside = path.parent.resolve().is_relative_to(vault.root.resolve())
        if Path(rel).is_absolute() or any(p.startswith(".") for p in parts) or not inside:
            raise
        if path.is_symlink() or path.exists():
            raise
        return path


def edit_page(request: Request) -> Response:
    rel = request.path_params["path"]
    file = editable_path(request, rel)
    if not file.exists():
        raise HTTPException(404, f"No note at {rel!r} in this vault.")
    try:
        note = read_for_editing(file)
    except NotText as exc:
        message = str(exc).split(": ", 1)[-1]
        return page(
            request,
            "edit_refused.html",
            section="notes",
            title="Not editable",
            path=rel,
            message=message,
        )
    with open_index(request) as index:
        preview = owner_renderer(index, _addresses()).note(rel, frames=True)
    return page(
        request,
        "edit.html",
        section="notes",
        title=f"Edit {_stem(rel)}",
        path=rel,
        quoted=quote(rel),
        text=note.text,
        base=note.hash,
        newline=note.newline,
        bom=note.bom,
        preview=preview,
    )


async def save(request: Request) -> Response:
    rel = request.path_params["path"]
    edit = await Submitted.read(request)
    return await run_in_threadpool(_save, request, rel, edit)


def _save(request: Request, rel: str, edit: Submitted) -> Response:
    file = editable_path(request, rel)
    try:
        save_edit(file, edit.text, edit.base, newline=edit.newline, bom=edit.bom)
    except ConflictError:
        return _conflict(request, rel, file, edit)
    except (KnowflowError, OSError) as exc:
        raise HTTPException(500, f"{rel} was not saved: {exc}") from None
    with open_index(request) as index:
        index.scan()
    return RedirectResponse(f"{note_url(rel)}?done=saved", status_code=303)


def _conflict(request: Request, rel: str, file: Path, edit: Submitted) -> Response:
    """Both versions, what differs line by line, and the three ways on. Shown with 200:
    nothing failed, a choice is asked for."""
    try:
        theirs = editable(file.read_bytes(), rel)
        disk_text, current, gone = theirs.text, theirs.hash, False
    except FileNotFoundError:
        disk_text, current, gone = "", "", True
    except NotText as exc:
        raise HTTPException(409, f"{rel} changed on disk and is no longer UTF-8: {exc}") from None
    diff = difflib.unified_diff(
        disk_text.splitlines(), edit.text.splitlines(), "on disk", "yours", lineterm=""
    )
    return page(
        request,
        "edit_conflict.html",
        section="notes",
        title=f"{_stem(rel)} changed on disk",
        path=rel,
        quoted=quote(rel),
        theirs=disk_text,
        mine=edit.text,
        gone=gone,
        base=current,
        newline=edit.newline,
        bom=edit.bom,
        diff=[(_line_class(line), line) for line in list(diff)[2:]],
    )


def _line_class(line: str) -> str:
    return {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "same")


async def preview(request: Request) -> Response:
    """The draft rendered as the note page will show it (for htmx: a fragment)."""
    rel = request.path_params["path"]
    edit = await Submitted.read(request)
    return await run_in_threadpool(_preview, request, rel, edit.text)


def _preview(request: Request, rel: str, text: str) -> Response:
    editable_path(request, rel)
    with open_index(request) as index:
        html = owner_renderer(index, _addresses(), drafts={rel: text}).note(rel, frames=True)
    return HTMLResponse(html or '<p class="muted">(nothing to show yet)</p>')


def _stem(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".md") else name


def edit_url(rel: str) -> str:
    return "/edit/" + quote(rel)


routes: list[BaseRoute] = [
    Route("/edit/{path:path}", edit_page, methods=["GET"]),
    Route("/edit/{path:path}", save, methods=["POST"]),
    Route("/preview/{path:path}", preview, methods=["POST"]),
]

"""Embedded files on the site, as Obsidian shows them: images (with an optional
size), audio and video players, PDFs in a frame with a plain link beside it.

Everything here receives addresses the audience gate already allowed, and
escapes whatever came from a note.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from html import escape

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp")
# Obsidian's lists (https://help.obsidian.md/file-formats). It counts .webm as both;
# a <video> element plays a sound-only .webm as well, so .webm is video here.
AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".3gp")
VIDEO_SUFFIXES = (".mp4", ".webm", ".ogv", ".mov", ".mkv")
PDF_SUFFIX = ".pdf"
_SIZE = re.compile(r"(\d{1,5})(?:x(\d{1,5}))?")
_ALT_SIZE = re.compile(r"\|[ \t]*(\d{1,5}(?:x\d{1,5})?)[ \t]*$")


def size(text: str) -> tuple[str, str]:
    """(width, height) from ``100`` or ``100x200``; ('', '') when text is not a size."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        return "", ""
    return m.group(1), m.group(2) or ""


def alt_and_size(text: str) -> tuple[str, str, str]:
    """A Markdown image's alt text ``alt|250`` or ``alt|250x100`` as (alt, width, height);
    alt text without a size comes back whole."""
    m = _ALT_SIZE.search(text)
    if not m:
        return text, "", ""
    width, height = size(m.group(1))
    return text[: m.start()].rstrip(), width, height


def size_attrs(width: str, height: str) -> str:
    """Width and height attributes (digits only, so nothing to escape)."""
    return (f' width="{width}"' if width else "") + (f' height="{height}"' if height else "")


def kind_of(path: str) -> str:
    """'image', 'audio', 'video', 'pdf', or '' for a file shown as a link."""
    lower = path.lower()
    if lower.endswith(IMAGE_SUFFIXES):
        return "image"
    if lower.endswith(AUDIO_SUFFIXES):
        return "audio"
    if lower.endswith(VIDEO_SUFFIXES):
        return "video"
    if lower.endswith(PDF_SUFFIX):
        return "pdf"
    return ""


def player(kind: str, url: str, name: str, width: str = "", height: str = "") -> str:
    """An <audio> or <video> element; browsers without one show a link instead."""
    href, label = escape(url), escape(name)
    dims = size_attrs(width, height) if kind == "video" else ""
    return (
        f'<{kind} controls preload="metadata" src="{href}"{dims}>'
        f'<a class="attachment" href="{href}">{label}</a></{kind}>'
    )


def pdf_frame(url: str, name: str, page: str, width: str = "", height: str = "") -> str:
    """A PDF in a frame (at ``page`` when given), titled for screen readers; the nh3
    cleaner never lets a frame through, so the renderer puts this in after cleaning."""
    src = escape(url + (f"#page={page}" if page else ""))
    return (
        f'<iframe class="pdf" src="{src}" title="{escape(name)}" loading="lazy"'
        f"{size_attrs(width, height)}></iframe>"
    )


def attachment_embed(
    url: str, display: str | None, target: str, subpath: str, hold: Callable[[str], str]
) -> str:
    """``![[file]]`` of an attachment the audience may see; display is the link's alias
    part (``alt``, ``100``, ``alt|100x200``). ``hold`` keeps a PDF's frame aside and
    gives the text that stands for it until the page has been cleaned."""
    name = posixpath.basename(target)
    kind = kind_of(target)
    alt, _, sized = (display or "").rpartition("|")
    width, height = size(sized)
    if not width:
        alt = display or ""
    label = alt or name
    href = escape(url)
    if kind == "image":
        return f'<img src="{href}" alt="{escape(label)}"{size_attrs(width, height)}>'
    if kind in ("audio", "video"):
        return player(kind, url, label, width, height)
    link = f'<a class="attachment" href="{href}">{escape(label)}</a>'
    if kind == "pdf":
        frame = hold(pdf_frame(url, label, pdf_page(subpath), width, height))
        return f'<span class="pdf-embed">{frame}{link}</span>'
    return link


def pdf_page(subpath: str) -> str:
    """The page number of a ``#page=3`` subpath, or ''."""
    m = re.fullmatch(r"#page=(\d{1,6})", subpath.strip())
    return m.group(1) if m else ""

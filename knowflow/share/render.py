"""Notes as HTML for one audience: CommonMark with Obsidian's additions, gated.

markdown-it-py (a maintained CommonMark parser) does the Markdown, with its
plugins for tables, footnotes, task lists and heading anchors. knowflow adds
what Obsidian writes: ``[[wikilinks]]``, ``![[embeds]]`` (whole notes, a
section, a block, or an attachment: images, sound, video, PDFs, see media.py),
``#tags``, ``^block`` ids, ``> [!note]`` callouts (see callouts.py) and Mermaid
diagrams (fenced ``mermaid`` code, drawn in the browser). Every link and embed
asks the audience gate: a note the audience may not see is not transcluded, a
link to it becomes plain text (its name is not shown either: the name is part
of the note), and an attachment only it uses is not shown. ``%% comments %%``
are never published. Whatever raw HTML a note holds is sanitized by nh3 at the
end, so nothing a note says can run script.
"""

from __future__ import annotations

import functools
import posixpath
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from knowflow.index.rows import link_row
from knowflow.share.callouts import callout_rule
from knowflow.share.gate import Gate
from knowflow.share.inline import BLOCK_ID_AT_END, use_obsidian_inline
from knowflow.share.media import alt_and_size, attachment_embed, kind_of, player
from knowflow.vault.frontmatter import split_front_matter
from knowflow.vault.markdown import (
    Link,
    link_spans,
    mask_code_and_comments,
    parse_markdown_link,
    parse_wikilink,
    strip_comments,
)
from knowflow.vault.names import heading_key, slug_key
from knowflow.vault.note import line_breaks
from knowflow.vault.resolve import NameLookup

MAX_EMBED_DEPTH = 8
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//|^#")
_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_HEADING_START = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")

_ALLOWED_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ALLOWED_ATTRIBUTES.setdefault("*", set()).update({"id", "class"})
_ALLOWED_ATTRIBUTES["input"] = {"checked", "disabled"}
# Foldable callouts, and players for embedded sound and video (no autoplay). Frames
# are never allowed: a PDF's frame is put in after cleaning (see Renderer.hold).
# A table may take the focus (tabindex="0" only), to be scrolled from the keyboard.
_ALLOWED_ATTRIBUTES["details"] = {"open"}
_ALLOWED_ATTRIBUTES["audio"] = {"controls", "preload", "src"}
_ALLOWED_ATTRIBUTES["video"] = {"controls", "preload", "src", "width", "height"}
_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS) | {"input", "section", "figure", "figcaption", "audio", "video"},
    attributes=_ALLOWED_ATTRIBUTES,
    tag_attribute_values={"input": {"type": {"checkbox"}}, "table": {"tabindex": {"0"}}},
    link_rel=None,
)


@functools.lru_cache(maxsize=65536)  # folder names and headings repeat a great deal
def slug(text: str) -> str:
    """A heading's anchor: lower case, words joined by '-', as most sites write them."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_-]+", "-", text).strip("-") or "section"


def heading_anchor(text: str) -> str:
    """A heading's id, made so that every way Obsidian lets a link name the heading
    (case, punctuation and spacing aside: ``#D D WOTC`` for ``## D&D WOTC``) gives it."""
    return heading_key(text).replace(" ", "-") or "section"


@dataclass
class Site:
    """What rendering needs to know of the whole vault, for one audience."""

    gate: Gate
    names: NameLookup  # every file, by name key, for resolving links as the index does
    note_url: Callable[[str], str]  # vault path of a visible note -> site-relative URL
    attachment_url: Callable[[str], str]
    tag_url: Callable[[str], str]
    read: Callable[[str], str]  # vault path -> the note's text
    # Where a link that leads nowhere offers to write its note (the local app);
    # None: it is shown as its words (a published site).
    new_note_url: Callable[[str], str] | None = None


class Renderer:
    """Renders notes for one site; ``prefix`` is the way back to the site's root."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.md = _markdown()
        # A note is read once however often it is embedded, or rendered and then
        # rewritten as Markdown (the bundle does both).
        self.body = functools.lru_cache(maxsize=1024)(self._read_body)
        # Only Markdown links to a #heading ask: wikilinks meet the id by construction.
        self.heading_ids = functools.lru_cache(maxsize=256)(self._read_heading_ids)
        self._reading_ids: set[str] = set()
        # What nh3 may not let through (a PDF's frame) waits here while the page is
        # cleaned, under a mark no note can know in advance.
        self._held: list[str] = []
        self._frames = False
        self._nonce = secrets.token_hex(8)
        self._mark = re.compile(f"kf{self._nonce}h(\\d+)e")

    def hold(self, html: str) -> str:
        """Keep trusted HTML aside; the text returned stands for it until cleaning is done.
        Only pages of the site get frames: feeds and bundles show the plain link."""
        if not self._frames:
            return ""
        self._held.append(html)
        return f"kf{self._nonce}h{len(self._held) - 1}e"

    def _read_body(self, path: str) -> str:
        return note_body(self.site.read(path))

    def anchor(self, path: str, subpath: str) -> str:
        """The ``#id`` on the page of the note at ``path`` that a Markdown link's
        ``#heading`` names: the heading it reaches as in Obsidian (case, punctuation
        and spacing aside), or whose slug it is, as a link written for GitHub or a
        static site names it (``#dd-wotc`` for ``## D&D WOTC``)."""
        if not subpath or subpath.startswith("#^") or path in self._reading_ids:
            return _anchor(subpath)  # (reading a page's ids parses it, links included)
        wanted = heading_key(subpath.rsplit("#", 1)[-1])
        found = self.heading_ids(path).get(wanted)
        return "#" + found if found else _anchor(subpath)

    def _read_heading_ids(self, path: str) -> dict[str, str]:
        """Each heading's id on the note's page, by its key and by its slug's key."""
        self._reading_ids.add(path)
        try:
            env = {"knowflow": _Env(self, path, "", (path,))}
            tokens = self.md.parse(self.body(path), env)
        finally:
            self._reading_ids.discard(path)
        by_key: dict[str, str] = {}
        by_slug: dict[str, str] = {}
        for n, token in enumerate(tokens):
            if token.type == "heading_open" and (found := token.attrGet("id")):
                words = tokens[n + 1].children or []
                title = "".join(c.content for c in words if c.type in ("text", "code_inline"))
                by_key.setdefault(heading_key(title), str(found))
                by_slug.setdefault(slug_key(title), str(found))
        return by_slug | by_key

    def note(self, path: str, prefix: str = "", *, frames: bool = False) -> str:
        """The body of the note at this vault path as sanitized HTML; with ``frames``,
        an embedded PDF is shown in a frame (on the site's own pages)."""
        env = {"knowflow": _Env(self, path, prefix, (path,))}
        self._held, self._frames = [], frames
        html = _CLEANER.clean(self.md.render(self.body(path), env))
        if self._held:
            html = self._mark.sub(lambda m: self._held[int(m.group(1))], html)
        return html

    def markdown(self, path: str) -> str:
        """The note's Markdown as the audience may see it: a link to what it may not see
        becomes its words (or "(not shared)"), and such an embed goes."""
        body = self.body(path)
        env = _Env(self, path, "", (path,))
        out, pos = [], 0
        for start, end, link in link_spans(body):
            target = env.resolve(link)
            if self.site.gate.note(target) or self.site.gate.attachment(target):
                continue
            gate = self.site.gate
            words = link.display or link.target
            if target is None and not link.kind.endswith("embed") and gate.words(words):
                continue  # leads nowhere: kept as written
            out.append(body[pos:start])
            if not link.kind.endswith("embed"):
                shown = link.display and gate.words(link.display, target)
                out.append(link.display if shown and link.display else "(not shared)")
            pos = end
        out.append(body[pos:])
        return "".join(out)

    def embed(self, env: _Env, target: str, subpath: str) -> str:
        """A note, or the section or block of it that subpath names, transcluded."""
        if target in env.stack or len(env.stack) >= MAX_EMBED_DEPTH:
            return '<p class="embed-cycle">(this note embeds itself; shown once)</p>'
        part = section(self.body(target), subpath)
        inner = _Env(self, target, env.prefix, (*env.stack, target))
        html = self.md.render(part, {"knowflow": inner})
        url = env.prefix + self.site.note_url(target) + _anchor(subpath)
        return (
            f'<div class="embed"><div class="embed-body">{html}</div>'
            f'<a class="embed-source" href="{escape(url)}">open the note</a></div>'
        )


@dataclass
class _Env:
    renderer: Renderer
    source: str  # the vault path of the note whose text is being rendered
    prefix: str
    stack: tuple[str, ...]  # the notes being transcluded, outermost first
    # Inside a foldable callout's title, a <summary>: it is a control itself, and a
    # link inside a control is out of reach of the keyboard and screen readers.
    in_summary: bool = False

    def resolve(self, link: Link) -> str | None:
        """The vault path a link leads to, by the rules the index uses."""
        row = link_row(self.source, 0, link.kind, link.target, link.subpath, None, self.names)
        return row[-1]

    @property
    def names(self) -> NameLookup:
        return self.renderer.site.names


def note_body(text: str) -> str:
    """The part of a note's text that is published: no front matter, no comments."""
    text = line_breaks(text)
    _, body_start, _ = split_front_matter(text)
    return strip_comments(text[body_start:])


def section(body: str, subpath: str) -> str:
    """The part of a note a ``#Heading`` or ``#^block`` subpath names (all of it if none)."""
    if not subpath:
        return body
    if subpath.startswith("#^"):
        return _block_section(body.split("\n"), subpath[2:])
    return _heading_section(body, heading_key(subpath.rsplit("#", 1)[-1]))


def _block_section(lines: list[str], block_id: str) -> str:
    for n, line in enumerate(lines):
        m = BLOCK_ID_AT_END.search(line)
        if m and m.group(1) == block_id:
            start, end = n, n + 1
            while start > 0 and lines[start - 1].strip():
                start -= 1
            # An id on a quote's or callout's first line (knowflow's highlights
            # write it there) names the whole quote.
            quote = line.lstrip().startswith(">")
            while quote and end < len(lines) and lines[end].lstrip().startswith(">"):
                end += 1
            return "\n".join(lines[start:end])
    return ""


def _heading_section(body: str, wanted: str) -> str:
    """The heading whose ``heading_key`` is wanted, down to the next of its level."""
    lines = body.split("\n")
    # Headings are looked for outside code (a shell comment is no heading), but
    # read as written: a heading may be inline code (## `hasTag()`).
    masked = mask_code_and_comments(body).split("\n") if "`" in body or "~~~" in body else lines
    for n, line in enumerate(masked):
        if not line.lstrip(" ").startswith("#"):
            continue
        m = _HEADING.match(lines[n])
        if m and _HEADING_START.match(line) and heading_key(m.group(2)) == wanted:
            level = len(m.group(1))
            end = n + 1
            while end < len(lines):
                nxt = _HEADING_START.match(masked[end])
                if nxt and len(nxt.group(1)) <= level:
                    break
                end += 1
            return "\n".join(lines[n:end])
    return ""


def _anchor(subpath: str) -> str:
    if not subpath:
        return ""
    if subpath.startswith("#^"):
        return "#" + quote(subpath[1:])
    return "#" + heading_anchor(subpath.rsplit("#", 1)[-1])


def _markdown() -> MarkdownIt:
    options = {"html": True, "linkify": True, "typographer": False, "highlight": _diagram}
    md = MarkdownIt("commonmark", options)
    md.enable(["table", "strikethrough", "linkify"])
    # linkify-it's "quick" pretest is one large regular expression run over every
    # text token: a quarter of all rendering time. A link needs one of these first.
    linkify = md.linkify
    if linkify is not None:
        pretest = linkify.pretest
        linkify.pretest = lambda text: (
            ("://" in text or "www." in text or "WWW." in text or "@" in text) and pretest(text)
        )
    md.use(footnote_plugin).use(tasklists_plugin)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_anchor)
    use_obsidian_inline(md)
    md.core.ruler.after("block", "callout", callout_rule)
    md.core.ruler.after("inline", "local_links", _local_links_rule)
    md.core.ruler.push("embedded_headings", _embedded_headings_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("tag", _render_tag)
    md.add_render_rule("block_id", _render_block_id)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("callout_title_open", _title_open)
    md.add_render_rule("callout_title_close", _title_close)
    for name in ("link_open", "link_close", "image"):
        md.add_render_rule(name, _hideable)
    return md


def _embedded_headings_rule(state: StateCore) -> None:
    """Headings of an embedded note sit one level down: a page has one title."""
    if len(state.env["knowflow"].stack) < 2:
        return
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"


def _local_links_rule(state: StateCore) -> None:
    """Links and images to files in the vault: pointed at the site, or hidden."""
    env = state.env["knowflow"]
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        _gate_links(env, block.children)


def _gate_links(env: _Env, children: Sequence[Token]) -> None:
    open_links: list[tuple[Token, bool]] = []
    for token in children:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            shown = _point(env, token, "href", href, embed=False)
            open_links.append((token, shown))
        elif token.type == "link_close" and open_links:
            _, shown = open_links.pop()
            token.meta["hidden"] = not shown
        elif open_links and not open_links[-1][1] and token.type in ("text", "code_inline"):
            # The words of a link the audience may not follow: shown unless they name
            # what it leads to.
            if not env.renderer.site.gate.words(token.content, open_links[-1][0].meta["leads_to"]):
                token.content = "(not shared)"
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            token.meta["hidden"] = not _point(env, token, "src", src, embed=True)
            if "|" in token.content:
                _sized(token)


def _sized(image: Token) -> None:
    """``![alt|250x100](url)``: the size goes to attributes, the alt text is "alt"."""
    alt, width, height = alt_and_size(image.content)
    if not width or not image.children:
        return
    last = image.children[-1]
    if last.type != "text" or "|" not in last.content:
        return  # the size is not plain text at the end: left as written
    last.content = alt_and_size(last.content)[0]
    image.content = alt
    image.attrSet("width", width)
    if height:
        image.attrSet("height", height)


def _point(env: _Env, token: Token, attr: str, href: str, *, embed: bool) -> bool:
    """Point a local link at the site; False when the audience may not follow it."""
    if href.startswith("#") and len(href) > 1:  # a heading of this page, as its id here
        token.attrSet(attr, env.renderer.anchor(env.source, "#" + unquote(href[1:])))
        return True
    if not href or _SCHEME.match(href):
        return True  # the web
    link = parse_markdown_link(href, "", embed)
    if link is None:
        return True
    target = env.resolve(link)
    site = env.renderer.site
    if site.gate.note(target) and target is not None:
        anchor = env.renderer.anchor(target, link.subpath)
        token.attrSet(attr, env.prefix + site.note_url(target) + anchor)
        token.meta["hidden"] = False
        return True
    if site.gate.attachment(target) and target is not None:
        token.attrSet(attr, env.prefix + site.attachment_url(target))
        return True
    token.meta["hidden"] = True
    token.meta["leads_to"] = target
    return False


def _render_wikilink(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    meta: dict[str, Any] = tokens[idx].meta
    ctx: _Env = env["knowflow"]
    link = parse_wikilink(meta["inner"], meta["embed"])
    if link is None:
        return escape(("![[" if meta["embed"] else "[[") + meta["inner"] + "]]")
    target = ctx.resolve(link)
    site = ctx.renderer.site
    if site.gate.note(target) and target is not None:
        if link.kind == "embed":
            return ctx.renderer.embed(ctx, target, link.subpath)
        url = ctx.prefix + site.note_url(target) + _anchor(link.subpath)
        text = link.display or _link_text(link.target, link.subpath, target)
        if ctx.in_summary:
            return f'<span class="internal">{escape(text)}</span>'
        return f'<a class="internal" href="{escape(url)}">{escape(text)}</a>'
    if site.gate.attachment(target) and target is not None:
        url = ctx.prefix + site.attachment_url(target)
        if link.kind == "embed":
            return attachment_embed(url, link.display, target, link.subpath, ctx.renderer.hold)
        name = escape(link.display or posixpath.basename(target))
        if ctx.in_summary:
            return f'<span class="attachment">{name}</span>'
        return f'<a class="attachment" href="{escape(url)}">{name}</a>'
    if link.kind == "embed":
        return ""  # nothing of a note or file this audience may not see is transcluded
    words = link.display or link.target
    if target is None and site.gate.words(words):
        # Leads nowhere in the vault: a note still to write, shown as its words.
        if site.new_note_url is not None and not ctx.in_summary:
            href = escape(site.new_note_url(link.target))
            return f'<a class="unresolved" href="{href}">{escape(words)}</a>'
        return f'<span class="unresolved">{escape(words)}</span>'
    if link.display and site.gate.words(link.display, target):
        return f'<span class="not-shared">{escape(link.display)}</span>'
    return '<span class="not-shared">(not shared)</span>'


def _link_text(target: str, subpath: str, path: str) -> str:
    name = target.rsplit("/", 1)[-1] if target else posixpath.basename(path)
    name = name[:-3] if name.lower().endswith(".md") else name
    if subpath:
        part = subpath.lstrip("#").replace("#", " > ")
        return f"{name} > {part}" if target else part
    return name


def _render_tag(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    ctx: _Env = env["knowflow"]
    name = tokens[idx].meta["name"]
    url = ctx.prefix + ctx.renderer.site.tag_url(name)
    if ctx.in_summary:
        return f'<span class="tag">#{escape(name)}</span>'
    return f'<a class="tag" href="{escape(url)}">#{escape(name)}</a>'


def _render_block_id(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<a class="block-id" id="^{escape(tokens[idx].meta["id"])}"></a>'


def _table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A table that is wider than the page scrolls; the keyboard can scroll it too."""
    return '<table tabindex="0">\n'


def _title_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A callout's title; a foldable one's (a <summary>) shows links as their words."""
    env["knowflow"].in_summary = tokens[idx].tag == "summary"
    return self.renderToken(tokens, idx, options, env)


def _title_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    env["knowflow"].in_summary = False
    return self.renderToken(tokens, idx, options, env)


def _diagram(code: str, lang: str, attrs: str) -> str | None:
    """A ```mermaid block as Mermaid wants it; the script is on pages that have one."""
    if lang.lower() != "mermaid":
        return None  # other code is written as markdown-it writes it
    return f'<pre class="mermaid">{escape(code)}</pre>'


def _hideable(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Links and images, unless the gate hid them."""
    token = tokens[idx]
    if token.meta.get("hidden"):
        return ""
    if token.type != "image" and env["knowflow"].in_summary:
        return "<span>" if token.nesting == 1 else "</span>"
    if token.type == "image":
        src = str(token.attrGet("src") or "")
        kind = kind_of(src.split("#", 1)[0].split("?", 1)[0])
        if kind in ("audio", "video"):  # ![](talk.mp3), as Obsidian plays it
            name = self.renderInlineAsText(token.children or [], options, env)
            name = name or posixpath.basename(src)
            width, height = str(token.attrGet("width") or ""), str(token.attrGet("height") or "")
            return player(kind, src, name, width, height)
        return RendererHTML.image(self, tokens, idx, options, env)
    return self.renderToken(tokens, idx, options, env)

"""Text from outside, made safe to keep: plain text, sanitized HTML, web links only.

Everything a feed (or a page) says is hostile until cleaned here. The rules:

- a text field (title, author, category, feed title) is plain text: markup in
  it is stripped (a ``<script>`` with its content, tags, comments), entities
  are decoded, control characters and lone surrogates are dropped, and no tag
  of an HTML element, no tag with attributes and no comment remains, however
  often it was escaped (a bare ``<word>`` that is no element, as in
  ``std::vector<int>``, is text, and stays);
- an HTML field passes nh3 (the Rust sanitizer ammonia) with links and images
  restricted to ``http``, ``https`` and ``mailto``, relative addresses resolved
  against the entry's own address or dropped, and no ``cite`` (an address no
  one clicks, which ammonia does not check);
- a link is kept only when it is an absolute ``http``, ``https`` or ``mailto``
  address; tracking parameters (``utm_*``, ``fbclid`` ...) are taken out of
  web addresses, so that an entry linked with a new campaign tag on every
  fetch is still the same entry.
"""

from __future__ import annotations

import hashlib
import re
from html import unescape
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import nh3

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Identifiers are not links, but an id in a scheme that runs or reads something
# (javascript:, data:, file: ...) is replaced by a digest of itself.
_ID_SCHEMES = LINK_SCHEMES | {"tag", "urn"}
_ATTRIBUTES = {
    tag: {a for a in attributes if a != "cite"}
    for tag, attributes in nh3.ALLOWED_ATTRIBUTES.items()
}
_TEXT_ONLY = nh3.Cleaner(tags=set())
_CLEANER = nh3.Cleaner(attributes=_ATTRIBUTES, url_schemes=set(LINK_SCHEMES), url_relative="deny")
# Attributes that may hold an address, and what must follow such a name for it to be
# one: "=", a quote perhaps, then anything but an absolute "scheme:" address.
_URL_ATTRIBUTES = ("href", "src", "cite", "srcset", "longdesc", "poster", "action", "data")
_VALUE = re.compile(r"""\s*=\s*["']?\s*""")
_ABSOLUTE = re.compile(r"[a-z][a-z0-9+.-]*:")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# The elements of HTML, SVG and MathML that text from outside may carry: markup with
# one of these names is markup, however often it was escaped; ``<int>`` in
# ``std::vector<int>`` or ``a <b`` is text, and stays.
_HTML_ELEMENTS_NAMES = (
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo "
    "big blink blockquote body br button canvas caption center cite code col colgroup "
    "data datalist dd del details dfn dialog dir div dl dt em embed fieldset "
    "figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html i iframe image img input ins isindex kbd keygen label legend li "
    "link listing main map mark marquee math menu menuitem meta meter nav nobr "
    "noembed noframes noscript object ol optgroup option output p param picture "
    "plaintext pre progress q rb rp rt rtc ruby s samp script search section select "
    "slot small source span strike strong style sub summary sup svg table tbody td "
    "template textarea tfoot th thead time title tr track tt u ul var video wbr xmp "
    "animate foreignobject use set desc"
)
HTML_ELEMENTS = frozenset(_HTML_ELEMENTS_NAMES.split())
_NAMES = "|".join(sorted(HTML_ELEMENTS, key=len, reverse=True))
# What an HTML parser would take for a tag of one of those elements, or a comment
# (every "<!" and "<?" opens one: a bogus comment, if not a real one or a doctype).
_TAG = re.compile(
    rf"<(?:/?(?:{_NAMES})(?=[\s/>])[^<>]*>|!|\?|/?[A-Za-z][^<>\s]*\s[^<>]*=[^<>]*>"
    r"|[A-Za-z][A-Za-z0-9+.-]*:[^<>]*>)",
    re.I,
)
# A "<" that opens no such tag, and no tag with attributes either (an unknown element
# can carry an event handler all the same): written as "&lt;" before parsing, so that
# it stays text. What is kept is a bare ``<word>``, ``a < b``, ``a<b``; an autolink
# (``<javascript:x>``) is markup.
_NOT_A_TAG = re.compile(
    rf"<(?!/?(?:{_NAMES})(?=[\s/>])|!|\?|/?[A-Za-z][^<>\s]*\s[^<>]*="
    r"|[A-Za-z][A-Za-z0-9+.-]*:[^<>]*>)",
    re.I,
)
# A tag written with entities (``&lt;script&gt;``): markup escaped once more than
# it should have been, as titles often are; read as markup, then stripped.
_ESCAPED_TAG = re.compile(
    rf"&(?:lt|#0*60|#x0*3c);/?(?:(?:{_NAMES})(?=[\s/&])|[A-Za-z][^<>\s&]*\s[^<>]*?=)[^<>]*?"
    r"&(?:gt|#0*62|#x0*3e);",
    re.I,
)
# C0 and C1 controls but tab and line breaks, DEL, lone surrogates, non-characters.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_URL = re.compile(r"[\s\"<>\\^`{|}]")  # never part of an address (RFC 3986)
# Browsers stop nesting elements at a depth (Chromium's parser at 512); so does this,
# because ammonia's parser takes time in the square of the depth (300,000 nested
# <div>s, 3 MB, would take minutes). Elements a parser closes by itself, and void
# ones, never deepen a document, so they are not counted.
MAX_DEPTH = 512
_START_OR_END = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")
_FLAT_NAMES = (
    "area base br col embed hr img input link meta param source track wbr p li dt dd "
    "option optgroup tr td th tbody thead tfoot colgroup rb rt rp"
)
_FLAT = frozenset(_FLAT_NAMES.split())
_TRACKING = re.compile(
    r"utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid"
    r"|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|_ga|_gl|vero_id|vero_conv|oly_anon_id|oly_enc_id"
    r"|wt\.mc_id|rb_clickid|s_kwcid|ncid|sr_share",
    re.I,
)


def clean_text(value: object, *, html: bool = False) -> str:
    """Plain text on one line; ``html`` says the value is markup, to be read as text."""
    if isinstance(value, str) and not html and _nothing_to_clean(value):
        return " ".join(value.split())
    text = _CONTROLS.sub("", value if isinstance(value, str) else _scalar(value))
    if html or _TAG.search(text) or _ESCAPED_TAG.search(text):
        text = _html_text(text)
    for _ in range(6):  # markup escaped once, twice, thrice more is still markup
        if not _TAG.search(text) and not _ESCAPED_TAG.search(text):
            break
        text = _html_text(text)
    else:
        text = _ESCAPED_TAG.sub(" ", _TAG.sub(" ", text))
    return " ".join(text.split())


def _nothing_to_clean(text: str) -> bool:
    """No markup, no entity, no control character: most titles, at C speed."""
    return "<" not in text and "&" not in text and text.isprintable()


def text_brackets(text: str) -> str:
    """``text`` with every ``<`` that opens no markup written ``&lt;``, so that an HTML
    parser keeps it as text (``std::vector<int>``, ``a<b``)."""
    return _NOT_A_TAG.sub("&lt;", text)


def strip_markup(text: str) -> str:
    """Tags of HTML elements, tags with attributes and comments, each replaced by a space."""
    return _TAG.sub(" ", text)


def _html_text(html: str) -> str:
    # nh3 with no tags keeps only text, and drops what <script> and <style> hold.
    html = text_brackets(bounded_depth(html))
    return _CONTROLS.sub("", unescape(_TEXT_ONLY.clean(html)))


def bounded_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """``html`` with the tags of elements nested deeper than ``limit`` left out (their
    text stays), so that parsing it takes time in proportion to its length."""
    if html.count("<") <= limit:
        return html  # too few tags to nest that deep: the usual case, at C speed
    kept: list[str] = []
    depth = last = 0
    for tag in _START_OR_END.finditer(html):
        if tag[2].lower() in _FLAT or tag[0].endswith("/>"):
            continue
        closing = bool(tag[1])
        if not closing:
            depth += 1
        if depth > limit:
            kept.append(html[last : tag.start()])
            last = tag.end()
        if closing:
            depth = max(0, depth - 1)
    if not kept:
        return html
    kept.append(html[last:])
    return "".join(kept)


def _scalar(value: object) -> str:
    """A number as text; anything else that is not a string (null, lists, objects) is
    no text at all (a JSON Feed may put any of them where a string belongs)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def sanitize(html: str, base: str | None = None) -> str:
    """HTML safe to store and show: ammonia's allow-list, web and mail links only,
    relative addresses resolved against ``base`` (an http(s) address) or dropped."""
    html = bounded_depth(_CONTROLS.sub("", html))
    if not _relative_address(html):
        # Nothing to resolve: the cleaner made once does the same as one made for this
        # base, at half the cost (building a cleaner's settings is most of a call).
        return _CLEANER.clean(html)
    if base and web_link(base) and not base.lower().startswith("mailto:"):
        try:
            return nh3.clean(
                html,
                attributes=_ATTRIBUTES,
                url_schemes=set(LINK_SCHEMES),
                url_relative=("rewrite_with_base", base),
            )
        except ValueError:  # a base address ammonia cannot parse: no base
            pass
    return nh3.clean(
        html, attributes=_ATTRIBUTES, url_schemes=set(LINK_SCHEMES), url_relative="deny"
    )


def _relative_address(html: str) -> bool:
    """Whether an attribute may hold a relative address. A yes where there is none
    only costs the slower, exact path; each name is looked for at C speed."""
    if "=" not in html:
        return False  # no attribute with a value at all
    low = html.lower()
    for name in _URL_ATTRIBUTES:
        at = low.find(name)
        while at >= 0:
            value = _VALUE.match(low, at + len(name))
            if value and value.end() > at + len(name) and not _ABSOLUTE.match(low, value.end()):
                return True
            at = low.find(name, at + 1)
    return False


def web_link(value: object, base: str | None = None) -> str | None:
    """An absolute http(s) or mailto address, without tracking parameters, or None."""
    return link_or_why(value, base)[0]


def link_or_why(value: object, base: str | None = None) -> tuple[str | None, str | None]:
    """``(link, None)`` for a link knowflow may keep, else ``(None, why)`` in words
    (``why`` is None when there was no link at all)."""
    text = _CONTROLS.sub("", value if isinstance(value, str) else "").strip()
    if not text:
        return None, None
    text = _NOT_IN_URL.sub(_percent, text)
    try:
        if base and not _SCHEME.match(text):
            text = urljoin(base, text)
        found = _SCHEME.match(text)
        if found is None or found[1].lower() not in LINK_SCHEMES:
            what = f"a {found[1].lower()}: address" if found else "not an absolute address"
            return None, f"link left out ({what}; knowflow keeps only http, https and mailto)"
        if found[1].lower() == "mailto":
            return text, None
        rest = text[found.end() :]
        # A host right after "//" is what urlsplit would find; only a bracketed (IPv6)
        # host needs urlsplit itself, which refuses a broken one.
        odd = not rest.startswith("//") or rest[2:3] in ("", "/", "?", "#") or "[" in rest
        if odd and not urlsplit(text).netloc:
            return None, "link left out (a web address with no host)"
        return strip_tracking(text), None
    except ValueError:  # urllib refuses it (a broken [IPv6] host, say)
        return None, "link left out (not a valid address)"


def _percent(found: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in found[0].encode("utf-8"))


def strip_tracking(url: str) -> str:
    """The address without campaign and click-tracking parameters (``utm_source`` ...)."""
    if "?" not in url or not _TRACKING.search(url):
        return url
    parts = urlsplit(url)
    if not parts.query or not _TRACKING.search(parts.query):
        return url
    # The other parameters stay exactly as written (decoding and encoding them
    # again could change what the server is asked for).
    kept = [p for p in parts.query.split("&") if not _tracking(p.partition("=")[0])]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _tracking(key: str) -> bool:
    return _TRACKING.fullmatch(unquote_plus(key)) is not None


def clean_id(value: object) -> str | None:
    """An entry's id as the feed gave it, tidied: a web address loses its tracking
    parameters, and one in another scheme than http(s), mailto, tag: or urn: (a
    ``javascript:`` id) becomes a digest of itself, so it stays the same id."""
    text = clean_text(value) if not isinstance(value, str) or _TAG.search(value) else value
    text = _CONTROLS.sub("", text).strip()
    if not text:
        return None
    found = _SCHEME.match(text)
    if found is None:
        return text
    scheme = found[1].lower()
    if scheme in ("http", "https"):
        try:
            return strip_tracking(text)
        except ValueError:  # not a valid address after all: an opaque id
            return text
    if scheme in _ID_SCHEMES:
        return text
    return "urn:knowflow:id:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

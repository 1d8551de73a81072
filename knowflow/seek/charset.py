"""Bytes from the network as text: a feed's declared encoding, a page's sniffed one.

A feed says how it is encoded (byte order mark, the HTTP ``charset``, the XML
declaration). When it breaks its word in a few places (one stray byte in a
UTF-8 feed), feedparser reads the whole document as Windows-1252 and every
accented letter comes out garbled ("MÃ¼ller"); here only the bad bytes are
replaced, and the feed carries a warning saying so. A document whose bytes
fit its declaration nowhere (Latin-1 labelled UTF-8) is left to feedparser's
fallback, which reads it right.

A web page often declares its encoding only in ``<meta charset>`` or
``http-equiv``; it is sniffed in the order browsers use (WHATWG Encoding and
HTML): byte order mark, HTTP header, ``<meta>``, then detection by
charset-normalizer (which trafilatura already brings).
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:-]+)""")
_XML_ENCODING_BYTES = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
# Labels that browsers read as a wider encoding than Python's codec of that
# name (WHATWG Encoding, "get an encoding"): Latin-1 is Windows-1252, Shift_JIS
# is Windows-31J, GB2312 is GB18030, and so on.
_WHATWG = {
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "x-user-defined": "cp1252",
}
# The prescan reads the first bytes only, as browsers do (the standard says
# 1,024; pages with a long <head> put the <meta> later, so a little more).
_PRESCAN = 4096
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_META = re.compile(rb"<meta\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(rb"""([^\s=/>]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([^\s;"'>]+)""", re.I)
_CHARSET_TEXT = re.compile(r"""charset\s*=\s*["']?[^\s;"']+["']?""", re.I)


def codec(label: str | bytes | None) -> str | None:
    """Python's codec for an encoding label, as a browser reads the label; None if unknown."""
    if not label:
        return None
    text = label.decode("ascii", "replace") if isinstance(label, bytes) else label
    text = text.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_WHATWG.get(text, text)).name
    except LookupError:
        return None
    return name


def http_charset(content_type: str) -> str | None:
    """The codec named by a Content-Type header's ``charset``, if Python knows it."""
    found = _CHARSET.search(content_type.encode("latin-1", "replace"))
    return codec(found[1]) if found else None


def bom(data: bytes) -> str | None:
    for mark, name in _BOMS:
        if data.startswith(mark):
            return name
    return None


def repair_feed(data: bytes, content_type: str = "") -> tuple[bytes, str, str | None]:
    """A feed whose bytes break its declared encoding in places, as UTF-8 with only
    the bad bytes replaced: ``(data, content_type, warning)``; unchanged (and no
    warning) when the bytes fit the declaration or fit it nowhere."""
    declared = _declared_feed_encoding(data, content_type)
    if declared is None:
        return data, content_type, None
    try:
        data.decode(declared)
        return data, content_type, None
    except UnicodeDecodeError as exc:
        first = exc.start
    except LookupError:
        return data, content_type, None
    if declared != "utf-8" and _is_utf8(data):
        return data, content_type, None  # UTF-8 labelled otherwise: feedparser finds it
    text = data.decode(declared, "replace")
    genuine = data.count(b"\xef\xbf\xbd") if declared == "utf-8" else 0  # real U+FFFDs
    bad = text.count("\ufffd") - genuine
    fitting = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if fitting < bad:
        return data, content_type, None  # mislabelled as a whole: feedparser's fallback
    text = _XML_ENCODING.sub(r"\g<1>utf-8", text.removeprefix("\ufeff"), count=1)
    content_type = _CHARSET_TEXT.sub("charset=utf-8", content_type)
    plural = "s" if bad != 1 else ""
    warning = (
        f"{bad} byte{plural} not valid {declared} replaced by \ufffd"
        f" (the first at byte {first}); the rest read as {declared}"
    )
    return text.encode("utf-8"), content_type, warning


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _declared_feed_encoding(data: bytes, content_type: str) -> str | None:
    """As XML over HTTP (RFC 7303): the byte order mark, else the HTTP charset,
    else the XML declaration, else UTF-8."""
    marked = bom(data)
    if marked:
        return marked
    if "charset" in content_type.lower():
        return http_charset(content_type)
    found = _XML_ENCODING_BYTES.match(data[:512])
    if found:
        return codec(found[1])
    return "utf-8"


def decode_html(body: bytes, content_type: str = "") -> tuple[str, str]:
    """A page's text and the codec it was read with, sniffed as a browser does:
    byte order mark, HTTP charset, ``<meta>``, then detection; bad bytes replaced."""
    name = bom(body) or http_charset(content_type) or meta_charset(body) or _detect(body)
    if name.startswith("utf-16") and not bom(body):
        name = "utf-8"  # a page that says UTF-16 in ASCII bytes is not UTF-16
    return body.decode(name, "replace").removeprefix("\ufeff"), name


def meta_charset(body: bytes) -> str | None:
    """The encoding a page's ``<meta charset>`` or ``http-equiv`` declares."""
    head = _COMMENT.sub(b"", body[:_PRESCAN])
    for tag in _META.finditer(head):
        attributes = {key.lower(): value.strip(b"\"'") for key, value in _ATTRIBUTE.findall(tag[1])}
        if attributes.get(b"charset"):
            found = codec(attributes[b"charset"])
        elif attributes.get(b"http-equiv", b"").lower() == b"content-type":
            charset = _CHARSET.search(attributes.get(b"content", b""))
            found = codec(charset[1]) if charset else None
        else:
            continue
        if found:
            return "utf-8" if found.startswith("utf-16") else found
    return None


def _detect(body: bytes) -> str:
    """The most likely encoding of undeclared bytes (UTF-8 first: it is never a guess)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only for the rare page that says nothing

    best = from_bytes(body[:65536]).best()
    return (codec(best.encoding) if best else None) or "cp1252"

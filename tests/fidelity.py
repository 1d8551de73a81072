"""A vault of what Obsidian Publish renders (every callout type, foldable and nested
callouts, sized images, sound, video, PDFs, Mermaid diagrams, headings linked as
Obsidian links them) and of notes to search, beside private notes whose marks
must never reach the site. Used by the publishing and the browser tests."""

from __future__ import annotations

import io
import wave

from knowflow.seek.highlights import callout, highlight_id
from knowflow.share.callouts import CALLOUT_TYPES

CONFIG = """\
[share]
site_title = "Fidelity"
author = "Ada"
base_url = "https://example.org/"
"""


def wav() -> bytes:
    """A tenth of a second of silence: a real sound file a browser can play."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


def pdf(text: str = "Hello from a PDF") -> bytes:
    """A one-page PDF, with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)

every_type = "\n\n".join(
    f"> [!{name}] The {name} callout\n> Body of {name}." for name in sorted(CALLOUT_TYPES)
)

CALLOUTS = f"""---
share: public
---
# Callouts

> [!tip] First callout
> Its body.

> [!warning] Second callout, which once rendered as a quote
> Still a callout.

> [!faq]- Closed until opened
> The hidden answer.

> [!example]+ Open, and foldable
> Shown at once.

> [!todo]- Folded, about [[Media]], [the web](https://example.org/) and #folded
> A link in a control is out of reach: the title shows the words.

> [!note] Outer
> Outer body.
>
> > [!bug] Inner
> > Inner body.

> [!tip] Use **bold**, [[Media]] and [[Private plan]]
> With a body.

> [!success] Only a title

> [!mystery] An unknown type

> [!INFO]

```markdown
> [!tip] In code, as written
```

{every_type}
"""

MEDIA = """---
share: public
---
# Media

![[pic.png|100]] ![[pic.png|Alt words|120x80]]

![A picture|250](pic.png) ![Sized both|250x100](pic.png)

![[talk.wav]]

![[clip.mp4]]

![[doc.pdf]]

![[doc.pdf#page=3]]

![[notes.txt]]

![A talk](talk.wav)
"""

DIAGRAM = """---
share: public
---
# Diagram

```mermaid
graph TD
  A[Seek] --> B[Sense]
  B --> C[Share]
```
"""

# What a note could try through a diagram: its own security level, a click that
# runs a function, HTML in a label. "strict" must keep all of it from running.
HOSTILE_DIAGRAM = """---
share: public
---
# Hostile diagram

```mermaid
%%{init: {"securityLevel": "loose", "startOnLoad": true}}%%
graph TD
  A["<img src=x onerror=window.__pwned=1>"] --> B
  click A call alert("clicked")
  click B href "javascript:window.__pwned=2"
```
"""

HEADINGS = """---
share: public
---
# Headings

```bash
# D&D WOTC is a comment in code, not a heading
```

## D&D WOTC

Rules of the game.

## `hasTag()`

Tells whether a note has a tag.

## After
"""

EMBEDS = """---
share: public
---
# Embeds

![[Headings#D D WOTC]]

![[Headings#hasTag()]]

See [[Headings#d&d wotc]] and [[Headings#`hasTag()`]].

![[Clip#^{HIGHLIGHT}]]
""".replace("{HIGHLIGHT}", highlight_id("Knowledge is a flow, not a stock."))

CLIPPING = f"""---
share: public
type: clipping
---
# Clip

{callout("Knowledge is a flow, not a stock.", "My comment on it.")}
"""

SEARCHABLE = {
    "projects/Sense making.md": """---
share: public
tags: [pkm/seek, Draft]
---
# Sense making

Making sense of notes is the middle of the loop. Sensemaking is one word.
""",
    "projects/Order.md": """---
share: public
tags: [pkm]
---
# Order

Making things and sense: the words here stand in another order.
""",
    "areas/Gardening.md": """---
share: public
type: clipping
tags: [garden, old]
---
# Gardening

A note about soil, compost and an exact phrase to leave out.
""",
    "areas/Hostile search.md": """---
share: public
---
# Hostile search

Soil <img src=x onerror="window.__pwned=3"> and &lt;script&gt;window.__pwned=4&lt;/script&gt;
""",
}

PRIVATE = {
    "qzsecretfolder/Private plan.md": """---
share: private
tags: [qzprivatetag]
---
# Private plan

qzprivatebody soil ![[qzprivate.wav]] ![[qzprivate.pdf]]

```mermaid
graph TD
  qzprivatediagram --> x
```
""",
    "qzprivate.wav": wav(),
    "qzprivate.pdf": pdf("qzprivatepdf"),
}

FILES: dict[str, str | bytes] = {
    ".knowflow/config.toml": CONFIG,
    "Callouts.md": CALLOUTS,
    "Media.md": MEDIA,
    "Diagram.md": DIAGRAM,
    "Hostile diagram.md": HOSTILE_DIAGRAM,
    "Headings.md": HEADINGS,
    "Embeds.md": EMBEDS,
    "Clip.md": CLIPPING,
    "pic.png": PNG,
    "talk.wav": wav(),
    "clip.mp4": b"\x00\x00\x00\x18ftypmp42",  # not a playable video: only its address counts
    "doc.pdf": pdf(),
    "notes.txt": "plain text\n",
    **SEARCHABLE,
    **PRIVATE,
}

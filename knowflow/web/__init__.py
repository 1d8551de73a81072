"""The local web app: the whole seek-sense-share loop in a browser, served from the
person's own machine (``knowflow serve``).

Server-rendered pages (Starlette, Jinja2) over the same Python API the CLI uses,
progressively enhanced with htmx (vendored from npm, no build step). Each page is a
module with its ``routes``: ``read`` (the stream), ``notes`` (a note, editing, new,
rename and move), ``search``, ``graph``, ``sources``, ``share``; ``security`` guards
them all, ``background`` fetches and watches the vault while the app runs.
"""

from knowflow.web.app import create_app

__all__ = ["create_app"]

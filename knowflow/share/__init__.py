"""Sharing: audiences, the one gate, and what goes out (site, feeds, digest, bundle)."""

from knowflow.share.audiences import Audience, audience, audiences, read_share
from knowflow.share.catalog import Catalog, VisibleNote, shared
from knowflow.share.gate import Gate, may_see
from knowflow.share.site import PublishReport, publish

__all__ = [
    "Audience",
    "Catalog",
    "Gate",
    "PublishReport",
    "VisibleNote",
    "audience",
    "audiences",
    "may_see",
    "publish",
    "read_share",
    "shared",
]

"""Making sense: search, the link graph, and what is broken."""

from knowflow.sense.check import Finding, check
from knowflow.sense.graph import (
    LinkRow,
    TagNode,
    backlinks,
    orphans,
    outgoing,
    tag_tree,
    unresolved,
)
from knowflow.sense.query import Query, parse_query
from knowflow.sense.search import Hit, search

__all__ = [
    "Finding",
    "Hit",
    "LinkRow",
    "Query",
    "TagNode",
    "backlinks",
    "check",
    "orphans",
    "outgoing",
    "parse_query",
    "search",
    "tag_tree",
    "unresolved",
]

"""Which file a link points to, by Obsidian's rules.

Observed in Obsidian (``metadataCache.getFirstLinkpathDest``), in order:

1. a file whose vault path is exactly the link's path wins;
2. otherwise a file in the linking note's own folder;
3. otherwise the shortest path (as a string), then the first alphabetically.

Names compare case-insensitively after Unicode normalisation. A link with a
``/`` matches files whose path ends with it. When several files could be
meant and no exact path settles it, the link still resolves (so backlinks
work as in Obsidian) but is reported as ambiguous.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from knowflow.vault.names import file_keys, name_key, target_keys


class Candidate(NamedTuple):
    """A file a link could lead to."""

    path: str  # vault-relative path
    path_key: str  # name_key of the path; notes without '.md'


class Resolution(NamedTuple):
    path: str | None
    ambiguous: bool = False

    @property
    def status(self) -> str:
        if self.path is None:
            return "unresolved"
        return "ambiguous" if self.ambiguous else "resolved"


UNRESOLVED = Resolution(None)
Names = dict[str, list[Candidate]]


class NameLookup(Protocol):
    """Candidates by name key: a ``Names`` dict, or anything that looks them up."""

    def get(self, key: str, default: list[Candidate], /) -> list[Candidate]: ...


def name_map(files: Iterable[tuple[str, bool]]) -> Names:
    """Candidates by name key, from (path, is_note) pairs."""
    names: Names = defaultdict(list)
    for path, is_note in files:
        nkey, pkey = file_keys(path, is_note)
        names[nkey].append(Candidate(path, pkey))
    return names


def resolve(
    target: str,
    source_path: str,
    candidates: list[Candidate],
    *,
    markdown: bool = False,
) -> Resolution:
    """Pick the file a link target means among the files sharing its name.

    ``candidates`` are all files whose name key equals the target's; for a
    Markdown link, a path relative to the linking note is tried first.
    """
    if len(candidates) == 1 and not markdown and "/" not in target:
        return Resolution(candidates[0].path)  # the common case, kept fast
    _, key, relative = target_keys(target, source_path)
    if markdown and not relative and not target.startswith("/"):
        folder = posixpath.dirname(source_path)
        local = name_key(posixpath.normpath(posixpath.join(folder, target)))
        local = local[:-3] if local.endswith(".md") else local
        for c in candidates:
            if c.path_key == local:
                return Resolution(c.path)
    exact = [c for c in candidates if c.path_key == key]
    if exact:
        return Resolution(exact[0].path)
    if relative or target.startswith("/"):
        return UNRESOLVED
    if "/" in key:
        candidates = [c for c in candidates if c.path_key.endswith("/" + key)]
    if not candidates:
        return UNRESOLVED
    if len(candidates) == 1:
        return Resolution(candidates[0].path)
    folder = name_key(posixpath.dirname(source_path))
    same_folder = [c for c in candidates if posixpath.dirname(c.path_key) == folder]
    best = min(same_folder or candidates, key=lambda c: (len(c.path_key), c.path_key))
    return Resolution(best.path, ambiguous=True)

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
from dataclasses import dataclass

from knowflow.vault.names import name_key, target_keys


@dataclass(frozen=True, slots=True)
class Candidate:
    file_id: int
    path_key: str  # name_key of the vault path, notes without '.md'


@dataclass(frozen=True, slots=True)
class Resolution:
    file_id: int | None
    ambiguous: bool = False


UNRESOLVED = Resolution(None)


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
    _, key, relative = target_keys(target, source_path)
    if markdown and not relative and not target.startswith("/"):
        folder = posixpath.dirname(source_path)
        local = name_key(posixpath.normpath(posixpath.join(folder, target)))
        local = local[:-3] if local.endswith(".md") else local
        for c in candidates:
            if c.path_key == local:
                return Resolution(c.file_id)
    exact = [c for c in candidates if c.path_key == key]
    if exact:
        return Resolution(exact[0].file_id)
    if relative or target.startswith("/"):
        return UNRESOLVED
    if "/" in key:
        candidates = [c for c in candidates if c.path_key.endswith("/" + key)]
    if not candidates:
        return UNRESOLVED
    if len(candidates) == 1:
        return Resolution(candidates[0].file_id)
    folder = name_key(posixpath.dirname(source_path))
    same_folder = [c for c in candidates if posixpath.dirname(c.path_key) == folder]
    best = min(same_folder or candidates, key=lambda c: (len(c.path_key), c.path_key))
    return Resolution(best.file_id, ambiguous=True)

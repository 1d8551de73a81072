"""Checking a pushed bundle against the bundle schema (docs/bundle.schema.json), by
hand: the schema is small, the hub takes one more form of note (unchanged notes as
``{"id", "content_hash"}`` only), and an error must say where it is in words.
jsonschema stays a test dependency: the tests check that what passes here passes
the published schema too."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from knowflow.hub.errors import Invalid

FORMAT = "knowflow-bundle"
VERSION = 1
AUDIENCE_KINDS = ("team", "community", "network")
_TOP = ("format", "version", "generated", "audience", "author", "notes")
_STRINGS = ("id", "path", "url", "title", "type", "markdown", "html", "created", "updated")
_LISTS = ("tags", "aliases", "links")
NOTE_KEYS = frozenset((*_STRINGS, *_LISTS, "content_hash"))
HASH_ONLY = frozenset(("id", "content_hash"))
_HASH = re.compile(r"[0-9a-f]+")


def check(doc: Any) -> dict[str, Any]:
    """The bundle if it is one this hub reads; Invalid says what is wrong where."""
    if not isinstance(doc, dict):
        raise Invalid("the body must be a JSON object (a knowflow bundle)")
    if doc.get("format") != FORMAT:
        raise Invalid(f"format must be {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise Invalid(
            f"bundle version {doc.get('version')!r} is not one this hub reads ({VERSION})"
        )
    _keys(doc, set(_TOP), set(_TOP), "the bundle")
    _string(doc, "generated", "the bundle")
    audience = doc["audience"]
    if not isinstance(audience, dict):
        raise Invalid("audience must be an object")
    _keys(audience, {"name", "kind", "title"}, {"name", "kind", "title"}, "audience")
    for key in ("name", "title"):
        _string(audience, key, "audience")
    if not audience["name"]:
        raise Invalid("audience.name must not be empty")
    if audience["kind"] not in AUDIENCE_KINDS:
        raise Invalid(f"audience.kind must be one of {', '.join(AUDIENCE_KINDS)}")
    author = doc["author"]
    if not isinstance(author, dict) or not isinstance(author.get("name"), str):
        raise Invalid("author must be an object with a name")
    if not isinstance(doc["notes"], list):
        raise Invalid("notes must be an array")
    seen: set[str] = set()
    for i, note in enumerate(doc["notes"]):
        _note(note, f"notes[{i}]")
        if note["id"] in seen:
            raise Invalid(f"notes[{i}]: id {note['id']!r} appears twice")
        seen.add(note["id"])
    return doc


def _keys(obj: dict[str, Any], required: set[str], allowed: set[str], where: str) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise Invalid(f"{where}: missing {', '.join(missing)}")
    extra = sorted(obj.keys() - allowed)
    if extra:
        raise Invalid(f"{where}: unknown field {', '.join(extra)}")


def _string(obj: dict[str, Any], key: str, where: str) -> None:
    if not isinstance(obj[key], str):
        raise Invalid(f"{where}: {key} must be a string")


def is_hash_only(note: dict[str, Any]) -> bool:
    """A note that travels as its content hash: the hub keeps the version it holds."""
    return note.keys() == HASH_ONLY


def _note(note: Any, where: str) -> None:
    if not isinstance(note, dict):
        raise Invalid(f"{where} must be an object")
    if not is_hash_only(note):
        _keys(note, set(NOTE_KEYS), set(NOTE_KEYS), where)
        for key in _STRINGS:
            _string(note, key, where)
        for key in _LISTS:
            value = note[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise Invalid(f"{where}: {key} must be an array of strings")
        if not note["path"]:
            raise Invalid(f"{where}: path must not be empty")
    if not isinstance(note["id"], str) or not note["id"]:
        raise Invalid(f"{where}: id must be a non-empty string")
    if not isinstance(note["content_hash"], str) or not _HASH.fullmatch(note["content_hash"]):
        raise Invalid(f"{where}: content_hash must be lowercase hex")


def fingerprint(note: dict[str, Any]) -> str:
    """sha256 of a whole note as pushed: equal fingerprints, nothing to send."""
    fields = {key: note[key] for key in sorted(NOTE_KEYS)}
    data = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()

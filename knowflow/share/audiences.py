"""Audiences: who a note may be shown to, as the person names them in config.toml.

::

    [audiences."team/platform"]
    kind = "team"
    title = "Platform team"

    [audiences."community/km-practitioners"]
    kind = "community"

``public`` (the open web, kind ``network``) always exists: a note shared with
``public`` may be shown to everyone, every other audience included. A note
names its audiences in front matter, ``share: public`` or ``share: [a, b]``;
no ``share:`` means private, and so does ``share: private``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from knowflow.errors import AudienceNotFound, ConfigError
from knowflow.vault.vault import Vault

KINDS = ("team", "community", "network")
PUBLIC = "public"
PRIVATE = "private"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*")


@dataclass(frozen=True, slots=True)
class Audience:
    """A group the person shares with."""

    name: str
    kind: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "title": self.title}


def audiences(vault: Vault) -> dict[str, Audience]:
    """The vault's audiences by name, ``public`` always among them."""
    table = vault.config().get("audiences", {})
    if not isinstance(table, dict):
        where = vault.config_where(None, "audiences")
        raise ConfigError(f"{where}: audiences must be a table of audiences ([audiences.NAME])")
    found = {PUBLIC: Audience(PUBLIC, "network", "Everyone")}
    for name, settings in table.items():
        found[name] = _audience(vault, name, settings)
    return found


def audience(vault: Vault, name: str) -> Audience:
    """One audience by name; AudienceNotFound names the ones there are."""
    known = audiences(vault)
    if name not in known:
        raise AudienceNotFound(
            f"no audience {name!r} in config.toml; defined: {', '.join(sorted(known))}"
        )
    return known[name]


def _audience(vault: Vault, name: str, settings: Any) -> Audience:
    if not _NAME.fullmatch(name) or name == PRIVATE:
        raise ConfigError(
            f"{_where(vault, name)}: audience name {name!r} must be lower-case words joined by"
            " '/', and not 'private'"
        )
    if isinstance(settings, str):
        settings = {"kind": settings}
    if not isinstance(settings, dict):
        raise ConfigError(f"{_where(vault, name)}: [audiences.{name!r}] must be a table")
    for key in ("kind", "title"):
        if key in settings and not isinstance(settings[key], str):
            raise ConfigError(
                f"{_where(vault, name, key)}: audience {name!r}: {key} must be text,"
                f" not {settings[key]!r}"
            )
    kind = settings.get("kind") or name.split("/", 1)[0]
    if kind not in KINDS:
        raise ConfigError(
            f"{_where(vault, name, 'kind')}: audience {name!r} needs a kind: one of"
            f" {', '.join(KINDS)}" + (f", not {kind!r}" if "kind" in settings else "")
        )
    return Audience(name, kind, settings.get("title") or name)


def _where(vault: Vault, name: str, key: str = "") -> str:
    """config.toml and the line of the audience's key, else of its table."""
    found = vault.config_where(f"audiences.{name}", key)
    if found == str(vault.config_path):  # no [audiences."name"]: maybe an inline table
        found = vault.config_where("audiences", name)
    return found


@dataclass(frozen=True, slots=True)
class ShareValue:
    """A note's ``share:`` as written: the audience names, and what was wrong with it."""

    names: tuple[str, ...]
    problems: tuple[str, ...] = ()


def read_share(value: Any) -> ShareValue:
    """Read a front matter ``share:`` value; anything unreadable counts as private."""
    if value is None:
        return ShareValue(())
    items = value if isinstance(value, list) else [value]
    names, problems = [], []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            problems.append(f"share: {item!r} is not an audience name")
            continue
        for part in item.split(","):
            name = part.strip()
            if name and name.casefold() != PRIVATE:
                names.append(name)
    return ShareValue(tuple(dict.fromkeys(names)), tuple(problems))

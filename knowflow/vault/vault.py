"""The vault: the person's folder of notes, and where knowflow keeps its own files."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

from knowflow.errors import ConfigError, NoteExists, VaultNotFound
from knowflow.vault.files import atomic_write, iter_parents

STATE_DIR = ".knowflow"
DEFAULT_CONFIG = """\
# knowflow settings for this vault. Everything here is optional.

[vault]
# Where `knowflow new` puts notes, relative to the vault.
new_note_folder = ""
# Template for `knowflow new`, relative to the vault; {{title}} and {{date}} are filled in.
template = ".knowflow/templates/note.md"
"""
DEFAULT_TEMPLATE = """\
---
created: {{date}}
tags: []
---
# {{title}}

"""
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|#^\[\]]')


class Vault:
    """A folder of Markdown notes with a ``.knowflow/`` folder beside them."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self._config: tuple[tuple[int, int], dict[str, Any]] | None = None
        if not self.root.is_dir():
            raise VaultNotFound(f"{self.root} is not a folder")

    def __repr__(self) -> str:
        return f"Vault({str(self.root)!r})"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def index_path(self) -> Path:
        return self.state_dir / "index.db"

    @classmethod
    def init(cls, root: Path | str) -> Vault:
        """Make root a vault (creating it if needed); existing files are left alone."""
        path = Path(root)
        (path / STATE_DIR / "templates").mkdir(parents=True, exist_ok=True)
        vault = cls(path)
        for target, text in (
            (vault.state_dir / "config.toml", DEFAULT_CONFIG),
            (vault.state_dir / "templates" / "note.md", DEFAULT_TEMPLATE),
        ):
            if not target.exists():
                atomic_write(target, text)
        return vault

    @classmethod
    def find(cls, start: Path | str | None = None) -> Vault:
        """The nearest folder at or above start that holds ``.knowflow/``."""
        here = Path(start or Path.cwd()).resolve()
        for folder in iter_parents(here):
            if (folder / STATE_DIR).is_dir():
                return cls(folder)
        raise VaultNotFound(f"no vault at or above {here}; run `knowflow init` or pass --vault DIR")

    @classmethod
    def locate(cls, explicit: Path | str | None = None) -> Vault:
        """--vault DIR, else $KNOWFLOW_VAULT, else the nearest vault upward.

        A folder named either way must already be a vault (hold ``.knowflow/``):
        a mistyped path would otherwise get an index and a state database of its
        own, and every command would quietly answer about an empty vault.
        """
        chosen = explicit or os.environ.get("KNOWFLOW_VAULT")
        if not chosen:
            return cls.find()
        given = "--vault" if explicit else "$KNOWFLOW_VAULT"
        path = Path(chosen).resolve()
        if not (path / STATE_DIR).is_dir():
            if path.is_dir():
                what = "is not a vault (it has no .knowflow/ folder)"
            else:
                what = "is not a folder" if path.exists() else "does not exist"
            raise VaultNotFound(
                f"{path} ({given}) {what}; `knowflow init {shlex.quote(str(chosen))}`"
                " makes it a vault"
            )
        return cls(path)

    def config(self) -> dict[str, Any]:
        """The vault's settings (read again only when the file changes); do not modify."""
        path = self.state_dir / "config.toml"
        try:
            st = path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        if self._config is None or self._config[0] != stamp:
            with path.open("rb") as fh:
                try:
                    self._config = (stamp, tomllib.load(fh))
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(f"{path}: {exc}") from None
        return self._config[1]

    def new_note(self, title: str, folder: str | None = None) -> Path:
        """Create a note from the vault's template; never overwrites a file."""
        clean = _UNSAFE_NAME.sub(" ", title).strip()
        if not clean:
            raise ValueError("a note needs a title")
        settings = self.config().get("vault", {})
        folder = folder if folder is not None else settings.get("new_note_folder", "")
        target_dir = (self.root / folder).resolve()
        if self.root not in (target_dir, *target_dir.parents):
            raise ValueError(f"{folder!r} is outside the vault")
        target_dir.mkdir(parents=True, exist_ok=True)
        path = target_dir / f"{clean}.md"
        if path.exists():
            raise NoteExists(f"{path.relative_to(self.root)} already exists")
        text = self._template(settings).replace("{{title}}", title.strip())
        text = text.replace("{{date}}", dt.date.today().isoformat())
        atomic_write(path, text)
        return path

    def _template(self, settings: dict[str, Any]) -> str:
        rel = settings.get("template", f"{STATE_DIR}/templates/note.md")
        path = self.root / rel
        return path.read_text("utf-8") if path.is_file() else DEFAULT_TEMPLATE

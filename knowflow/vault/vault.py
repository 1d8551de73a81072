"""The vault: the person's folder of notes, and where knowflow keeps its own files."""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from pathlib import Path
from typing import Any

from knowflow.errors import ConfigError, NoteExists, VaultNotFound
from knowflow.vault.config import check_config, config_line, where_in
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
        self._config: tuple[tuple[int, int], dict[str, Any], str] | None = None
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
    def locate(cls, explicit: Path | str | None = None, *, given: str = "--vault") -> Vault:
        """--vault DIR, else $KNOWFLOW_VAULT, else the nearest vault upward.

        A folder named either way must already be a vault (hold ``.knowflow/``):
        a mistyped path would otherwise get an index and a state database of its
        own, and every command would quietly answer about an empty vault.
        """
        chosen = explicit or os.environ.get("KNOWFLOW_VAULT")
        if not chosen:
            return cls.find()
        given = given if explicit else "$KNOWFLOW_VAULT"
        path = Path(chosen).resolve()
        if not (path / STATE_DIR).is_dir():
            if path.is_dir():
                what = "is not a vault (it has no .knowflow/ folder)"
            else:
                what = "is not a folder" if path.exists() else "does not exist"
            raise VaultNotFound(
                f"{path} ({given}) {what}; `knowflow init {_quoted(str(chosen))}` makes it a vault"
            )
        return cls(path)

    @property
    def config_path(self) -> Path:
        return self.state_dir / "config.toml"

    def config(self) -> dict[str, Any]:
        """The vault's settings (read again only when the file changes); do not modify.

        Every setting knowflow reads is checked here, once, whoever reads it: a
        value of the wrong type is a ConfigError naming the file, line and key."""
        path = self.config_path
        try:
            st = path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        stamp = (st.st_mtime_ns, st.st_size)
        if self._config is None or self._config[0] != stamp:
            try:
                text = path.read_bytes().decode("utf-8")
                data = _toml(text)
            except OSError as exc:
                raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
            except UnicodeDecodeError:
                raise ConfigError(f"{path}: is not UTF-8 text") from None
            except ValueError as exc:  # tomllib.TOMLDecodeError
                raise ConfigError(f"{path}: {exc}") from None
            check_config(data, path, text)
            self._config = (stamp, data, text)
        return self._config[1]

    def config_where(self, section: str | None, key: str) -> str:
        """``<config.toml>:<line>`` where key is set in [section], for error messages."""
        self.config()
        text = self._config[2] if self._config else ""
        return where_in(self.config_path, config_line(text, section, key))

    def folder_setting(self, section: str, key: str, default: str) -> Path:
        """A folder named in config.toml, which must lie inside the vault."""
        value = str(self.config().get(section, {}).get(key, default))  # checked: text
        target = (self.root / value).resolve()
        if self.root not in (target, *target.parents):
            where = self.config_where(section, key)
            raise ConfigError(f"{where}: [{section}] {key} = {value!r} is outside the vault")
        return target

    def outside(self, path: Path) -> bool:
        """Whether the file at path really lives outside the vault (it, or a folder on
        its way, is a symlink leading out)."""
        real = Path(os.path.realpath(path))
        return self.root not in real.parents and real != self.root

    def publishes_outside(self) -> bool:
        """Whether config.toml lets files that live outside the vault be published
        (``[share] publish_outside_vault = true``); by default they are not: a link
        can lead anywhere, and what it leads to was not put in the vault to be shared."""
        return bool(self.config().get("share", {}).get("publish_outside_vault", False))

    def new_note(self, title: str, folder: str | None = None) -> Path:
        """Create a note from the vault's template; never overwrites a file.

        A file name cannot hold every character a title can (``/``, ``:``, ...);
        when the name has to differ, the title goes into the front matter as
        ``title:``, where ``Index.note`` finds it again."""
        title = title.strip()
        if title.lower().endswith(".md"):
            title = title[:-3].rstrip()  # "a.md" names the note "a", not "a.md.md"
        clean = _UNSAFE_NAME.sub(" ", title).strip().lstrip(".")
        if not clean:
            raise ValueError("a note needs a title")
        if len(f"{clean}.md".encode()) > 255:
            raise ValueError(
                f"a file name holds at most 255 bytes; {clean[:40]!r}... is longer:"
                " give the note a shorter title (a long one can go in its text)"
            )
        if folder is None:
            target_dir = self.folder_setting("vault", "new_note_folder", "")
        else:
            target_dir = (self.root / folder).resolve()
            if self.root not in (target_dir, *target_dir.parents):
                raise ValueError(f"--folder {folder!r} is outside the vault")
        path = target_dir / f"{clean}.md"
        if path.exists():
            raise NoteExists(f"{path.relative_to(self.root)} already exists")
        text = self._template().replace("{{title}}", title)
        text = text.replace("{{date}}", dt.date.today().isoformat())
        if clean != title:
            text = _with_title(text, title)
        target_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        return path

    def _template(self) -> str:
        """The template config.toml names; a missing one is warned about, not fatal.

        As Obsidian's Daily notes does with a template it cannot find, the note
        is still made (here from knowflow's default template) and the person is
        told which file is missing: nothing is lost, and the fix is one edit."""
        rel = self.config().get("vault", {}).get("template")
        if rel is None:
            path = self.state_dir / "templates" / "note.md"
            return _read_template(path) if path.is_file() else DEFAULT_TEMPLATE
        path = self.root / rel
        if not path.is_file() and not path.suffix and path.with_suffix(".md").is_file():
            path = path.with_suffix(".md")  # Obsidian names templates without .md
        if not path.is_file():
            warnings.warn(
                f"{self.config_where('vault', 'template')}: the template {rel!r} does not exist"
                f" ({path}); the note was made from knowflow's default template",
                stacklevel=3,
            )
            return DEFAULT_TEMPLATE
        return _read_template(path)


def _read_template(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the template is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: the template cannot be read ({exc.strerror or exc})") from None


def _with_title(text: str, title: str) -> str:
    """The note's text with ``title:`` first in its front matter (added when it has none)."""
    from knowflow.vault.frontmatter import (  # PyYAML: loaded only when a note is made
        dump_front_matter,
        split_front_matter,
    )

    line = dump_front_matter({"title": title})
    yaml_text = split_front_matter(text)[0]
    if yaml_text is None:
        return f"---\n{line}\n---\n{text}"
    if re.search(r"^title[ \t]*:", yaml_text, re.MULTILINE):
        return text  # the template sets it itself (read as written: it may not parse)
    opening = text.index("\n") + 1
    return text[:opening] + line + "\n" + text[opening:]


# Imported on use: a lookup that reads no config.toml and reports no error should
# not pay for compiling a TOML parser's regular expressions.


def _toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)

"""What config.toml may hold: every setting knowflow reads, checked when the file is
read, so that a value of the wrong type is an error naming the file, line and key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from knowflow.errors import ConfigError

CADENCES = ("weekly", "fortnightly", "monthly")  # of digests (knowflow.share.digest)
BOOLEAN = ("true", "false")  # a setting that is a TOML boolean, not text

# Every setting knowflow reads: section -> key -> (what is expected, the values it
# may take, or None for any text). [audiences] is checked where audiences are read.
SETTINGS: dict[str, dict[str, tuple[str, tuple[str, ...] | None]]] = {
    "vault": {
        "new_note_folder": ("a folder inside the vault, as text", None),
        "template": ("a file inside the vault, as text", None),
    },
    "share": {
        "site_title": ("text", None),
        "author": ("text", None),
        "base_url": ("an address, as text", None),
        "digest_cadence": ("one of weekly, fortnightly, monthly", CADENCES),
        "digest_folder": ("a folder inside the vault, as text", None),
        "publish_outside_vault": ("true or false", BOOLEAN),
    },
    "seek": {"clippings_folder": ("a folder inside the vault, as text", None)},
    "author": {"name": ("text", None)},
}


def check_config(data: dict[str, Any], path: Path, text: str) -> None:
    """ConfigError for the first setting of the wrong type or value."""
    for section, keys in SETTINGS.items():
        if section not in data:
            continue
        table = data[section]
        if not isinstance(table, dict):
            at = where_in(path, config_line(text, None, section))
            raise ConfigError(f"{at}: {section} must be a table ([{section}])")
        for key, (expected, choices) in keys.items():
            if key not in table:
                continue
            value = table[key]
            if choices is BOOLEAN and isinstance(value, bool):
                continue
            if (
                isinstance(value, str)
                and choices is not BOOLEAN
                and (not choices or value in choices)
            ):
                continue
            at = where_in(path, config_line(text, section, key))
            raise ConfigError(f"{at}: [{section}] {key} must be {expected}, not {value!r}")


def where_in(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def config_line(text: str, section: str | None, key: str) -> int | None:
    """The line where ``key`` is set in ``[section]`` (None: at the top), else the line
    of the section's header, if found: tomllib gives no positions, and TOML's rarer
    spellings (dotted keys, inline tables) are not looked for."""
    current: str | None = None
    header_line = None
    quoted = re.escape(key)
    setting = re.compile(rf"""\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]", line)
        if header:  # [a."b/c"] and [ a . 'b/c' ] are both a.b/c
            current = re.sub(r"\s*\.\s*", ".", header.group(1)).replace('"', "").replace("'", "")
            if current == section and header_line is None:
                header_line = number
        elif current == section and key and setting.match(line):
            return number
    return header_line

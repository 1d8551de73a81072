"""What the CLI's commands share: the vault in context, JSON output, progress, exit codes."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported on use: a command that needs neither starts faster
    from knowflow.index import Index, ScanReport
    from knowflow.index.vectors import EmbedReport
    from knowflow.vault import Vault

EXIT_FOUND_NOTHING = 1
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_SYSTEM = 5  # the system refused: a full disk, a file that cannot be read or written
EXIT_NOT_INSTALLED = 6  # an optional extra the command needs is not installed
EXIT_PIPE = 141  # what a shell reports for a process whose output pipe closed (SIGPIPE)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


class Context:
    """What every command needs: where the vault is and whether to rescan first."""

    def __init__(self, vault_dir: str | None, scan: bool) -> None:
        self.vault_dir = vault_dir
        self.scan = scan

    def vault(self) -> Vault:
        from knowflow.vault import Vault

        return Vault.locate(self.vault_dir)

    @contextmanager
    def state(self) -> Iterator[sqlite3.Connection]:
        from knowflow.seek.state import open_state

        conn = open_state(self.vault())
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def index(self, *, scan: bool | None = None) -> Iterator[Index]:
        from knowflow.index import Index

        with Index(self.vault()) as index:
            if self.scan if scan is None else scan:
                run_scan(index, quiet=True)
            yield index


def run_scan(index: Index, *, quiet: bool, rebuild: bool = False) -> ScanReport:
    """Scan with a progress bar when a person is watching a terminal."""
    method = index.rebuild if rebuild else index.scan
    progress = progress_bar("Indexing", quiet=quiet)
    try:
        return method(progress)
    finally:
        progress.close()


def run_embed(index: Index, *, quiet: bool) -> EmbedReport | None:
    """Bring the notes' embeddings up to date when the semantic model is installed,
    with a progress bar; None (and nothing done) when it is not."""
    from knowflow.index import vectors

    if not vectors.available():
        return None
    progress = progress_bar("Embedding", quiet=quiet)
    try:
        return vectors.update(index, progress)
    finally:
        progress.close()


def meaning_off_notice() -> None:
    """Say once, on stderr, that related notes and search go without meaning."""
    from knowflow.index import vectors

    click.echo(vectors.OFF_NOTICE, err=True)


class progress_bar:
    """A (done, total) callback drawing a bar on a terminal, and nothing elsewhere."""

    def __init__(self, label: str, *, quiet: bool = False) -> None:
        self.label = label
        self.show = not quiet and sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.show:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def emit(as_json: bool, items: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for item in items:
        click.echo(line(item))

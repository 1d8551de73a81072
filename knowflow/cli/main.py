"""The ``knowflow`` group: global options, error handling, and commands loaded on use.

A command's module (and the libraries behind it: HTTP, feeds, rendering) is
imported only when that command runs, so ``knowflow search`` does not pay for
``knowflow update``. ``COMMANDS`` is the one list of every command.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from typing import Any

import click

from knowflow import __version__
from knowflow.cli.common import (
    EXIT_CONFLICT,
    EXIT_NOT_FOUND,
    EXIT_NOT_INSTALLED,
    EXIT_PIPE,
    EXIT_SYSTEM,
    Context,
)
from knowflow.errors import (
    AudienceNotFound,
    ConflictError,
    KnowflowError,
    NoteExists,
    NoteNotFound,
    NotInstalled,
    SourceExists,
    SourceNotFound,
    StorageError,
    VaultNotFound,
    is_disk_full,
)

# command name -> (module under knowflow.cli, attribute)
COMMANDS = {
    "init": ("notes", "init"),
    "index": ("notes", "index_cmd"),
    "search": ("notes", "search_cmd"),
    "show": ("notes", "show"),
    "backlinks": ("notes", "backlinks_cmd"),
    "links": ("notes", "links_cmd"),
    "tags": ("notes", "tags"),
    "orphans": ("notes", "orphans_cmd"),
    "check": ("notes", "check_cmd"),
    "new": ("notes", "new"),
    "rename": ("notes", "rename_cmd"),
    "move": ("notes", "move_cmd"),
    "source": ("seek", "source"),
    "update": ("seek", "update_cmd"),
    "stream": ("seek", "stream_cmd"),
    "keep": ("seek", "keep_cmd"),
    "read": ("seek", "read_cmd"),
    "seen": ("seek", "seen_cmd"),
    "dismiss": ("seek", "dismiss_cmd"),
    "capture": ("seek", "capture_cmd"),
    "highlight": ("seek", "highlight_cmd"),
    "highlights": ("seek", "highlights_cmd"),
    "discover": ("seek", "discover_cmd"),
    "import": ("seek", "import_group"),
    "share": ("share", "share_cmd"),
    "unshare": ("share", "unshare_cmd"),
    "audiences": ("share", "audiences_cmd"),
    "shared": ("share", "shared_cmd"),
    "publish": ("share", "publish_cmd"),
    "digest": ("share", "digest_cmd"),
    "bundle": ("share", "bundle_cmd"),
    "serve": ("web", "serve_cmd"),
    "hub": ("hub", "hub_group"),
    "push": ("hub", "push_cmd"),
    "review": ("sense", "review_group"),
    "wander": ("sense", "wander_cmd"),
    "experiment": ("sense", "experiment_cmd"),
    "narrate": ("sense", "narrate_cmd"),
    "practice": ("practice", "practice_cmd"),
    "related": ("connect", "related_cmd"),
    "mentions": ("connect", "mentions_cmd"),
    "link": ("connect", "link_group"),
}


class KnowflowGroup(click.Group):
    """Loads each command on first use, and turns knowflow's errors into a one-line
    message and a meaningful exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"knowflow.cli.{module}"), attribute)
        assert isinstance(command, click.Command), cmd_name
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (VaultNotFound, NoteNotFound, SourceNotFound, AudienceNotFound) as exc:
            _fail(ctx, exc, EXIT_NOT_FOUND)
        except (ConflictError, NoteExists, SourceExists) as exc:
            _fail(ctx, exc, EXIT_CONFLICT)
        except StorageError as exc:
            _fail(ctx, exc, EXIT_SYSTEM)
        except NotInstalled as exc:
            _fail(ctx, exc, EXIT_NOT_INSTALLED)
        except (KnowflowError, ValueError) as exc:
            _fail(ctx, exc, 2)
        except BrokenPipeError:
            _stdout_gone(ctx)
        except Exception as exc:
            if not _from_the_system(exc):
                raise
            _fail(ctx, _system_message(exc, _vault_folder(ctx)), EXIT_SYSTEM)


def _fail(ctx: click.Context, exc: Exception | str, code: int) -> None:
    click.echo(f"Error: {exc}", err=True)
    ctx.exit(code)


def _from_the_system(exc: Exception) -> bool:
    """An error of the file system or of SQLite that no layer below turned into one of
    knowflow's own: said in a line, as the others are, not as a traceback."""
    sqlite3 = sys.modules.get("sqlite3")  # not imported: the error cannot be SQLite's
    return isinstance(exc, OSError) or (sqlite3 is not None and isinstance(exc, sqlite3.Error))


def _vault_folder(ctx: click.Context) -> str | None:
    """Where the vault's databases are, to tell an I/O error of a full disk from
    another; None when there is no vault to look at."""
    try:
        return str(ctx.obj.vault().state_dir)
    except Exception:  # no vault here: the error was not about one
        return None


def _system_message(exc: Exception, where: str | None = None) -> str:
    # A full disk often surfaces second: SQLite undoes the transaction itself, and the
    # rollback that follows then fails with "no transaction is active". The first
    # error is in the chain.
    chain: list[BaseException] = [exc]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and len(chain) < 10:
        chain.append(cause)
    full = next((e for e in chain if is_disk_full(e, where)), None)
    if isinstance(full, Exception):
        exc = full
    if full is not None:
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        return (
            f"the disk is full{where}: what was being written was left out whole, and"
            " everything written before stays as it was"
        )
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return f"the database refused: {exc}"


def _stdout_gone(ctx: click.Context) -> None:
    """The reader of our output went away (``knowflow search x | head -1``): nothing
    more to say, and nothing to flush at exit either."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    ctx.exit(EXIT_PIPE)


@click.group(cls=KnowflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--vault",
    "vault_dir",
    type=click.Path(file_okay=False),
    help="The vault folder. Default: $KNOWFLOW_VAULT, else the nearest folder upward "
    "holding .knowflow/.",
)
@click.option(
    "--no-scan", is_flag=True, help="Use the index as it is instead of updating it first."
)
@click.version_option(__version__, prog_name="knowflow")
@click.pass_context
def cli(ctx: click.Context, vault_dir: str | None, no_scan: bool) -> None:
    """knowflow: seek, make sense of and share what you know, from a folder of Markdown notes."""
    ctx.obj = Context(vault_dir, scan=not no_scan)
    # Warnings from the API are messages for the person, not for a developer.
    warnings.formatwarning = lambda message, *_args, **_kw: f"Warning: {message}\n"


def main() -> None:
    """Entry point of the ``knowflow`` console script."""
    cli()

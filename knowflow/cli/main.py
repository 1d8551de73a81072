"""Commands of the ``knowflow`` CLI. Each opens the vault and calls one API function."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click

from knowflow.cli.common import (
    EXIT_CONFLICT,
    EXIT_FOUND_NOTHING,
    EXIT_NOT_FOUND,
    Context,
    emit,
    json_option,
    run_scan,
)
from knowflow.cli.seek import (
    capture_cmd,
    discover_cmd,
    dismiss_cmd,
    highlight_cmd,
    highlights_cmd,
    import_group,
    keep_cmd,
    seen_cmd,
    source,
    stream_cmd,
    update_cmd,
)
from knowflow.cli.share import COMMANDS as SHARE_COMMANDS
from knowflow.errors import (
    AudienceNotFound,
    ConflictError,
    KnowflowError,
    NoteExists,
    NoteNotFound,
    SourceExists,
    SourceNotFound,
    VaultNotFound,
)
from knowflow.index import Index, ScanReport
from knowflow.sense import backlinks, check, orphans, outgoing, search, tag_tree
from knowflow.sense.graph import LinkRow
from knowflow.share.check import check_shares
from knowflow.vault import Vault


def _link_line(item: dict[str, Any]) -> str:
    where = f"{item['path']}:{item['line']}"
    arrow = item["resolved"] or f"(unresolved: {item['target']})"
    text = f"  {item['text']}" if item.get("text") else ""
    return f"{where}\t{arrow}{text}"


class KnowflowGroup(click.Group):
    """Turns knowflow's errors into a one-line message and a meaningful exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (VaultNotFound, NoteNotFound, SourceNotFound, AudienceNotFound) as exc:
            _fail(ctx, exc, EXIT_NOT_FOUND)
        except (ConflictError, NoteExists, SourceExists) as exc:
            _fail(ctx, exc, EXIT_CONFLICT)
        except (KnowflowError, ValueError) as exc:
            _fail(ctx, exc, 2)


def _fail(ctx: click.Context, exc: Exception, code: int) -> None:
    click.echo(f"Error: {exc}", err=True)
    ctx.exit(code)


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
@click.version_option(package_name="knowflow")
@click.pass_context
def cli(ctx: click.Context, vault_dir: str | None, no_scan: bool) -> None:
    """knowflow: seek, make sense of and share what you know, from a folder of Markdown notes."""
    ctx.obj = Context(vault_dir, scan=not no_scan)
    # Warnings from the API are messages for the person, not for a developer.
    warnings.formatwarning = lambda message, *_args, **_kw: f"Warning: {message}\n"


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.pass_obj
def init(obj: Context, directory: str | None) -> None:
    """Make DIRECTORY (default: --vault, or here) a vault and index it."""
    vault = Vault.init(directory or obj.vault_dir or ".")
    with Index(vault) as index:
        report = run_scan(index, quiet=False)
    click.echo(f"Vault ready at {vault.root}: {index_summary(report)}")


def index_summary(report: ScanReport) -> str:
    parts = [f"{report.added} added", f"{report.updated} updated", f"{report.deleted} deleted"]
    if report.renamed:
        parts.append(f"{report.renamed} renamed")
    parts.append(f"{report.unchanged} unchanged")
    if report.problems:
        parts.append(f"{report.problems} with problems (see `knowflow check`)")
    return ", ".join(parts) + f" in {report.seconds:.2f}s"


@cli.command(name="index")
@click.option("--rebuild", is_flag=True, help="Delete the index and build it again from the notes.")
@json_option
@click.pass_obj
def index_cmd(obj: Context, rebuild: bool, as_json: bool) -> None:
    """Bring the index up to date with the notes (only changed files are read)."""
    with obj.index(scan=False) as index:
        report = run_scan(index, quiet=as_json, rebuild=rebuild)
        count = index.count()
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "notes": count}))
    else:
        click.echo(f"{count} notes indexed: {index_summary(report)}")


@cli.command(name="search")
@click.argument("query", nargs=-1, required=True)
@click.option("-n", "--limit", default=20, show_default=True, help="How many results at most.")
@json_option
@click.pass_obj
def search_cmd(obj: Context, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Search notes. QUERY takes words, "phrases", -exclude, OR, tag:, path:, type:,
    share:, links-to: and has:unresolved."""
    with obj.index() as index:
        hits = search(index, " ".join(query), limit=limit)
    bold = ("**", "**") if as_json else ("\x1b[1;33m", "\x1b[0m")
    if not as_json and not sys.stdout.isatty():
        bold = ("", "")
    items = [
        {
            "path": h.path,
            "title": h.title,
            "type": h.type,
            "score": round(h.score, 4),
            "snippet": h.marked(*bold),
        }
        for h in hits
    ]
    emit(as_json, items, _hit_line)
    if not hits:
        sys.exit(EXIT_FOUND_NOTHING)


def _hit_line(item: dict[str, Any]) -> str:
    snippet = (item["snippet"] or "").replace("\n", " ")
    return f"{item['path']}\n    {snippet}".rstrip()


@cli.command()
@click.argument("note")
@json_option
@click.pass_obj
def show(obj: Context, note: str, as_json: bool) -> None:
    """Print NOTE (a title, alias or path) followed by its backlinks."""
    with obj.index() as index:
        ref = index.note(note)
        text = (index.vault.root / ref.path).read_text("utf-8", "replace")
        links = [link.as_dict() for link in backlinks(index, ref)]
    if as_json:
        doc = {
            "path": ref.path,
            "title": ref.title,
            "type": ref.type,
            "text": text,
            "backlinks": links,
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(text.rstrip("\n"))
    click.echo(f"\n--- {len(links)} backlinks ---")
    for item in links:
        click.echo(f"{item['path']}:{item['line']}  {item['text']}")


def _note_links(fn: Callable[[Index, Any], list[LinkRow]], help_text: str) -> click.Command:
    @click.argument("note")
    @json_option
    @click.pass_obj
    def command(obj: Context, note: str, as_json: bool) -> None:
        with obj.index() as index:
            items = [link.as_dict() for link in fn(index, index.note(note))]
        emit(as_json, items, _link_line)

    command.__doc__ = help_text
    return click.command()(command)


cli.add_command(
    _note_links(backlinks, "List the links to NOTE, each with the line it stands on."),
    "backlinks",
)
cli.add_command(
    _note_links(outgoing, "List the links written in NOTE and where they lead."), "links"
)


@cli.command()
@json_option
@click.pass_obj
def tags(obj: Context, as_json: bool) -> None:
    """List tags as a tree; a parent counts every note tagged with it or below it."""
    with obj.index() as index:
        nodes = tag_tree(index).walk()
    items = [
        {"path": n.name, "tag": n.name, "count": n.count, "own": n.own, "depth": d}
        for d, n in nodes
    ]
    emit(as_json, items, lambda i: f"{'  ' * i['depth']}#{i['tag']}  {i['count']}")


@cli.command(name="orphans")
@json_option
@click.pass_obj
def orphans_cmd(obj: Context, as_json: bool) -> None:
    """List notes with no links in or out."""
    with obj.index() as index:
        items = [{"path": n.path, "title": n.title} for n in orphans(index)]
    emit(as_json, items, lambda i: i["path"])


@cli.command(name="check")
@json_option
@click.pass_obj
def check_cmd(obj: Context, as_json: bool) -> None:
    """List unresolved and ambiguous links, malformed or unreadable files, and notes
    shared with audiences config.toml does not define.

    Exits 1 when anything is found, so scripts and CI can use it."""
    with obj.index() as index:
        findings = [f.as_dict() for f in check(index)]
        findings += [p.as_dict() for p in check_shares(index)]
    items = sorted(findings, key=lambda i: (i["path"], i["line"] or 0))

    def line(i: dict[str, Any]) -> str:
        where = f"{i['path']}:{i['line']}" if i["line"] else i["path"]
        return f"{where}: {i['kind']}: {i['message']}"

    emit(as_json, items, line)
    if findings:
        sys.exit(EXIT_FOUND_NOTHING)


@cli.command()
@click.argument("title")
@click.option("--folder", help="Folder for the note, relative to the vault.")
@click.pass_obj
def new(obj: Context, title: str, folder: str | None) -> None:
    """Create a note called TITLE from the vault's template, and print its path."""
    vault = obj.vault()
    path = vault.new_note(title, folder)
    click.echo(str(path.relative_to(vault.root)))


cli.add_command(source)
cli.add_command(update_cmd)
for command in (
    stream_cmd,
    keep_cmd,
    seen_cmd,
    dismiss_cmd,
    capture_cmd,
    highlight_cmd,
    highlights_cmd,
    discover_cmd,
    import_group,
    *SHARE_COMMANDS,
):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``knowflow`` console script."""
    cli()

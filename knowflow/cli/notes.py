"""Note commands: init, index, search, show, links, tags, orphans, check, new, rename
and move.

Each opens the vault and calls one API function."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from knowflow.cli.common import (
    EXIT_CONFLICT,
    EXIT_FOUND_NOTHING,
    Context,
    emit,
    json_option,
    run_embed,
    run_scan,
)

if TYPE_CHECKING:
    from knowflow.index import Index, ScanReport
    from knowflow.sense.graph import LinkRow
    from knowflow.sense.search import Hit

# The API each command calls is imported inside it, so that a command loads only
# what it runs (one search as a command stays fast).


def _link_line(item: dict[str, Any]) -> str:
    where = f"{item['path']}:{item['line']}"
    arrow = item["resolved"] or f"(unresolved: {item['target']})"
    text = f"  {item['text']}" if item.get("text") else ""
    return f"{where}\t{arrow}{text}"


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.pass_obj
def init(obj: Context, directory: str | None) -> None:
    """Make DIRECTORY (default: --vault, or here) a vault and index it."""
    from knowflow.index import Index
    from knowflow.vault import Vault

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


@click.command(name="index")
@click.option("--rebuild", is_flag=True, help="Delete the index and build it again from the notes.")
@click.option(
    "--no-embed",
    is_flag=True,
    help="Leave the notes' embeddings (search by meaning) as they are, even with the model.",
)
@json_option
@click.pass_obj
def index_cmd(obj: Context, rebuild: bool, no_embed: bool, as_json: bool) -> None:
    """Bring the index up to date with the notes (only changed files are read), and
    their embeddings when the semantic model is installed (only changed notes)."""
    with obj.index(scan=False) as index:
        report = run_scan(index, quiet=as_json, rebuild=rebuild)
        embedded = None if no_embed else run_embed(index, quiet=as_json)
        count = index.count()
        _observe(obj, index)
    if as_json:
        doc: dict[str, object] = {**report.as_dict(), "notes": count}
        if embedded is not None:
            doc["embeddings"] = embedded.as_dict()
        click.echo(json.dumps(doc))
    else:
        click.echo(f"{count} notes indexed; files {index_summary(report)}")
        if embedded is not None:
            click.echo(
                f"{embedded.embedded} notes embedded ({embedded.model}),"
                f" {embedded.dropped} dropped, in {embedded.seconds:.2f}s"
            )


def _observe(obj: Context, index: Index) -> None:
    """A look for practice's "notes written or edited" (see knowflow.practice.versions)."""
    from knowflow.practice.versions import observe

    with obj.state() as conn:
        observe(index, conn)


class VerbatimQuery(click.Command):
    """A command whose words are a query taken as typed: ``-draft`` excludes a word
    and is not an option, and nothing needs quoting or ``--``. Only the command's own
    options, written exactly, are read as options."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags: set[str] = set()
        valued: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names = param.opts + param.secondary_opts
                (flags if param.is_flag else valued).update(names)
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg
            if name in flags or name in valued:
                options.append(arg)
                if name in valued and "=" not in arg:
                    options.append(next(rest, ""))
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words])


@click.command(name="search", cls=VerbatimQuery)
@click.argument("query", nargs=-1, required=True)
@click.option(
    "-n",
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many results at most.",
)
@click.option(
    "--semantic",
    is_flag=True,
    help="Rank by meaning (the notes' embeddings) instead of words; needs the semantic model.",
)
@click.option(
    "--hybrid",
    is_flag=True,
    help="Fuse the ranking by words with the ranking by meaning; needs the semantic model.",
)
@json_option
@click.pass_obj
def search_cmd(
    obj: Context,
    query: tuple[str, ...],
    limit: int,
    semantic: bool,
    hybrid: bool,
    as_json: bool,
) -> None:
    """Search notes, best first, with each match shown in a snippet.

    QUERY is taken as typed: words (all must appear), "phrases", -exclude, OR,
    prefix*, tag:, path:, type:, share:, links-to: and has:unresolved. When no
    note holds all the words, the notes holding most of them are shown, best
    first, each with the words it lacks. With --semantic, notes are ranked by how
    close they are in meaning to the words, and the filters narrow them; with
    --hybrid, both rankings are fused."""
    from knowflow.sense.search import closest, search

    if semantic and hybrid:
        raise click.UsageError("give --semantic or --hybrid, not both")
    mode = "semantic" if semantic else "hybrid" if hybrid else None
    text = " ".join(query)
    with obj.index() as index:
        partial = False
        if mode:
            hits = _by_meaning(index, text, limit + 1, mode, quiet=as_json)
        else:
            hits = search(index, text, limit=limit + 1)  # one more, to know if there are more
            partial = not hits and bool(hits := closest(index, text, limit=limit + 1))
    more, hits = len(hits) > limit, hits[:limit]
    if as_json:
        click.echo(json.dumps([_hit_item(h) for h in hits], ensure_ascii=False, indent=2))
    else:
        if partial:
            click.echo("No note holds all of the words; the notes holding most of them:", err=True)
        styled = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        for hit in hits:
            click.echo(_hit_line(hit, styled))
        if more:
            click.echo(f"More notes match; -n {limit * 5} shows more.", err=True)
        if not hits:
            nothing = "is close in meaning to" if mode == "semantic" else "matches"
            click.echo(f"No note {nothing} {text!r}.", err=True)
    if not hits:
        sys.exit(EXIT_FOUND_NOTHING)


def _by_meaning(index: Index, text: str, limit: int, mode: str, quiet: bool) -> list[Hit]:
    """Search by meaning (or both), the embeddings brought up to date first."""
    from knowflow.sense import meaning

    meaning.require()
    run_embed(index, quiet=quiet)
    return (meaning.semantic if mode == "semantic" else meaning.hybrid)(index, text, limit)


def _hit_item(hit: Hit) -> dict[str, Any]:
    snippet, matches = hit.matches()
    item: dict[str, Any] = {
        "path": hit.path,
        "title": hit.title,
        "type": hit.type,
        "score": round(hit.score, 4),
        "snippet": snippet if hit.snippet is not None else None,
        "matches": matches,
    }
    if hit.missing:
        item["missing"] = list(hit.missing)
    return item


def _hit_line(hit: Hit, styled: bool = False) -> str:
    """A result for a person: the path, then the snippet with its matches highlighted
    by the terminal (never by characters that could be Markdown)."""
    snippet, matches = hit.matches()
    shown, pos = [], 0
    for start, end in matches:
        shown.append(snippet[pos:start])
        word = snippet[start:end]
        shown.append(click.style(word, fg="yellow", bold=True) if styled else word)
        pos = end
    shown.append(snippet[pos:])
    lacks = f"  (without: {', '.join(hit.missing)})" if hit.missing else ""
    text = " ".join("".join(shown).split())  # a snippet's line breaks and table padding
    return f"{hit.path}{lacks}\n    {text}".rstrip()


@click.command()
@click.argument("note")
@json_option
@click.pass_obj
def show(obj: Context, note: str, as_json: bool) -> None:
    """Print NOTE (a title, alias or path) followed by its backlinks."""
    with obj.index() as index:
        ref = index.note(note)
        text = (index.vault.root / ref.path).read_text("utf-8", "replace")
        from knowflow.sense.graph import backlinks

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


def _note_links(name: str, function: str, help_text: str) -> click.Command:
    @click.argument("note")
    @json_option
    @click.pass_obj
    def command(obj: Context, note: str, as_json: bool) -> None:
        from knowflow.sense import graph

        fn: Callable[[Index, Any], list[LinkRow]] = getattr(graph, function)
        with obj.index() as index:
            items = [link.as_dict() for link in fn(index, index.note(note))]
        emit(as_json, items, _link_line)

    command.__doc__ = help_text
    return click.command(name=name)(command)


backlinks_cmd = _note_links(
    "backlinks", "backlinks", "List the links to NOTE, each with the line it stands on."
)
links_cmd = _note_links("links", "outgoing", "List the links written in NOTE and where they lead.")


@click.command()
@json_option
@click.pass_obj
def tags(obj: Context, as_json: bool) -> None:
    """List tags as a tree; a parent counts every note tagged with it or below it."""
    with obj.index() as index:
        from knowflow.sense.graph import tag_tree

        nodes = tag_tree(index).walk()
    items = [
        {"path": n.name, "tag": n.name, "count": n.count, "own": n.own, "depth": d}
        for d, n in nodes
    ]
    emit(as_json, items, lambda i: f"{'  ' * i['depth']}#{i['tag']}  {i['count']}")


@click.command(name="orphans")
@json_option
@click.pass_obj
def orphans_cmd(obj: Context, as_json: bool) -> None:
    """List notes with no links in or out."""
    with obj.index() as index:
        from knowflow.sense.graph import orphans

        items = [{"path": n.path, "title": n.title} for n in orphans(index)]
    emit(as_json, items, lambda i: i["path"])


@click.command(name="check")
@json_option
@click.pass_obj
def check_cmd(obj: Context, as_json: bool) -> None:
    """List what is broken: links to no file (unresolved-link) or to several
    (ambiguous-link), links to a heading or block a note does not have
    (missing-heading, missing-block), malformed or unreadable files, and notes shared
    with audiences config.toml does not define.

    Each line is FILE:LINE: KIND: MESSAGE, a broken link quoted as written. Exits 1
    when anything is found, so scripts and CI can use it."""
    with obj.index() as index:
        from knowflow.sense.check import check
        from knowflow.share.check import check_shares

        findings = [f.as_dict() for f in check(index)]
        findings += [p.as_dict() for p in check_shares(index)]
    items = sorted(findings, key=lambda i: (i["path"], i["line"] or 0))

    def line(i: dict[str, Any]) -> str:
        where = f"{i['path']}:{i['line']}" if i["line"] else i["path"]
        return f"{where}: {i['kind']}: {i['message']}"

    emit(as_json, items, line)
    if findings:
        sys.exit(EXIT_FOUND_NOTHING)


@click.command()
@click.argument("title")
@click.option("--folder", help="Folder for the note, relative to the vault.")
@click.pass_obj
def new(obj: Context, title: str, folder: str | None) -> None:
    """Create a note called TITLE from the vault's template, and print its path."""
    vault = obj.vault()
    path = vault.new_note(title, folder)
    click.echo(str(path.relative_to(vault.root)))


def _renaming_command(name: str, argument: str, help_text: str) -> click.Command:
    """``rename`` and ``move``: the same report, one API function each."""

    @click.argument("note")
    @click.argument(argument.lower())
    @click.option("--dry-run", is_flag=True, help="List every change; change nothing.")
    @json_option
    @click.pass_obj
    def command(obj: Context, /, note: str, dry_run: bool, as_json: bool, **kwargs: str) -> None:
        from knowflow.sense import rename as renaming

        with obj.index() as index:
            change = getattr(renaming, name)(index, note, kwargs[argument.lower()], dry_run=dry_run)
            if not dry_run:
                run_scan(index, quiet=True)
        if as_json:
            click.echo(
                json.dumps(change.as_dict() | {"dry_run": dry_run}, ensure_ascii=False, indent=2)
            )
        else:
            if change.already:
                done = "is named so" if change.old == change.new else f"became {change.new}"
                click.echo(f"{change.old} {done} already; nothing to do")
                return
            for edit in change.edits:
                click.echo(f"{edit.path}:{edit.line}: {edit.before} -> {edit.after}")
            verb, done = ("Would rename", "to rewrite") if dry_run else ("Renamed", "rewritten")
            files = f"{len(change.texts)} file{'s' if len(change.texts) != 1 else ''}"
            click.echo(
                f"{verb} {change.old} to {change.new}; {len(change.edits)} links in {files} {done}"
            )
        for path in change.skipped:
            click.echo(
                f"Error: {path} changed on disk meanwhile; its links were left as they were",
                err=True,
            )
        if change.skipped:
            sys.exit(EXIT_CONFLICT)

    command.__doc__ = help_text
    return click.command(name=name)(command)


rename_cmd = _renaming_command(
    "rename",
    "NEW_NAME",
    """Rename NOTE (or an attachment) to NEW_NAME, and rewrite every link to it.

    Wikilinks, Markdown links and embeds anywhere in the vault follow it, keeping
    their #heading, ^block and display text; each file is written atomically and
    only if it did not change meanwhile. A name that is taken is refused.""",
)
move_cmd = _renaming_command(
    "move",
    "FOLDER",
    """Move NOTE (or an attachment) into FOLDER, and rewrite every link to it (and the
    note's own relative links) so that each still leads where it did.""",
)

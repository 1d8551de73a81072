"""Commands for connections: related notes, unlinked mentions, suggested links."""

from __future__ import annotations

import json

import click

from knowflow.cli.common import Context, emit, json_option, meaning_off_notice, run_embed
from knowflow.errors import KnowflowError


def _where(item: dict[str, object]) -> str:
    at = f"{item['path']}:{item['line']}:{int(str(item['column'])) + 1}"
    return f"{at}  {item['text']} -> {item['title']}  | {item['sentence']}"


@click.command(name="related")
@click.argument("note")
@click.option("-n", "limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@json_option
@click.pass_obj
def related_cmd(obj: Context, note: str, limit: int, as_json: bool) -> None:
    """List the notes most related to NOTE (shared words, shared links, co-citation,
    and meaning when the semantic model is installed), each with why."""
    from knowflow.sense.connect import related

    with obj.index() as index:
        if run_embed(index, quiet=as_json) is None:
            meaning_off_notice()
        items = [r.as_dict() for r in related(index, index.note(note), limit)]

    def line(item: dict[str, object]) -> str:
        why = item["why"]
        assert isinstance(why, dict)
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in why.items())
        return f"{item['path']}  ({reasons})"

    emit(as_json, items, line)


@click.command(name="mentions")
@click.argument("note")
@click.option(
    "--all", "common", is_flag=True, help="Include one-word names common across the vault."
)
@json_option
@click.pass_obj
def mentions_cmd(obj: Context, note: str, common: bool, as_json: bool) -> None:
    """List other notes' titles and aliases written in NOTE without a link, and NOTE's
    title or aliases written elsewhere without a link. One-word names found in many
    notes ("note", "list") are left out unless --all."""
    from knowflow.sense.mentions import mentions

    with obj.index() as index:
        out, inbound = mentions(index, index.note(note), common=common)
    if as_json:
        doc = {"in_note": [m.as_dict() for m in out], "elsewhere": [m.as_dict() for m in inbound]}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    for label, found in (("In this note", out), ("Elsewhere", inbound)):
        click.echo(f"{label}:")
        for m in found:
            click.echo("  " + _where(m.as_dict()))
        if not found:
            click.echo("  none")


@click.group(name="link")
def link_group() -> None:
    """Suggested links, and accepting one."""


@link_group.command(name="suggest")
@click.argument("note")
@json_option
@click.pass_obj
def suggest_cmd(obj: Context, note: str, as_json: bool) -> None:
    """List each unlinked mention in or of NOTE as a link to make, with its sentence."""
    from knowflow.sense.mentions import by_file_and_note, suggestions

    with obj.index() as index:
        found = suggestions(index, index.note(note))
    if as_json:
        emit(as_json, [m.as_dict() for m in found], str)
        return
    for first, *rest in by_file_and_note(found):  # each (file, note) offered once
        click.echo(f"[{first.id}] " + _where(first.as_dict()))
        if rest:
            lines = ", ".join(str(m.line) for m in rest[:10])
            more = f" and {len(rest) - 10} more" if len(rest) > 10 else ""
            click.echo(f"    also on line {lines}{more}: one link makes these linked too")
    if not found:
        click.echo("No suggested links.")


@link_group.command(name="accept")
@click.argument("note")
@click.option("--line", type=click.IntRange(1), help="The line holding the mention.")
@click.option("--text", help="The mention as written.")
@click.option(
    "--column",
    type=click.IntRange(1),
    help="Where on the line the mention starts (1 = first character), when it is there twice.",
)
@click.option("--target", help="The note to link to (default: the note so named).")
@click.option("--id", "suggestion", help="A suggestion's id from `knowflow link suggest`.")
@click.pass_obj
def accept_cmd(
    obj: Context,
    note: str,
    line: int | None,
    text: str | None,
    column: int | None,
    target: str | None,
    suggestion: str | None,
) -> None:
    """Turn a mention on one line of NOTE into a link, changing nothing else."""
    from knowflow.sense.mentions import accept, suggestions

    with obj.index() as index:
        ref = index.note(note)
        path, at = ref.path, None if column is None else column - 1
        if suggestion is not None:
            found = [m for m in suggestions(index, ref, common=True) if m.id == suggestion]
            if not found:
                raise KnowflowError(
                    f"no suggestion {suggestion} for {note}: the note may have changed;"
                    f" `knowflow link suggest {note}` lists the current ones"
                )
            m = found[0]
            path, line, text, target, at = m.path, m.line, m.text, m.target, m.column
        if line is None or text is None:
            raise KnowflowError("give --line and --text, or --id")
        link = accept(index, path, line, text, target, at)
    click.echo(f"{path}:{line}: {link}")

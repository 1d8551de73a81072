"""Commands for resurfacing and play: review, wander, experiment, narrate."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from knowflow.cli.common import Context, json_option
from knowflow.cli.notes import VerbatimQuery

if TYPE_CHECKING:
    from knowflow.sense.mentions import Mention
    from knowflow.sense.review import ToConnect


def _today() -> dt.date:
    return dt.date.today()


def _show_connect(connect: dict[str, list[str]]) -> None:
    labels = (("links", "links to"), ("backlinks", "linked from"), ("tags", "tags"))
    shown = False
    for key, label in labels:
        values = connect.get(key) or []
        if values:
            shown = True
            marks = [f"#{v}" for v in values] if key == "tags" else values
            click.echo(f"  {label}: {', '.join(marks)}")
    if not shown:
        click.echo("  no links, backlinks or tags yet: a first link is yours to make")


def accept_command(obj: Context, m: Mention) -> str:
    """The exact ``knowflow link accept`` command that makes the link ``m`` suggests."""
    vault = ["--vault", obj.vault_dir] if obj.vault_dir else []
    args = [*vault, "link", "accept", m.path, "--line", str(m.line), "--text", m.text]
    return "knowflow " + shlex.join([*args, "--column", str(m.column + 1), "--target", m.target])


def _show_to_connect(obj: Context, found: ToConnect) -> None:
    """Related notes, then each suggested link with the command that accepts it."""
    click.echo("  related notes:" if found.related else "  no related notes found yet")
    for r in found.related:
        why = "; ".join(f"{k}: {', '.join(v)}" for k, v in r.why.items())
        click.echo(f"    {r.path}" + (f"  ({why})" if why else ""))
    suggested = found.here + found.elsewhere
    if not suggested:
        click.echo("  no suggested links: no note names it, or is named in it, unlinked")
    else:
        click.echo("  suggested links (nothing is written until you accept one):")
    for m in suggested:
        click.echo(f"    {m.path}:{m.line}  {m.text} -> {m.title}  | {m.sentence}")
        click.echo(f"      {accept_command(obj, m)}")


def _connect_doc(obj: Context, found: ToConnect) -> dict[str, object]:
    """What to connect with, as JSON: each suggestion with its accept command."""
    doc = found.as_dict()
    doc["suggestions"] = [
        {**m.as_dict(), "accept": accept_command(obj, m)} for m in found.here + found.elsewhere
    ]
    return doc


@click.group(invoke_without_command=True)
@click.option(
    "--weekly", is_flag=True, help="List the week's kept clippings with nothing of your own yet."
)
@click.option(
    "--per-day", type=click.IntRange(1, 100), default=5, show_default=True, help="Items a day."
)
@json_option
@click.pass_context
def review_group(ctx: click.Context, weekly: bool, per_day: int, as_json: bool) -> None:
    """Bring back a few notes and highlights a day on a spaced schedule.

    Mark each with `knowflow review mark ITEM still-useful|connect|let-go` (on a
    terminal, the review asks for each in turn). still-useful: it comes back later
    each time; connect: shows its links, backlinks and tags, its related notes and
    the links it suggests, each with the `knowflow link accept` command that makes
    it, and keeps its interval; let-go: never again."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    from knowflow.sense import review

    today = _today()
    if weekly:
        if ctx.get_parameter_source("per_day") == ParameterSource.COMMANDLINE:
            raise click.UsageError("--per-day is for the daily review; --weekly lists them all")
        with obj.index() as index:
            since, until = review.week_bounds(today)
            found = review.weekly(index, since, until)
            kept = not found and review.clippings_kept(index, since, until)
        if as_json:
            click.echo(json.dumps([u.as_dict() for u in found], ensure_ascii=False, indent=2))
            return
        if not found:
            click.echo(
                "Every clipping kept this week holds something of your own."
                if kept
                else "No clippings were kept this week."
            )
            return
        click.echo(f"Kept this week, nothing of your own in them yet ({len(found)}):")
        for u in found:
            click.echo(f"  {u.path}  ({u.captured[:10]}{', ' + u.source if u.source else ''})")
        return
    with obj.index() as index, obj.state() as conn:
        items = review.due_today(index, conn, today, per_day)
        if as_json:
            click.echo(json.dumps([i.as_dict() for i in items], ensure_ascii=False, indent=2))
            return
        if not items:
            click.echo("Nothing to review today.")
            return
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
        for item in items:
            when = "new" if item.due is None else f"every {item.interval} d"
            click.echo(f"{item.item}  [{item.kind}, {when}]")
            if item.text:
                click.echo(f"  {item.text}")
            if not interactive:
                continue
            answer = click.prompt(
                "  [u] still useful  [c] connect  [l] let go  [s] skip",
                default="s",
                show_default=False,
                value_proc=_answer,
            )
            if answer == "skip":
                continue
            done = review.mark(index, conn, item.item, answer, today)
            if done.answer == "connect":
                _show_connect(done.connect)
                _show_to_connect(obj, review.to_connect(index, done.item))
        if not interactive:
            click.echo("Mark each: knowflow review mark ITEM still-useful|connect|let-go")


_ANSWERS = {"u": "still-useful", "c": "connect", "l": "let-go", "s": "skip"}


def _answer(given: str) -> str:
    """One letter or the whole answer, in any case (``u``, ``Still useful``, ``let-go``)."""
    key = given.strip().lower().replace("_", "-").replace(" ", "-")
    if key in _ANSWERS:
        return _ANSWERS[key]
    fits = [a for a in _ANSWERS.values() if key and a.startswith(key)]
    if len(fits) == 1:
        return fits[0]
    raise click.BadParameter("answer u (still useful), c (connect), l (let go) or s (skip)")


@review_group.command("mark")
@click.argument("item")
@click.argument("answer", type=click.Choice(["still-useful", "connect", "let-go"]))
@json_option
@click.pass_obj
def review_mark(obj: Context, item: str, answer: str, as_json: bool) -> None:
    """Mark ITEM (a note's path or name, or path#^hl-id) still-useful, connect or let-go.

    connect lists its related notes and suggested links, each with the exact
    `knowflow link accept` command that makes it: nothing is written until you run one."""
    from knowflow.sense import review

    with obj.index() as index, obj.state() as conn:
        done = review.mark(index, conn, item, answer, _today())
        found = review.to_connect(index, done.item) if done.answer == "connect" else None
    if as_json:
        doc = done.as_dict()
        if found is not None:
            doc["to_connect"] = _connect_doc(obj, found)
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if done.due is None:
        click.echo(f"{done.item}: let go; it will not come back")
        return
    click.echo(f"{done.item}: back on {done.due} (in {done.interval} d)")
    if found is not None:
        _show_connect(done.connect)
        _show_to_connect(obj, found)


@click.command()
@click.argument("note", required=False)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    help="Replay the walk taken with this seed (or take it): 0 to 2**63-1.",
)
@click.option("--steps", type=click.IntRange(1, 100), default=7, show_default=True)
@json_option
@click.pass_obj
def wander_cmd(obj: Context, note: str | None, seed: int | None, steps: int, as_json: bool) -> None:
    """Walk from NOTE (or a random note) across links, backlinks, shared tags and
    similar words, towards older and less visited notes, and show the path and why
    each step was taken. The same --seed replays the same walk, and starts from the
    same note whatever --steps: a shorter walk is the start of a longer one."""
    from knowflow.sense.wander import wander

    with obj.index() as index, obj.state() as conn:
        walk = wander(index, conn, note, seed=seed, steps=steps)
    if as_json:
        click.echo(json.dumps(walk.as_dict(), ensure_ascii=False, indent=2))
        return
    for n, step in enumerate(walk.steps):
        click.echo(f"{n}. {step.path}  ({step.says()})")
    start = f"{shlex.quote(note)} " if note else ""
    again = f"knowflow wander {start}--seed {walk.seed} --steps {steps}"
    click.echo(f"{'Replayed' if walk.replayed else 'Seed'} {walk.seed}: {again} walks it again")


@click.command(cls=VerbatimQuery)
@click.argument("idea", nargs=-1, required=True)
@click.option("--with", "audience", required=True, help="Who the idea is tried with.")
@click.option(
    "--look-back",
    type=click.IntRange(1, 3650),
    default=14,
    show_default=True,
    help="Days until the look-back date.",
)
@click.pass_obj
def experiment_cmd(obj: Context, idea: tuple[str, ...], audience: str, look_back: int) -> None:
    """Open a private experiment note: IDEA, who it was tried with, what happened,
    what was learned, and a date to look back (practice lists it from then until
    something learned is written). Prints its path.

    IDEA is your own Markdown, kept as written in the note ([[links]], #tags and
    all), taken as typed like `knowflow search` takes a query."""
    from knowflow.sense.journal import new_experiment

    vault = obj.vault()
    path = new_experiment(vault, " ".join(idea), audience, _today(), look_back)
    click.echo(path.relative_to(vault.root).as_posix())


@click.command(cls=VerbatimQuery)
@click.argument("text", nargs=-1, required=True)
@click.pass_obj
def narrate_cmd(obj: Context, text: tuple[str, ...]) -> None:
    """Append TEXT as a dated entry to the week's private narration note (working out
    loud), made if need be. Prints its path.

    TEXT is taken as typed, words joined by spaces: it may start with a dash
    (`knowflow narrate - did a thing`) and needs no quotes. Control characters are
    dropped, and a heading in it is made two levels deeper than the entry's own."""
    from knowflow.sense.journal import narrate

    vault = obj.vault()
    path = narrate(vault, " ".join(text))
    click.echo(path.relative_to(vault.root).as_posix())

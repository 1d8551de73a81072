"""Hub commands: ``knowflow hub …`` administers and serves a hub; ``knowflow push``
sends the vault's shared notes to one. Thin over ``knowflow.hub``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from knowflow.cli.common import Context, json_option

db_option = click.option(
    "--db",
    "db",
    envvar="KNOWFLOW_HUB_DB",
    default="knowflow-hub.db",
    show_default=True,
    help="The hub's database: an SQLite file, or postgresql://… ($KNOWFLOW_HUB_DB).",
)


def _engine(db: str, *, create: bool = False) -> Any:
    """The hub's engine; only ``hub init`` may create the database (exit 3 otherwise,
    so a mistyped --db never starts a second, empty hub)."""
    from knowflow.cli.common import EXIT_NOT_FOUND
    from knowflow.hub.db import NoHub, open_engine

    try:
        return open_engine(db, create=create)
    except NoHub as exc:
        click.echo(f"Error: {exc}", err=True)
        click.get_current_context().exit(EXIT_NOT_FOUND)


def _with_engine(db: str, fn: Callable[[Any], Any], *, create: bool = False) -> Any:
    engine = _engine(db, create=create)
    try:
        return fn(engine)
    finally:
        engine.dispose()


@click.group(name="hub")
def hub_group() -> None:
    """Run an organization's hub: members, audiences, and what they push."""


@hub_group.command(name="init")
@db_option
def init_cmd(db: str) -> None:
    """Create the hub's database and its admin; prints the admin token, once."""
    from knowflow.hub import admin

    token = _with_engine(db, admin.init, create=True)
    click.echo(f"Hub ready. Admin token (shown once, keep it safe):\n{token}")


@hub_group.command(name="add-member")
@click.argument("name")
@db_option
def add_member_cmd(name: str, db: str) -> None:
    """Add a member; prints their token, once: give it to them privately."""
    from knowflow.hub import admin

    token = _with_engine(db, lambda e: admin.add_member(e, name))
    click.echo(f"Member {name} added. Their token (shown once):\n{token}")


@hub_group.command(name="add-audience")
@click.argument("name")
@click.option("--kind", type=click.Choice(["team", "community", "public"]), required=True)
@click.option("--title", default="", help="A longer name to show.")
@db_option
def add_audience_cmd(name: str, kind: str, title: str, db: str) -> None:
    """Add an audience members can share with."""
    from knowflow.hub import admin

    _with_engine(db, lambda e: admin.add_audience(e, name, kind, title))
    click.echo(f"Audience {name} ({kind}) added.")


@hub_group.command(name="add-to")
@click.argument("audience")
@click.argument("member")
@click.option("--steward", is_flag=True, help="As a steward (who admits others).")
@db_option
def add_to_cmd(audience: str, member: str, steward: bool, db: str) -> None:
    """Put MEMBER in AUDIENCE."""
    from knowflow.hub import admin

    added = _with_engine(db, lambda e: admin.add_to(e, audience, member, steward=steward))
    click.echo(f"{member} {'is now' if added else 'was already'} in {audience}.")


@hub_group.command(name="remove-from")
@click.argument("audience")
@click.argument("member")
@click.option("--force", is_flag=True, help="Even the last steward of a community.")
@db_option
def remove_from_cmd(audience: str, member: str, force: bool, db: str) -> None:
    """Take MEMBER out of AUDIENCE (what they shared there stays until they take it
    back); a community's last steward stays unless --force."""
    from knowflow.hub import admin

    done = _with_engine(db, lambda e: admin.remove_from(e, audience, member, force=force))
    click.echo(f"{member} {'is no longer' if done else 'was not'} in {audience}.")
    if done.shares_left:
        click.echo(
            f"Note: {done.shares_left} notes {member} shared in {audience} stay there until"
            f" {member} takes them back (un-share and knowflow push, or hub delete-mine)."
        )
    if done.stewardless:
        click.echo(
            f"Warning: {audience} has no steward now: nobody can admit anyone to it until"
            f" you make one (knowflow hub add-to {audience} NAME --steward)."
        )


@hub_group.command(name="remove-member")
@click.argument("name")
@db_option
def remove_member_cmd(name: str, db: str) -> None:
    """Revoke NAME's token and delete everything they shared."""
    from knowflow.hub import admin

    removed = _with_engine(db, lambda e: admin.remove_member(e, name))
    click.echo(f"{name} removed: token revoked, {removed} artifacts deleted.")


@hub_group.command(name="new-token")
@click.argument("member")
@db_option
def new_token_cmd(member: str, db: str) -> None:
    """Replace MEMBER's lost token: the old one stops working at once; the new one is
    printed once."""
    from knowflow.hub import admin

    token = _with_engine(db, lambda e: admin.reissue_token(e, member))
    click.echo(f"New token for {member} (shown once; the old one no longer works):\n{token}")


@hub_group.command(name="list")
@json_option
@db_option
def list_cmd(as_json: bool, db: str) -> None:
    """Members with their audiences and roles; audiences with kind, stewards, size."""
    from knowflow.hub import admin

    found = _with_engine(db, admin.overview)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    click.echo("Members:")
    for m in found["members"]:
        mark = " (admin)" if m["admin"] else " (revoked)" if m["revoked"] else ""
        where = ", ".join(f"{a} ({r})" if r == "steward" else a for a, r in m["audiences"].items())
        click.echo(f"  {m['name']}{mark}: {where or 'no audiences'}")
    click.echo("Audiences:")
    for a in found["audiences"]:
        stewards = f"; stewards {', '.join(a['stewards'])}" if a["stewards"] else ""
        click.echo(f"  {a['name']} ({a['kind']}): {a['members']} members{stewards}")


@hub_group.command(name="audit")
@click.option("--limit", default=100, show_default=True)
@json_option
@db_option
def audit_cmd(limit: int, as_json: bool, db: str) -> None:
    """The newest entries of the audit log."""
    from knowflow.hub.db import audit_log

    rows = _with_engine(db, lambda e: audit_log(e, limit))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        detail = json.dumps(row["detail"], ensure_ascii=False) if row["detail"] else ""
        click.echo(f"{row['at']}\t{row['actor']}\t{row['action']}\t{row['subject']}\t{detail}")


@hub_group.command(name="serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8770, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="Requests a second each token (or address) may make, sustained.",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Requests each token may make at once before --rate applies.",
)
@click.option("--no-rate-limit", is_flag=True, help="No rate limit (size limits stay).")
def serve_cmd(db: str, host: str, port: int, rate: float, burst: int, no_rate_limit: bool) -> None:
    """Serve the hub's pages and JSON API until stopped."""
    from knowflow.hub.limits import RateLimit
    from knowflow.hub.server import serve

    engine = _engine(db)  # never creates: serving a mistyped --db would be an empty hub
    limit = None if no_rate_limit else RateLimit(rate=rate, burst=burst)
    click.echo(f"Hub at http://{host}:{port}/ (pages; the API under /api/; Ctrl-C stops it)")
    try:
        serve(engine, host=host, port=port, rate=limit)
    finally:
        engine.dispose()


@hub_group.command(name="link")
@click.argument("member")
@click.option(
    "--url",
    envvar="KNOWFLOW_HUB_URL",
    default="http://127.0.0.1:8770",
    show_default=True,
    help="The hub's address as members reach it ($KNOWFLOW_HUB_URL).",
)
@db_option
def link_cmd(member: str, url: str, db: str) -> None:
    """Print a one-time sign-in link for MEMBER's browser (valid 24 hours, used once)."""
    from knowflow.hub.session import issue_link

    code = _with_engine(db, lambda e: issue_link(e, member))
    click.echo(f"{url.rstrip('/')}/signin/{code}")


@hub_group.command(name="export")
@click.option("--out", type=click.Path(dir_okay=False), help="Write it here, not to stdout.")
@click.pass_obj
def export_cmd(obj: Context, out: str | None) -> None:
    """Everything the hub (the vault's [hub] url) holds of yours, as JSON."""
    from pathlib import Path

    from knowflow.hub.client import export
    from knowflow.vault.files import atomic_write

    text = json.dumps(export(obj.vault()), ensure_ascii=False, indent=1) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write(Path(out), text)


@hub_group.command(name="delete-mine")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@click.pass_obj
def delete_mine_cmd(obj: Context, yes: bool) -> None:
    """Delete everything you pushed to the hub (your notes stay in your vault)."""
    from knowflow.hub.client import delete_mine

    if not yes and not click.confirm("Delete everything you shared on the hub?"):
        click.echo("Nothing deleted.")  # a choice, not a failure: exit 0
        return
    click.echo(f"{delete_mine(obj.vault())} artifacts deleted from the hub.")
    click.echo("Your next knowflow push asks again before sharing with each audience.")


def _ask(name: str, members: dict[str, Any]) -> bool:
    names = ", ".join(members["members"]) or "nobody yet"
    count = members["count"]
    click.echo(f"{name} ({members['kind']}) has {count} member{'' if count == 1 else 's'}: {names}")
    return click.confirm(f"Share with {name} from now on?", default=False)


def _said(o: Any) -> str:
    """One audience's push in a line: what the hub did, or why it did not."""
    if o.status == "failed":
        return f"{o.audience}: failed: {o.error}"
    if o.status == "declined":
        return f"{o.audience}: nothing sent (not confirmed)"
    if o.status == "dry run":
        return (
            f"{o.audience}: would send {o.sent_whole} whole, {o.sent_as_hash} unchanged,"
            f" remove {o.to_remove} (dry run)"
        )
    r = o.result
    if o.status == "withdrawn":
        return (
            f"withdrawn from {o.audience} (you are no longer a member): {r['removed']} removed,"
            f" {r['unchanged']} still there"
        )
    counts = (
        f"{r['added']} added, {r['updated']} updated, {r['unchanged']} unchanged,"
        f" {r['removed']} removed"
    )
    return f"{o.audience}: {o.status}: {counts}"


@click.command(name="push")
@click.option("--audience", help="Only this audience (its personal or hub name).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before a first push to an audience.")
@json_option
@click.pass_obj
def push_cmd(obj: Context, audience: str | None, dry_run: bool, yes: bool, as_json: bool) -> None:
    """Send what each audience linked in [hub.audiences] may see to the hub; notes
    un-shared since the last push are removed from it."""
    from knowflow.hub.client import push

    with obj.index() as index:
        outcomes = push(index, audience=audience, dry_run=dry_run, confirm=None if yes else _ask)
    if as_json:
        click.echo(json.dumps([o.as_dict() for o in outcomes], ensure_ascii=False, indent=2))
    else:
        for o in outcomes:
            click.echo(_said(o))
    failed = [o.audience for o in outcomes if o.status == "failed"]
    if failed:
        click.echo(f"Error: the push to {', '.join(failed)} failed (see above).", err=True)
        click.get_current_context().exit(1)

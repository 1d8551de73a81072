"""Share commands: share, unshare, shared, audiences, publish, digest and bundle."""

from __future__ import annotations

import json
from pathlib import Path

import click

from knowflow.cli.common import Context, emit, json_option, progress_bar
from knowflow.share import audiences, publish, shared
from knowflow.share.bundle import write_bundle
from knowflow.share.digest import draft_digest
from knowflow.share.edit import ShareChange, share_note, unshare_note


def _change_line(change: ShareChange) -> str:
    if not change.changed:
        return f"{change.path}: unchanged ({', '.join(change.after) or 'private'})"
    return f"{change.path}: shared with {', '.join(change.after) or 'nobody (private)'}"


@click.command(name="share")
@click.argument("note")
@click.argument("audience_names", metavar="AUDIENCE...", nargs=-1, required=True)
@json_option
@click.pass_obj
def share_cmd(obj: Context, note: str, audience_names: tuple[str, ...], as_json: bool) -> None:
    """Share NOTE with each AUDIENCE (defined in config.toml; `public` is everyone).

    Only the note's `share:` front matter changes; the rest of the file stays as it is."""
    with obj.index() as index:
        path = index.vault.root / index.note(note).path
        change = share_note(index.vault, path, list(audience_names))
    _report(change, as_json)


@click.command(name="unshare")
@click.argument("note")
@click.argument("audience_names", metavar="[AUDIENCE...]", nargs=-1)
@json_option
@click.pass_obj
def unshare_cmd(obj: Context, note: str, audience_names: tuple[str, ...], as_json: bool) -> None:
    """Stop sharing NOTE with each AUDIENCE, or with everyone when none is named.

    The next publish and bundle leave it out."""
    with obj.index() as index:
        path = index.vault.root / index.note(note).path
        change = unshare_note(index.vault, path, list(audience_names) or None)
    _report(change, as_json)


def _report(change: ShareChange, as_json: bool) -> None:
    if not as_json:
        for warning in change.warnings:
            click.echo(f"Warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(change.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_change_line(change))


@click.command(name="audiences")
@json_option
@click.pass_obj
def audiences_cmd(obj: Context, as_json: bool) -> None:
    """List the audiences config.toml defines, with their kinds."""
    items = [a.as_dict() for a in audiences(obj.vault()).values()]
    emit(as_json, items, lambda i: f"{i['name']}\t{i['kind']}\t{i['title']}")


@click.command(name="shared")
@click.option("--audience", "audience_name", help="Only what this audience can see.")
@json_option
@click.pass_obj
def shared_cmd(obj: Context, audience_name: str | None, as_json: bool) -> None:
    """List what each audience can see (a note shared with `public` is seen by all)."""
    with obj.index() as index:
        items = shared(index, audience_name)
    emit(as_json, items, lambda i: f"{i['audience']}\t{i['path']}")


@click.command(name="publish")
@click.option("--audience", "audience_name", required=True, help="Whose site to build.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The site's folder.")
@click.option("--base-url", help="Where the site will be served (for feeds and sitemap).")
@json_option
@click.pass_obj
def publish_cmd(
    obj: Context, audience_name: str, out: Path, base_url: str | None, as_json: bool
) -> None:
    """Write a static site of what AUDIENCE may see into OUT.

    Only pages that changed are written again; pages no longer shared go. OUT must
    be new, empty, or a site knowflow published before."""
    with obj.index() as index:
        progress = progress_bar("Publishing", quiet=as_json)
        try:
            report = publish(index, audience_name, out, base_url=base_url, progress=progress)
        finally:
            progress.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"Published {report.notes} note{'' if report.notes == 1 else 's'}"
        f" for {report.audience} to {report.out}: "
        f"{len(report.written)} files written, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed"
    )


@click.command(name="digest")
@click.option(
    "--since", help="How far back: 30m, 12h, 7d, 2w or a date (default: the cadence setting)."
)
@click.option("--audience", "audience_name", help="Only what was shared with this audience.")
@json_option
@click.pass_obj
def digest_cmd(obj: Context, since: str | None, audience_name: str | None, as_json: bool) -> None:
    """Draft a "finds" digest note from what was shared in the period, grouped by tag.

    The draft is private: edit it, then `knowflow share` it."""
    with obj.index() as index:
        digest = draft_digest(index, audience=audience_name, since=since)
    if as_json:
        click.echo(json.dumps(digest.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Drafted {digest.path} with {digest.items} finds")


@click.command(name="bundle")
@click.option("--audience", "audience_name", required=True, help="Whose bundle to write.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The JSON file.")
@click.pass_obj
def bundle_cmd(obj: Context, audience_name: str, out: Path) -> None:
    """Write what AUDIENCE may see as one JSON document for a hub (see docs/bundle.md)."""
    with obj.index() as index:
        doc = write_bundle(index, audience_name, out)
    click.echo(f"Wrote {len(doc['notes'])} notes for {audience_name} to {out}")  # type: ignore[arg-type]

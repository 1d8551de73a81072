"""Seek commands: sources (`knowflow source ...`), update, the stream, keep, capture,
highlights, importers and discover."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from knowflow.cli.common import Context, emit, json_option, progress_bar
from knowflow.seek.sources import KINDS, Sources
from knowflow.seek.stream import STATES, Stream, StreamFilter, Triaged
from knowflow.vault.files import FileStamp, atomic_write

# Network, feed and extraction libraries are imported inside the commands that
# use them: every other command starts faster for it.

kind_option = click.option(
    "--kind",
    type=click.Choice(KINDS, case_sensitive=False),
    help="Network kind: team, community or network.",
)


@click.group()
def source() -> None:
    """Follow, list and organise sources (feeds), and move them in and out as OPML."""


@source.command()
@click.argument("url")
@click.option(
    "--name",
    help="A name for the source (default: the feed's own title when it is fetched to be"
    " found, else the address's host, or host and path when another source has that).",
)
@kind_option
@click.option("--tag", "tags", multiple=True, help="A tag for the source; repeat for more.")
@click.option(
    "--no-discover", is_flag=True, help="Take URL as the feed's address without fetching it."
)
@click.pass_obj
def add(
    obj: Context,
    url: str,
    name: str | None,
    kind: str | None,
    tags: tuple[str, ...],
    no_discover: bool,
) -> None:
    """Follow the feed at URL, or the feed that the web page at URL links to."""
    from knowflow.seek.discover import discover_feed
    from knowflow.seek.http import FetchError

    site = None
    if not no_discover:
        try:
            feed_url, title = discover_feed(url)
        except FetchError as exc:
            raise click.ClickException(f"no feed found at {url}: {exc}") from None
        site, url, name = (url if feed_url != url else None), feed_url, name or title or None
    with obj.state() as conn:
        added = Sources(conn).add(url, name, kind or "network", tags, site)
    click.echo(f"Following {added.name} ({added.kind}): {added.url}")


@source.command(name="list")
@kind_option
@click.option("--tag", help="Only sources with this tag or one nested below it.")
@json_option
@click.pass_obj
def list_cmd(obj: Context, kind: str | None, tag: str | None, as_json: bool) -> None:
    """List followed sources with their kind, tags and fetch state."""
    with obj.state() as conn:
        items = [s.as_dict() for s in Sources(conn).list(kind, tag)]
    emit(as_json, items, _source_line)


def _source_line(item: dict[str, Any]) -> str:
    flags = " ".join(f for f in ("paused", "dead") if item[f])
    tags = " ".join(f"#{t}" for t in item["tags"])
    line = f"{item['name']}\t{item['kind']}\t{item['url']}\t{tags} {flags}".rstrip()
    if item["last_error"]:
        line += f"  last error: {item['last_error']} ({item['failures']} in a row)"
    if item["warning"]:
        line += f"  warning: {item['warning']}"
    return line


@source.command()
@click.argument("name")
@click.argument("new_name")
@click.pass_obj
def rename(obj: Context, name: str, new_name: str) -> None:
    """Rename the source NAME to NEW_NAME."""
    with obj.state() as conn:
        Sources(conn).rename(name, new_name)
    click.echo(f"Renamed {name} to {new_name}")


@source.command()
@click.argument("name")
@click.pass_obj
def pause(obj: Context, name: str) -> None:
    """Stop fetching the source NAME until it is resumed."""
    with obj.state() as conn:
        Sources(conn).set_paused(name, True)
    click.echo(f"Paused {name}")


@source.command()
@click.argument("name")
@click.pass_obj
def resume(obj: Context, name: str) -> None:
    """Fetch the paused source NAME again."""
    with obj.state() as conn:
        Sources(conn).set_paused(name, False)
    click.echo(f"Resumed {name}")


@source.command()
@click.argument("name")
@click.pass_obj
def remove(obj: Context, name: str) -> None:
    """Stop following the source NAME."""
    with obj.state() as conn:
        Sources(conn).remove(name)
    click.echo(f"Removed {name}")


@source.command(name="import-opml")
@click.argument("location", metavar="FILE_OR_URL")
@kind_option
@json_option
@click.pass_obj
def import_opml_cmd(obj: Context, location: str, kind: str | None, as_json: bool) -> None:
    """Follow every feed in an OPML file, or at an http(s) address; folders become tags.
    Importing twice adds nothing."""
    from knowflow.seek.opml import import_opml, is_address

    where: Path | str = location if is_address(location) else Path(location)
    with obj.state() as conn:
        report = import_opml(Sources(conn), where, kind or "network")
    if as_json:
        emit(True, [report.as_dict()], str)
        return
    click.echo(
        f"{len(report.added)} added, {len(report.skipped)} skipped (already followed), "
        f"{len(report.failed)} failed"
    )
    for name, why in report.failed:
        click.echo(f"  failed: {name}: {why}", err=True)


@source.command(name="export-opml")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export_opml_cmd(obj: Context, file: Path | None) -> None:
    """Write every source as OPML to FILE (default: standard output)."""
    from knowflow.seek.opml import write_opml

    with obj.state() as conn:
        text = write_opml(Sources(conn).list())
    if file is None:
        click.echo(text, nl=False)
        return
    atomic_write(file, text, FileStamp.of(file) if file.exists() else None)
    click.echo(f"Wrote {file}")


@click.command(name="update")
@click.argument("names", nargs=-1)
@json_option
@click.pass_obj
def update_cmd(obj: Context, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch every source that is due (or the named ones) and add new entries to the stream.

    Exits 1 when any source failed; each failure is shown with its reason. One update
    runs at a time: while another runs, this one stops at once (exit 4), naming it."""
    from knowflow.seek.update import due
    from knowflow.seek.update import update as update_sources

    with obj.state() as conn:
        sources = Sources(conn)
        chosen = [sources.get(n) for n in names] if names else due(sources.list(), conn)
        bar = progress_bar("Updating", quiet=as_json)
        try:
            report = update_sources(conn, chosen, progress=bar)
        finally:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{len(report.results)} sources: {report.added} new entries, "
            f"{len(report.failed)} failed"
        )
        for result in report.results:
            if result.status == "empty":  # not a failure: the feed has no entries yet
                click.echo(f"  {result.name}: empty feed")
            if result.warning:
                click.echo(f"  {result.name}: read, but {result.warning}", err=True)
        for result in report.failed:
            click.echo(f"  {result.name}: {result.error}", err=True)
    if report.failed:
        sys.exit(1)


@click.command(name="stream")
@click.option("--source", help="Only entries from this source (name or address).")
@kind_option
@click.option("--tag", help="Only entries from sources with this tag (or one below it).")
@click.option(
    "--state",
    type=click.Choice((*STATES, "all")),
    default="new",
    show_default=True,
    help="Only entries in this state (new: unread); all for every entry.",
)
@click.option("--since", help="Only entries since 30m, 12h, 7d, 2w ago or a date.")
@click.option("--search", help="Only entries whose title or text has these words.")
@click.option("-n", "--limit", default=50, show_default=True, help="How many entries at most.")
@json_option
@click.pass_obj
def stream_cmd(
    obj: Context,
    source: str | None,
    kind: str | None,
    tag: str | None,
    state: str,
    since: str | None,
    search: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List entries from your sources, newest first, to triage: the unread (new) ones
    unless --state says otherwise. Read one with `knowflow read ENTRY`."""
    chosen = StreamFilter(source, kind, tag, state, since, None, search)
    with obj.state() as conn:
        stream = Stream(conn)
        found = stream.listing(chosen, limit=limit)
        more = stream.count(chosen) - len(found) if len(found) == limit else 0
    items = [e.as_dict() for e in found]
    emit(as_json, items, lambda i: _entry_line(i, with_state=state != "new"))
    if more and not as_json:
        click.echo(f"... and {more} more (-n {limit + more} lists them all)", err=True)


def _entry_line(item: dict[str, Any], *, with_state: bool) -> str:
    """An entry on one line: id, date, (state), source, title."""
    date = (item["published"] or item["first_seen"] or "")[:10]
    state = f"{item['state']}\t" if with_state else ""
    return f"{item['id']}\t{date}\t{state}{item['source']}\t{item['title']}"


@click.command(name="read")
@click.argument("entry", type=int)
@click.option("--full", is_flag=True, help="Fetch the page it links to and print its main text.")
@json_option
@click.pass_obj
def read_cmd(obj: Context, entry: int, full: bool, as_json: bool) -> None:
    """Print ENTRY's text as Markdown (or, with --full, the main text of the page it
    links to) and mark it seen, as opening it in a reader does; a kept or dismissed
    entry stays as it was."""
    from knowflow.seek.reading import entry_markdown, full_text, open_entry

    with obj.state() as conn:
        # Fetched before it is marked: an entry whose page could not be read stays unread.
        text = full_text(conn, entry).markdown if full else entry_markdown(conn, entry)
        reading = open_entry(conn, entry)
    item = {**reading.entry.as_dict(), "before": reading.was, "full": full, "text": text}
    if as_json:
        click.echo(json.dumps(item, ensure_ascii=False, indent=2))
        return
    e = reading.entry
    click.echo(e.title)
    click.echo(" · ".join(x for x in (e.source, (e.published or "")[:10], e.author) if x))
    if e.link:
        click.echo(e.link)
    click.echo()
    click.echo(text)


@click.command(name="keep")
@click.argument("entry", type=int)
@click.option("--tag", "tags", multiple=True, help="A tag for the note; repeat for more.")
@click.option("--note", help="Your own words, put at the top of the note.")
@click.option("--full", is_flag=True, help="Fetch the linked page and keep its main text.")
@click.pass_obj
def keep_cmd(obj: Context, entry: int, tags: tuple[str, ...], note: str | None, full: bool) -> None:
    """Keep ENTRY as a clipping note in the vault (private); keeping twice makes no second note."""
    from knowflow.seek.keep import keep_entry

    vault = obj.vault()
    with obj.state() as conn:
        text = None
        if full:
            from knowflow.seek.capture import fetch_page
            from knowflow.seek.http import Client, FetchError

            item = Stream(conn).get(entry)
            link = item.link
            if not link:
                raise click.ClickException(f"entry {entry} links to no page")
            # The link comes from the feed: a private host only if it is the source's own.
            client = Client(chosen=[Sources(conn).get(item.source).url], named_only=True)
            try:
                text = fetch_page(link, client).markdown
            except FetchError as exc:
                raise click.ClickException(f"could not fetch {link}: {exc}") from None
        kept = keep_entry(vault, conn, entry, tags=tags, note=note, full_text=text)
    # Only the note's path, for scripts; what was left out of it, the note says.
    click.echo(kept.path.relative_to(vault.root).as_posix())


def _report(done: list[Triaged], state: str) -> None:
    left = sum(1 for t in done if not t.changed)
    click.echo(
        f"{len(done) - left} marked {state}"
        + (f", {left} left as {'it was' if left == 1 else 'they were'}" if left else "")
    )
    for t in done:
        what = (
            f"{t.before} -> {t.after}" if t.changed else f"left {t.before}: {t.unchanged_because}"
        )
        click.echo(f"  {t.id}\t{what}\t{t.title}")


def _marker(state: str, help_text: str) -> click.Command:
    @click.argument("entries", nargs=-1, type=int, required=True)
    @json_option
    @click.pass_obj
    def command(obj: Context, entries: tuple[int, ...], as_json: bool) -> None:
        with obj.state() as conn:
            done = Stream(conn).triage(list(entries), state)
        if as_json:
            emit(True, [t.as_dict() for t in done], str)
        else:
            _report(done, state)

    command.__doc__ = help_text
    return click.command(name="dismiss" if state == "dismissed" else state)(command)


@click.command(name="seen")
@click.argument("entries", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every unread entry (with the options below).")
@click.option("--source", help="With --all: only this source's entries (name or address).")
@click.option("--before", help="With --all: only entries older than 30m, 12h, 7d, 2w or a date.")
@json_option
@click.pass_obj
def seen_cmd(
    obj: Context,
    entries: tuple[int, ...],
    every: bool,
    source: str | None,
    before: str | None,
    as_json: bool,
) -> None:
    """Mark ENTRIES as seen (a dismissed one comes back as seen); a kept entry stays kept.

    With --all, mark every unread entry seen at once, or those of one --source, or
    those older than --before: `knowflow seen --all --source Team --before 7d`."""
    if every == bool(entries):
        raise click.UsageError("name the ENTRIES to mark, or give --all (not both)")
    if not every and (source or before):
        raise click.UsageError("--source and --before go with --all")
    with obj.state() as conn:
        if not every:
            done = Stream(conn).triage(list(entries), "seen")
        else:
            if source:
                Sources(conn).get(source)  # a name that is no source is an error, not "0"
            marked = Stream(conn).mark_all_seen(StreamFilter(source=source, before=before))
    if not every:
        if as_json:
            emit(True, [t.as_dict() for t in done], str)
        else:
            _report(done, "seen")
    elif as_json:
        click.echo(json.dumps({"marked": marked, "source": source, "before": before}))
    else:
        click.echo(f"{marked} marked seen")


dismiss_cmd = _marker(
    "dismissed", "Dismiss ENTRIES: they leave the list of new entries; a kept entry stays kept."
)


@click.command(name="highlight")
@click.argument("note")
@click.argument("quote")
@click.option("--comment", help="Your comment on the highlight.")
@click.pass_obj
def highlight_cmd(obj: Context, note: str, quote: str, comment: str | None) -> None:
    """Append a highlight of QUOTE (text found in NOTE) to the clipping NOTE."""
    from knowflow.seek.highlights import add_highlight

    with obj.index() as index:
        ref = index.note(note)
        added = add_highlight(index.vault.root / ref.path, quote, comment)
    click.echo(f"{ref.path}#^{added.id}")


@click.command(name="highlights")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.pass_obj
def highlights_cmd(obj: Context, out: Path | None) -> None:
    """Export the highlights of every clipping as W3C Web Annotation JSON."""
    from knowflow.seek.highlights import web_annotations

    with obj.index() as index:
        rows = index.conn.execute(
            "SELECT path FROM files WHERE is_note = 1 AND type = 'clipping' ORDER BY path"
        ).fetchall()
        notes = [(p, index.vault.root / p) for (p,) in rows]
        config = index.vault.config()
        # The person, as [share] author names them (the older [author] name also counts).
        creator = config.get("share", {}).get("author") or config.get("author", {}).get("name")
        doc = web_annotations(notes, creator)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write(out, text, FileStamp.of(out) if out.exists() else None)
        click.echo(f"Wrote {doc['total']} highlights to {out}")


@click.command(name="capture")
@click.argument("url")
@click.option("--tag", "tags", multiple=True, help="A tag for the note; repeat for more.")
@click.option("--note", help="Your own words, put at the top of the note.")
@click.pass_obj
def capture_cmd(obj: Context, url: str, tags: tuple[str, ...], note: str | None) -> None:
    """Keep the web page at URL as a private clipping note: its main text, as Markdown.

    A page captured before is not captured again; its note is printed."""
    from knowflow.seek.capture import capture, fetch_page
    from knowflow.seek.http import FetchError

    with obj.index() as index:
        row = index.conn.execute(
            "SELECT path FROM files WHERE type = 'clipping'"
            " AND json_extract(front_matter, '$.url') = ?",
            (url,),
        ).fetchone()
    if row:
        click.echo(row[0])
        return
    try:
        page = fetch_page(url)
    except FetchError as exc:
        raise click.ClickException(f"could not fetch {url}: {exc}") from None
    vault = obj.vault()
    with obj.state() as conn:
        path = capture(vault, conn, page, tags=tags, note=note)
    click.echo(path.relative_to(vault.root).as_posix())


@click.command(name="discover")
@click.option("-n", "--limit", default=20, show_default=True, help="How many sites at most.")
@json_option
@click.pass_obj
def discover_cmd(obj: Context, limit: int, as_json: bool) -> None:
    """Suggest sites your sources link to that you do not follow, most widely linked first.

    A '+' marks a site that would add to a network kind you have few sources of."""
    from knowflow.seek.suggest import suggest

    with obj.state() as conn:
        items = [s.as_dict() for s in suggest(conn, limit)]
    emit(
        as_json,
        items,
        lambda i: (
            f"{'+' if i['widens'] else ' '} {i['site']}\t{i['sources']} sources\t"
            f"{i['kind']}\t{i['example']}"
        ),
    )


@click.group(name="import")
def import_group() -> None:
    """Bring in what you kept in other tools, as private clipping notes; importing twice adds
    nothing."""


@import_group.command(name="bookmarks")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@click.pass_obj
def import_bookmarks_cmd(obj: Context, file: Path, as_json: bool) -> None:
    """Import a Netscape bookmark FILE (Chrome, Firefox, Safari, Pinboard, Raindrop, Diigo).

    Folders and TAGS become tags; every note is private, whatever the service said."""
    from knowflow.seek.imports import import_bookmarks

    vault = obj.vault()
    with obj.state() as conn:
        result = import_bookmarks(vault, conn, file)
    _import_report(result.as_dict(), as_json)


def _import_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{report['added']} added, {report['skipped']} skipped, {len(report['failed'])} failed"
    )
    for failure in report["failed"]:
        click.echo(f"  {failure['item']}: {failure['reason']}", err=True)
    for warning in report.get("warnings", []):
        click.echo(f"  warning: {warning['item']}: {warning['reason']}", err=True)


def _quotes_importer(name: str, help_text: str) -> click.Command:
    @click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @json_option
    @click.pass_obj
    def command(obj: Context, file: Path, as_json: bool) -> None:
        from knowflow.seek import readers
        from knowflow.seek.imports import import_quotes

        found = getattr(readers, f"read_{name}")(file)
        vault = obj.vault()
        with obj.state() as conn:
            result = import_quotes(vault, conn, name, found.quotes)
        result.failed[:0] = found.failures
        result.warnings[:0] = found.warnings
        _import_report(result.as_dict(), as_json)

    command.__doc__ = help_text
    return click.command(name=name)(command)


import_group.add_command(
    _quotes_importer("kindle", "Import a Kindle 'My Clippings.txt' FILE: a note per book.")
)
import_group.add_command(
    _quotes_importer("readwise", "Import a Readwise CSV export FILE: a note per book or article.")
)
import_group.add_command(
    _quotes_importer(
        "hypothesis", "Import Hypothesis annotations (API JSON) FILE: a note per page."
    )
)

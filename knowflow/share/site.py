"""Publishing: a static site of what one audience may see, as plain files.

``publish`` writes one page per visible note, backlinks, tag pages, an index,
a search page that works from plain files, Atom and JSON feeds and a sitemap.
It builds the new site in a temporary folder beside the target and swaps it in,
so a reader (or a sync to a web host) never sees half a site. A second publish
renders again only the pages whose note, links, embeds or backlinks changed;
every file whose bytes are unchanged is carried over as a hard link, so its
modification time stays; files no longer visible are simply not carried over.
It writes only into a folder it created (it leaves a manifest there).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html import escape, unescape
from pathlib import Path
from typing import Any

from knowflow.errors import DiskFull, KnowflowError, PublishError, is_disk_full
from knowflow.index.index import Index
from knowflow.share.audiences import Audience, audiences
from knowflow.share.audiences import audience as find_audience
from knowflow.share.catalog import Catalog, VisibleNote, tag_url
from knowflow.share.feeds import FEED_SIZE, FeedInfo, atom, json_feed, sitemap
from knowflow.share.gate import may_see
from knowflow.share.history import record_publish
from knowflow.share.pages import (
    DIAGRAM_MARK,
    DIAGRAM_SCRIPT,
    DIAGRAM_SCRIPT_NAME,
    MERMAID_FILES,
    SEARCH_SCRIPT,
    STYLE,
    Chrome,
    Item,
    note_list,
    note_page,
    page,
    search_index,
    search_page,
    search_record,
)
from knowflow.share.swap import build_folder, clear_leftovers, swap_in
from knowflow.vault.files import read_bytes
from knowflow.vault.note import claimed_share

MANIFEST = ".knowflow-site.json"
FORMAT = 6  # bump when pages would render differently, so every page is rendered again
INDEX_SIZE = 50  # notes listed on the front page, newest first
# Characters of each note's text in the search index: the whole index is one file
# every search page loads (about 1.5 MB for 1,000 notes).
SEARCH_TEXT = 1500
_TAGS = re.compile(r"<[^>]+>")
# Tags inside a line of text go without a trace ("networks</a>." stays "networks."),
# the others leave a space so that blocks do not run together.
_INLINE_TAGS = re.compile(r"</?(?:a|em|strong|code|span|b|i|s|del|ins|sup|sub|kbd|mark)\b[^>]*>")
_HEADINGS = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.DOTALL)
Progress = Callable[[int, int], None]


@dataclass
class PublishReport:
    """What a publish did: files written anew, carried over unchanged, dropped."""

    out: str
    audience: str
    notes: int
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def publish(
    index: Index,
    audience_name: str,
    out: Path | str,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
    record: bool = True,
) -> PublishReport:
    """Publish what ``audience_name`` may see into the folder ``out``; ``record`` keeps
    the report as the audience's last publish (``knowflow.share.history``), as every
    publish to a site does, not a preview of one (the app's "view as")."""
    # Publishing makes hundreds of thousands of small objects that live until it
    # ends; the cycle collector would scan them again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        report = _publish(index, audience_name, out, base_url, progress)
    finally:
        if collecting:
            gc.enable()
    if record:
        try:
            record_publish(index.vault, report)
            _log_publish(index, report)
        except (OSError, KnowflowError, sqlite3.Error) as exc:  # the site is in place all the same
            report.warnings.append(f"this publish could not be recorded as the last: {exc}")
    return report


def _log_publish(index: Index, report: PublishReport) -> None:
    """The publish in the vault's activity log (what ``knowflow practice`` counts)."""
    from knowflow.seek.state import open_state, record  # the log lives in state.db

    conn = open_state(index.vault)
    try:
        record(conn, "site_published", report.audience, notes=report.notes)
    finally:
        conn.close()


def _publish(
    index: Index,
    audience_name: str,
    out: Path | str,
    base_url: str | None,
    progress: Progress | None,
) -> PublishReport:
    vault = index.vault
    settings = vault.config().get("share", {})
    audience = find_audience(vault, audience_name)
    target = Path(out).absolute()
    if target.is_symlink():  # the site goes where the link leads; the link stays
        target = Path(os.path.realpath(target))
    clear_leftovers(target)
    previous = _previous_site(target)
    catalog = Catalog.build(index, audience)
    base = base_url if base_url is not None else str(settings.get("base_url", ""))
    base = base.rstrip("/") + "/" if base else ""
    info = FeedInfo(
        title=str(settings.get("site_title") or f"Notes for {audience.title}"),
        author=str(settings.get("author") or "Anonymous"),
        base_url=base,
        audience=audience.name,
    )
    report = PublishReport(str(target), audience.name, len(catalog.notes))
    where = target.resolve()
    inside = vault.root in where.parents
    if inside and not any(p.startswith(".") for p in where.relative_to(vault.root).parts):
        report.warnings.append(
            f"{target} is inside the vault: its pages will be indexed as attachments; publish"
            " outside the vault, or into a folder whose name starts with '.'"
        )
    if not base:
        report.warnings.append(
            "no base_url in [share] of config.toml (or --base-url): the sitemap and feeds"
            " use addresses relative to the site"
        )
    if flagged := _publish_flags_left_out(index, catalog):
        report.warnings.append(
            f"{flagged} notes say `publish: true` (Obsidian Publish's flag) but are not"
            f" shared with {audience.name}: knowflow publishes what `share:` names"
            f" (`knowflow share NOTE {audience.name}`)"
        )
    report.warnings += _binary_left_out(index, audience)
    builder = _Builder(index, catalog, info, previous, target)
    try:
        builder.build(progress)
        swap_in(builder.tmp, target)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(
                f"the disk is full: the site at {target} was kept as it was, and nothing of"
                " the new one is left"
            ) from None
        raise PublishError(
            f"cannot write the site beside {target}: {exc.strerror or exc}; the site there"
            " was kept as it was"
        ) from None
    report.written = sorted(builder.written)
    report.unchanged = builder.unchanged
    report.removed = sorted(set(previous.files if previous else {}) - set(builder.files))
    return report


@dataclass
class _Previous:
    files: dict[str, str]  # site path -> sha256 of its bytes
    pages: dict[str, dict[str, Any]]  # vault path -> signature, url, search record
    generated: dict[str, str] = field(default_factory=dict)  # site path -> its inputs' digest


def _previous_site(target: Path) -> _Previous | None:
    """The site knowflow published here before; refuses a place that is not its own."""
    if target.exists() and not target.is_dir():
        raise PublishError(f"{target} is a file, not a folder")
    if not target.exists() or not any(target.iterdir()):
        return None
    manifest = target / MANIFEST
    if not manifest.is_file():
        raise PublishError(
            f"{target} holds files knowflow did not write; publish into a new or empty folder"
        )
    try:
        data = json.loads(manifest.read_text("utf-8"))
        return _Previous(dict(data["files"]), dict(data["pages"]), dict(data["generated"]))
    except (ValueError, KeyError, TypeError):
        return _Previous({}, {})  # a damaged manifest: everything is written again


class _Builder:
    def __init__(
        self,
        index: Index,
        catalog: Catalog,
        info: FeedInfo,
        previous: _Previous | None,
        target: Path,
    ) -> None:
        self.index, self.catalog, self.info, self.target = index, catalog, info, target
        self.previous = previous or _Previous({}, {})
        self.renderer = catalog.renderer()
        self.tmp = build_folder(target)
        self.files: dict[str, str] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.generated: dict[str, str] = {}
        self._folders: set[str] = set()
        self._chrome = [str(FORMAT), info.title, info.author, info.base_url]
        self.written: list[str] = []
        self.unchanged = 0

    def build(self, progress: Progress | None) -> None:
        try:
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            self.tmp.mkdir(parents=True)
        except OSError as exc:
            raise PublishError(f"cannot write beside {self.target}: {exc.strerror}") from None
        try:
            self._note_pages(progress)
            self._diagram_scripts()
            self._site_pages()
            self._attachments()
            self._put(MANIFEST, self._manifest(), record=False)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _note_pages(self, progress: Progress | None) -> None:
        signatures = _signatures(self.catalog, self._chrome)
        notes = sorted(self.catalog.notes.values(), key=lambda n: n.path)
        for done, note in enumerate(notes, 1):
            signature = signatures[note.path]
            old = self.previous.pages.get(note.path)
            if old and old.get("sig") == signature and self._carry(old["url"]):
                self.pages[note.path] = old
            else:
                prefix = "../" * note.url.count("/")
                body = self.renderer.note(note.path, prefix, frames=True)
                diagrams = DIAGRAM_MARK in body
                html = note_page(
                    Chrome(self.info.title, self.info.author, prefix),
                    title=note.title,
                    body=body,
                    updated=note.updated,
                    tags=[(t, tag_url(t)) for t in note.tags],
                    backlinks=[_undated(self.catalog.notes[p]) for p in note.backlinks],
                    diagrams=diagrams,
                )
                self._put(note.url, html)
                self.pages[note.path] = {
                    "sig": signature,
                    "url": note.url,
                    "search": search_record(_search_record(note, body)),
                }
                if diagrams:  # the page loads Mermaid (kept for when it is carried over)
                    self.pages[note.path]["diagrams"] = True
            if progress:
                progress(done, len(notes))

    def _site_pages(self) -> None:
        chrome = Chrome(self.info.title, self.info.author, "")
        everything = sorted(self.catalog.notes.values(), key=lambda n: (n.title.casefold(), n.path))
        recent = self.catalog.recent(len(everything))
        front = recent[:INDEX_SIZE]
        self._generate(
            "index.html",
            [f"{n.title}|{n.url}|{n.updated}" for n in front] + [str(len(everything))],
            lambda: page(chrome, self.info.title, _index_main(self, front, len(everything))),
        )
        self._generate(
            "notes.html",
            [f"{n.title}|{n.url}" for n in everything],
            lambda: page(chrome, "All notes", _all_notes_main(self, everything)),
        )
        self._put("search.html", search_page(chrome))
        self._put("search.js", SEARCH_SCRIPT)
        self._put("style.css", STYLE)
        self._generate(
            "search-index.js",
            [self.pages[n.path]["sig"] for n in everything],
            lambda: search_index([self.pages[n.path]["search"] for n in everything]),
        )
        self._tag_pages()
        latest = recent[:FEED_SIZE]
        inputs = [f"{self.pages[n.path]['sig']}|{n.updated}" for n in latest]

        def body(note: VisibleNote) -> str:
            # A feed's HTML has absolute links; kept with the page, for the next publish.
            entry = self.pages[note.path]
            old = self.previous.pages.get(note.path, {})
            if old.get("sig") == entry["sig"] and "feed" in old:
                entry["feed"] = old["feed"]
            elif "feed" not in entry:
                entry["feed"] = self.renderer.note(note.path, self.info.base_url)
            return str(entry["feed"])

        self._generate("atom.xml", inputs, lambda: atom(self.info, latest, _bodies(latest, body)))
        self._generate(
            "feed.json", inputs, lambda: json_feed(self.info, latest, _bodies(latest, body))
        )
        listed = [(n.url, n.updated) for n in everything] + [("index.html", "")]
        self._generate(
            "sitemap.xml", [f"{u}|{m}" for u, m in listed], lambda: sitemap(self.info, listed)
        )

    def _diagram_scripts(self) -> None:
        """Mermaid, while some page draws a diagram; when none does, it is not carried
        over, so it leaves the site with the last diagram."""
        if not any(entry.get("diagrams") for entry in self.pages.values()):
            return
        for rel, source in MERMAID_FILES.items():
            self._copy(source, rel)
        self._put(DIAGRAM_SCRIPT_NAME, DIAGRAM_SCRIPT)

    def _tag_pages(self) -> None:
        rows = []
        for tag, paths in self.catalog.tags.items():
            url = tag_url(tag)
            prefix = "../" * url.count("/")
            notes = [self.catalog.notes[p] for p in paths]

            def make(tag: str = tag, notes: list[VisibleNote] = notes, prefix: str = prefix) -> str:
                items = [_undated(n) for n in notes]
                main = f"<h1>#{escape(tag)}</h1>\n" + note_list(items, prefix)
                return page(Chrome(self.info.title, self.info.author, prefix), f"#{tag}", main)

            self._generate(url, [tag, *(f"{n.title}|{n.url}" for n in notes)], make)
            rows.append(f'<li><a href="../{escape(url)}">#{escape(tag)}</a> ({len(paths)})</li>')
        main = "<h1>Tags</h1>\n<ul>\n" + "\n".join(rows) + "\n</ul>"
        chrome = Chrome(self.info.title, self.info.author, "../")
        self._put("tags/index.html", page(chrome, "Tags", main))

    def _generate(self, rel: str, inputs: list[str], make: Callable[[], str]) -> None:
        """A page made from the catalog, made again only when what it shows changed."""
        digest = hashlib.sha256("\x00".join([*self._chrome, rel, *inputs]).encode()).hexdigest()
        self.generated[rel] = digest
        if self.previous.generated.get(rel) == digest and self._carry(rel):
            return
        self._put(rel, make())

    def _attachments(self) -> None:
        vault = self.index.vault
        guard = not vault.publishes_outside()
        for path, url in self.catalog.attachment_urls.items():
            if guard and vault.outside(vault.root / path):
                continue  # a link out of the vault since the scan (--no-scan): left out
            with contextlib.suppress(OSError):  # gone since the scan: left out
                self._copy(vault.root / path, url)

    def _copy(self, source: Path, rel: str) -> None:
        """A file copied as it is, or carried over when its size and time are unchanged."""
        stat = source.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        if self.previous.files.get(rel) == stamp and self._carry(rel, stamp):
            return
        destination = self.tmp / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        self.files[rel] = stamp
        self.written.append(rel)

    def _put(self, rel: str, text: str, *, record: bool = True) -> None:
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        if record and self.previous.files.get(rel) == digest and self._carry(rel, digest):
            return
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if record:
            self.files[rel] = digest
            self.written.append(rel)

    def _carry(self, rel: str, digest: str | None = None) -> bool:
        """Carry an unchanged file over from the previous site by a hard link."""
        # Plain strings: thousands of files are carried over, and each Path costs.
        old, new = f"{self.target}/{rel}", f"{self.tmp}/{rel}"
        folder = new.rsplit("/", 1)[0]
        try:
            if folder not in self._folders:
                Path(folder).mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)
            try:
                os.link(old, new)
            except OSError:
                shutil.copy2(old, new)  # another file system, or no hard links there
        except OSError:
            return False
        self.files[rel] = digest or self.previous.files.get(rel, "")
        self.unchanged += 1
        return True

    def _manifest(self) -> str:
        doc = {"generator": "knowflow", "format": FORMAT, "audience": self.catalog.audience.name}
        doc |= {"files": self.files, "pages": self.pages, "generated": self.generated}
        return json.dumps(doc, ensure_ascii=False)


def _index_main(builder: _Builder, recent: list[VisibleNote], total: int) -> str:
    items = [Item(n.title, n.url, n.updated) for n in recent]
    intro = (
        f'<p>The {len(items)} most recently updated of {total} notes; see <a href="notes.html">'
        'all notes</a>, the <a href="tags/index.html">tags</a> or <a href="search.html">'
        "search</a>.</p>"
    )
    return f"<h1>{escape(builder.info.title)}</h1>\n{intro}\n" + note_list(items, "")


def _all_notes_main(builder: _Builder, notes: list[VisibleNote]) -> str:
    items = [_undated(n) for n in notes]
    return "<h1>All notes</h1>\n" + note_list(items, "")


def _undated(note: VisibleNote) -> Item:
    """A note in a list that should not change when the note's time does."""
    return Item(note.title, note.url, "")


def _bodies(notes: list[VisibleNote], body: Callable[[VisibleNote], str]) -> dict[str, str]:
    return {n.path: body(n) for n in notes}


def _search_record(note: VisibleNote, body: str) -> dict[str, object]:
    """What search.js needs of a visible note; empty fields are left out (the index is
    one file every search loads). Only what the page itself shows, plus its path."""
    text = " ".join(unescape(_TAGS.sub(" ", _INLINE_TAGS.sub("", body))).split())
    if text.startswith(note.title):  # the page's own title: the record has it already
        text = text[len(note.title) :].lstrip()
    headings = [" ".join(unescape(_TAGS.sub("", h)).split()) for h in _HEADINGS.findall(body)]
    record: dict[str, object] = {"title": note.title, "url": note.url, "path": note.path}
    optional = {"type": "" if note.type == "note" else note.type, "tags": note.tags}
    optional |= {"headings": headings, "aliases": note.aliases}
    record |= {key: value for key, value in optional.items() if value}
    record["text"] = text[:SEARCH_TEXT]
    return record


def _signatures(catalog: Catalog, chrome: list[str]) -> dict[str, str]:
    """For each visible note, a digest of everything its page is made from: the note,
    where each of its links leads for this audience, what it embeds, its backlinks, and
    what every page shows (the site's title and author; the base address its feed
    entry's links start with), so that changing any of them in config.toml renders
    every page again."""
    links = {
        path: [f"{t}{sub}>{_leads_to(catalog, resolved)}" for _, t, sub, resolved in rows]
        for path, rows in catalog.links.items()
    }
    own = {}
    for path, note in catalog.notes.items():
        parts = [*chrome, note.hash, note.title, note.url, note.updated, *note.tags]
        parts += links.get(path, [])
        parts += [f"<{catalog.notes[b].title}|{catalog.notes[b].url}" for b in note.backlinks]
        own[path] = hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def closure(path: str, seen: tuple[str, ...]) -> str:
        embedded = [closure(e, (*seen, e)) for e in catalog.notes[path].embeds if e not in seen]
        return hashlib.sha256("\x00".join([own[path], *embedded]).encode()).hexdigest()

    return {path: closure(path, (path,)) for path in catalog.notes}


def _leads_to(catalog: Catalog, resolved: str | None) -> str:
    if resolved is None:
        return "nowhere"
    if resolved in catalog.notes:
        return catalog.notes[resolved].url
    if resolved in catalog.attachment_urls:
        return catalog.attachment_urls[resolved]
    return "hidden"


def _binary_left_out(index: Index, audience: Audience) -> list[str]:
    """Notes shared with this audience that are not published because they hold a NUL
    byte (the index reads such a file as binary data, by name only): few, so each is
    read again here to see what its front matter says."""
    defined = audiences(index.vault)
    found = []
    for (path,) in index.conn.execute("SELECT path FROM problems WHERE kind = 'binary'"):
        with contextlib.suppress(OSError):
            if may_see(audience, claimed_share(read_bytes(index.vault.root / path)), defined):
                found.append(
                    f"{path} is shared with {audience.name} but holds a NUL byte (binary"
                    " data), so it is not published: take the NUL byte out"
                )
    return found


def _publish_flags_left_out(index: Index, catalog: Catalog) -> int:
    """How many notes carry Obsidian Publish's ``publish: true`` yet are not on this
    site: a person coming from Obsidian expects them there, and should hear why not."""
    rows = index.conn.execute(
        "SELECT path FROM files WHERE is_note = 1 AND instr(front_matter, '\"publish\"') > 0"
        " AND json_extract(front_matter, '$.publish') = 1"
    )
    return sum(1 for (path,) in rows if path not in catalog.notes)

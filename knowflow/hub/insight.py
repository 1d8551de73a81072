"""What the hub shows about the people in it: who knows what, and a digest of a period.

Pure functions over plain data, so they work the same over either database backend.
Everything here takes a ``Visible``: the artifacts one reader may see. ``visible_to`` is
the only way to build one, and it filters by the reader's audiences itself, so a caller
cannot hand over the whole hub by mistake (the caller should also filter in SQL first:
the second filter costs little and makes a forgotten ``WHERE`` harmless). Every weight,
count and date is computed from the visible artifacts alone: a member of team A learns
nothing of what was shared only to team B, not even through an IDF or a count.

- ``directory``: each member's topics (TF-IDF of tags and words against the visible hub),
  with how much and how recently they share;
- ``who_knows``: people ranked for a query, with the artifacts that show it;
- ``digest`` and ``digest_atom``: per audience, what was shared in [start, end).

The flow map (people, audiences, bridgers, topics that travelled) is in ``flow``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
import unicodedata
import uuid
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

KINDS = ("team", "community", "public")
TAG_WEIGHT = 3  # a tag is the person's own word for the topic: it says more than a word
TOPICS = 10  # terms shown per person in the directory
EVIDENCE = 5  # artifacts shown per person in who_knows
ATOM_NS = "http://www.w3.org/2005/Atom"
AUDIENCE_SCHEME = "urn:knowflow:audience"

# A word: letters and the combining marks of the scripts that need them (Python's \w
# leaves marks out, which would cut Hindi or Thai words into pieces).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f"  # Indic, Thai, Lao, Myanmar: letters and marks
)
# Digits and "_" become spaces first, then a word is a run of one character class: three
# times faster than an alternation per character, on the hot path of a large hub.
_NOT_LETTER = re.compile(r"[\d_]+")
_WORD = re.compile(rf"[\w{_MARKS}]{{3,}}")  # 3 or more: shorter is noise
_STOP = """the and for are but not you all any can had her was one our out has have his how its
    may new now old see two way who did get let put say she too use that with this from they
    will would there their what about which when your into than then them these some more
    also been were just like only over such very here each other most much many after before
    because while where those could should being does why whom yet via per"""
STOP_WORDS = frozenset(_STOP.split())
# Characters XML 1.0 cannot carry at all (escaping cannot help): dropped from any output.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Artifact:
    """One thing a member shared to one hub audience. A naive ``shared`` is taken as UTC."""

    author: str
    audience: str
    audience_kind: str  # "team" | "community" | "public"
    title: str
    text: str
    tags: tuple[str, ...]
    shared: dt.datetime
    ref: str = ""  # its page's address on the hub (knowflow.hub.artifact.ref), if known

    def __post_init__(self) -> None:
        if self.audience_kind not in KINDS:
            raise ValueError(f"audience_kind must be one of {', '.join(KINDS)}")
        if self.shared.tzinfo is None:  # aware and naive times cannot be compared
            object.__setattr__(self, "shared", self.shared.replace(tzinfo=dt.UTC))


_ONLY_VIA_VISIBLE_TO = object()


class Visible:
    """The artifacts one reader may see, and the reader's audiences. Build it with
    ``visible_to``; read-only, so what was filtered stays filtered. The analysis the
    directory and who_knows need is computed once, on first use (a server may keep a
    Visible per audience set until the next push)."""

    __slots__ = ("_analysis", "_artifacts", "_audiences")

    def __init__(self, key: object, audiences: frozenset[str], artifacts: tuple[Artifact, ...]):
        if key is not _ONLY_VIA_VISIBLE_TO:
            raise TypeError("a Visible is made by visible_to(artifacts, audiences)")
        self._audiences = audiences
        self._artifacts = artifacts
        self._analysis: _Analysis | None = None

    @property
    def audiences(self) -> frozenset[str]:
        return self._audiences

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        return self._artifacts

    def analysis(self) -> _Analysis:
        if self._analysis is None:
            self._analysis = _Analysis.of(self._artifacts)
        return self._analysis


def visible_to(artifacts: Iterable[Artifact], audiences: Iterable[str]) -> Visible:
    """What a reader belonging to ``audiences`` may see of ``artifacts``: the only way in."""
    allowed = frozenset(audiences)
    return Visible(
        _ONLY_VIA_VISIBLE_TO, allowed, tuple(a for a in artifacts if a.audience in allowed)
    )


# -- terms -------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """The words of ``text`` that can name a topic: 3+ letters, lowercase, no stop words."""
    return [w for w in _WORD.findall(_folded(text)) if w not in STOP_WORDS]


def _folded(text: str) -> str:
    # NFKC first: "ﬁ" and "fi", full-width and plain letters are one word.
    folded = (text if text.isascii() else unicodedata.normalize("NFKC", text)).lower()
    return _NOT_LETTER.sub(" ", folded)


def tag_term(tag: str) -> str:
    """A tag as a term: any length (``ai`` is a topic), without its ``#``, lowercase."""
    return unicodedata.normalize("NFKC", tag).strip().lstrip("#").lower()


def terms(artifact: Artifact) -> Counter[str]:
    """The weighted terms of one artifact: its title and text words, its tags counted more."""
    # Counted first, stop words taken out after: both steps run in C, and this is the
    # hot loop of a hub of 100,000 artifacts.
    counts = Counter(_WORD.findall(_folded(artifact.title + "\n" + artifact.text)))
    for stop in STOP_WORDS.intersection(counts):
        del counts[stop]
    for tag in {tag_term(t) for t in artifact.tags} - {""}:
        counts[tag] += TAG_WEIGHT
    return counts


def query_terms(query: str) -> list[str]:
    """A query's terms: its words, and each piece as a tag may be written (``ai``, ``#km-pkm``)."""
    pieces = [tag_term(p) for p in query.split()]
    found = dict.fromkeys(words(query) + [p for p in pieces if p])
    return list(found)


@dataclass(slots=True)
class _Analysis:
    """TF-IDF over the visible artifacts, smoothed IDF. A person's topics take them as one
    document (their weighted term counts over all they shared: how much counts); who_knows
    scores each artifact by its terms' frequencies in it (a long text does not outweigh a
    short one) and sums a person's."""

    count: int
    postings: dict[str, array[int]]  # term -> (artifact index << 32 | weighted count)
    totals: array[int]  # artifact index -> its weighted number of terms
    person_counts: dict[str, Counter[str]]
    idfs: dict[str, float]

    @classmethod
    def of(cls, artifacts: tuple[Artifact, ...]) -> _Analysis:
        # The hot loop of a large hub: one packed append per term and artifact, the
        # person's counts and the document frequencies (len of a posting) added in C.
        postings: dict[str, array[int]] = defaultdict(lambda: array("q"))
        totals: array[int] = array("q")
        person_counts: dict[str, Counter[str]] = defaultdict(Counter)
        for index, artifact in enumerate(artifacts):
            counts = terms(artifact)
            totals.append(sum(counts.values()))
            person_counts[artifact.author].update(counts)
            packed = index << 32
            for term, n in counts.items():
                postings[term].append(packed | n)
        n = len(artifacts)
        idfs = {term: _idf(n, len(found)) for term, found in postings.items()}
        return cls(n, dict(postings), totals, dict(person_counts), idfs)

    def idf(self, term: str) -> float:
        return self.idfs.get(term) or _idf(self.count, 0)


def _idf(count: int, df: int) -> float:
    # Smoothed (as scikit-learn's): a term every artifact has still counts a little.
    return math.log((1 + count) / (1 + df)) + 1


# -- the people directory ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """A member as the directory shows them: their topics, how much and how recently."""

    person: str
    topics: tuple[tuple[str, float], ...]  # (term, weight), strongest first
    shared: int
    last_shared: dt.datetime
    audiences: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "topics": [{"term": t, "weight": round(w, 6)} for t, w in self.topics],
            "shared": self.shared,
            "last_shared": self.last_shared.isoformat(),
            "audiences": list(self.audiences),
        }


def directory(visible: Visible, top: int = TOPICS) -> list[Profile]:
    """Everyone who shared something the reader may see, by name, with their key terms."""
    analysis = visible.analysis()
    shared: Counter[str] = Counter()
    last: dict[str, dt.datetime] = {}
    audiences: dict[str, set[str]] = defaultdict(set)
    for a in visible.artifacts:
        shared[a.author] += 1
        last[a.author] = max(last.get(a.author, a.shared), a.shared)
        audiences[a.author].add(a.audience)
    profiles = []
    for person in sorted(shared, key=lambda p: (p.casefold(), p)):
        idfs = analysis.idfs
        weights = {t: n * idfs[t] for t, n in analysis.person_counts[person].items()}
        strongest = heapq.nsmallest(top, weights.items(), key=lambda tw: (-tw[1], tw[0]))
        profiles.append(
            Profile(
                person,
                tuple(strongest),
                shared[person],
                last[person],
                tuple(sorted(audiences[person])),
            )
        )
    return profiles


class Expert(NamedTuple):
    """One answer to "who knows about X?": the person, how strongly, and what shows it."""

    person: str
    score: float
    artifacts: tuple[Artifact, ...]  # the best evidence first


def who_knows(visible: Visible, query: str, evidence: int = EVIDENCE) -> list[Expert]:
    """People ranked by the TF-IDF of the query's terms in what they shared (the sum over
    their artifacts: sharing more on a topic counts), each with their best artifacts."""
    analysis = visible.analysis()
    scores: dict[int, float] = defaultdict(float)
    for term in query_terms(query):
        where = analysis.postings.get(term)
        if where is None:
            continue
        idf = analysis.idf(term)
        for packed in where:
            index = packed >> 32
            scores[index] += (packed & 0xFFFFFFFF) / analysis.totals[index] * idf
    by_person: dict[str, list[tuple[float, Artifact]]] = defaultdict(list)
    for index, score in scores.items():
        artifact = visible.artifacts[index]
        by_person[artifact.author].append((score, artifact))
    experts = [_expert(person, found, evidence) for person, found in by_person.items()]
    return sorted(experts, key=lambda e: (-e.score, e.person))


def _expert(person: str, found: list[tuple[float, Artifact]], evidence: int) -> Expert:
    best = sorted(found, key=lambda sa: (-sa[0], -sa[1].shared.timestamp(), sa[1].title))
    return Expert(person, sum(s for s, _ in found), tuple(a for _, a in best[:evidence]))


# -- the digest of a period --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestSection:
    """What was shared to one audience in the period, newest first."""

    audience: str
    kind: str
    artifacts: tuple[Artifact, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """The organization's digest of [start, end): a section per audience with shares."""

    start: dt.datetime
    end: dt.datetime
    sections: tuple[DigestSection, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "audiences": [
                {
                    "audience": s.audience,
                    "kind": s.kind,
                    "artifacts": [artifact_dict(a) for a in s.artifacts],
                }
                for s in self.sections
            ],
        }


def artifact_dict(artifact: Artifact) -> dict[str, object]:
    """An artifact as JSON data."""
    return {
        "author": artifact.author,
        "audience": artifact.audience,
        "kind": artifact.audience_kind,
        "title": artifact.title,
        "text": artifact.text,
        "tags": list(artifact.tags),
        "shared": artifact.shared.isoformat(),
    }


def digest(visible: Visible, start: dt.datetime, end: dt.datetime) -> Digest:
    """Per audience (by name), the artifacts shared in [start, end), newest first."""
    start, end = _utc(start), _utc(end)
    sections: dict[str, list[Artifact]] = defaultdict(list)
    for a in visible.artifacts:
        if start <= a.shared < end:
            sections[a.audience].append(a)
    return Digest(
        start,
        end,
        tuple(
            DigestSection(name, found[0].audience_kind, tuple(sorted(found, key=_newest_first)))
            for name, found in sorted(sections.items())
        ),
    )


def _newest_first(a: Artifact) -> tuple[float, str, str]:
    return (-a.shared.timestamp(), a.title, a.author)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def digest_atom(
    found: Digest, feed_id: str = "", title: str = "", link: str = "", base: str = ""
) -> str:
    """The digest as an Atom 1.0 feed: an entry per artifact (newest first), its audience
    and tags as categories. ``feed_id`` should be the feed's stable address on the hub;
    with ``base`` (the hub's absolute URL, ending in /) each entry links to its page."""
    # None is lxml's key for the default namespace (lxml-stubs types the keys as str).
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    period = f"{found.start.date().isoformat()} to {found.end.date().isoformat()}"
    _sub(feed, "title", title or f"Digest, {period}")
    _sub(feed, "id", feed_id or _urn(f"digest:{found.start.isoformat()}:{found.end.isoformat()}"))
    entries = sorted((a for s in found.sections for a in s.artifacts), key=_newest_first)
    updated = entries[0].shared if entries else found.start
    _sub(feed, "updated", updated.isoformat())
    if link:
        etree.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href=xml_text(link))
    _sub(feed, "generator", "knowflow hub")
    for artifact in entries:
        _entry(feed, artifact, base)
    # lxml, not ElementTree: its default namespace is the element's, not global state
    # shared by the threads that draw feeds and maps at once.
    xml = etree.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml


def _entry(feed: etree._Element, artifact: Artifact, base: str = "") -> None:
    entry = etree.SubElement(feed, f"{{{ATOM_NS}}}entry")
    _sub(entry, "title", artifact.title or "(untitled)")
    if base and artifact.ref:
        href = xml_text(f"{base}artifacts/{artifact.ref}")
        etree.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", href=href)
    key = f"{artifact.audience}\0{artifact.author}\0{artifact.title}\0{artifact.shared.isoformat()}"
    _sub(entry, "id", _urn(key))
    _sub(entry, "updated", artifact.shared.isoformat())
    _sub(entry, "published", artifact.shared.isoformat())
    author = etree.SubElement(entry, f"{{{ATOM_NS}}}author")
    _sub(author, "name", artifact.author or "(unknown)")
    category = etree.SubElement(entry, f"{{{ATOM_NS}}}category")
    category.set("term", xml_text(artifact.audience))
    category.set("scheme", AUDIENCE_SCHEME)
    category.set("label", xml_text(f"{artifact.audience_kind}: {artifact.audience}"))
    for tag in artifact.tags:
        if xml_text(tag).strip():
            etree.SubElement(entry, f"{{{ATOM_NS}}}category", term=xml_text(tag))
    _sub(entry, "content", artifact.text).set("type", "text")


def _sub(parent: etree._Element, name: str, text: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    child.text = xml_text(text)  # ElementTree escapes &, < and >; the rest cannot be XML
    return child


def _urn(key: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "knowflow-hub:" + key))


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (NUL, most controls, lone
    surrogates): escaping is the serializer's job, these would make the document invalid."""
    return _NOT_XML.sub("", text)

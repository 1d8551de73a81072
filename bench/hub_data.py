"""The generated organization of bench/hub.py: members, audiences, memberships, and each
member's notes as the bundles ``knowflow push`` would send. Seeded: the same arguments
give the same hub. A member's notes are made when they are needed (a first push, a
second with 1% changed, an un-share), so 100,000 notes are never all in memory.

Words come from a made-up 5,000-word vocabulary with Zipf-like frequencies, as words in
real text have: a few words are everywhere and most are rare, which is what makes
full-text search cost differ from one query to the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "pe", "du", "ga", "sho", "bre"]
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PUBLIC = "everyone"
# The kind a personal audience has in a bundle (docs/bundle.md): a hub's public
# audience is linked to the person's open network.
BUNDLE_KIND = {"team": "team", "community": "community", "public": "network"}


def vocabulary(seed: int, size: int = 5000) -> list[str]:
    """Pronounceable words of letters only (so both backends' parsers see one token)."""
    rng = random.Random(f"vocabulary:{seed}")
    found: dict[str, None] = {}
    while len(found) < size:
        found["".join(rng.choices(SYLLABLES, k=rng.randint(3, 5)))] = None
    return list(found)


def marker(index: int) -> str:
    """A word planted in one note of member ``index``, found nowhere else (letters only:
    not a vocabulary word, whose syllables never contain 'x')."""
    letters = ""
    while True:
        index, rest = divmod(index, 26)
        letters += chr(ord("a") + rest)
        if index == 0:
            return f"xq{letters}zmark"  # no suffix a stemmer would take off


@dataclass
class Member:
    index: int
    name: str
    audiences: list[str]  # teams and communities; the public audience is everyone's
    tags: list[str]
    token: str = ""


@dataclass
class Org:
    """Who is where; ``kinds`` maps each audience to team, community or public."""

    seed: int
    vocab: list[str]
    kinds: dict[str, str]
    members: list[Member] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(self.vocab))))

    def words(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self._cumulative, k=count)

    def readers_of(self, audience: str) -> list[Member]:
        if self.kinds[audience] == "public":
            return list(self.members)
        return [m for m in self.members if audience in m.audiences]


def organization(members: int, seed: int) -> Org:
    """A few teams (one per 12 people, two at least), five communities and one public
    audience; each member in one team (a fifth in two) and up to three communities."""
    rng = random.Random(f"org:{seed}")
    vocab = vocabulary(seed)
    teams = [f"team-{i}" for i in range(max(2, members // 12))]
    communities = [f"community-{i}" for i in range(5)]
    kinds = {**dict.fromkeys(teams, "team"), **dict.fromkeys(communities, "community")}
    kinds[PUBLIC] = "public"
    org = Org(seed, vocab, kinds)
    topics = [f"topic/{w}" for w in vocab[:300]]
    for i in range(members):
        where = [teams[i % len(teams)]]
        if rng.random() < 0.2:
            where.append(rng.choice([t for t in teams if t != where[0]]))
        where += rng.sample(communities, rng.randint(0, 3))
        org.members.append(Member(i, f"member-{i:03d}", where, rng.sample(topics, 8)))
    return org


def _paragraph(org: Org, rng: random.Random) -> str:
    text = org.words(rng, rng.randint(30, 70))
    text[0] = text[0].capitalize()
    return " ".join(text) + "."


def _note(org: Org, member: Member, j: int, rng: random.Random) -> dict[str, Any]:
    title = " ".join(org.words(rng, rng.randint(3, 6))).capitalize()
    paragraphs = [_paragraph(org, rng) for _ in range(rng.randint(2, 4))]
    if j == 0:  # the note un-shared in the benchmark's step 5
        paragraphs.append(f"Planted for the un-share test: {marker(member.index)}.")
    tags = rng.sample(member.tags, rng.randint(1, 3))
    created = START + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 300))
    markdown = "\n\n".join(paragraphs)
    note_id = f"{member.name}-{j:05d}"
    return {
        "id": note_id, "path": f"notes/{note_id}.md", "url": f"notes/{note_id}.html",
        "title": title, "type": "note", "tags": tags, "aliases": [], "markdown": markdown,
        "html": "".join(f"<p>{p}</p>" for p in paragraphs), "links": [],
        "created": created.isoformat(), "updated": created.isoformat(),
        "content_hash": hashlib.blake2b(markdown.encode("utf-8")).hexdigest(),
    }  # fmt: skip


def _audience_for(member: Member, rng: random.Random) -> str:
    """Half to a team, about a third to communities, the rest to everyone."""
    teams = [a for a in member.audiences if not a.startswith("community-")]
    communities = [a for a in member.audiences if a.startswith("community-")]
    roll = rng.random()
    if roll < 0.5 or (roll < 0.8 and not communities):
        return rng.choice(teams)
    return rng.choice(communities) if roll < 0.8 else PUBLIC


def notes_of(org: Org, member: Member, count: int) -> dict[str, list[dict[str, Any]]]:
    """The member's notes by hub audience; note 0 always goes to their first team."""
    rng = random.Random(f"notes:{org.seed}:{member.index}")
    found: dict[str, list[dict[str, Any]]] = {}
    for j in range(count):
        audience = member.audiences[0] if j == 0 else _audience_for(member, rng)
        found.setdefault(audience, []).append(_note(org, member, j, rng))
    return found


def changed(org: Org, member: Member, notes: dict[str, list[dict[str, Any]]],
            share: float = 0.01) -> int:  # fmt: skip
    """Edit ``share`` of the notes in place (a sentence added); returns how many."""
    rng = random.Random(f"changes:{org.seed}:{member.index}")
    every = [note for group in notes.values() for note in group]
    picked = rng.sample(every, max(1, round(len(every) * share)))
    for note in picked:
        added = _paragraph(org, rng)
        note["markdown"] += "\n\n" + added
        note["html"] += f"<p>{added}</p>"
        note["updated"] = (START + dt.timedelta(days=330)).isoformat()
        note["content_hash"] = hashlib.blake2b(note["markdown"].encode("utf-8")).hexdigest()
    return len(picked)


def bundle(org: Org, member: Member, audience: str, notes: list[Any]) -> dict[str, Any]:
    kind = BUNDLE_KIND[org.kinds[audience]]
    return {
        "format": "knowflow-bundle", "version": 1, "generated": START.isoformat(),
        "audience": {"name": audience, "kind": kind, "title": audience},
        "author": {"name": member.name}, "notes": notes,
    }  # fmt: skip


def query(org: Org, rng: random.Random, common: bool = False) -> str:
    """Random words to search for: one or two drawn evenly from the vocabulary (most
    are rare), or, with ``common``, one of the 20 most frequent (found in most notes:
    the most ranking work a query can ask for)."""
    if common:
        return rng.choice(org.vocab[:20])
    return " ".join(rng.sample(org.vocab, rng.choice((1, 1, 2))))

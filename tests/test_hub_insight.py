"""The hub's insight computations: the people directory, who knows what, the flow map and
the digest, on small hand-made data with exact results; and the privacy property: nothing
shared only to audiences the reader is not in shows in anything built for them."""

from __future__ import annotations

import datetime as dt
import json
import math

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from knowflow.hub.flow import flow_json, flow_map, flow_svg, travelled
from knowflow.hub.insight import (
    Artifact,
    Visible,
    digest,
    digest_atom,
    directory,
    query_terms,
    visible_to,
    who_knows,
    words,
)

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"


def day(n: int) -> dt.datetime:
    return DAY + dt.timedelta(days=n)


def art(
    author: str, audience: str, title: str, tags: tuple[str, ...], n: int, text: str = ""
) -> Artifact:
    return Artifact(author, audience, "team", title, text, tags, day(n))


# Short titles and no text, so that every weight below can be worked out by hand: a title
# word counts 1, a tag 3; in who_knows each artifact's term frequencies sum to 1.
A1 = art("alice", "team-a", "Postgres", ("postgres",), 1)  # postgres 4/4
A2 = art("alice", "team-a", "Vacuum", ("postgres",), 2)  # vacuum 1/4, postgres 3/4
A3 = art("bob", "team-a", "Graphs", ("graphs",), 3)  # graphs 4/4
A4 = art("bob", "team-b", "Scale", ("postgres", "graphs"), 4)  # scale 1/7, postgres 3/7, graphs 3/7
A5 = art("carol", "team-b", "Trust", ("km",), 5)  # trust 1/4, km 3/4
HUB = [A1, A2, A3, A4, A5]


def idf(df: int, n: int = 5) -> float:
    return math.log((1 + n) / (1 + df)) + 1


@pytest.fixture
def everything() -> Visible:
    return visible_to(HUB, ["team-a", "team-b"])


def test_words_are_lowercase_letters_of_three_or_more_without_stop_words() -> None:
    found = words("The Café of naïve AI, python3 and हिन्दी: x_y QUEUES")
    assert found == ["café", "naïve", "python", "हिन्दी", "queues"]


def test_a_query_matches_words_and_tags_as_written() -> None:
    assert query_terms("AI #km-pkm") == ["pkm", "ai", "km-pkm"]


def test_who_knows_ranks_people_by_tfidf_with_their_evidence(everything: Visible) -> None:
    found = who_knows(everything, "postgres")
    assert [(e.person, e.artifacts) for e in found] == [("alice", (A1, A2)), ("bob", (A4,))]
    assert found[0].score == pytest.approx((1 + 3 / 4) * idf(3))
    assert found[1].score == pytest.approx(3 / 7 * idf(3))
    assert who_knows(everything, "graphs")[0].person == "bob"
    assert who_knows(everything, "KM")[0].person == "carol"  # a two-letter tag is a topic
    assert who_knows(everything, "nothing here") == []


def test_directory_lists_each_members_key_terms_count_and_last_share(
    everything: Visible,
) -> None:
    people = {p.person: p for p in directory(everything)}
    assert list(people) == ["alice", "bob", "carol"]
    assert [t for t, _ in people["alice"].topics] == ["postgres", "vacuum"]
    assert dict(people["alice"].topics) == pytest.approx(
        {"postgres": (4 + 3) * idf(3), "vacuum": 1 * idf(1)}
    )
    assert [t for t, _ in people["bob"].topics] == ["graphs", "postgres", "scale"]
    assert [t for t, _ in people["carol"].topics] == ["km", "trust"]
    assert (people["bob"].shared, people["bob"].last_shared) == (2, day(4))
    assert people["bob"].audiences == ("team-a", "team-b")
    assert json.dumps([p.as_dict() for p in people.values()])


def test_weights_are_against_what_the_reader_sees(everything: Visible) -> None:
    only_b = visible_to(HUB, ["team-b"])
    assert [p.person for p in directory(only_b)] == ["bob", "carol"]
    # Over team-b alone postgres is in 1 artifact of 2: its IDF is team-b's, not the hub's.
    assert who_knows(only_b, "postgres")[0].score == pytest.approx(3 / 7 * idf(1, n=2))


def test_the_flow_map_finds_the_bridger_and_the_topic_that_travelled(
    everything: Visible,
) -> None:
    flow = flow_map(everything)
    # alice - team-a - bob - team-b - carol: bob is on 4 of the 6 paths between the others.
    assert flow.betweenness == pytest.approx({"alice": 0.0, "bob": 2 / 3, "carol": 0.0})
    assert flow.bridgers() == [("bob", pytest.approx(2 / 3))]
    assert flow.weights == {
        ("alice", "team-a"): 2,
        ("bob", "team-a"): 1,
        ("bob", "team-b"): 1,
        ("carol", "team-b"): 1,
    }
    data = flow_json(flow)
    assert data["travelled"] == [
        {
            "tag": "graphs",
            "from": "team-a",
            "to": "team-b",
            "bridger": "bob",
            "from_date": day(3).isoformat(),
            "to_date": day(4).isoformat(),
        }
    ]
    assert json.loads(json.dumps(data)) == data


def test_a_tag_already_there_did_not_travel() -> None:
    hub = [
        art("dee", "team-b", "First", ("rust",), 1),  # rust was in team-b first
        art("eve", "team-a", "Then", ("rust",), 2),
        art("eve", "team-b", "Later", ("rust",), 3),
        art("eve", "team-c", "Last", ("rust",), 4),
    ]
    found = travelled(visible_to(hub, ["team-a", "team-b", "team-c"]))
    # team-c got it after eve had it in team-a (her earliest), not in team-b.
    assert [(t.tag, t.source, t.to, t.bridger) for t in found] == [
        ("rust", "team-a", "team-c", "eve")
    ]


def test_the_digest_is_per_audience_newest_first_within_the_period(
    everything: Visible,
) -> None:
    found = digest(everything, day(2), day(5))
    assert [(s.audience, s.artifacts) for s in found.sections] == [
        ("team-a", (A3, A2)),
        ("team-b", (A4,)),
    ]
    data = found.as_dict()
    assert [a["title"] for s in data["audiences"] for a in s["artifacts"]] == [
        "Graphs",
        "Vacuum",
        "Scale",
    ]


def test_the_digest_feed_is_valid_atom(everything: Visible) -> None:
    xml = digest_atom(digest(everything, day(0), day(9)), feed_id="https://hub.example/feed")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == ["Trust", "Scale", "Graphs", "Vacuum", "Postgres"]
    feed = etree.fromstring(xml.encode())
    for required in ("id", "title", "updated"):
        assert feed.find(ATOM + required) is not None
    for entry in feed.iter(ATOM + "entry"):
        for required in ("id", "title", "updated", "author"):
            assert entry.find(ATOM + required) is not None
    ids = [e.findtext(ATOM + "id") for e in feed.iter(ATOM + "entry")]
    assert len(set(ids)) == len(ids)


def test_a_visible_is_made_only_by_filtering() -> None:
    with pytest.raises(TypeError):
        Visible(object(), frozenset({"team-a"}), tuple(HUB))
    seen = visible_to(HUB, ["team-a"])
    assert seen.artifacts == (A1, A2, A3)
    with pytest.raises(AttributeError):
        seen.artifacts = tuple(HUB)  # type: ignore[misc]


def test_a_naive_time_is_utc_and_a_kind_is_checked() -> None:
    naive = Artifact("a", "t", "team", "x", "", (), dt.datetime(2026, 1, 1))
    assert naive.shared == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        Artifact("a", "t", "guild", "x", "", (), DAY)


HOSTILE = "<script>alert(\"x\")</script> & 'co'\x00\x0b"
CLEAN = "<script>alert(\"x\")</script> & 'co'"


def hostile_hub() -> Visible:
    tag = '"><img src=x onerror=alert(1)>&amp;'
    return visible_to(
        [
            Artifact(HOSTILE, "a&b <t>", "team", HOSTILE, HOSTILE, (tag,), day(1)),
            Artifact(HOSTILE, "c\"d'", "community", "t", "x", (tag,), day(2)),
            Artifact("fay", "c\"d'", "community", "u", "y", (), day(3)),
        ],
        ["a&b <t>", "c\"d'"],
    )


def test_hostile_names_and_tags_are_escaped_in_the_svg() -> None:
    svg = flow_svg(flow_map(hostile_hub()))
    assert "<script" not in svg and "<img" not in svg
    tree = etree.fromstring(svg.encode())
    assert tree.get("role") == "img"
    assert tree.findtext(SVG + "title") == "Knowledge flow"
    assert CLEAN in tree.findtext(SVG + "desc")  # the bridger, in words
    titles = [t.text for t in tree.iter(SVG + "title")]
    assert f"{CLEAN}: 2 shared, bridger (betweenness 0.67)" in titles
    assert "team: a&b <t>" in titles
    assert f"{CLEAN} shared 1 to c\"d'" in titles
    assert flow_svg(flow_map(hostile_hub())) == svg  # deterministic


def test_hostile_names_and_tags_are_escaped_in_the_atom_feed() -> None:
    xml = digest_atom(digest(hostile_hub(), day(0), day(9)), link='https://h/?a=1&b="2"')
    assert "<script" not in xml and "<img" not in xml
    feed = etree.fromstring(xml.encode())
    entry = feed.findall(ATOM + "entry")[-1]
    assert entry.findtext(ATOM + "title") == CLEAN
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == CLEAN
    terms = [c.get("term") for c in entry.iter(ATOM + "category")]
    assert terms == ["a&b <t>", '"><img src=x onerror=alert(1)>&amp;']
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and parsed.entries[-1].author == CLEAN


# -- privacy: a property over random hubs and memberships ---------------------------------

# Visible text never holds a "z" or a "q"; every marker planted in what the reader may not
# see does, so "zq" anywhere in an output is a leak.
ALPHABET = "abcdefgh <>&\"'é\n"
NAMES = ["ann", "ben", "cat", "dan"]
TAGS = ["alpha", "beta", "ai", "graphs"]
KIND = st.sampled_from(["team", "community", "public"])


@st.composite
def hubs(draw: st.DrawFn) -> tuple[list[Artifact], list[str]]:
    count = draw(st.integers(1, 5))
    kinds = [draw(KIND) for _ in range(count)]
    mine = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    names = [f"vis{i}" if m else f"hid{i}-zq{i}" for i, m in enumerate(mine)]
    artifacts = []
    for n in range(draw(st.integers(0, 25))):
        i = draw(st.integers(0, count - 1))
        author = draw(st.sampled_from(NAMES))
        title = draw(st.text(ALPHABET, max_size=12))
        text = draw(st.text(ALPHABET, max_size=30))
        tags = tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3)))
        if not mine[i]:  # the markers: in every field of what the reader may not see
            marker = f"zqmark{'abcdefgh'[n % 8]}"
            author = draw(st.sampled_from([author, f"zqperson{n}"]))
            title, text, tags = f"{title} {marker}", f"{marker} {text}", (*tags, marker)
        shared = day(0) + dt.timedelta(hours=draw(st.integers(0, 24 * 20)))
        artifacts.append(Artifact(author, names[i], kinds[i], title, text, tags, shared))
    return artifacts, [n for n, m in zip(names, mine, strict=True) if m]


def everything_built(visible: Visible) -> list[str]:
    """Every output the hub builds for a reader, as text."""
    period = digest(visible, day(2), day(12))
    queries = ["alpha", "ai", "graphs", "zqmarka", "zqmarkb", "abc"]
    return [
        json.dumps([p.as_dict() for p in directory(visible)]),
        repr([(e.person, e.score, e.artifacts) for q in queries for e in who_knows(visible, q)]),
        json.dumps(flow_json(flow_map(visible))),
        flow_svg(flow_map(visible)),
        json.dumps(period.as_dict()),
        digest_atom(period),
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hubs())
def test_nothing_shared_only_to_other_audiences_shows(hub: tuple[list[Artifact], list[str]]):
    artifacts, mine = hub
    built = everything_built(visible_to(artifacts, mine))
    for output in built:
        assert "zq" not in output
    # Stronger: not a count, weight or date differs from a hub that never held the rest.
    alone = [a for a in artifacts if a.audience in mine]
    assert everything_built(visible_to(alone, mine)) == built

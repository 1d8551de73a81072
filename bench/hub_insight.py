"""The hub's insight computations at the issue's size: 100 members, 100,000 artifacts.

    python bench/hub_insight.py [--members 100] [--artifacts 100000] [--seed 11]

The hub is generated (seeded): 12 teams, 8 communities and public; each member in one or
two teams and up to three communities, with a handful of favourite tags; an artifact is a
four-word title, a 40-word text from a 5,000-word vocabulary (Zipf-like frequencies) and
one to three tags. Timed, for a reader in every audience (the largest view) and for a
member of two audiences: the filter, the directory (the first call builds the TF-IDF
analysis), who_knows (on the built analysis), the flow map (betweenness and travelled
topics), its JSON and SVG, a week's digest and its Atom feed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import time
from collections.abc import Callable
from typing import TypeVar

from knowflow.hub.flow import flow_json, flow_map, flow_svg
from knowflow.hub.insight import (
    Artifact,
    Visible,
    digest,
    digest_atom,
    directory,
    visible_to,
    who_knows,
)

T = TypeVar("T")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "pe", "du", "ga", "sho", "bre"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    found: dict[str, None] = {}
    while len(found) < size:
        found["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))] = None
    return list(found)


def audiences() -> dict[str, str]:
    kinds = {f"team-{i}": "team" for i in range(12)}
    kinds.update({f"community-{i}": "community" for i in range(8)})
    kinds["public"] = "public"
    return kinds


def generate(members: int, count: int, seed: int) -> list[Artifact]:
    rng = random.Random(seed)
    vocab = vocabulary(rng, 5000)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # Zipf-like
    tags = [f"topic-{w}" for w in vocab[:200]]
    kinds = audiences()
    teams = [a for a, k in kinds.items() if k == "team"]
    communities = [a for a, k in kinds.items() if k == "community"]
    people = []
    for i in range(members):
        where = rng.sample(teams, rng.randint(1, 2)) + rng.sample(communities, rng.randint(0, 3))
        people.append((f"member-{i:03d}", [*where, "public"], rng.sample(tags, 6)))
    artifacts = []
    for n in range(count):
        name, where, favourite = people[n % members]
        text = rng.choices(vocab, weights, k=44)
        audience = rng.choice(where)
        artifacts.append(
            Artifact(
                name,
                audience,
                kinds[audience],
                " ".join(text[:4]),
                " ".join(text[4:]),
                tuple(rng.sample(favourite, rng.randint(1, 3))),
                START + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365)),
            )
        )
    return artifacts


def timed(label: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    print(f"  {label:<44} {time.perf_counter() - started:8.3f} s")
    return result


def run(visible: Visible, query: str) -> None:
    people = timed("directory (builds the TF-IDF analysis)", lambda: directory(visible))
    timed("directory again (analysis kept)", lambda: directory(visible))
    found = timed(f"who_knows {query!r}", lambda: who_knows(visible, query))
    timed("who_knows 'nothing matches'", lambda: who_knows(visible, "nothing matches"))
    flow = timed("flow map (betweenness, travelled topics)", lambda: flow_map(visible))
    data = timed("flow JSON (json.dumps)", lambda: json.dumps(flow_json(flow)))
    svg = timed("flow SVG", lambda: flow_svg(flow))
    week = timed("digest of a week", lambda: digest(visible, START, START + dt.timedelta(7)))
    atom = timed("digest Atom feed", lambda: digest_atom(week))
    shared = sum(len(s.artifacts) for s in week.sections)
    print(
        f"  = {len(people)} people, {len(found)} who know {query!r}, "
        f"{len(flow.bridgers())} bridgers, {len(flow.travelled)} travelled topics, "
        f"JSON {len(data) // 1024} KiB, SVG {len(svg) // 1024} KiB, "
        f"digest {shared} artifacts, Atom {len(atom) // 1024} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    hub = timed("generate", lambda: generate(args.members, args.artifacts, args.seed))
    query = hub[0].tags[0]
    every = list(audiences())
    print(f"reader in all {len(every)} audiences ({len(hub):,} artifacts):")
    run(timed("visible_to", lambda: visible_to(hub, every)), query)
    two = ["team-0", "community-0"]
    member = timed("visible_to", lambda: visible_to(hub, two))
    print(f"reader in {', '.join(two)} ({len(member.artifacts):,} artifacts):")
    run(member, query)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

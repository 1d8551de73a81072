"""The knowledge-flow map: people and the audiences they share to, as a graph.

Built from a ``Visible`` (see ``insight``), so a reader's map holds only what they may see:
the people, audiences, weights, centralities and travelled topics of their visible
artifacts, nothing computed over the rest of the hub.

- edges person -> audience, weighted by how many artifacts the person shared there;
- betweenness centrality (networkx): the people who bridge teams, communities and
  networks, on the shortest paths between the others;
- topics that travelled: a tag that appeared in an audience after someone who shared it
  there too (a bridger) had shared it in another audience first.

``flow_json`` is a dict ready for ``json.dumps``; ``flow_svg`` an accessible SVG drawing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import networkx as nx  # type: ignore[import-untyped]
from lxml import etree

from knowflow.hub.insight import KINDS, Visible, tag_term, xml_text

SVG_NS = "http://www.w3.org/2000/svg"
ROW = 24  # px between two people (or audiences) in a column
LABEL = 40  # characters of a name drawn; the whole name is in the node's <title>
COLOURS = {"team": "#1f5fa8", "community": "#2e7d32", "public": "#8a4b08", "person": "#555555"}
BRIDGER = "#b00058"


@dataclass(frozen=True, slots=True)
class Travel:
    """A tag seen in ``to`` after ``bridger`` (who shared it in both) shared it in ``source``."""

    tag: str
    source: str  # the audience it came from
    to: str
    bridger: str
    left: dt.datetime  # the bridger's first share of the tag in ``source``
    arrived: dt.datetime  # the tag's first appearance in ``to``, by anyone

    def as_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "from": self.source,
            "to": self.to,
            "bridger": self.bridger,
            "from_date": self.left.isoformat(),
            "to_date": self.arrived.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FlowMap:
    """The graph and what was computed on it."""

    shared: dict[str, int]  # person -> artifacts shared
    kinds: dict[str, str]  # audience -> its kind
    weights: dict[tuple[str, str], int]  # (person, audience) -> artifacts
    betweenness: dict[str, float]  # person -> normalized betweenness centrality
    travelled: tuple[Travel, ...]

    def bridgers(self) -> list[tuple[str, float]]:
        """People on shortest paths between others, the most central first."""
        found = [(p, b) for p, b in self.betweenness.items() if b > 0]
        return sorted(found, key=lambda pb: (-pb[1], pb[0]))


def flow_map(visible: Visible) -> FlowMap:
    """The flow map of what ``visible`` holds."""
    weights: Counter[tuple[str, str]] = Counter()
    kinds: dict[str, str] = {}
    for a in visible.artifacts:
        weights[(a.author, a.audience)] += 1
        kinds.setdefault(a.audience, a.audience_kind)
    shared: Counter[str] = Counter()
    for (person, _), n in weights.items():
        shared[person] += n
    return FlowMap(
        dict(shared), kinds, dict(weights), _betweenness(weights), tuple(travelled(visible))
    )


def _betweenness(weights: Counter[tuple[str, str]]) -> dict[str, float]:
    # Hops, not volume: one share to another group already makes a person its bridge, and
    # a prolific poster is not more of a bridge for posting more. Nodes are tagged tuples
    # so a person and an audience of the same name stay two nodes.
    graph = nx.Graph()
    for person, audience in weights:
        graph.add_edge(("person", person), ("audience", audience))
    centrality = nx.betweenness_centrality(graph, normalized=True)
    return {name: float(centrality[(kind, name)]) for kind, name in graph if kind == "person"}


def travelled(visible: Visible) -> list[Travel]:
    """For each tag and audience it reached, where it came from: the audience in which a
    bridger (who shared the tag in both) shared it earliest before it first appeared
    there. Ties go to the earlier share, then the audience's and the bridger's names."""
    first_in: dict[tuple[str, str], dt.datetime] = {}  # (tag, audience) -> first share
    carried: dict[tuple[str, str], dict[str, dt.datetime]] = defaultdict(dict)
    for a in visible.artifacts:
        for tag in {tag_term(t) for t in a.tags} - {""}:
            key = (tag, a.audience)
            first_in[key] = min(first_in.get(key, a.shared), a.shared)
            mine = carried[(tag, a.author)]
            mine[a.audience] = min(mine.get(a.audience, a.shared), a.shared)
    best: dict[tuple[str, str], Travel] = {}
    for (tag, person), where in carried.items():
        for source, left in where.items():
            for to in where:
                arrived = first_in[(tag, to)]
                if to == source or not left < arrived:
                    continue
                found = Travel(tag, source, to, person, left, arrived)
                if (tag, to) not in best or _earlier(found, best[(tag, to)]):
                    best[(tag, to)] = found
    return [best[key] for key in sorted(best)]


def _earlier(one: Travel, other: Travel) -> bool:
    return (one.left, one.source, one.bridger) < (other.left, other.source, other.bridger)


# -- JSON --------------------------------------------------------------------------------


def flow_json(flow: FlowMap) -> dict[str, object]:
    """The map as plain data: people, audiences, edges, bridgers, travelled topics."""
    people_in: Counter[str] = Counter(audience for _, audience in flow.weights)
    return {
        "people": [
            {"name": p, "shared": n, "betweenness": round(flow.betweenness.get(p, 0.0), 6)}
            for p, n in sorted(flow.shared.items())
        ],
        "audiences": [
            {"name": a, "kind": k, "people": people_in[a]} for a, k in sorted(flow.kinds.items())
        ],
        "edges": [
            {"person": p, "audience": a, "weight": w} for (p, a), w in sorted(flow.weights.items())
        ],
        "bridgers": [{"name": p, "betweenness": round(b, 6)} for p, b in flow.bridgers()],
        "travelled": [t.as_dict() for t in flow.travelled],
    }


# -- SVG ---------------------------------------------------------------------------------


def layout(flow: FlowMap) -> dict[tuple[str, str], tuple[float, float]]:
    """Two columns, audiences left and people right, each ordered by the mean place of
    what it links to (the barycenter heuristic) so that lines cross less. Deterministic
    and pure Python: networkx's own layouts need numpy, which the hub does not."""
    audiences = sorted(flow.kinds, key=lambda a: (KINDS.index(flow.kinds[a]), a))
    people = _by_barycenter(sorted(flow.shared), audiences, flow.weights, person_side=True)
    audiences = _by_barycenter(audiences, people, flow.weights, person_side=False)
    rows = max(len(people), len(audiences), 1)
    height = rows * ROW
    spots: dict[tuple[str, str], tuple[float, float]] = {}
    for column, x, names in (("audience", 320.0, audiences), ("person", 640.0, people)):
        step = height / max(len(names), 1)
        for i, name in enumerate(names):
            spots[(column, name)] = (x, 60 + step * (i + 0.5))
    return spots


def _by_barycenter(
    names: list[str], others: list[str], weights: dict[tuple[str, str], int], person_side: bool
) -> list[str]:
    place = {name: i for i, name in enumerate(others)}
    total: dict[str, float] = defaultdict(float)
    mass: dict[str, float] = defaultdict(float)
    for (person, audience), w in weights.items():
        mine, theirs = (person, audience) if person_side else (audience, person)
        total[mine] += w * place[theirs]
        mass[mine] += w
    return sorted(names, key=lambda n: (total[n] / mass[n] if mass[n] else 0.0, n))


def flow_svg(flow: FlowMap, title: str = "Knowledge flow") -> str:
    """The map as an SVG document: an image with a title and a description saying what it
    shows in words, every node and line with its own <title>; shapes and not only colours
    tell audiences from people, and bridgers from the rest. All text is escaped."""
    spots = layout(flow)
    height = 60 + max(len(flow.shared), len(flow.kinds), 1) * ROW + 40
    svg = etree.Element(
        f"{{{SVG_NS}}}svg",
        {"viewBox": f"0 0 960 {height}", "width": "960", "height": str(height), "role": "img"},
        nsmap={None: SVG_NS},  # type: ignore[dict-item]  # lxml's default namespace key
    )
    svg.set("aria-labelledby", "flow-title flow-desc")
    etree.SubElement(svg, f"{{{SVG_NS}}}title", id="flow-title").text = xml_text(title)
    etree.SubElement(svg, f"{{{SVG_NS}}}desc", id="flow-desc").text = xml_text(describe(flow))
    etree.SubElement(svg, f"{{{SVG_NS}}}rect", width="960", height=str(height), fill="#ffffff")
    _legend(etree.SubElement(svg, f"{{{SVG_NS}}}g", {"class": "legend"}))
    _edges(etree.SubElement(svg, f"{{{SVG_NS}}}g", {"class": "edges"}), flow, spots)
    nodes = etree.SubElement(svg, f"{{{SVG_NS}}}g", {"class": "nodes"})
    for audience, kind in sorted(flow.kinds.items()):
        _audience(nodes, audience, kind, spots[("audience", audience)])
    for person, n in sorted(flow.shared.items()):
        _person(nodes, person, n, flow.betweenness.get(person, 0.0), spots[("person", person)])
    return etree.tostring(svg, encoding="unicode")


def describe(flow: FlowMap) -> str:
    """The map in words, for those who do not see it."""
    bridgers = ", ".join(f"{p} ({b:.2f})" for p, b in flow.bridgers()[:10]) or "none"
    return (
        f"{len(flow.shared)} people sharing to {len(flow.kinds)} audiences "
        f"({len(flow.weights)} links; a line is thicker the more was shared). "
        f"Bridgers, by betweenness: {bridgers}. "
        f"Topics that travelled between audiences: {len(flow.travelled)}."
    )


def _legend(group: etree._Element) -> None:
    x = 24.0
    for kind in KINDS:
        square = {"x": f"{x:.1f}", "y": "18", "width": "12", "height": "12"}
        etree.SubElement(group, f"{{{SVG_NS}}}rect", square, fill=COLOURS[kind])
        _label(group, kind, x + 18, 24, "start")
        x += 130
    etree.SubElement(group, f"{{{SVG_NS}}}circle", _c(x + 6, 24, 6), fill=COLOURS["person"])
    _label(group, "person", x + 18, 24, "start")
    dot = _c(x + 136, 24, 6)
    etree.SubElement(group, f"{{{SVG_NS}}}circle", dot, fill=COLOURS["person"], stroke=BRIDGER)
    group[-1].set("stroke-width", "3")
    _label(group, "◆ bridger (between groups)", x + 148, 24, "start")


def _c(x: float, y: float, r: float) -> dict[str, str]:
    return {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": f"{r:.1f}"}


def _edges(
    group: etree._Element, flow: FlowMap, spots: dict[tuple[str, str], tuple[float, float]]
) -> None:
    for (person, audience), w in sorted(flow.weights.items()):
        (x1, y1), (x2, y2) = spots[("audience", audience)], spots[("person", person)]
        line = etree.SubElement(group, f"{{{SVG_NS}}}line", _xy(x1, y1, x2, y2))
        line.set("stroke", "#8c8c8c")
        line.set("stroke-width", f"{1 + math.log2(w):.2f}")
        etree.SubElement(line, f"{{{SVG_NS}}}title").text = xml_text(
            f"{person} shared {w} to {audience}"
        )


def _audience(group: etree._Element, name: str, kind: str, spot: tuple[float, float]) -> None:
    x, y = spot
    node = etree.SubElement(group, f"{{{SVG_NS}}}g", {"class": f"audience {kind}"})
    etree.SubElement(node, f"{{{SVG_NS}}}title").text = xml_text(f"{kind}: {name}")
    square = {"x": f"{x - 7:.1f}", "y": f"{y - 7:.1f}", "width": "14", "height": "14"}
    etree.SubElement(node, f"{{{SVG_NS}}}rect", square, fill=COLOURS[kind])
    _label(node, name if name == kind else f"{name} ({kind})", x - 12, y, "end")


def _person(
    group: etree._Element, name: str, n: int, between: float, spot: tuple[float, float]
) -> None:
    x, y = spot
    bridger = between > 0
    node = etree.SubElement(
        group, f"{{{SVG_NS}}}g", {"class": "person bridger" if bridger else "person"}
    )
    role = f", bridger (betweenness {between:.2f})" if bridger else ""
    etree.SubElement(node, f"{{{SVG_NS}}}title").text = xml_text(f"{name}: {n} shared{role}")
    circle = {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": f"{4 + min(math.sqrt(n), 8):.1f}"}
    dot = etree.SubElement(node, f"{{{SVG_NS}}}circle", circle, fill=COLOURS["person"])
    if bridger:  # a ring and a mark in the label, not the colour alone
        dot.set("stroke", BRIDGER)
        dot.set("stroke-width", "3")
    _label(node, name + (" ◆" if bridger else ""), x + 16, y, "start")


def _label(node: etree._Element, text: str, x: float, y: float, anchor: str) -> None:
    shown = text if len(text) <= LABEL else text[: LABEL - 1] + "…"
    label = etree.SubElement(node, f"{{{SVG_NS}}}text", _at(x, y + 4), fill="#1a1a1a")
    label.set("text-anchor", anchor)
    label.set("font-family", "sans-serif")
    label.set("font-size", "12")
    label.text = xml_text(shown)


def _xy(x1: float, y1: float, x2: float, y2: float) -> dict[str, str]:
    return {"x1": f"{x1:.1f}", "y1": f"{y1:.1f}", "x2": f"{x2:.1f}", "y2": f"{y2:.1f}"}


def _at(x: float, y: float) -> dict[str, str]:
    return {"x": f"{x:.1f}", "y": f"{y:.1f}"}

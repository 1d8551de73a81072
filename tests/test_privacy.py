"""Private stays private: random vaults with marked private notes, published and
bundled for every audience, and not one marker in any output, by content or by name."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowflow import Index, Vault
from knowflow.share import publish
from knowflow.share.bundle import write_bundle

AUDIENCES = ["public", "team/alpha", "community/beta"]
CONFIG = """\
[share]
base_url = "https://example.org/"

[audiences."team/alpha"]
kind = "team"

[audiences."community/beta"]
kind = "community"
"""


@dataclass
class Plan:
    """One note: who may see it (empty: private), whom it links to, how."""

    share: list[str]
    undefined: bool  # also shared with an audience config does not define
    folder: bool
    links: list[tuple[int, str]]  # (other note, how)


# An attachment that a note the audience sees embeds is shared by that very use, so
# notes here embed only their own attachment (named with their marker).
LINK_KINDS = ["wiki", "alias", "heading", "block", "embed", "embed-heading", "markdown"]

notes = st.lists(
    st.builds(
        Plan,
        share=st.lists(st.sampled_from(AUDIENCES), max_size=2, unique=True),
        undefined=st.booleans(),
        folder=st.booleans(),
        links=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(LINK_KINDS)), max_size=6),
    ),
    min_size=2,
    max_size=8,
)


def marker(n: int) -> str:
    return f"qz{n}mark"


def title(n: int) -> str:
    return f"Note {marker(n)}"


def note_text(n: int, plan: Plan, count: int) -> str:
    m = marker(n)
    share = plan.share + (["team/undefined"] if plan.undefined else [])
    front = [
        "---",
        f"aliases: [alias-{m}]",
        f"tags: [common, tag-{m}]",
        f"secret_field: value-{m}",
    ]
    if share:
        front.append(f"share: [{', '.join(share)}]")
    front.append("---")
    body = [
        f"# {title(n)}",
        "",
        f"Body words {m} and an inline #inline-{m} tag.",
        "",
        f"A block of {m}. ^blk{n}",
        "",
        f"## Heading {m}",
        "",
        f"Section text {m}. %% aside {m} %%",
        "",
        f"![[attachment-{m}.png]]",
        "",
    ]
    for target, how in plan.links:
        target %= count
        if target == n:
            continue
        t, tm = title(target), marker(target)
        body.append(
            {
                "wiki": f"See [[{t}]].",
                "alias": f"See [[alias-{tm}]] and [[{t}|alias-{tm}]].",
                "heading": f"See [[{t}#Heading {tm}]].",
                "block": f"See [[{t}#^blk{target}|a block]].",
                "embed": f"![[{t}]]",
                "embed-heading": f"![[{t}#Heading {tm}]]",
                "markdown": f"[a link]({t.replace(' ', '%20')}.md)",
            }[how]
        )
        body.append("")
    return "\n".join(front + body) + "\n"


def visible(plan: Plan, audience: str) -> bool:
    return "public" in plan.share or audience in plan.share


def outputs(folder: Path) -> str:
    """Every file name and every file's text under folder, as one string."""
    parts = []
    for path in sorted(folder.rglob("*")):
        parts.append(str(path.relative_to(folder)))
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes)
def test_no_marker_of_a_note_an_audience_may_not_see_leaves_the_vault(plans: list[Plan]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        (root / ".knowflow").mkdir(parents=True)
        (root / ".knowflow" / "config.toml").write_text(CONFIG)
        for n, plan in enumerate(plans):
            folder = root / (f"folder-{marker(n)}" if plan.folder else "")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{title(n)}.md").write_text(note_text(n, plan, len(plans)))
            (folder / f"attachment-{marker(n)}.png").write_bytes(b"\x89PNG " + marker(n).encode())
        with Index(Vault.init(root)) as index:
            index.scan()
            for audience in AUDIENCES:
                out = Path(tmp) / "out" / audience.replace("/", "-")
                publish(index, audience, out / "site")
                write_bundle(index, audience, out / "bundle.json")
                text = outputs(out)
                hidden = [marker(n) for n, p in enumerate(plans) if not visible(p, audience)]
                shown = [marker(n) for n, p in enumerate(plans) if visible(p, audience)]
                for m in hidden:
                    assert m not in text, f"{m} (not for {audience}) leaked"
                bundle = json.loads((out / "bundle.json").read_text())
                assert len(bundle["notes"]) == len(shown)
                for m in shown:  # the test would pass vacuously if nothing were published
                    assert f"Body words {m}" in text

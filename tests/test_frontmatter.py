"""Front matter: Obsidian's shapes, other keys kept, bad YAML reported with its line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowflow.vault.frontmatter import (
    front_matter_aliases,
    front_matter_tags,
    parse_front_matter,
    split_front_matter,
)


def test_split_needs_closing_fence() -> None:
    assert split_front_matter("---\na: 1\n---\nbody") == ("a: 1\n", 13, 4)
    assert split_front_matter("---\na: 1\nno close\n")[0] is None
    assert split_front_matter("text\n---\na: 1\n---\n")[0] is None
    assert split_front_matter("---\r\na: 1\r\n...\r\nbody")[0] == "a: 1\r\n"


def test_tags_as_list_or_string() -> None:
    assert front_matter_tags({"tags": ["a", "#b", None, 3]}) == ["a", "b", "3"]
    assert front_matter_tags({"tags": "a, b c"}) == ["a", "b", "c"]
    assert front_matter_tags({"tag": "#single"}) == ["single"]
    assert front_matter_tags({"tags": {"not": "a list"}}) == []


def test_aliases_as_list_or_string() -> None:
    assert front_matter_aliases({"aliases": ["One", "Two"]}) == ["One", "Two"]
    assert front_matter_aliases({"aliases": "One, Two"}) == ["One", "Two"]
    assert front_matter_aliases({"alias": "Old"}) == ["Old"]


def test_other_keys_kept_and_dates_made_plain() -> None:
    fm = parse_front_matter("---\ncreated: 2026-11-27\nrating: 4\nnested: {a: [1, 2]}\n---\n")
    assert fm.error is None
    assert fm.data == {"created": "2026-11-27", "rating": 4, "nested": {"a": [1, 2]}}


def test_invalid_yaml_reports_file_line() -> None:
    fm = parse_front_matter("---\ntitle: ok\nauthor: @someone\n---\nbody")
    assert fm.error and "invalid YAML" in fm.error
    assert fm.error_line == 3
    assert fm.data == {}
    assert fm.body_start == len("---\ntitle: ok\nauthor: @someone\n---\n")


def test_not_a_mapping() -> None:
    fm = parse_front_matter("---\n- a\n- b\n---\n")
    assert fm.error and "list" in fm.error
    assert parse_front_matter("---\njust text\n---\n").error


def test_alias_bomb_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    fm = parse_front_matter("---\n" + "\n".join(lines) + "\n---\n")
    assert fm.error and "too large" in fm.error
    assert fm.data == {}


def test_small_aliases_are_fine() -> None:
    fm = parse_front_matter("---\nbase: &b {x: 1}\nother: *b\n---\n")
    assert fm.error is None and fm.data["other"] == {"x": 1}


def test_recursive_alias_refused() -> None:
    fm = parse_front_matter("---\na: &a [1, *a]\n---\n")
    assert fm.error


SIMPLE_CASES = [
    "tags: [a, b/c, d-e]\naliases: [Some Name]\nshare: public\ncreated: 2026-01-01\n",
    "title: Hello world\nrating: 4\nneg: -12\nzero: 0\n",
    "tags:\n  - one\n  - two/three\nempty:\nafter: x\n",
    "tags: []\n# a comment\n\nkey_with-dash: v.1/2\n",
    "dup: a\ndup: b\n",
    "yes: no\n",
    "on: off\n",
    "t: True\n",
    "n: null\n",
    "v: 1.5\n",
    "v: 010\n",
    "d: 2026-13-45\n",
    "s: a # comment\n",
    "s: 'quoted'\n",
    "s: a: b\n",
    "l: [a, [b]]\n",
    "l: [a, 1]\n",
    "l:\n- a\n- 2\n",
    "x: y\n  continued\n",
    "emoji: café crème\n",
    "when: 2026-01-01 10:00:00\n",
]


@pytest.mark.parametrize("text", SIMPLE_CASES)
def test_simple_reader_agrees_with_yaml(text: str) -> None:
    import yaml

    from knowflow.vault.frontmatter import _plain, parse_simple

    simple = parse_simple(text)
    if simple is None:
        return  # left to YAML
    expected = {str(k): _plain(v) for k, v in (yaml.safe_load(text) or {}).items()}
    assert simple == expected


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
        st.one_of(
            st.from_regex(r"[A-Za-z][A-Za-z0-9 ./-]{0,12}", fullmatch=True),
            st.integers(-1000, 1000),
            st.lists(st.from_regex(r"[a-z][a-z0-9/-]{0,8}", fullmatch=True), max_size=4),
        ),
        max_size=6,
    )
)
def test_simple_reader_agrees_with_yaml_generated(data: dict[str, object]) -> None:
    import yaml

    from knowflow.vault.frontmatter import _plain, parse_simple

    lines = []
    for key, value in data.items():
        if isinstance(value, list):
            lines.append(f"{key}: [{', '.join(value)}]")
        else:
            lines.append(f"{key}: {value}")
    text = "\n".join(lines) + "\n"
    simple = parse_simple(text)
    if simple is not None:
        expected = {str(k): _plain(v) for k, v in (yaml.safe_load(text) or {}).items()}
        assert simple == expected, text


def test_simple_reader_takes_the_common_shapes() -> None:
    from knowflow.vault.frontmatter import parse_simple

    assert parse_simple(SIMPLE_CASES[0]) == {
        "tags": ["a", "b/c", "d-e"],
        "aliases": ["Some Name"],
        "share": "public",
        "created": "2026-01-01",
    }
    assert parse_simple(SIMPLE_CASES[2]) == {
        "tags": ["one", "two/three"],
        "empty": None,
        "after": "x",
    }
    for text in SIMPLE_CASES[5:]:
        if text.startswith(("emoji", "dup")):
            continue
        assert parse_simple(text) is None, text

"""Front matter: Obsidian's shapes, other keys kept, bad YAML reported with its line."""

from __future__ import annotations

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

"""Bad input is reported by check with file and line, still indexed, and never modified."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from pathlib import Path

from knowflow import Index, Vault
from knowflow.sense import check, search

from .conftest import fingerprint, run_unprivileged

Build = Callable[[dict[str, str | bytes]], Index]

BOMB = (
    "---\n"
    + 'a: &a ["l","l","l","l","l","l","l","l","l"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8)
    )
    + "---\nbomb body\n"
)


def findings(index: Index) -> list[tuple[str, str, int | None]]:
    return [(f.kind, f.path, f.line) for f in check(index)]


def test_every_bad_input_is_reported_and_nothing_modified(
    make_vault: Callable[[dict[str, str | bytes]], Vault],
) -> None:
    big = ("# Big\n" + "lorem ipsum dolor sit amet [[Good]]\n" * 1_500_000).encode()
    assert len(big) > 50 * 1024 * 1024
    vault = make_vault(
        {
            "Good.md": "# Good\nfine note",
            "at-sign.md": "---\ntitle: x\nauthor: @someone\n---\natsign body [[Good]]\n",
            "list-fm.md": "---\n- one\n- two\n---\nlistfm body\n",
            "latin1.md": "# Latin\nline two\ncaf\xe9 latinbody\n".encode("latin-1"),
            "binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "big.md": big,
            "bomb.md": BOMB,
            "Case.md": "one",
            "case.md": "two",
            unicodedata.normalize("NFC", "Résumé.md"): "nfc",
            unicodedata.normalize("NFD", "Résumé.md"): "nfd",
        }
    )
    root = vault.root
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root / "loop")
    (root / "self.md").symlink_to(root / "self.md")
    before = fingerprint(root)
    with Index(vault) as index:
        report = index.scan()
        got = findings(index)
        assert report.added == 11
        assert ("malformed-front-matter", "at-sign.md", 3) in got
        assert ("malformed-front-matter", "list-fm.md", 1) in got
        assert ("invalid-encoding", "latin1.md", 3) in got
        assert ("binary", "binary.md", 3) in got  # the line of its first NUL byte
        assert ("too-large", "big.md", None) in got
        assert ("malformed-front-matter", "bomb.md", 1) in got
        assert ("symlink-loop", "loop/again", None) in got
        assert ("symlink-loop", "self.md", None) in got
        collisions = {p for k, p, _ in got if k == "name-collision"}
        assert collisions == {
            "Case.md",
            "case.md",
            unicodedata.normalize("NFC", "Résumé.md"),
            unicodedata.normalize("NFD", "Résumé.md"),
        }
        assert len(got) == 12
        # still indexed as well as possible: bodies searchable, names resolvable
        for word, path in [
            ("atsign", "at-sign.md"),
            ("listfm", "list-fm.md"),
            ("latinbody", "latin1.md"),
            ("bomb", "bomb.md"),
        ]:
            assert [h.path for h in search(index, word)] == [path]
        assert index.note("binary").path == "binary.md"
        assert index.note("big").path == "big.md"
        assert index.scan().added == 0
    assert fingerprint(root) == before


def test_one_bad_note_does_not_stop_the_rest(indexed: Build) -> None:
    files: dict[str, str | bytes] = {f"n{i}.md": f"good{i}" for i in range(10)}
    files["bad.md"] = "---\n: : :\n---\n"
    index = indexed(files)
    assert index.count() == 11
    assert [h.path for h in search(index, "good7")] == ["n7.md"]


def test_unreadable_file_is_reported(make_vault: Callable[[dict[str, str | bytes]], Vault]) -> None:
    vault = make_vault({"ok.md": "fine", "secret.md": "hidden words"})
    (vault.root / "secret.md").chmod(0)
    try:
        result = run_unprivileged(["--vault", str(vault.root), "check", "--json"])
    finally:
        (vault.root / "secret.md").chmod(0o644)
    assert result.returncode == 1, result.stderr
    assert '"kind": "unreadable"' in result.stdout and '"path": "secret.md"' in result.stdout
    # once readable again, the next scan indexes it and the problem is gone
    with Index(vault) as index:
        index.scan()
        assert findings(index) == []
        assert [h.path for h in search(index, "hidden")] == ["secret.md"]


def test_fifo_named_md_is_not_read(make_vault: Callable[[dict[str, str | bytes]], Vault]) -> None:
    vault = make_vault({"ok.md": "fine"})
    os.mkfifo(vault.root / "pipe.md")
    with Index(vault) as index:
        index.scan()
        assert findings(index) == [("unreadable", "pipe.md", None)]


def test_dangling_symlink_note(make_vault: Callable[[dict[str, str | bytes]], Vault]) -> None:
    vault = make_vault({"ok.md": "fine"})
    (vault.root / "dangling.md").symlink_to(vault.root / "nowhere.md")
    with Index(vault) as index:
        index.scan()
        assert findings(index) == [("unreadable", "dangling.md", None)]


def test_check_lists_exactly_unresolved_and_malformed(indexed: Build) -> None:
    index = indexed(
        {
            "a.md": "[[b]] [[missing]]\n\n![[gone.png]]\n[x](nothere.md) [w](https://x.org)",
            "b.md": "---\nbad: [unclosed\n---\n# B\n[[a#Heading]]",
            "c.md": "%% [[hidden]] %%\n`[[code]]`",
        }
    )
    got = [(f.kind, f.path, f.line, f.target) for f in check(index)]
    assert got == [
        ("unresolved-link", "a.md", 1, "missing"),
        ("unresolved-link", "a.md", 3, "gone.png"),
        ("unresolved-link", "a.md", 4, "nothere.md"),
        ("malformed-front-matter", "b.md", 3, None),
        ("missing-heading", "b.md", 5, "a#Heading"),
    ]
    Path(index.vault.root / "missing.md").write_text("now here")
    index.scan()
    assert [f.target for f in check(index)] == ["gone.png", "nothere.md", None, "a#Heading"]


def test_check_kinds_are_the_documented_ones(indexed: Build) -> None:
    from knowflow.sense.check import KINDS

    index = indexed({"a.md": "[[gone]]", "b.md": b"\x00binary", "c.md": "---\n[\n---\n"})
    kinds = {f.kind for f in check(index)}
    assert kinds == {"unresolved-link", "binary", "malformed-front-matter"}
    assert kinds <= set(KINDS)

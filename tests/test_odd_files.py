"""Odd files and what each part of knowflow makes of them, all alike: a byte order
mark, old Mac line breaks, NUL bytes, invalid UTF-8, names that differ only in case
or Unicode form, empty front matter, symlinks that lead out of the vault."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from knowflow import Index, KnowflowError
from knowflow.share import publish
from knowflow.share.bundle import bundle
from knowflow.share.edit import share_note, unshare_note

from .conftest import cli_in

Build = Callable[[dict[str, str | bytes]], Index]
BOM = b"\xef\xbb\xbf"


def site_text(out: Path) -> str:
    """Every file of a published site, as one text to search."""
    return "\n".join(p.read_text("utf-8", "replace") for p in out.rglob("*") if p.is_file())


def test_a_note_starting_with_a_bom_is_read_alike_by_index_publish_and_share(
    indexed: Build, tmp_path: Path
) -> None:
    index = indexed({"bom.md": BOM + b"---\nshare: public\ntags: [x]\n---\nSecret-ish body\n"})
    path = index.vault.root / "bom.md"
    publish(index, "public", tmp_path / "site")
    assert "Secret-ish body" in site_text(tmp_path / "site")
    assert "share: public" not in site_text(tmp_path / "site")  # front matter is no text
    run = cli_in(index.vault.root)
    assert "shared with nobody (private)" in run("unshare", "bom")
    assert path.read_bytes() == BOM + b"---\ntags: [x]\n---\nSecret-ish body\n"
    run("publish", "--audience", "public", "--out", str(tmp_path / "site"))
    assert "Secret-ish body" not in site_text(tmp_path / "site")
    run("share", "bom", "public")
    assert path.read_bytes() == BOM + b"---\ntags: [x]\nshare: public\n---\nSecret-ish body\n"
    # a BOM and no front matter: the block goes after the mark, which stays first
    bare = index.vault.root / "bare.md"
    bare.write_bytes(BOM + b"# Bare\n")
    run("share", "bare", "public")
    assert bare.read_bytes() == BOM + b"---\nshare: public\n---\n# Bare\n"
    run("unshare", "bare")
    assert bare.read_bytes() == BOM + b"# Bare\n"


def test_old_mac_line_breaks_are_front_matter_for_share_too(indexed: Build) -> None:
    index = indexed({"mac.md": b"---\rshare: public\rtype: note\r---\rBody\r"})
    assert index.conn.execute("SELECT audience FROM shares").fetchall() == [("public",)]
    path = index.vault.root / "mac.md"
    assert unshare_note(index.vault, path).before == ["public"]
    assert path.read_bytes() == b"---\rtype: note\r---\rBody\r"


def test_an_empty_front_matter_block_survives_a_share_and_unshare(indexed: Build) -> None:
    originals = {"empty.md": b"---\n---\nBody\n", "crlf.md": b"---\r\n---\r\nBody\r\n"}
    index = indexed(dict(originals))
    for name, original in originals.items():
        path = index.vault.root / name
        share_note(index.vault, path, ["public"])
        share_note(index.vault, path, ["public"])  # again: nothing to do
        assert b"share: public" in path.read_bytes()
        unshare_note(index.vault, path)
        assert path.read_bytes() == original
    # a note that had no front matter still gets back to having none
    bare = index.vault.root / "bare.md"
    bare.write_text("Body\n")
    share_note(index.vault, bare, ["public"])
    unshare_note(index.vault, bare)
    assert bare.read_text() == "Body\n"


def test_a_nul_byte_in_a_shared_note_is_said_in_check_and_publish(
    indexed: Build, tmp_path: Path
) -> None:
    index = indexed({"nul.md": b"---\nshare: public\n---\nText with a \x00 in it\n", "ok.md": "x"})
    run = cli_in(index.vault.root)
    found = json.loads(run("check", "--json", code=1))
    (problem,) = [f for f in found if f["path"] == "nul.md"]
    assert problem["kind"] == "binary" and problem["line"] == 4
    assert "share: public" in problem["message"] and "not published" in problem["message"]
    report = json.loads(
        run("publish", "--audience", "public", "--out", str(tmp_path / "s"), "--json")
    )
    assert report["notes"] == 0
    assert any("nul.md" in w and "NUL byte" in w for w in report["warnings"])
    private = index.vault.root / "private.md"
    private.write_bytes(b"---\nshare: private\n---\n\x00")
    report = json.loads(
        run("publish", "--audience", "public", "--out", str(tmp_path / "s"), "--json")
    )
    assert not any("private.md" in w for w in report["warnings"])


def test_an_exact_path_names_one_note_among_names_that_differ_in_case_or_form(
    indexed: Build,
) -> None:
    nfc, nfd = (unicodedata.normalize(f, "Résumé.md") for f in ("NFC", "NFD"))
    index = indexed({"Case.md": "one", "case.md": "two", nfc: "nfc", nfd: "nfd"})
    run = cli_in(index.vault.root)
    assert "Case.md: shared with public" in run("share", "Case.md", "public")
    assert "case.md: shared with public" in run("share", "case", "public")
    assert (index.vault.root / "Case.md").read_text() == "---\nshare: public\n---\none"
    run("share", nfd, "public")
    assert (index.vault.root / nfd).read_text().startswith("---\nshare: public")
    assert (index.vault.root / nfc).read_text() == "nfc"
    assert "names 2 notes" in run("share", "CASE", "public", code=3)


def test_share_on_invalid_utf8_keeps_the_bytes_or_names_the_file(indexed: Build) -> None:
    index = indexed(
        {
            "latin.md": b"---\ntags: [a]\n---\nCaf\xe9 au lait\n",
            "badfront.md": b"---\ntitle: Caf\xe9\n---\nBody\n",
        }
    )
    run = cli_in(index.vault.root)
    run("share", "latin", "public")
    latin = index.vault.root / "latin.md"
    assert latin.read_bytes() == b"---\ntags: [a]\nshare: public\n---\nCaf\xe9 au lait\n"
    run("unshare", "latin")
    assert latin.read_bytes() == b"---\ntags: [a]\n---\nCaf\xe9 au lait\n"
    out = run("share", "badfront", "public", code=2)
    assert "badfront.md:2" in out and "not valid UTF-8" in out
    assert (index.vault.root / "badfront.md").read_bytes() == b"---\ntitle: Caf\xe9\n---\nBody\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the vault, holding what a symlink in the vault may lead to."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "diary.md").write_text("---\nshare: public\n---\nMy diary, never to publish\n")
    (folder / "key.png").write_bytes(b"\x89PNG secret key")
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.md").write_text("---\nshare: public\n---\nInner private words\n")
    return folder


def test_symlinks_leading_out_of_the_vault_are_not_published(
    indexed: Build, tmp_path: Path, outside: Path
) -> None:
    index = indexed(
        {"Home.md": "---\nshare: public\n---\nHome ![[diary]] ![[key.png]] [[inner]]\n"}
    )
    root = index.vault.root
    (root / "diary.md").symlink_to(outside / "diary.md")
    (root / "key.png").symlink_to(outside / "key.png")
    (root / "linked").symlink_to(outside / "sub")
    (root / "inside.md").write_text("---\nshare: public\n---\nInside words\n")
    (root / "alias.md").symlink_to(root / "inside.md")  # a link within the vault is fine
    index.scan()
    site = tmp_path / "site"
    report = publish(index, "public", site)
    text = site_text(site)
    assert "My diary" not in text and "Inner private words" not in text
    assert "secret key" not in text and not list(site.rglob("key*"))
    assert "Inside words" in text and report.notes == 3  # Home, inside, alias
    assert "My diary" not in json.dumps(bundle(index, "public"))
    found = json.loads(cli_in(root)("check", "--json", code=1))
    assert {(f["kind"], f["path"]) for f in found if f["kind"] == "outside-vault"} == {
        ("outside-vault", "diary.md"),
        ("outside-vault", "key.png"),
        ("outside-vault", "linked"),
    }
    # the search index still knows them: they are the person's notes, only not published
    assert (
        "My diary" in index.conn.execute("SELECT group_concat(body) FROM notes_fts").fetchone()[0]
    )
    config = root / ".knowflow" / "config.toml"
    config.write_text(config.read_text() + "\n[share]\npublish_outside_vault = true\n")
    publish(index, "public", site)
    assert "My diary" in site_text(site) and "Inner private words" in site_text(site)
    said = json.loads(cli_in(root)("check", "--json", code=1))
    outside_said = [f["message"] for f in said if f["kind"] == "outside-vault"]
    assert len(outside_said) == 3 and all("published, as" in m for m in outside_said)
    assert not any("set publish_outside_vault" in m for m in outside_said)


def test_share_edits_through_a_symlink_and_keeps_it(
    indexed: Build, outside: Path, tmp_path: Path
) -> None:
    index = indexed({"inside.md": "---\ntags: [a]\n---\nInside\n"})
    root = index.vault.root
    (root / "diary.md").symlink_to(outside / "diary.md")
    (root / "alias.md").symlink_to(root / "inside.md")
    index.scan()
    run = cli_in(root)
    run("share", "alias", "public")
    assert (root / "alias.md").is_symlink()
    assert (root / "inside.md").read_text() == "---\ntags: [a]\nshare: public\n---\nInside\n"
    out = run("unshare", "diary")
    assert "outside the vault" not in out  # nothing to warn of: it is private now
    assert (root / "diary.md").is_symlink()
    assert (outside / "diary.md").read_text() == "My diary, never to publish\n"
    out = run("share", "diary", "public")
    assert "outside the vault" in out and "publish_outside_vault" in out
    assert (root / "diary.md").is_symlink()


def test_publish_into_a_symlinked_folder_keeps_the_link(indexed: Build, tmp_path: Path) -> None:
    index = indexed({"a.md": "---\nshare: public\n---\nA\n"})
    real = tmp_path / "served"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    publish(index, "public", link)
    publish(index, "public", link)
    assert link.is_symlink() and (real / "a.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "vault") == ["link", "served"]


def test_a_note_that_turns_into_a_link_out_is_not_read_with_no_scan(
    indexed: Build, outside: Path, tmp_path: Path
) -> None:
    index = indexed({"note.md": "---\nshare: public\n---\nOrdinary\n"})
    note = index.vault.root / "note.md"
    note.unlink()
    note.symlink_to(outside / "diary.md")
    with pytest.raises(KnowflowError, match="outside the vault"):
        publish(index, "public", tmp_path / "site")
    assert not (tmp_path / "site").exists()

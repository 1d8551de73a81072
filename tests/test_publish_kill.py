"""kill -9 during `knowflow publish`, at random moments and at injected points: DIR
holds a whole site after every kill (the old one or the new one, never a mix, never
none), and the next publish ends exactly as one clean run, with nothing left behind.
On a file system that cannot exchange two folders in one step, a kill between the
two renames that take its place leaves the old site whole beside DIR instead, and the
next publish puts it back before anything else.

Injected points are named by KNOWFLOW_CRASH_AT (see knowflow.vault.files.crash_point):
``publish-built`` (the new site built, not yet in place), ``publish-swapped`` (in
place, the old one not yet deleted), ``publish-between-renames`` (where the file
system cannot exchange two folders: DIR moved aside, the new site not yet renamed in).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from knowflow import Vault

# The same command with the atomic exchange made unavailable, as on a file system
# that cannot do it: the swap then takes two renames.
NO_EXCHANGE = (
    "import errno, sys\n"
    "import knowflow.share.swap as swap\n"
    "def cannot(a, b):\n"
    "    raise OSError(errno.EINVAL, 'no exchange here')\n"
    "swap._exchange = cannot\n"
    "from knowflow.cli.main import cli\n"
    "cli(sys.argv[1:], prog_name='knowflow')\n"
)


def _make_vault(root: Path, count: int) -> None:
    rng = random.Random(11)
    words = ["seek", "sense", "share", "team", "community", "network", "note", "link", "tag"]
    for i in range(count):
        share = "share: public\n" if i % 5 else ""
        body = " ".join(rng.choice(words) for _ in range(120))
        links = " ".join(f"[[n{rng.randrange(count)}]]" for _ in range(4))
        text = f"---\n{share}tags: [t{i % 6}]\n---\n# Note {i}\n{body}\n{links} ![[n{i // 2}]]\n"
        (root / f"n{i}.md").write_text(text)
        os.utime(root / f"n{i}.md", (1_700_000_000 + i * 60,) * 2)
    Vault.init(root)


def _change(root: Path) -> None:
    """What happens to the vault between the first publish and the one that is killed."""
    for i in (1, 2, 3, 40, 77):
        note = root / f"n{i}.md"
        note.write_text(note.read_text().replace("# Note", "# Changed note"))
        os.utime(note, (1_800_000_000 + i,) * 2)
    (root / "n6.md").write_text("---\nshare: private\n---\nNo longer shared\n")
    os.utime(root / "n6.md", (1_800_000_100,) * 2)


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _publish(place: Path, exchange: bool = True) -> list[str]:
    start = [sys.executable, "-m", "knowflow"] if exchange else [sys.executable, "-c", NO_EXCHANGE]
    args = ["--vault", str(place / "vault"), "publish", "--audience", "public"]
    return [*start, *args, "--out", str(place / "site")]


def _leftovers(place: Path) -> list[str]:
    stray = [p.name for p in place.iterdir() if p.name not in ("site", "vault")]
    state = place / "vault" / ".knowflow"
    stray += [p.name for p in state.iterdir() if p.name.endswith((".new", ".tmp"))]
    return stray


def test_killed_publishes_leave_a_whole_site_and_finish_as_one_clean_run(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    (pristine / "vault").mkdir(parents=True)
    _make_vault(pristine / "vault", 150)
    assert subprocess.run(_publish(pristine), capture_output=True).returncode == 0
    old_site = _tree(pristine / "site")
    _change(pristine / "vault")

    clean = tmp_path / "clean"
    shutil.copytree(pristine, clean, symlinks=True)
    started = time.perf_counter()
    assert subprocess.run(_publish(clean), capture_output=True).returncode == 0
    took = time.perf_counter() - started
    new_site = _tree(clean / "site")
    assert new_site != old_site

    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    plans: list[tuple[str | None, bool]] = [(None, True)] * 4 + [(None, False)]
    plans += [("publish-built", True), ("publish-swapped", True)]
    plans += [("publish-between-renames", False)]
    killed = 0
    for attempt, (point, exchange) in enumerate(plans):
        place = tmp_path / f"attempt{attempt}"
        shutil.copytree(pristine, place, symlinks=True)
        for _ in range(2):  # two kills in a row, then a run to the end
            env = dict(os.environ)
            if point:
                env["KNOWFLOW_CRASH_AT"] = point
            proc = subprocess.Popen(
                _publish(place, exchange=exchange),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if point is None:
                time.sleep(rng.uniform(0.05, 1.0) * took)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            code = proc.wait()
            killed += code in (-signal.SIGKILL, 137)
            if point:
                assert code == 137, (point, proc.stderr.read() if proc.stderr else "")
            site = _tree(place / "site")
            if not exchange and not (place / "site").exists():
                # Only without an exchange, and only between its two renames: the old
                # site is whole beside DIR, where the next publish takes it back from.
                (aside,) = place.glob(".site.old-*")
                site = _tree(aside)
            assert site in (old_site, new_site), f"seed {seed}, {point}: no whole site in DIR"
        again = subprocess.run(_publish(place, exchange=exchange), capture_output=True, text=True)
        assert again.returncode == 0, (seed, point, again.stderr)
        assert _tree(place / "site") == new_site, (seed, point)
        assert _leftovers(place) == [], (seed, point)
        shutil.rmtree(place)
    assert killed >= 6, f"seed {seed}: publishes finished too fast to be interrupted"

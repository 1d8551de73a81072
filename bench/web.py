"""The local app's three benchmarks, one after the other (never two at once on this
2-core machine), each printing its own figures:

    python bench/web.py

- bench/web_note.py: a note with 200 backlinks in a 10,000-note vault (target p95 <= 100 ms)
- bench/web_read.py: the Read page with 10,000 entries (target p95 <= 150 ms)
- bench/web_graph.py: the whole-vault graph at 10,000 notes in Chromium (time to first draw)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    failed = []
    for name in ("web_note.py", "web_read.py", "web_graph.py"):
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / name)]).returncode:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()

"""The ``knowflow`` command: a thin layer over the Python API.

Exit codes: 0 done; 1 nothing found (search) or problems found (check);
2 bad usage; 3 no such vault or note; 4 a file changed on disk or would be
overwritten, so nothing was written.
"""

from knowflow.cli.main import cli, main

__all__ = ["cli", "main"]

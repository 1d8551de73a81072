"""Run the CLI as ``python -m knowflow``."""

from knowflow.cli import main

main()

"""Moments named on the command line: every option takes the same forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowflow.errors import KnowflowError
from knowflow.when import EARLIEST, moment

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("12h", NOW - dt.timedelta(hours=12)),
        ("7d", NOW - dt.timedelta(days=7)),
        (" 2w ", NOW - dt.timedelta(weeks=2)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T08:30+01:00", dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC)),
        ("99999999d", EARLIEST),  # longer than the calendar: since ever, not a crash
        ("100000000h", EARLIEST),
        ("9999999w", EARLIEST),
    ],
)
def test_forms(text: str, expected: dt.datetime) -> None:
    assert moment(text, NOW) == expected


def test_anything_else_names_the_option_and_the_forms() -> None:
    with pytest.raises(KnowflowError, match=r"--before takes 30m, 12h, 7d, 2w or a date"):
        moment("soon", NOW, option="--before")


def test_stream_and_digest_take_every_form(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from knowflow import Vault
    from knowflow.cli import cli

    cli_vault = Vault.init(tmp_path / "v").root
    runner = CliRunner()
    for args in (
        ["stream", "--since", "99999999d"],
        ["stream", "--since", "2w"],
        ["digest", "--since", "12h"],
        ["digest", "--since", "9999999w"],
    ):
        result = runner.invoke(cli, ["--vault", str(cli_vault), *args])
        assert result.exit_code in (0, 1, 4), (args, result.output)  # 4: drafted already
        assert result.exception is None or isinstance(result.exception, SystemExit), args

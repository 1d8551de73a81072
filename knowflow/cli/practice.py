"""``knowflow practice``: one's own seek, sense and share habits over a period."""

from __future__ import annotations

import click

from knowflow.cli.common import Context, json_option
from knowflow.practice import FOCUSES, PERIODS, Report, practice_report, set_focus, sparkline
from knowflow.practice.report import report_json


@click.command(name="practice")
@click.option(
    "--period", type=click.Choice(PERIODS), default="month", show_default=True,
    help="The period, cut into days (week), weeks (month) or months (year).",
)  # fmt: skip
@click.option(
    "--focus",
    type=click.Choice(list(FOCUSES)),
    help="Pick what to work on from now on; its indicators come first.",
)
@json_option
@click.pass_obj
def practice_cmd(obj: Context, period: str, focus: str | None, as_json: bool) -> None:
    """Indicators of your own practice over time, from the activity log and the index:
    seek, sense, share and balance, each with a sparkline and its trend.

    It says what you did, never how you measure up; none of it leaves the vault."""
    with obj.state() as conn, obj.index() as index:
        if focus:
            set_focus(conn, focus)
        report = practice_report(index, conn, period=period)
    if as_json:
        click.echo(report_json(report))
        return
    click.echo(render(report))


def render(report: Report) -> str:
    """The report as text for a terminal: a line per indicator with its sparkline."""
    lines = [
        f"Practice, {report.period} from {report.since[:10]} to {report.until[:10]}"
        f" ({report.buckets[0]} … {report.buckets[-1]})"
    ]
    if not report.focus:
        lines.append(f"No focus picked (knowflow practice --focus {'|'.join(FOCUSES)})")
    for signal in report.signals:
        lines.append(f"! {signal}")
    width = max((len(i.label) for s in report.sections for i in s.indicators), default=10)
    for section in report.sections:
        lines += ["", section.title]
        for ind in section.indicators:
            spark = sparkline(ind.series) if ind.series else ""
            value = f"{ind.total:g}"
            trend = "" if ind.trend in ("none", "steady") or not ind.series else f" {ind.trend}"
            lines.append(f"  {ind.label:<{width}}  {spark:<12} {value:>7}{trend}")
            if ind.items:
                lines.append(f"  {'':<{width}}  {', '.join(ind.items)}")
    return "\n".join(lines)

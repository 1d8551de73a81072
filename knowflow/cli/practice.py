"""``knowflow practice``: one's own seek, sense and share habits over a period."""

from __future__ import annotations

import click

from knowflow.cli.common import Context, json_option
from knowflow.practice import FOCUSES, PERIODS, Report, practice_report, set_focus, sparkline
from knowflow.practice.report import NO_FOCUS, WINDOWS, report_json


@click.command(name="practice")
@click.option(
    "--period", type=click.Choice(PERIODS), default="month", show_default=True,
    help="The window ending today: the last 7 days by day (week), the last 5 weeks by"
    " week (month), the last 12 months by month (year).",
)  # fmt: skip
@click.option(
    "--focus",
    type=click.Choice([*FOCUSES, NO_FOCUS]),
    help="Pick what to work on from now on; its indicators come first (none: no focus).",
)
@json_option
@click.pass_obj
def practice_cmd(obj: Context, period: str, focus: str | None, as_json: bool) -> None:
    """Indicators of your own practice over time, from the activity log and the index:
    seek, sense, share and balance, each with a sparkline and its trend, and the
    experiments whose look-back date has come.

    A note counts as written or edited when its content changed between two looks
    (not when its file time did); the first look at a vault is its starting point.
    It says what you did, never how you measure up; none of it leaves the vault."""
    with obj.state() as conn, obj.index() as index:
        if focus:
            set_focus(conn, focus)
        report = practice_report(index, conn, period=period)
    if as_json:
        click.echo(report_json(report))
        return
    click.echo(render(report))


def _value(total: float | None, measure: str) -> str:
    if total is None:
        return "—"
    return f"now {total:g}" if measure == "now" else f"{total:g}"


def render(report: Report) -> str:
    """The report as text for a terminal: a line per indicator with its sparkline."""
    lines = [
        f"Practice over {WINDOWS[report.period]}: {report.since[:10]} to {report.until[:10]}"
        f" ({report.buckets[0]} … {report.buckets[-1]}, the last so far)",
        'Each number is the sum of its chart, except "now" (a count as things stand)'
        " and evenness, shares and ratios (over the whole window; — where undefined).",
    ]
    if not report.focus:
        choices = "|".join([*FOCUSES, NO_FOCUS])
        lines.append(f"No focus picked (knowflow practice --focus {choices})")
    for hint in report.hints:
        lines.append(hint)
    for signal in report.signals:
        lines.append(f"! {signal}")
    if report.look_backs:
        lines += ["", "Experiments to look back on (what was learned?)"]
        for due in report.look_backs:
            lines.append(f"  {due['path']}  (look back on {due['look_back']})")
    width = max((len(i.label) for s in report.sections for i in s.indicators), default=10)
    for section in report.sections:
        lines += ["", section.title]
        for ind in section.indicators:
            spark = sparkline(ind.series) if ind.series else ""
            value = _value(ind.total, ind.measure)
            trend = "" if ind.trend in ("none", "steady") or not ind.series else f" {ind.trend}"
            lines.append(f"  {ind.label:<{width}}  {spark:<12} {value:>7}{trend}")
            if ind.items:
                lines.append(f"  {'':<{width}}  {', '.join(ind.items)}")
    return "\n".join(lines)

"""The practice page: one's own seek, sense and share indicators over a period, each
as a small chart drawn here (SVG, no script) with a table of the same numbers beside
it, and the focus the person picks. Nothing on it leaves the vault."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError
from knowflow.practice import FOCUSES, PERIODS, Indicator, Report, practice_report, set_focus
from knowflow.practice.report import NO_FOCUS
from knowflow.seek.state import open_state
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import page

WIDTH, HEIGHT, PAD = 160, 40, 2


@contextmanager
def _state(request: Request) -> Iterator[sqlite3.Connection]:
    conn = open_state(vault_of(request))
    try:
        yield conn
    finally:
        conn.close()


def chart(indicator: Indicator, labels: list[str]) -> Markup:
    """A bar chart of the indicator's series as SVG: classes, no style attributes."""
    values = indicator.series
    top = max((v for v in values if v is not None), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(values), 1)
    bars = []
    for n, value in enumerate(values):
        if value is None:
            continue  # undefined there (nothing kept, say): no bar, "—" in the table
        h = max(value, 0) / top * (HEIGHT - 2 * PAD)
        x = PAD + n * step
        y = HEIGHT - PAD - h
        bars.append(
            f'<rect class="practice-bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}"'
            f' height="{max(h, 0.5):.1f}"><title>{escape(labels[n])}: {value:g}</title></rect>'
        )
    label = f"{indicator.label}, {indicator.trend}: chart of the table beside it"
    return Markup(
        f'<svg class="practice-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}"'
        f' height="{HEIGHT}" role="img" aria-label="{escape(label)}">'
        f'<line class="practice-axis" x1="0" y1="{HEIGHT - PAD}" x2="{WIDTH}"'
        f' y2="{HEIGHT - PAD}"></line>{"".join(bars)}</svg>'
    )


@dataclass
class _Row:
    indicator: Indicator
    chart: Markup | None


def _report(request: Request, period: str) -> Report:
    with _state(request) as conn, open_index(request) as index:
        return practice_report(index, conn, period=period)


async def practice_page(request: Request) -> Response:
    period = request.query_params.get("period", "month")
    if period not in PERIODS:
        period = "month"
    report = await run_in_threadpool(_report, request, period)
    sections = [
        (s, [_Row(i, chart(i, report.buckets) if i.series else None) for i in s.indicators])
        for s in report.sections
    ]
    return page(
        request,
        "practice.html",
        section="practice",
        title="Practice",
        report=report,
        sections=sections,
        periods=PERIODS,
        focuses=[(key, words) for key, (words, _) in FOCUSES.items()] + [(NO_FOCUS, "no focus")],
        done=request.query_params.get("done", ""),
        error=request.query_params.get("error", ""),
    )


def _set(request: Request, focus: str) -> str | None:
    with _state(request) as conn:
        return set_focus(conn, focus)


async def focus_post(request: Request) -> Response:
    form = await request.form()
    period = str(form.get("period", "month"))
    period = period if period in PERIODS else "month"
    try:
        key = await run_in_threadpool(_set, request, str(form.get("focus", "")))
    except KnowflowError as exc:
        query = urlencode({"period": period, "error": str(exc)[:200]})
        return RedirectResponse(f"/practice?{query}", 303)
    done = f"Focus: {FOCUSES[key][0]}" if key else "No focus now"
    query = urlencode({"period": period, "done": done})
    return RedirectResponse(f"/practice?{query}", 303)


routes: list[BaseRoute] = [
    Route("/practice", practice_page),
    Route("/practice/focus", focus_post, methods=["POST"]),
]

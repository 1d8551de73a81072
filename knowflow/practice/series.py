"""What every indicator is made of: a value per bucket of the period (local days,
weeks or months), the period's value, a trend, and the buckets themselves."""

from __future__ import annotations

import datetime as dt
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowflow.errors import KnowflowError

PERIODS = ("week", "month", "year")
KINDS = ("team", "community", "network")
SPARKS = "▁▂▃▄▅▆▇█"
UNDEFINED = "·"  # a bucket where the indicator means nothing (no item to be even among)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Indicator:
    """One indicator: a value per bucket, the period's value and the trend."""

    key: str
    label: str
    series: list[float | None]
    total: float | None
    trend: str = "steady"  # rising, falling, steady or none (nothing, or undefined)
    items: list[str] = field(default_factory=list)  # what it names (sources, say)
    about: str = ""  # how it is counted
    measure: str = "sum"  # sum: the chart's sum; now: a count today; whole: over the period

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "series": self.series,
            "total": self.total,
            "trend": self.trend,
            "items": self.items,
            "about": self.about,
            "measure": self.measure,
        }


@dataclass
class Section:
    name: str
    title: str
    indicators: list[Indicator]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "indicators": [i.as_dict() for i in self.indicators],
        }


def sparkline(values: list[float | None]) -> str:
    """``▁▂▃▄▅▆▇█``, one character a value, the highest the tallest; ``·`` where a
    value is undefined."""
    top = max((v for v in values if v is not None), default=0)
    out = []
    for v in values:
        if v is None:
            out.append(UNDEFINED)
        elif top <= 0:
            out.append(SPARKS[0])
        else:
            out.append(SPARKS[min(7, round(max(v, 0) / top * 7))])
    return "".join(out)


def local_day(moment: dt.datetime) -> dt.date:
    """The person's own date of a moment (the machine's local time zone)."""
    return moment.astimezone().date()


def _midnight(day: dt.date) -> dt.datetime:
    """Local midnight of ``day``, aware (with that day's own UTC offset)."""
    return dt.datetime.combine(day, dt.time()).astimezone()


def buckets(period: str, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """The starts (local midnights) and labels of the period's buckets, the last
    holding ``now``: days, weeks from a Monday, or months, in the local time zone."""
    if period not in PERIODS:
        raise KnowflowError(f"a period is one of: {', '.join(PERIODS)} (not {period!r})")
    today = local_day(now)
    if period == "week":
        days = [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
        return [(_midnight(d), d.strftime("%a %d")) for d in days]
    if period == "month":
        monday = today - dt.timedelta(days=today.weekday())
        weeks = [monday - dt.timedelta(weeks=n) for n in range(4, -1, -1)]
        return [(_midnight(w), "week of " + w.strftime("%b %d")) for w in weeks]
    months = []
    for n in range(11, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - n, 12)
        first = dt.date(year, month + 1, 1)
        months.append((_midnight(first), first.strftime("%b %Y")))
    return months


def trend(series: list[float | None]) -> str:
    known = [v for v in series if v is not None]
    if not any(known):
        return "none"
    half = len(series) // 2
    first = [v for v in series[:half] if v is not None]
    second = [v for v in series[half:] if v is not None]
    if not first or not second:
        return "none"  # defined in one half only: nothing to compare
    before = sum(first) / len(first)
    after = sum(second) / len(second)
    if after > before * 1.25 + 1e-9:
        return "rising"
    if after < before * 0.8 - 1e-9:
        return "falling"
    return "steady"


def evenness(counts: Counter[str]) -> float | None:
    """Shannon evenness (0: everything from one; 1: evenly from each); None when
    nothing was kept (there is nothing to be even or uneven)."""
    total = sum(counts.values())
    if total == 0:
        return None
    if len(counts) < 2:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts.values() if c)
    return round(entropy / math.log(len(counts)), 2)


def domain_of(host: str | None) -> str | None:
    """The web domain in what the seek query cut from an address: no user, port or www."""
    if not host:
        return None
    host = host.rsplit("@", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.strip(".").lower()
    return (host[4:] if host.startswith("www.") else host) or None


def day_of(value: object) -> str | None:
    """The local date (YYYY-MM-DD) a front-matter or metadata date names: a date as is,
    a time with a zone in the local zone, a time without one as written."""
    if value is None:
        return None
    text = str(value).strip()
    if not ISO_DAY.match(text):
        return None
    if len(text) > 10:
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text[:10] if ISO_DAY.fullmatch(text[:10]) else None
        if when.tzinfo is not None:
            return local_day(when).isoformat()
    return text[:10]


class Bins:
    """Which bucket an ISO time (UTC, as the log writes it) or a local day falls in."""

    def __init__(self, starts: list[dt.datetime], end: dt.datetime) -> None:
        self.keys = [s.astimezone(dt.UTC).isoformat(timespec="seconds") for s in starts]
        self.end = end.astimezone(dt.UTC).isoformat(timespec="seconds")
        self.n = len(starts)
        self.days = [s.date().isoformat() for s in starts]  # local dates
        self.last_day = local_day(end - dt.timedelta(seconds=1)).isoformat()

    def __call__(self, at: str) -> int | None:
        if at < self.keys[0] or at >= self.end:
            return None
        return bisect_right(self.keys, at) - 1

    def of_day(self, day: str | None) -> int | None:
        """The bucket of a local day (YYYY-MM-DD), None outside the period."""
        if day is None or not self.days[0] <= day <= self.last_day:
            return None
        return bisect_right(self.days, day) - 1

    def counter(self) -> list[float]:
        return [0.0] * self.n


def indicator(
    key: str, label: str, series: Sequence[float | None], total: float | None, **more: object
) -> Indicator:
    values = list(series)
    return Indicator(key, label, values, total, trend(values), **more)  # type: ignore[arg-type]

"""Moments a person names on the command line or in the app: ``30m``, ``12h``, ``7d``,
``2w`` ago, or a date (``2026-11-01``) or date and time, for every option that takes one
(``stream --since``, ``seen --before``, ``digest --since``)."""

from __future__ import annotations

import datetime as dt
import re

from knowflow.errors import KnowflowError

_AGO = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
FORMS = "30m, 12h, 7d, 2w or a date such as 2026-11-01"


def moment(text: str, now: dt.datetime | None = None, option: str = "--since") -> dt.datetime:
    """The moment ``text`` names, in UTC when it says no zone. A span longer than the
    calendar reaches back to its first day (``99999999d`` is "since ever"), not an
    error; anything else not understood is an error naming ``option`` and the forms."""
    now = now or dt.datetime.now(dt.UTC)
    found = _AGO.fullmatch(text.strip())
    if found:
        try:
            return now - dt.timedelta(**{_UNITS[found[2]]: int(found[1])})
        except OverflowError:
            return EARLIEST
    try:
        named = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise KnowflowError(f"{option} takes {FORMS}, not {text!r}") from None
    return named if named.tzinfo else named.replace(tzinfo=dt.UTC)

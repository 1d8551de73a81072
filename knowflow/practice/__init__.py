"""Practice feedback: indicators of one's own seek, sense and share habits over time.

Read from the activity log (state.db) and the index; nothing is written into notes,
and none of it ever leaves the vault. There is no score, no level and no comparison
with anyone: only what the person did, bucket by bucket, and its trend.
"""

from knowflow.practice.report import FOCUSES, Report, current_focus, practice_report, set_focus
from knowflow.practice.series import PERIODS, Indicator, Section, sparkline

__all__ = [
    "FOCUSES",
    "PERIODS",
    "Indicator",
    "Report",
    "Section",
    "current_focus",
    "practice_report",
    "set_focus",
    "sparkline",
]

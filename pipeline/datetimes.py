"""Datetimes (shared noun): UTC, and the one rule for whether a date an article claims is plausible.

Feed entries, page metadata, dates written in the text and modification marks all pass the same
test against the clock the caller passes (pure: `now` is an argument).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # older than news on the web: a zero date or a typo
# Time zones misreported (a UTC+14 local time labelled UTC) and clock skew; not tomorrow's paper.
FUTURE_SLACK = timedelta(days=1)

DateProblem = Literal["date-too-old", "date-in-future"]


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (feeds and metadata that omit a zone mostly mean it)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def date_problem(value: datetime, now: datetime) -> DateProblem | None:
    """Why `value` cannot be a publication or update time as of `now`; None when it can."""
    value = to_utc(value)
    if value < EARLIEST:
        return "date-too-old"
    if value > to_utc(now) + FUTURE_SLACK:
        return "date-in-future"
    return None


def plausible_date(value: datetime | None, now: datetime) -> datetime | None:
    """`value` in UTC when it passes the rule, else None."""
    if value is None or date_problem(value, now) is not None:
        return None
    return to_utc(value)

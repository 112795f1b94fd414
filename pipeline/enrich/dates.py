"""Dates: a trustworthy `published_at` in UTC, the publisher's day, where it came from, and
`updated_at`.

Extraction already picked the feed's date, else the page's metadata, else one in the URL
(connectors/extract/extraction.py). Here that date is normalised to UTC and checked against the clock
the caller passes (pipeline/datetimes.py, the one rule every stage uses); when it is missing
or fails, a date written near the top of the text ("Published 18 September 2018 10:15 GMT")
is used, with `date_source="text"`. Pure: `now` is an argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime, timedelta, timezone

from pipeline.datetimes import plausible_date

_MONTHS = {name: i + 1 for i, names in enumerate([
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")]) for name in names}
# Common newsroom zone abbreviations; ambiguous US zones take their standard offset.
_ZONES = {"utc": 0, "gmt": 0, "z": 0, "bst": 60, "cet": 60, "cest": 120, "eet": 120,
          "eest": 180, "msk": 180, "ist": 330, "jst": 540, "aest": 600, "aedt": 660,
          "est": -300, "edt": -240, "et": -300, "cst": -360, "cdt": -300, "ct": -360,
          "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "pt": -480}
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|" \
         r"aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_TIME = r"(?:,?\s*(?:at\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?" \
        r"\s*(?P<ampm>[ap]\.?m\.?)?\s*(?P<zone>[A-Z]{1,4}\b|[+-]\d{2}:?\d{2})?)?"
_DATE_RES = [
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>\d{2})-(?P<day>\d{2})"
               r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?:\.\d+)?"
               r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d{{2}})"
               rf"{_TIME}", re.IGNORECASE),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+(?P<year>(?:19|20)\d{{2}})"
               rf"{_TIME}", re.IGNORECASE),
]
_UPDATED_RE = re.compile(r"\b(?:last\s+)?(?:updated|modified)(?:\s+on)?\s*:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class DateOptions:
    text_chars: int = 500  # where a byline date may be: the top of the text


class Published(NamedTuple):
    at: datetime | None
    """UTC."""
    day: date | None
    """The day in the zone the date was written in (the publisher's day)."""
    source: str | None


def published_date(published_at: datetime | None, published_day: date | None,
                   date_source: str | None, text: str, now: datetime,
                   opts: DateOptions = DateOptions()) -> Published:
    """The article's publication date and its source: feed | page | url | text."""
    if (value := plausible_date(published_at, now)) is not None:
        return Published(value, published_day or value.date(), date_source or "page")
    for found in text_dates(text[:opts.text_chars]):
        if (value := plausible_date(found, now)) is not None:
            return Published(value, found.date(), "text")
    return Published(None, None, None)


def updated_date(text: str, published_at: datetime | None, now: datetime,
                 opts: DateOptions = DateOptions()) -> datetime | None:
    """A date the text marks as an update ("Updated: ..."), when it is plausible and not
    before publication."""
    for area in (text[:opts.text_chars], text[-opts.text_chars:]):
        for cue in _UPDATED_RE.finditer(area):
            found = next(iter(text_dates(area[cue.end():cue.end() + 60])), None)
            if found and (value := plausible_date(found, now)) is not None and (
                    published_at is None or value >= published_at):
                return value
    return None


def text_dates(text: str) -> list[datetime]:
    """Dates written in `text`, in order of appearance, in the zone written with them (UTC
    when none is)."""
    found: list[tuple[int, datetime]] = []
    for pattern in _DATE_RES:
        for match in pattern.finditer(text):
            value = _datetime(match)
            if value is not None:
                found.append((match.start(), value))
    return [value for _, value in sorted(found, key=lambda f: f[0])]


def _datetime(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    month = int(parts["mnum"]) if parts.get("mnum") else \
        _MONTHS.get(parts["month"].lower().rstrip(".")[:9], 0)
    hour = int(parts.get("hour") or 0)
    ampm = (parts.get("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    offset = _offset_minutes(parts.get("zone"))
    try:
        value = datetime(int(parts["year"]), month, int(parts["day"]), hour,
                         int(parts.get("minute") or 0), int(parts.get("second") or 0),
                         tzinfo=timezone(timedelta(minutes=offset or 0)))
    except ValueError:  # "February 30": not a date, keep looking
        return None
    return value


def _offset_minutes(zone: str | None) -> int | None:
    if not zone:
        return None
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        return minutes if zone[0] == "+" else -minutes
    return _ZONES.get(zone.lower())

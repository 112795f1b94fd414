"""The day a publisher printed on a story, from a publication time (pure).

`published_at` is an instant; readers, archives and date benchmarks go by the publisher's
calendar day, which a UTC stamp hides: "2020-12-24T23:59:50Z" in a page's meta is the
"2020-12-25T01:59:50+02:00" of its JSON-LD, a story of 25 December. So: the stamp's own
offset, else another stamp on the page for the same instant that carries an offset, else the
day the page prints as its publication day when some time zone puts the instant on it
("06 Dicembre 2020" under a stamp of 2020-12-05T23:15Z), else, for a time written in UTC,
the offset the page writes its other times in (a schedule's "Fri, 01 May 2020 23:00:00 -0400"
under a story stamped 2020-05-02T02:54Z), else the stamp's own day. Neither a day alone
(midnight) nor a time without an offset is shifted: that is the publisher's wall clock
already ("2019-11-19 05:45:00" on a page printing "5:45 AM PST 11/19/2019").

Not done, measured on ../shared/bench/dates (bench/RESULTS.md, Dates): guessing the zone of
a UTC stamp from the publisher's country (domain, locale) fixed 2 pages and broke 2; the
gold there goes by the UTC day as often as by the local one when the page gives no offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

# Two stamps of one instant: the same publication time written twice, minutes apart at most.
SAME_INSTANT = timedelta(minutes=5)
# The time zones in use run from UTC-12 to UTC+14.
_WEST, _EAST = timedelta(hours=12), timedelta(hours=14)


def publisher_day(value: datetime, other_stamps: Iterable[datetime | None],
                  printed: date | None = None, page_offset: timedelta | None = None) -> date:
    """The publisher's day for publication time `value` (naive means UTC); `printed` is the
    day the page shows as its publication day, `page_offset` the UTC offset the page's other
    times carry, if any."""
    if value.utcoffset():
        return value.date()
    instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    for stamp in other_stamps:
        if stamp is not None and stamp.utcoffset() and abs(stamp - instant) <= SAME_INSTANT:
            return stamp.date()
    if printed is not None and (instant - _WEST).date() <= printed <= (instant + _EAST).date():
        return printed
    if page_offset and is_utc_time(value):
        return (instant + page_offset).date()
    return value.date()


def is_utc_time(value: datetime) -> bool:
    """A time of day written in UTC ("...T02:54:29Z"): not a day alone (midnight, as parsers
    return a date), nor a wall clock without an offset."""
    return value.tzinfo is not None and not value.utcoffset() and value.time() != time()

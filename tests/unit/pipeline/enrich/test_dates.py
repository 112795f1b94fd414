from datetime import UTC, datetime, timedelta

import pytest

from pipeline.enrich.dates import published_date, text_dates, updated_date

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("Published: September 18, 2018 10:15 a.m. EDT", datetime(2018, 9, 18, 14, 15, tzinfo=UTC)),
    ("Sept. 19, 2018 at 3:02 PM GMT", datetime(2018, 9, 19, 15, 2, tzinfo=UTC)),
    ("2019-03-04T10:00:00+02:00", datetime(2019, 3, 4, 8, 0, tzinfo=UTC)),
    ("5th March 2019", datetime(2019, 3, 5, tzinfo=UTC)),
])
def test_text_dates(text: str, expected: datetime) -> None:
    assert text_dates(text)[0] == expected


def test_impossible_dates_are_skipped() -> None:
    assert text_dates("February 30, 2019") == []


def test_published_date_prefers_a_sane_extracted_date() -> None:
    naive = datetime(2020, 5, 1, 9, 30)  # naive: taken as UTC
    assert published_date(naive, "feed", "", NOW) == (naive.replace(tzinfo=UTC), "feed")


@pytest.mark.parametrize("bad", [NOW + timedelta(days=2), datetime(1985, 1, 1, tzinfo=UTC)])
def test_insane_dates_fall_back_to_the_text(bad: datetime) -> None:
    text = "Posted 3 March 2019. The council voted."
    assert published_date(bad, "page", text, NOW) == (datetime(2019, 3, 3, tzinfo=UTC), "text")
    assert published_date(bad, "page", "No date.", NOW) == (None, None)


def test_a_date_hours_ahead_is_a_time_zone_slip_and_tolerated() -> None:
    soon = NOW + timedelta(hours=10)
    assert published_date(soon, "feed", "", NOW)[0] == soon
    assert published_date(NOW + timedelta(days=2), "feed", "", NOW) == (None, None)


def test_updated_date_needs_a_cue_and_follows_publication() -> None:
    text = "Posted 3 March 2019. Last updated: 4 March 2019 09:00 GMT. The council voted."
    published = datetime(2019, 3, 3, tzinfo=UTC)
    assert updated_date(text, published, NOW) == datetime(2019, 3, 4, 9, tzinfo=UTC)
    assert updated_date("Posted 3 March 2019.", published, NOW) is None
    assert updated_date("Updated 1 March 2019.", published, NOW) is None

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pipeline.enrich.dates import Published, published_date, text_dates, updated_date

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("Published: September 18, 2018 10:15 a.m. EDT", datetime(2018, 9, 18, 14, 15, tzinfo=UTC)),
    ("Sept. 19, 2018 at 3:02 PM GMT", datetime(2018, 9, 19, 15, 2, tzinfo=UTC)),
    ("2019-03-04T10:00:00+02:00", datetime(2019, 3, 4, 8, 0, tzinfo=UTC)),
    ("5th March 2019", datetime(2019, 3, 5, tzinfo=UTC)),
])
def test_text_dates(text: str, expected: datetime) -> None:
    assert text_dates(text)[0] == expected


def test_a_text_date_keeps_the_zone_it_was_written_in() -> None:
    found = text_dates("Published: September 18, 2018 9:15 p.m. EDT")[0]
    assert found.utcoffset() == timedelta(hours=-4)
    assert found.date() == date(2018, 9, 18)  # the 19th in UTC


def test_impossible_dates_are_skipped() -> None:
    assert text_dates("February 30, 2019") == []


def test_published_date_prefers_a_sane_extracted_date() -> None:
    naive = datetime(2020, 5, 1, 9, 30)  # naive: taken as UTC
    assert published_date(naive, None, "feed", "", NOW) == Published(
        naive.replace(tzinfo=UTC), date(2020, 5, 1), "feed")


def test_the_publishers_day_is_kept_beside_the_utc_time() -> None:
    evening = datetime(2020, 8, 15, 20, 53, tzinfo=timezone(timedelta(hours=-4)))
    extracted = published_date(evening.astimezone(UTC), evening.date(), "page", "", NOW)
    assert extracted == Published(evening.astimezone(UTC), date(2020, 8, 15), "page")
    assert extracted.at is not None and extracted.at.date() == date(2020, 8, 16)
    from_text = published_date(None, None, None, "Posted Aug. 15, 2020 9:53 p.m. EDT.", NOW)
    assert (from_text.day, from_text.source) == (date(2020, 8, 15), "text")
    assert from_text.at is not None and from_text.at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bad", [NOW + timedelta(days=2), datetime(1985, 1, 1, tzinfo=UTC)])
def test_insane_dates_fall_back_to_the_text(bad: datetime) -> None:
    text = "Posted 3 March 2019. The council voted."
    assert published_date(bad, None, "page", text, NOW) == Published(
        datetime(2019, 3, 3, tzinfo=UTC), date(2019, 3, 3), "text")
    assert published_date(bad, None, "page", "No date.", NOW) == (None, None, None)


def test_a_date_hours_ahead_is_a_time_zone_slip_and_tolerated() -> None:
    soon = NOW + timedelta(hours=10)
    assert published_date(soon, None, "feed", "", NOW).at == soon
    assert published_date(NOW + timedelta(days=2), None, "feed", "", NOW) == (None, None, None)


def test_updated_date_needs_a_cue_and_follows_publication() -> None:
    text = "Posted 3 March 2019. Last updated: 4 March 2019 09:00 GMT. The council voted."
    published = datetime(2019, 3, 3, tzinfo=UTC)
    assert updated_date(text, published, NOW) == datetime(2019, 3, 4, 9, tzinfo=UTC)
    assert updated_date("Posted 3 March 2019.", published, NOW) is None
    assert updated_date("Updated 1 March 2019.", published, NOW) is None

from datetime import UTC, date, datetime, timedelta, timezone

from connectors.extract.publisher_day import publisher_day

CAIRO = timezone(timedelta(hours=2))


def test_a_stamp_with_an_offset_gives_its_own_day() -> None:
    evening = datetime(2020, 8, 15, 20, 53, tzinfo=timezone(timedelta(hours=-4)))
    assert publisher_day(evening, ()) == date(2020, 8, 15)


def test_a_utc_stamp_takes_the_day_of_a_local_stamp_for_the_same_instant() -> None:
    meta = datetime(2020, 12, 24, 23, 59, 50, tzinfo=UTC)
    json_ld = datetime(2020, 12, 25, 1, 59, 50, tzinfo=CAIRO)
    assert publisher_day(meta, (None, json_ld)) == date(2020, 12, 25)
    assert publisher_day(meta.replace(tzinfo=None), (json_ld,)) == date(2020, 12, 25)


def test_a_local_stamp_of_another_time_is_not_the_same_story() -> None:
    meta = datetime(2020, 12, 24, 23, 59, 50, tzinfo=UTC)
    updated = datetime(2020, 12, 25, 9, 0, tzinfo=CAIRO)
    assert publisher_day(meta, (updated,)) == date(2020, 12, 24)


def test_a_utc_stamp_takes_the_day_the_page_prints_when_a_zone_allows_it() -> None:
    stamp = datetime(2020, 12, 5, 23, 15, tzinfo=UTC)  # "06 Dicembre 2020" on the page
    assert publisher_day(stamp, (), printed=date(2020, 12, 6)) == date(2020, 12, 6)
    # No zone (UTC-12 to UTC+14) puts 23:15 UTC on the 7th, or on the 4th: another date.
    assert publisher_day(stamp, (), printed=date(2020, 12, 7)) == date(2020, 12, 5)
    assert publisher_day(stamp, (), printed=date(2020, 12, 4)) == date(2020, 12, 5)
    local = datetime(2020, 12, 5, 23, 15, tzinfo=CAIRO)  # its own offset decides
    assert publisher_day(local, (), printed=date(2020, 12, 6)) == date(2020, 12, 5)


def test_a_timed_utc_stamp_takes_the_offset_of_the_pages_other_times() -> None:
    new_york = timedelta(hours=-4)
    stamp = datetime(2020, 5, 2, 2, 54, tzinfo=UTC)
    assert publisher_day(stamp, (), page_offset=new_york) == date(2020, 5, 1)
    # A day alone is the publisher's day already; the printed day and an offset of its own win.
    assert publisher_day(datetime(2020, 5, 2), (), page_offset=new_york) == date(2020, 5, 2)
    assert publisher_day(stamp, (), printed=date(2020, 5, 2), page_offset=new_york) == date(2020, 5, 2)
    local = datetime(2020, 5, 2, 2, 54, tzinfo=CAIRO)
    assert publisher_day(local, (), page_offset=new_york) == date(2020, 5, 2)


def test_a_time_without_an_offset_is_the_publishers_wall_clock() -> None:
    # "2019-11-19 05:45:00" in a page that prints "5:45 AM PST 11/19/2019".
    naive = datetime(2019, 11, 19, 5, 45)
    assert publisher_day(naive, (), page_offset=timedelta(hours=-8)) == date(2019, 11, 19)

"""When a feed is polled next: learned rate, publisher hints, backoff, jitter (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from connectors.feeds.schedule import (
    ScheduleInputs,
    base_interval_s,
    failure_interval_s,
    max_age_s,
    next_poll_at,
)
from pipeline.settings import PollerSettings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OPTS = PollerSettings(interval_s=300, min_interval_s=120, max_interval_s=86400,
                      failure_ceiling_s=6 * 3600, jitter=0.1)


def hourly(count: int, last: timedelta = timedelta(0)) -> list[datetime]:
    return [NOW - last - timedelta(hours=i) for i in range(count)]


def test_default_until_the_rate_is_known() -> None:
    assert base_interval_s(ScheduleInputs(now=NOW), OPTS) == 300
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=hourly(1)), OPTS) == 300


def test_hourly_feed_is_polled_every_half_hour() -> None:
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=hourly(10)), OPTS) == 1800


def test_busy_feed_is_held_at_the_minimum_and_quiet_feed_at_the_maximum() -> None:
    busy = [NOW - timedelta(seconds=10 * i) for i in range(20)]
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=busy), OPTS) == 120
    silent_for_a_year = hourly(5, last=timedelta(days=365))
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=silent_for_a_year), OPTS) == 86400


def test_a_feed_gone_quiet_slows_down() -> None:
    quiet_two_days = hourly(10, last=timedelta(days=2))
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=quiet_two_days), OPTS) == 86400


def test_future_dates_do_not_speed_polling_up() -> None:
    bogus = [NOW + timedelta(days=d) for d in range(1, 20)]
    assert base_interval_s(ScheduleInputs(now=NOW, entry_times=bogus), OPTS) == 300


@pytest.mark.parametrize("hint", ["ttl_s", "update_period_s", "max_age_s"])
def test_publisher_hints_are_a_floor(hint: str) -> None:
    inputs = ScheduleInputs(now=NOW, entry_times=hourly(10), **{hint: 7200.0})  # type: ignore[arg-type]
    assert base_interval_s(inputs, OPTS) == 7200
    huge = ScheduleInputs(now=NOW, **{hint: 10 * 86400.0})  # type: ignore[arg-type]
    assert base_interval_s(huge, OPTS) == 86400  # but never past the maximum


def test_pinned_interval_wins_over_the_rate_but_not_over_hints() -> None:
    assert base_interval_s(ScheduleInputs(now=NOW, pinned_s=30, entry_times=hourly(10)),
                           OPTS) == 30
    assert base_interval_s(ScheduleInputs(now=NOW, pinned_s=30, max_age_s=60), OPTS) == 60


def test_failures_back_off_exponentially_up_to_the_ceiling_and_stay_there() -> None:
    intervals = [failure_interval_s(ScheduleInputs(now=NOW, pinned_s=60,
                                                   consecutive_failures=n), OPTS)
                 for n in range(0, 12)]
    assert intervals[:5] == [60, 60, 120, 240, 480]
    assert intervals[-1] == 6 * 3600  # retried at the ceiling, forever
    assert failure_interval_s(ScheduleInputs(now=NOW, consecutive_failures=10_000), OPTS) \
        == 6 * 3600


def test_retry_after_is_honoured_within_the_maximum() -> None:
    assert failure_interval_s(ScheduleInputs(now=NOW, consecutive_failures=1,
                                             retry_after_s=3600), OPTS) == 3600
    assert failure_interval_s(ScheduleInputs(now=NOW, consecutive_failures=1,
                                             retry_after_s=10 ** 9), OPTS) == 86400


def test_jitter_spreads_feeds_within_bounds() -> None:
    rng = random.Random(7)
    times = {next_poll_at(ScheduleInputs(now=NOW), OPTS, rng) for _ in range(50)}
    assert len(times) > 40
    assert all(timedelta(seconds=270) <= t - NOW <= timedelta(seconds=330) for t in times)


@pytest.mark.parametrize(("header", "expected"), [
    ("max-age=600", 600.0),
    ("public, s-maxage=900, max-age=60", 900.0),
    ("no-cache, max-age=600", None),
    ("max-age=0", None),
    (None, None),
    ("private", None),
])
def test_cache_control_max_age(header: str | None, expected: float | None) -> None:
    assert max_age_s(header) == expected

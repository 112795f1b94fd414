"""A feed's state after each poll: counts, health, validators, the bounded seen-set (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from connectors.feeds.state import (
    FeedState,
    PollOutcome,
    SeenIds,
    after_poll,
    conditional_headers,
    is_probe_due,
    seen_bound,
    seen_id,
)
from pipeline.settings import PollerSettings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OPTS = PollerSettings(unhealthy_after=3, validator_probe_every=3, jitter=0,
                      seen_min_per_feed=10, seen_max_per_feed=100)


def step(state: FeedState, outcome: PollOutcome, minutes: int = 0) -> FeedState:
    return after_poll(state, outcome, now=NOW + timedelta(minutes=minutes), pinned_s=None,
                      seen="", owner="w1", opts=OPTS, rng=random.Random(1))


def test_success_stores_validators_counts_and_schedules() -> None:
    state = step(FeedState(key="k", url="u"), PollOutcome(
        "ok", etag='"v1"', last_modified="Sat, 21 Nov 2026 10:00:00 GMT", body_hash="h1",
        new_entries=3, entry_times=(NOW,), issues={"entry-without-link": 2}))
    assert (state.etag, state.body_hash, state.entries_seen, state.health) == ('"v1"', "h1", 3,
                                                                               "healthy")
    assert state.last_success_at == state.last_new_entry_at == NOW
    assert state.next_poll_at == NOW + timedelta(seconds=OPTS.interval_s)
    assert state.issues == {"entry-without-link": 2}
    assert (state.owner, state.revision, state.polls) == ("w1", 1, 1)
    assert conditional_headers(state) == {"If-None-Match": '"v1"',
                                          "If-Modified-Since": "Sat, 21 Nov 2026 10:00:00 GMT"}


def test_incomplete_poll_keeps_old_validators_so_the_feed_is_read_again() -> None:
    state = FeedState(key="k", url="u", etag='"v1"', body_hash="h1")
    after = step(state, PollOutcome("ok", etag='"v2"', body_hash="h2", complete=False,
                                    new_entries=5))
    assert (after.etag, after.body_hash) == ('"v1"', "h1")


def test_failures_degrade_then_make_unhealthy_and_success_heals() -> None:
    state = FeedState(key="k", url="u")
    healths = []
    for minute in range(4):
        state = step(state, PollOutcome("http-500", failed=True, error="HTTP 500"), minute)
        healths.append(state.health)
    assert healths == ["degraded", "degraded", "unhealthy", "unhealthy"]
    assert (state.consecutive_failures, state.failures_total) == (4, 4)
    assert state.issues == {"http-500": 4} and state.last_error == "http-500: HTTP 500"
    assert state.next_poll_at is not None and state.next_poll_at > NOW
    state = step(state, PollOutcome("not-modified"), 10)
    assert (state.health, state.consecutive_failures, state.failures_total) == ("healthy", 0, 4)


def test_lying_validators_are_distrusted_and_no_longer_sent() -> None:
    state = FeedState(key="k", url="u", etag='"same"', body_hash="h1", polls_since_probe=2)
    assert is_probe_due(state, OPTS)
    state = step(state, PollOutcome("ok", probed=True, validators_lied=True, etag='"same"',
                                    body_hash="h2", new_entries=1))
    assert not state.validators_trusted and state.issues == {"validators-untrusted": 1}
    assert conditional_headers(state) == {} and not is_probe_due(state, OPTS)


def test_probe_cadence() -> None:
    state = FeedState(key="k", url="u", etag='"v"', body_hash="h")
    due = []
    for _ in range(6):
        due.append(is_probe_due(state, OPTS))
        state = step(state, PollOutcome("not-modified", probed=due[-1], etag='"v"',
                                        body_hash="h"))
    assert due == [False, False, True, False, False, True]


def test_seen_ids_round_trip_bounded_oldest_first() -> None:
    seen = SeenIds(seen_id(f"e{i}") for i in range(5))
    seen.touch([seen_id("e0")])  # still in the feed: now the most recent
    seen.add(seen_id("e5"))
    seen.trim(3)
    restored = SeenIds.unpack(seen.pack())
    assert [seen_id(f"e{i}") in restored for i in range(6)] == [True, False, False, False,
                                                                True, True]
    assert len(restored) == 3 and SeenIds.unpack("").pack() == ""


def test_seen_bound_is_twice_the_feed_within_limits() -> None:
    assert [seen_bound(n, OPTS) for n in (1, 20, 40, 5000)] == [10, 40, 80, 100]
    assert seen_bound(20_000, PollerSettings()) >= 20_000

"""A feed's polling state (pure): validators, trust, schedule, counts, health, seen entries.

FeedState is the value of the compacted feed-state topic, keyed like the registry, and is
written by whichever poller owns the feed; a new owner resumes from it after a rebalance.
`after_poll` is the one place that turns a poll's outcome into the next state.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field

from connectors.feeds.schedule import ScheduleInputs, base_interval_s, next_poll_at
from pipeline.records import FeedEntry, Record
from pipeline.settings import PollerSettings

Health = Literal["new", "healthy", "degraded", "unhealthy"]
ID_BYTES = 8  # 64-bit entry ids: collision odds for 50,000 ids of one feed ~ 1e-10
MAX_ENTRY_TIMES = 20  # the scheduler's rate sample


class PendingEntry(Record):
    """A new entry in hand: queued, being fetched, or waiting for its next attempt. Saved with
    the feed, so a new owner (or a restart) picks it up even if it scrolled off the feed."""

    entry: FeedEntry
    attempts: int = 0  # fetches that failed transiently so far
    first_seen_at: datetime
    next_attempt_at: datetime | None = None
    last_error: str | None = None


class FeedState(Record):
    schema_version: int = 1
    key: str  # registry key
    url: str  # URL last polled (follows permanent redirects)
    owner: str | None = None  # poller that wrote this
    revision: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    validators_trusted: bool = True  # False once a probe caught them hiding new entries
    polls_since_probe: int = 0
    polls: int = 0
    entries_seen: int = 0  # new entries found over the feed's life
    consecutive_failures: int = 0
    failures_total: int = 0
    last_error: str | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_entry_at: datetime | None = None
    next_poll_at: datetime | None = None
    interval_s: float | None = None  # base interval (before backoff and jitter)
    health: Health = "new"
    issues: dict[str, int] = Field(default_factory=dict)  # lifetime counts by reason slug
    entry_times: tuple[datetime, ...] = ()  # newest first, for the publishing rate
    ttl_s: float | None = None
    update_period_s: float | None = None
    max_age_s: float | None = None
    seen: str = ""  # SeenIds.pack()
    pending: tuple[PendingEntry, ...] = ()  # entries in hand, oldest first


def seen_id(identity: str) -> bytes:
    return hashlib.blake2b(identity.encode("utf-8"), digest_size=ID_BYTES).digest()


class SeenIds:
    """Ids of a feed's entries already handled, oldest first, bounded (see `bound`)."""

    def __init__(self, ids: Iterable[bytes] = ()) -> None:
        self._ids: dict[bytes, None] = dict.fromkeys(ids)

    @classmethod
    def unpack(cls, packed: str) -> SeenIds:
        raw = base64.b64decode(packed) if packed else b""
        return cls(raw[i:i + ID_BYTES] for i in range(0, len(raw) - ID_BYTES + 1, ID_BYTES))

    def pack(self) -> str:
        return base64.b64encode(b"".join(self._ids)).decode("ascii")

    def __contains__(self, item: bytes) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: bytes) -> None:
        self._ids.pop(item, None)
        self._ids[item] = None

    def touch(self, items: Iterable[bytes]) -> None:
        """Mark ids still present in the feed as recent, so trimming drops vanished ones first."""
        for item in items:
            if item in self._ids:
                self.add(item)

    def trim(self, keep: int) -> None:
        for item in list(self._ids)[: max(0, len(self._ids) - keep)]:
            del self._ids[item]


def seen_bound(feed_length: int, opts: PollerSettings) -> int:
    """How many ids a feed remembers: twice its current length, within configured limits.

    An entry needs remembering only while it can reappear in the feed. Twice the feed's
    length covers a feed that rolls back a whole window (a stale CDN copy, a republished
    archive page) without re-emitting; the floor covers short feeds that churn fast, and the
    cap keeps one state record far below Kafka's 1 MB message limit (8 bytes per id).
    """
    return min(opts.seen_max_per_feed, max(opts.seen_min_per_feed, 2 * feed_length))


def health_of(consecutive_failures: int, polls: int, opts: PollerSettings) -> Health:
    if consecutive_failures >= opts.unhealthy_after:
        return "unhealthy"
    if consecutive_failures:
        return "degraded"
    return "healthy" if polls else "new"


def is_sendable_header(value: str | None) -> bool:
    """Whether a validator can go back in a request header (HTTP headers are ASCII; a server
    that sends a non-ASCII ETag would otherwise make every later poll of its feed fail)."""
    return bool(value) and value.isascii() and value.isprintable()  # type: ignore[union-attr]


def conditional_headers(state: FeedState) -> dict[str, str]:
    headers: dict[str, str] = {}
    if state.validators_trusted and state.etag and is_sendable_header(state.etag):
        headers["If-None-Match"] = state.etag
    if state.validators_trusted and state.last_modified and \
            is_sendable_header(state.last_modified):
        headers["If-Modified-Since"] = state.last_modified
    return headers


def is_probe_due(state: FeedState, opts: PollerSettings) -> bool:
    """Time for an unconditional GET that checks the server's validators are honest."""
    has_validators = bool(state.etag or state.last_modified)
    return (has_validators and state.validators_trusted
            and state.polls_since_probe + 1 >= opts.validator_probe_every)


@dataclass(frozen=True)
class PollOutcome:
    """What one poll found, as `after_poll` needs it (built by the poller)."""

    outcome: str  # ok | not-modified | the error's reason slug
    failed: bool = False
    error: str | None = None
    retry_after_s: float | None = None
    url: str | None = None  # a permanent redirect's target
    probed: bool = False
    validators_lied: bool = False
    complete: bool = True  # every new entry handled: the validators may be stored
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    max_age_s: float | None = None
    ttl_s: float | None = None
    update_period_s: float | None = None
    new_entries: int = 0
    entry_times: tuple[datetime, ...] = ()
    issues: dict[str, int] = field(default_factory=dict)


def after_poll(state: FeedState, result: PollOutcome, *, now: datetime, pinned_s: float | None,
               seen: str, owner: str, opts: PollerSettings, rng: random.Random) -> FeedState:
    """The next state of a feed after one poll (success, not-modified or failure)."""
    issues = Counter(state.issues)
    issues.update(result.issues)
    update: dict[str, object] = {"owner": owner, "revision": state.revision + 1, "polls":
                                 state.polls + 1, "last_poll_at": now, "seen": seen}
    if result.url:
        update["url"] = result.url
    if result.failed:
        failures = state.consecutive_failures + 1
        issues[result.outcome] += 1
        update.update(consecutive_failures=failures, failures_total=state.failures_total + 1,
                      last_error=f"{result.outcome}: {result.error}" if result.error
                      else result.outcome)
    else:
        failures = 0
        update.update(consecutive_failures=0, last_success_at=now,
                      max_age_s=result.max_age_s)
        if result.outcome == "ok":
            update.update(ttl_s=result.ttl_s, update_period_s=result.update_period_s)
        if result.complete and result.body_hash:
            unsendable = [v for v in (result.etag, result.last_modified)
                          if v and not is_sendable_header(v)]
            if unsendable:
                issues["validator-not-ascii"] += 1
            update.update(etag=result.etag if is_sendable_header(result.etag) else None,
                          last_modified=result.last_modified
                          if is_sendable_header(result.last_modified) else None,
                          body_hash=result.body_hash)
        if result.validators_lied:
            update["validators_trusted"] = False
            issues["validators-untrusted"] += 1
        update["polls_since_probe"] = 0 if result.probed else state.polls_since_probe + 1
    if result.new_entries:
        update.update(entries_seen=state.entries_seen + result.new_entries,
                      last_new_entry_at=now)
        times = sorted([*result.entry_times, *state.entry_times], reverse=True)
        update["entry_times"] = tuple(times[:MAX_ENTRY_TIMES])
    update["issues"] = dict(issues)
    update["health"] = health_of(failures, state.polls + 1, opts)
    merged = state.model_copy(update=update)
    inputs = ScheduleInputs(now=now, pinned_s=pinned_s, entry_times=merged.entry_times,
                            ttl_s=merged.ttl_s, update_period_s=merged.update_period_s,
                            max_age_s=merged.max_age_s, consecutive_failures=failures,
                            retry_after_s=result.retry_after_s)
    return merged.model_copy(update={"interval_s": base_interval_s(inputs, opts),
                                     "next_poll_at": next_poll_at(inputs, opts, rng)})

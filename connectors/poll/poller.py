"""Polling one feed (adapter): fetch -> parse -> new entries, handed to the article flow.

Steps 2-4 of the flow: `parse_feed` here, then `fetch_page` and `extract_article` in
connectors/poll/articles.py. A feed is polled as a `LiveFeed`: its subscription, its last
`FeedState`, its seen-set and the entries it has in hand (`pending`). An entry joins the seen-set
only once it is settled (published, dead-lettered, or a duplicate of another feed's), and stays
in `pending` until then, saved with the feed's state: a poll cancelled half-way (its feed moved
to another worker) or a restart hands over exactly what was not finished. `loop.py` decides when
each feed is polled.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from connectors.feeds.parsing import ParsedFeed, parse_feed
from connectors.feeds.schedule import max_age_s
from connectors.feeds.state import (
    FeedState,
    PendingEntry,
    PollOutcome,
    after_poll,
    conditional_headers,
    is_probe_due,
    seen_bound,
)
from connectors.fetch.fetching import Fetcher, HttpResult
from connectors.poll.articles import ArticleFlow
from connectors.poll.feed import LiveFeed, entry_seen_id
from pipeline import telemetry
from pipeline.errors import FetchUnavailable, NewsflowError
from pipeline.records import FeedEntry
from pipeline.settings import PollerSettings

logger = structlog.get_logger("newsflow.poller")
BIG_FEED_BYTES = 256 * 1024
SUMMARY_CHARS = 1000  # of an entry in hand, as saved with its feed: bounds the state record


@dataclass
class PollResult:
    feed_url: str
    outcome: str  # ok | not-modified | the error's reason
    new_entries: int = 0  # handed to the article flow by this poll
    moved_to: str | None = None
    problems: list[str] = field(default_factory=list)


async def _parse(response: HttpResult, url: str, now: datetime) -> ParsedFeed:
    content_type = response.headers.get("content-type")
    if len(response.body) < BIG_FEED_BYTES:
        return parse_feed(response.body, url, now=now, content_type=content_type)
    # Seconds of parsing for a 20,000-entry feed: in a thread, so the loop keeps heartbeating
    # to the Kafka group and other polls go on meanwhile.
    return await asyncio.to_thread(parse_feed, response.body, url, now=now,
                                   content_type=content_type)


def _validators_unchanged(state: FeedState, response: HttpResult) -> bool:
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    return bool((etag and etag == state.etag) or (not etag and modified
                                                  and modified == state.last_modified))


def _in_hand(entry: FeedEntry, now: datetime) -> PendingEntry:
    if entry.summary and len(entry.summary) > SUMMARY_CHARS:
        entry = entry.model_copy(update={"summary": entry.summary[:SUMMARY_CHARS]})
    return PendingEntry(entry=entry, first_seen_at=now)


class Poller:
    def __init__(self, fetcher: Fetcher, articles: ArticleFlow, opts: PollerSettings, *,
                 owner: str = "poller", rng: random.Random | None = None) -> None:
        self.articles = articles
        self._fetcher = fetcher
        self._opts = opts
        self._owner = owner
        self._rng = rng or random.Random()

    async def poll_feed(self, feed: LiveFeed) -> PollResult:
        """Poll once; updates `feed.state` and hands new entries to the article flow. Never
        raises for a bad feed."""
        now = datetime.now(UTC)
        state = feed.state
        url = feed.subscription.url
        log = logger.bind(feed_url=url, feed_key=feed.key)
        probe = is_probe_due(state, self._opts)
        try:
            response = await self._fetcher.get(url, headers={} if probe
                                               else conditional_headers(state))
            body_hash = hashlib.sha256(response.body).hexdigest()
            # A 200 with the very bytes we already processed is a 304 the server didn't send.
            if response.status == 304 or body_hash == state.body_hash:
                outcome = PollOutcome("not-modified", url=response.permanent_redirect,
                                      probed=probe, etag=state.etag,
                                      last_modified=state.last_modified, body_hash=state.body_hash,
                                      max_age_s=max_age_s(response.headers.get("cache-control")))
                return self._finish(feed, outcome, now, log)
            parsed = await _parse(response, url, now)
        except NewsflowError as err:
            retry_after = err.retry_after if isinstance(err, FetchUnavailable) else None
            outcome = PollOutcome(err.reason, failed=True, error=str(err),
                                  retry_after_s=retry_after)
            return self._finish(feed, outcome, now, log)
        return self._hand_over(feed, parsed, response, body_hash, probe, now, log)

    def _hand_over(self, feed: LiveFeed, parsed: ParsedFeed, response: HttpResult,
                   body_hash: str, probe: bool, now: datetime,
                   log: structlog.typing.FilteringBoundLogger) -> PollResult:
        ids = [entry_seen_id(e) for e in parsed.entries]
        unseen = [(i, e) for i, e in zip(ids, parsed.entries, strict=True)
                  if i not in feed.seen and i not in feed.pending]
        feed.seen.touch(ids)
        # Entries in hand are bounded per feed; the rest wait for later polls of the feed.
        room = max(0, self._opts.max_entries_per_poll - len(feed.pending))
        batch = unseen[:room]
        for entry_id, entry in batch:
            feed.pending[entry_id] = _in_hand(entry, now)
        feed.seen.trim(seen_bound(len(parsed.entries), self._opts))
        issues = dict(parsed.issues)
        if parsed.problem:
            issues["malformed-feed"] = 1
        # Backlog on a first poll has no useful timing; later, first sight approximates it.
        times = tuple(e.published or e.updated or now for _, e in batch
                      if feed.state.polls or e.published or e.updated)
        outcome = PollOutcome(
            "ok", url=response.permanent_redirect, probed=probe,
            validators_lied=probe and bool(unseen) and _validators_unchanged(feed.state, response),
            complete=len(batch) == len(unseen),
            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
            body_hash=body_hash, max_age_s=max_age_s(response.headers.get("cache-control")),
            ttl_s=parsed.ttl_s, update_period_s=parsed.update_period_s,
            new_entries=len(batch), entry_times=times, issues=issues)
        result = self._finish(feed, outcome, now, log, parsed=parsed)
        result.new_entries = len(batch)
        for entry_id, _ in batch:  # after the state records the poll: it is saved with them
            self.articles.submit(feed, entry_id, feed.pending[entry_id])
        log.info("feed_polled", format=parsed.format, entries=len(parsed.entries),
                 new=len(batch), in_hand=len(feed.pending), issues=issues or None,
                 problem=parsed.problem, probed=probe or None,
                 validators_lied=outcome.validators_lied or None)
        return result

    def _finish(self, feed: LiveFeed, outcome: PollOutcome, now: datetime,
                log: structlog.typing.FilteringBoundLogger,
                parsed: ParsedFeed | None = None) -> PollResult:
        # Only a parsed feed can change the seen-set; packing it again would cost every 304.
        seen = feed.seen.pack() if parsed is not None else feed.state.seen
        feed.state = after_poll(feed.state, outcome, now=now, pinned_s=feed.subscription.interval_s,
                                seen=seen, owner=self._owner, opts=self._opts, rng=self._rng)
        telemetry.FEED_POLLS.labels(outcome=outcome.outcome).inc()
        for reason, count in outcome.issues.items():
            telemetry.FEED_ISSUES.labels(reason=reason).inc(count)
        if outcome.failed:
            log.warning("feed_poll_failed", reason=outcome.outcome, error=outcome.error,
                        failures=feed.state.consecutive_failures, health=feed.state.health,
                        next_poll_at=feed.state.next_poll_at)
        elif parsed is None:
            log.debug("feed_not_modified", next_poll_at=feed.state.next_poll_at)
        if outcome.url:
            log.info("feed_moved", to=outcome.url)
        return PollResult(feed.subscription.url, outcome.outcome, moved_to=outcome.url,
                          problems=[outcome.error] if outcome.error else [])

    def record_failure(self, feed: LiveFeed, reason: str, error: str) -> None:
        """Count a poll that broke in an unexpected way as a failure: the feed backs off and
        shows unhealthy instead of silently dropping out of the schedule."""
        log = logger.bind(feed_url=feed.subscription.url, feed_key=feed.key)
        self._finish(feed, PollOutcome(reason, failed=True, error=error), datetime.now(UTC), log)

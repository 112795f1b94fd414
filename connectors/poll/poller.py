"""Polling one feed (adapter): fetch -> parse -> new entries -> pages -> articles -> a sink.

Steps 2-4 of the flow: `parse_feed`, `fetch_page`, `extract_article`. A feed is polled as a
`LiveFeed`: its subscription, its last `FeedState` and its seen-set, which is updated as each
article is acknowledged by the sink, so a poll cancelled half-way (its feed moved to another
worker) still hands over exactly what was emitted. `poll_loop.py` decides when and what.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from connectors.extract.boilerplate import strip_learned_boilerplate
from connectors.extract.extraction import extract_article
from connectors.feeds.parsing import ParsedFeed, entry_identity, parse_feed
from connectors.feeds.schedule import max_age_s
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
from connectors.feeds.subscriptions import FeedSubscription
from connectors.fetch.fetching import Fetcher, HttpResult, fetch_page
from connectors.poll.blocks import BlockStore
from pipeline import telemetry
from pipeline.errors import (
    FetchUnavailable,
    NewsflowError,
    PageRejected,
    RejectedRecord,
    TransientError,
)
from pipeline.kafka import RecordSink
from pipeline.options import ExtractOptions
from pipeline.records import DeadLetter, ExtractedArticle, FeedEntry, FetchedPage
from pipeline.settings import PollerSettings, TopicSettings

logger = structlog.get_logger("newsflow.poller")
STAGE = "poll"
BIG_FEED_BYTES = 256 * 1024
RECENT_ARTICLES = 100_000  # cross-feed duplicates caught in-process; downstream dedup does the rest


@dataclass
class LiveFeed:
    """A feed this worker owns: subscription, state as last saved, and the live seen-set."""

    key: str
    subscription: FeedSubscription
    state: FeedState
    seen: SeenIds
    saved_at: datetime | None = None  # when `state` was last handed to the state sink
    saved_revision: int = -1  # state.revision then

    @classmethod
    def resume(cls, key: str, subscription: FeedSubscription,
               state: FeedState | None) -> LiveFeed:
        if state is None:
            state = FeedState(key=key, url=subscription.url)
        return cls(key, subscription, state, SeenIds.unpack(state.seen))

    def snapshot(self) -> FeedState:
        """The state to persist, including entries emitted by a poll still in progress."""
        return self.state.model_copy(update={"seen": self.seen.pack()})


@dataclass
class PollResult:
    feed_url: str
    outcome: str  # ok | not-modified | the error's reason
    new_entries: int = 0
    published: int = 0
    dead_lettered: int = 0
    retry_later: int = 0
    duplicates: int = 0
    moved_to: str | None = None
    problems: list[str] = field(default_factory=list)


def _dead_letter(entry: FeedEntry, err: NewsflowError) -> DeadLetter:
    return DeadLetter(stage=STAGE, reason=err.reason, error=str(err), key=entry.article_id,
                      payload=entry.model_dump_json(), failed_at=datetime.now(UTC))


async def _parse(response: HttpResult, url: str, now: datetime) -> ParsedFeed:
    content_type = response.headers.get("content-type")
    if len(response.body) < BIG_FEED_BYTES:
        return parse_feed(response.body, url, now=now, content_type=content_type)
    # Seconds of parsing for a 20,000-entry feed: in a thread, so the loop keeps heartbeating
    # to the Kafka group and other polls go on meanwhile.
    return await asyncio.to_thread(parse_feed, response.body, url, now=now,
                                   content_type=content_type)


def _entry_seen_id(entry: FeedEntry) -> bytes:
    return seen_id(entry_identity(entry.link, entry.guid, entry.title, entry.published))


def _validators_unchanged(state: FeedState, response: HttpResult) -> bool:
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    return bool((etag and etag == state.etag) or (not etag and modified
                                                  and modified == state.last_modified))


class Poller:
    def __init__(self, sink: RecordSink, topics: TopicSettings, fetcher: Fetcher,
                 opts: PollerSettings, extract: ExtractOptions = ExtractOptions(), *,
                 owner: str = "poller", rng: random.Random | None = None,
                 blocks: BlockStore | None = None) -> None:
        self._blocks = blocks  # per-domain learned boilerplate; None: off
        self._extract_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="extract")
        self._sink = sink
        self._topics = topics
        self._fetcher = fetcher
        self._opts = opts
        self._extract = extract
        self._owner = owner
        self._rng = rng or random.Random()
        self._recent: OrderedDict[str, None] = OrderedDict()  # article ids claimed lately

    async def poll_feed(self, feed: LiveFeed) -> PollResult:
        """Poll once; updates `feed.state` and `feed.seen`. Never raises for a bad feed."""
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
        return await self._work_through(feed, parsed, response, body_hash, probe, now, log)

    async def _work_through(self, feed: LiveFeed, parsed: ParsedFeed, response: HttpResult,
                            body_hash: str, probe: bool, now: datetime,
                            log: structlog.typing.FilteringBoundLogger) -> PollResult:
        ids = [_entry_seen_id(e) for e in parsed.entries]
        unseen = [(i, e) for i, e in zip(ids, parsed.entries, strict=True) if i not in feed.seen]
        feed.seen.touch(ids)
        batch = unseen[: self._opts.max_entries_per_poll]
        outcomes = await asyncio.gather(*(self._emit(feed, i, e) for i, e in batch))
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
            complete=outcomes.count("retry") == 0 and len(batch) == len(unseen),
            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
            body_hash=body_hash, max_age_s=max_age_s(response.headers.get("cache-control")),
            ttl_s=parsed.ttl_s, update_period_s=parsed.update_period_s,
            new_entries=len(batch), entry_times=times, issues=issues)
        result = self._finish(feed, outcome, now, log, parsed=parsed)
        result.new_entries = len(batch)
        result.published = outcomes.count("ok")
        result.dead_lettered = outcomes.count("dead-lettered")
        result.retry_later = outcomes.count("retry")
        result.duplicates = outcomes.count("duplicate")
        log.info("feed_polled", format=parsed.format, entries=len(parsed.entries),
                 new=result.new_entries, published=result.published,
                 dead_lettered=result.dead_lettered, retry_later=result.retry_later,
                 duplicates=result.duplicates, issues=issues or None, problem=parsed.problem,
                 probed=probe or None, validators_lied=outcome.validators_lied or None)
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

    def _claim(self, article_id: str) -> bool:
        """False if this process already emitted the article from another feed."""
        if article_id in self._recent:
            return False
        self._recent[article_id] = None
        if len(self._recent) > RECENT_ARTICLES:
            self._recent.popitem(last=False)
        return True

    async def _extract_within_budget(self, page: FetchedPage) -> ExtractedArticle:
        """Extract in a worker thread under `extract_timeout_s`.

        A page over budget is rejected; its thread finishes in the background (Python can't
        stop it), which the pool's two threads bound.
        """
        work = asyncio.get_running_loop().run_in_executor(
            self._extract_pool, extract_article, page, self._extract)
        try:
            return await asyncio.wait_for(work, timeout=self._opts.extract_timeout_s)
        except TimeoutError as err:
            raise PageRejected(f"extraction took over {self._opts.extract_timeout_s}s",
                               url=page.url, reason="extraction-timeout") from err

    async def _emit(self, feed: LiveFeed, entry_id: bytes, entry: FeedEntry) -> str:
        log = logger.bind(article_id=entry.article_id, url=entry.link, feed_url=entry.feed_url)
        if not self._claim(entry.article_id):
            feed.seen.add(entry_id)
            telemetry.count(STAGE, "duplicate")
            log.info("article_duplicate", reason="seen-in-another-feed")
            return "duplicate"
        try:
            page = await fetch_page(self._fetcher, entry)
            article = await self._extract_within_budget(page)
            observed: list[str] = []
            if self._blocks is not None:
                article, observed = strip_learned_boilerplate(article, self._blocks,
                                                              self._blocks.options)
            await self._sink.send(self._topics.articles, article.article_id,
                                  article.model_dump_json().encode())
            if self._blocks is not None:  # learn from what was really published, once
                self._blocks.record(article.source_domain, article.article_id, observed)
        except TransientError as err:
            self._recent.pop(entry.article_id, None)
            telemetry.count(STAGE, err.reason)
            log.warning("article_retry_later", reason=err.reason, error=str(err))
            return "retry"
        except RejectedRecord as err:
            letter = _dead_letter(entry, err)
            await self._sink.send(self._topics.dead_letter, letter.key,
                                  letter.model_dump_json().encode())
            feed.seen.add(entry_id)
            telemetry.count(STAGE, err.reason)
            log.warning("article_dead_lettered", reason=err.reason, error=str(err))
            return "dead-lettered"
        except asyncio.CancelledError:
            self._recent.pop(entry.article_id, None)  # cancelled: the next owner retries it
            raise
        feed.seen.add(entry_id)
        telemetry.count(STAGE, "ok")
        log.info("article_published", title=article.title,
                 quality=article.extraction.quality, chars=article.extraction.text_length)
        return "ok"

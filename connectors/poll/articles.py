"""The poller's article flow (adapter): feed entries become articles on Kafka, at the pace the
machine can extract and the broker can take, each page with retries of its own.

    submit(job) -> its host's lane (at most fetch.per_host_concurrency running per host)
      -> a page slot (at most poller.pages_in_hand pages fetched and not yet published)
      -> fetch -> extraction pool -> publish (retried in place until the broker takes it)
      -> settled on its feed: published | dead-lettered | duplicate
    A transient fetch failure (5xx, timeout, DNS, robots.txt unreachable) gives the slot back
    and the page waits for its own next attempt (`retry_delay_s`); after `retry_attempts` tries
    or `retry_max_age_s` it is dead-lettered with the last reason and the attempts. A feed's
    next poll is not a retry queue: entries in hand are skipped by later polls of their feed.

Backpressure: a slow extraction pool or a broker that is down keeps the slots full, so no
new page is fetched until one is published. Lanes keep one busy feed (one host) from taking
every slot: each host has at most per_host_concurrency jobs waiting for a slot.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import structlog

from connectors.feeds.schedule import retry_delay_s
from connectors.feeds.state import PendingEntry
from connectors.fetch.fetching import Fetcher, fetch_page
from connectors.poll.extract_pool import ExtractionPool
from connectors.poll.feed import LiveFeed
from pipeline import telemetry
from pipeline.errors import FetchUnavailable, RejectedRecord, SinkUnavailable
from pipeline.kafka import RecordSink
from pipeline.records import DeadLetter, ExtractedArticle
from pipeline.settings import PollerSettings, TopicSettings

logger = structlog.get_logger("newsflow.poller")
STAGE = "poll"
Settled = Literal["published", "dead-lettered", "duplicate"]
RECENT_ARTICLES = 100_000  # cross-feed duplicates caught in-process; downstream dedup does the rest
SEND_BACKOFF_S = (0.5, 10.0)  # a publish or dead letter the broker refused: first, most
CLOSE_GRACE_S = 30.0  # on shutdown, how long a publish under way may still take


@dataclass(eq=False)
class Job:
    feed: LiveFeed
    seen_id: bytes
    pending: PendingEntry
    host: str = ""
    task: asyncio.Task[None] | None = None
    publishing: bool = False  # past this point the job is finished, never cancelled
    dropped: bool = False  # its feed moved away: skip it wherever it waits

    def __post_init__(self) -> None:
        self.host = (urlsplit(self.pending.entry.link).hostname or "").lower()

    @property
    def article_id(self) -> str:
        return self.pending.entry.article_id


@dataclass
class FlowCounts:
    """What the flow holds now (also exported as gauges)."""

    queued: int = 0  # waiting in a host lane
    in_hand: int = 0  # holding a page slot: fetching, extracting or publishing
    waiting: int = 0  # waiting for their next attempt
    settled: dict[str, int] = field(default_factory=dict)


class ArticleFlow:
    def __init__(self, sink: RecordSink, topics: TopicSettings, fetcher: Fetcher,
                 pool: ExtractionPool, opts: PollerSettings, *,
                 on_change: Callable[[LiveFeed], None] | None = None,
                 rng: random.Random | None = None) -> None:
        self._sink = sink
        self._topics = topics
        self._fetcher = fetcher
        self._pool = pool
        self._opts = opts
        self._per_host = fetcher.opts.per_host_concurrency
        # Told when a feed's entries in hand settle or are rescheduled (the poll loop saves it).
        self.on_change: Callable[[LiveFeed], None] = on_change or (lambda feed: None)
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(opts.pages_in_hand)
        self._lanes: dict[str, deque[Job]] = {}
        self._runners: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: list[tuple[float, int, Job]] = []  # (due, seq, job), a heap
        self._seq = itertools.count()
        self._wake_retries = asyncio.Event()
        self._retry_task: asyncio.Task[None] | None = None
        self._jobs: dict[tuple[str, bytes], Job] = {}  # every job not settled yet
        self._recent: OrderedDict[str, str] = OrderedDict()  # article id -> feed that has it
        self._busy = 0  # jobs in a lane or holding a slot
        self._idle = asyncio.Event()
        self._idle.set()
        self.counts = FlowCounts()

    # -- what the feeds hand in ------------------------------------------------------------
    def submit(self, feed: LiveFeed, seen_id: bytes, pending: PendingEntry) -> None:
        """Take a new entry in hand (or one resumed from saved state); returns at once."""
        key = (feed.key, seen_id)
        if key in self._jobs:
            return
        job = Job(feed, seen_id, pending)
        holder = self._recent.get(job.article_id)
        if holder is not None and holder != feed.key:
            self._settle(job, "duplicate", log_event="article_duplicate",
                         reason="seen-in-another-feed")
            return
        self._claim(job)
        self._jobs[key] = job
        due = pending.next_attempt_at
        if due is not None and due > datetime.now(UTC):
            self._wait(job, (due - datetime.now(UTC)).total_seconds())
        else:
            self._enqueue(job)

    async def release(self, feed: LiveFeed) -> None:
        """Stop `feed`'s jobs (its feed moves to another poller, or is removed): waiting and
        queued ones are dropped, fetches under way cancelled, publishes under way finished.
        What did not finish stays in `feed.pending` for whoever owns the feed next."""
        jobs = [job for (key, _), job in self._jobs.items() if key == feed.key]
        for job in jobs:
            job.dropped = True
        cancelled = [job.task for job in jobs if job.task and not job.publishing]
        finishing = [job.task for job in jobs if job.task and job.publishing]
        for task in cancelled:
            task.cancel()
        await asyncio.gather(*cancelled, *finishing, return_exceptions=True)
        for job in jobs:
            if self._jobs.pop((feed.key, job.seen_id), None) is not None:
                self._unclaim(job)

    async def idle(self) -> None:
        """Until no job is queued or in hand (jobs waiting for a retry do not count)."""
        await self._idle.wait()

    async def close(self) -> None:
        """On shutdown: cancel what is not publishing, give publishes a grace period."""
        publishing = [j.task for j in self._jobs.values() if j.task and j.publishing]
        if publishing:
            await asyncio.wait(publishing, timeout=CLOSE_GRACE_S)
        for task in list(self._tasks):
            task.cancel()
        if self._retry_task is not None:
            self._retry_task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- lanes -----------------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        self._lanes.setdefault(job.host, deque()).append(job)
        self._mark_busy(+1)
        self.counts.queued += 1
        if self._runners.get(job.host, 0) < self._per_host:
            self._runners[job.host] = self._runners.get(job.host, 0) + 1
            task = asyncio.create_task(self._lane(job.host), name=f"lane {job.host}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _lane(self, host: str) -> None:
        lane = self._lanes[host]
        try:
            while lane:
                job = lane.popleft()
                self.counts.queued -= 1
                try:
                    if not job.dropped:
                        async with self._slots:
                            self.counts.in_hand += 1
                            try:
                                job.task = asyncio.create_task(self._run(job))
                                await job.task
                            except asyncio.CancelledError:
                                current = asyncio.current_task()
                                if current is not None and current.cancelling():
                                    raise  # the lane itself is stopping
                            finally:
                                self.counts.in_hand -= 1
                                job.task = None
                finally:
                    self._mark_busy(-1)
        finally:
            self._runners[host] -= 1
            if not self._runners[host]:
                del self._runners[host]
                if not lane:
                    del self._lanes[host]

    def _mark_busy(self, delta: int) -> None:
        self._busy += delta
        if self._busy:
            self._idle.clear()
        else:
            self._idle.set()
        telemetry.POLLER_ARTICLES.labels(state="queued").set(self.counts.queued)
        telemetry.POLLER_ARTICLES.labels(state="in_hand").set(self.counts.in_hand)

    # -- one page ----------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        entry = job.pending.entry
        try:
            page = await fetch_page(self._fetcher, entry)
            article = await self._pool.extract(page)
            article = article.model_copy(update={"extracted_at": datetime.now(UTC)})
            job.publishing = True
            await self._send(self._topics.articles, article.article_id,
                             article.model_dump_json().encode())
        except FetchUnavailable as err:
            await self._retry_or_give_up(job, err)
            return
        except RejectedRecord as err:
            job.publishing = True
            await self._dead_letter(job, err.reason, str(err))
            return
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - a bug costs one page a dead letter, not the loop
            job.publishing = True
            logger.exception("article_failed", article_id=job.article_id, url=entry.link)
            await self._dead_letter(job, f"bug:{type(err).__name__}",
                                    traceback.format_exc(limit=8))
            return
        self._settle(job, "published", log_event="article_published", article=article)

    async def _retry_or_give_up(self, job: Job, err: FetchUnavailable) -> None:
        now = datetime.now(UTC)
        attempts = job.pending.attempts + 1
        age = (now - job.pending.first_seen_at).total_seconds()
        if attempts >= self._opts.retry_attempts or age >= self._opts.retry_max_age_s:
            job.publishing = True
            await self._dead_letter(job, err.reason, f"{err} (gave up after {attempts} "
                                                     f"attempts over {age:.0f} s)", attempts)
            return
        delay = retry_delay_s(attempts, err.retry_after, self._opts, self._rng)
        job.pending = job.pending.model_copy(update={
            "attempts": attempts, "next_attempt_at": now + timedelta(seconds=delay),
            "last_error": f"{err.reason}: {err}"})
        job.feed.pending[job.seen_id] = job.pending
        self.on_change(job.feed)
        telemetry.count(STAGE, f"retry:{err.reason}")
        logger.warning("article_retry_later", article_id=job.article_id, url=job.pending.entry.link,
                       reason=err.reason, error=str(err), attempts=attempts,
                       retry_in_s=round(delay, 1))
        self._wait(job, delay)

    async def _dead_letter(self, job: Job, reason: str, error: str, attempts: int = 0) -> None:
        letter = DeadLetter(stage=STAGE, reason=reason, error=error, key=job.article_id,
                            payload=job.pending.entry.model_dump_json(),
                            failed_at=datetime.now(UTC),
                            attempts=max(attempts, job.pending.attempts + 1))
        await self._send(self._topics.dead_letter, letter.key, letter.model_dump_json().encode())
        self._settle(job, "dead-lettered", log_event="article_dead_lettered", reason=reason,
                     error=error[:500], attempts=letter.attempts)

    async def _send(self, topic: str, key: str | None, value: bytes) -> None:
        """Send, waiting out a broker that is down or slow: never dropped, never dead-lettered
        for it (a record the broker refuses as too large raises RejectedRecord)."""
        backoff, most = SEND_BACKOFF_S
        while True:
            try:
                await self._sink.send(topic, key, value)
                return
            except SinkUnavailable as err:
                telemetry.count(STAGE, err.reason)
                logger.warning("sink_unavailable", topic=topic, error=str(err), backoff_s=backoff)
                await asyncio.sleep(backoff)  # a broker to wait for: no condition to await
                backoff = min(backoff * 2, most)

    def _settle(self, job: Job, outcome: Settled, *, log_event: str,
                article: ExtractedArticle | None = None, **fields: object) -> None:
        feed = job.feed
        feed.seen.add(job.seen_id)
        feed.pending.pop(job.seen_id, None)
        self._jobs.pop((feed.key, job.seen_id), None)
        self.counts.settled[outcome] = self.counts.settled.get(outcome, 0) + 1
        reason = str(fields.get("reason", "ok"))
        telemetry.count(STAGE, "ok" if outcome == "published" else reason)
        log = logger.bind(article_id=job.article_id, url=job.pending.entry.link,
                          feed_url=feed.subscription.url)
        if article is not None:
            log.info(log_event, title=article.title, quality=article.extraction.quality,
                     chars=article.extraction.text_length)
        elif outcome == "dead-lettered":
            log.warning(log_event, **fields)
        else:
            log.info(log_event, **fields)
        self.on_change(feed)

    # -- cross-feed claims and retries ------------------------------------------------------
    def _claim(self, job: Job) -> None:
        self._recent[job.article_id] = job.feed.key
        self._recent.move_to_end(job.article_id)
        if len(self._recent) > RECENT_ARTICLES:
            self._recent.popitem(last=False)

    def _unclaim(self, job: Job) -> None:
        if self._recent.get(job.article_id) == job.feed.key:
            del self._recent[job.article_id]

    def _wait(self, job: Job, delay_s: float) -> None:
        heapq.heappush(self._waiting, (time.monotonic() + delay_s, next(self._seq), job))
        self.counts.waiting = len(self._waiting)
        telemetry.POLLER_ARTICLES.labels(state="waiting").set(self.counts.waiting)
        self._wake_retries.set()
        if self._retry_task is None:
            self._retry_task = asyncio.create_task(self._retries(), name="article retries")

    async def _retries(self) -> None:
        while True:
            self._wake_retries.clear()
            now = time.monotonic()
            while self._waiting and self._waiting[0][0] <= now:
                _, _, job = heapq.heappop(self._waiting)
                if not job.dropped:
                    self._enqueue(job)
            self.counts.waiting = len(self._waiting)
            telemetry.POLLER_ARTICLES.labels(state="waiting").set(self.counts.waiting)
            delay = self._waiting[0][0] - now if self._waiting else None
            try:
                async with asyncio.timeout(delay):
                    await self._wake_retries.wait()
            except TimeoutError:
                pass


"""The polling loop (adapter): which owned feed is due, a bounded number in flight at once.

The set of feeds changes at run time: the ownership adapter (connectors/poll/ownership.py)
`put`s and `remove`s feeds as registry records arrive and as rebalances move them between
workers. Due times live in each feed's state (wall clock, so they survive a move), kept in a heap
so a wake-up costs O(log n) however many feeds a worker owns. A feed's state is saved after a
poll that changed it, and again as its entries in hand settle (every `FLUSH_S`, and at once when
the last one does), so a new owner or a restart resumes from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter, deque
from collections.abc import Iterable
from datetime import UTC, datetime

import structlog

from connectors.feeds.state import FeedState, Health
from connectors.poll.feed import LiveFeed
from connectors.poll.poller import Poller, PollResult
from connectors.poll.registry import Registry
from pipeline import telemetry
from pipeline.errors import NewsflowError
from pipeline.records import FeedSubscription
from pipeline.settings import PollerSettings

logger = structlog.get_logger("newsflow.poller")
EPOCH = datetime.fromtimestamp(0, tz=UTC)
FLUSH_S = 2.0  # feeds whose entries settled are saved this often


class PollLoop:
    def __init__(self, poller: Poller, states: Registry, opts: PollerSettings) -> None:
        self.feeds: dict[str, LiveFeed] = {}
        self.results: list[PollResult] = []  # kept only in `once` runs (tests, CLI summary)
        self._poller = poller
        self._states = states
        self._opts = opts
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._health: Counter[Health] = Counter()
        self._once: deque[str] | None = None  # feeds still to poll in a `once` run
        self._gauged: set[str] = set()  # feeds with a failures gauge, removed when released
        self._drained = asyncio.Event()  # a feed's last entry in hand settled: save it now
        poller.articles.on_change = self._entries_changed

    # -- the owned set, changed by the ownership adapter ----------------------------------
    def put(self, key: str, subscription: FeedSubscription, state: FeedState | None) -> None:
        """Own a feed (or update its subscription: a new interval, tags, or URL)."""
        live = self.feeds.get(key)
        if live is not None:
            live.subscription = subscription
            return
        live = LiveFeed.resume(key, subscription, state)
        live.saved_revision = live.state.revision if state else -1
        self.feeds[key] = live
        self._count_health(None, live.state.health)
        self._push(live)
        for entry_id, pending in live.pending.items():  # left in hand by the previous owner
            self._poller.articles.submit(live, entry_id, pending)

    async def remove(self, keys: Iterable[str], *, save: bool) -> None:
        """Stop owning feeds: polls under way are cancelled, entries in hand released (those
        being published finish first), and with `save` each feed's state is saved with what it
        still holds, for its next owner."""
        keys = [k for k in keys if k in self.feeds]
        # Out of the owned set before anything is awaited: while the cancelled polls wind
        # down, the loop must not start a new poll of a feed it is handing over.
        released = [self.feeds.pop(key) for key in keys]
        interrupted = {k for k in keys if k in self._inflight}
        cancelled = [self._inflight[k] for k in interrupted]
        for task in cancelled:
            task.cancel()
        await asyncio.gather(*cancelled, return_exceptions=True)
        await asyncio.gather(*(self._poller.articles.release(live) for live in released))
        for live in released:
            self._count_health(live.state.health, None)
            if live.key in self._gauged:
                telemetry.FEED_FAILURES.remove(live.key)
                self._gauged.discard(live.key)
        if save:  # an interrupted poll may have taken entries in hand: they go too
            outcomes = await asyncio.gather(
                *(self._save(live, force=True, always=live.key in interrupted or live.changed)
                  for live in released), return_exceptions=True)
            for live, outcome in zip(released, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    logger.warning("feed_state_unsaved", feed_key=live.key, error=str(outcome),
                                   reason=getattr(outcome, "reason", type(outcome).__name__))

    @property
    def polling(self) -> frozenset[str]:
        """Keys of the feeds with a poll under way."""
        return frozenset(self._inflight)

    # -- running ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, *, once: bool = False) -> list[PollResult]:
        """Poll due feeds until `stop` is set; with `once`, poll every owned feed once."""
        self._once = deque(self.feeds) if once else None
        stopper = asyncio.ensure_future(stop.wait())
        stopper.add_done_callback(lambda _: self._wake.set())
        flusher = asyncio.create_task(self._flush_settled(), name="feed state flush")
        try:
            while not stop.is_set():
                self._wake.clear()
                now = datetime.now(UTC)
                self._start_due(now)
                if self._once is not None and not self._once and not self._inflight:
                    await self._poller.articles.idle()  # every page fetched and published
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._delay(now)):
                        await self._wake.wait()
        finally:
            stopper.cancel()
            flusher.cancel()
            await self.remove(list(self.feeds), save=True)
        return self.results

    def _entries_changed(self, live: LiveFeed) -> None:
        live.changed = True
        if not live.pending:
            self._drained.set()

    async def _flush_settled(self) -> None:
        """Save the feeds whose entries settled or were rescheduled since their last save."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_S):
                    await self._drained.wait()
            self._drained.clear()
            for live in [f for f in self.feeds.values() if f.changed]:
                if live.key in self._inflight:
                    continue  # its poll saves it when done
                try:
                    await self._save(live, force=True, always=True)
                except NewsflowError as err:  # the state sink is down: the next save carries it
                    logger.warning("feed_state_unsaved", feed_key=live.key, reason=err.reason,
                                   error=str(err))

    def _start_due(self, now: datetime) -> None:
        free = self._opts.concurrency - len(self._inflight)
        if self._once is not None:
            while free > 0 and self._once:
                key = self._once.popleft()
                if key in self.feeds and key not in self._inflight:
                    self._start(self.feeds[key])
                    free -= 1
            return
        while free > 0 and self._heap and self._heap[0][0] <= now:
            due, _, key = heapq.heappop(self._heap)
            live = self.feeds.get(key)
            if live is None or key in self._inflight or self._due(live) != due:
                continue  # removed, already running, or rescheduled since: a stale heap entry
            self._start(live)
            free -= 1

    def _delay(self, now: datetime) -> float | None:
        if self._once is not None or not self._heap:
            return None  # woken by a finished poll, a registry change or stop
        return max(0.0, (self._heap[0][0] - now).total_seconds())

    def _start(self, live: LiveFeed) -> None:
        task = asyncio.create_task(self._poll(live), name=f"poll {live.key}")
        self._inflight[live.key] = task

    async def _poll(self, live: LiveFeed) -> None:
        before, failures = live.state.health, live.state.consecutive_failures
        try:
            result = await self._poller.poll_feed(live)
            if self._once is not None:
                self.results.append(result)
            if result.moved_to:
                live.subscription = live.subscription.model_copy(update={"url": result.moved_to})
                await self._states.move_feed(live.key, live.subscription)
            await self._save(live, force=result.outcome != "not-modified")
        except NewsflowError as err:  # the state sink is down: the next save carries it
            logger.warning("feed_state_unsaved", feed_key=live.key, reason=err.reason,
                           error=str(err))
        except Exception as err:  # a bug must cost one poll of one feed, never the loop
            logger.exception("feed_poll_crashed", feed_key=live.key)
            self._poller.record_failure(live, f"bug:{type(err).__name__}", str(err))
        finally:
            self._inflight.pop(live.key, None)
            if live.key in self.feeds:
                self._count_health(before, live.state.health)
                if live.state.consecutive_failures != failures or live.key not in self._gauged:
                    telemetry.FEED_FAILURES.labels(feed=live.key).set(
                        live.state.consecutive_failures)
                    self._gauged.add(live.key)
                self._push(live)
            self._wake.set()

    async def _save(self, live: LiveFeed, *, force: bool, always: bool = False) -> None:
        """Persist when something changed; a feed that was only not-modified again waits for
        state_write_interval_s (its next-poll time is all that moved)."""
        now = datetime.now(UTC)
        changed = always or live.saved_revision != live.state.revision
        stale = live.saved_at is None or (
            (now - live.saved_at).total_seconds() >= self._opts.state_write_interval_s)
        if not changed or not (force or stale):
            return
        live.changed = False  # set again by entries settling while the save is under way
        snapshot = live.snapshot()
        try:
            await self._states.save_state(snapshot)
        except BaseException:
            live.changed = True
            raise
        live.saved_at, live.saved_revision = now, snapshot.revision

    # -- bookkeeping -------------------------------------------------------------------------
    def _due(self, live: LiveFeed) -> datetime:
        return live.state.next_poll_at or EPOCH

    def _push(self, live: LiveFeed) -> None:
        heapq.heappush(self._heap, (self._due(live), next(self._seq), live.key))
        self._wake.set()

    def _count_health(self, old: Health | None, new: Health | None) -> None:
        if old == new:
            return
        for health, delta in ((old, -1), (new, 1)):
            if health is not None:
                self._health[health] += delta
                telemetry.FEEDS_BY_HEALTH.labels(health=health).set(self._health[health])

"""The poller (adapter): feeds -> new entries -> pages -> extracted articles -> a sink.

Steps 2-4 of the flow: `parse_feed`, `fetch_page`, `extract_article`. What has been emitted
is remembered in a small SQLite file, written only after the sink acknowledged the article,
so a restart neither re-emits nor loses entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from connectors.extraction import ExtractOptions, extract_article
from connectors.feeds import FeedEntry, FeedSubscription, parse_feed
from connectors.fetching import Fetcher, fetch_page
from pipeline import metrics
from pipeline.errors import NewsflowError, RejectedRecord, TransientError
from pipeline.records import DeadLetter, ExtractedArticle
from pipeline.settings import PollerSettings

logger = structlog.get_logger("newsflow.poller")
STAGE = "poll"


class ArticleSink(Protocol):
    """Where articles go; cli.py wires it to Kafka, so connectors/ never imports a client."""

    async def publish(self, article: ExtractedArticle) -> None: ...

    async def dead_letter(self, letter: DeadLetter) -> None: ...


class SeenStore:
    """Emitted article ids and per-feed HTTP validators, persisted in SQLite."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (article_id TEXT PRIMARY KEY, feed_url TEXT, "
            "seen_at TEXT, outcome TEXT)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS validators (feed_url TEXT PRIMARY KEY, etag TEXT, "
            "last_modified TEXT, body_hash TEXT)")
        self._db.commit()

    def is_seen(self, article_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE article_id = ?", (article_id,))
        return row.fetchone() is not None

    def mark_seen(self, article_id: str, feed_url: str, outcome: str, now: datetime) -> None:
        self._db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?)",
                         (article_id, feed_url, now.isoformat(), outcome))
        self._db.commit()

    def validators(self, feed_url: str) -> tuple[dict[str, str], str | None]:
        """Conditional-GET headers for the feed, and the hash of the body last processed."""
        row = self._db.execute(
            "SELECT etag, last_modified, body_hash FROM validators WHERE feed_url = ?",
            (feed_url,)).fetchone()
        headers: dict[str, str] = {}
        if row and row[0]:
            headers["If-None-Match"] = row[0]
        if row and row[1]:
            headers["If-Modified-Since"] = row[1]
        return headers, (row[2] if row else None)

    def set_validators(self, feed_url: str, etag: str | None, last_modified: str | None,
                       body_hash: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?)",
                         (feed_url, etag, last_modified, body_hash))
        self._db.commit()

    def close(self) -> None:
        self._db.close()


@dataclass
class PollResult:
    feed_url: str
    outcome: str  # ok | not-modified | the error's reason
    new_entries: int = 0
    published: int = 0
    dead_lettered: int = 0
    retry_later: int = 0
    problems: list[str] = field(default_factory=list)


def _dead_letter(entry: FeedEntry, err: NewsflowError) -> DeadLetter:
    return DeadLetter(stage=STAGE, reason=err.reason, error=str(err), key=entry.article_id,
                      payload=entry.model_dump_json(), failed_at=datetime.now(UTC))


class Poller:
    def __init__(self, sink: ArticleSink, store: SeenStore, fetcher: Fetcher,
                 poller: PollerSettings, extract: ExtractOptions | None = None) -> None:
        self._sink = sink
        self._store = store
        self._fetcher = fetcher
        self._poller = poller
        self._extract = extract or ExtractOptions()

    async def poll_feed(self, feed: FeedSubscription) -> PollResult:
        log = logger.bind(feed_url=feed.url)
        headers, last_hash = self._store.validators(feed.url)
        try:
            response = await self._fetcher.get(feed.url, headers=headers)
            body_hash = hashlib.sha256(response.body).hexdigest()
            # A 200 with the very bytes we already processed is a 304 the server didn't send.
            if response.status == 304 or body_hash == last_hash:
                metrics.FEED_POLLS.labels(outcome="not-modified").inc()
                log.debug("feed_not_modified", status=response.status)
                return PollResult(feed.url, "not-modified")
            parsed = parse_feed(response.body, feed.url,
                                content_type=response.headers.get("content-type"))
        except NewsflowError as err:
            metrics.FEED_POLLS.labels(outcome=err.reason).inc()
            log.warning("feed_poll_failed", reason=err.reason, error=str(err))
            return PollResult(feed.url, err.reason, problems=[str(err)])
        result = PollResult(feed.url, "ok", problems=[parsed.problem] if parsed.problem else [])
        unseen = [e for e in parsed.entries if not self._store.is_seen(e.article_id)]
        new = unseen[: self._poller.max_entries_per_poll]
        result.new_entries = len(new)
        outcomes = await asyncio.gather(*(self._emit(entry) for entry in new))
        result.published = outcomes.count("ok")
        result.dead_lettered = outcomes.count("dead-lettered")
        result.retry_later = outcomes.count("retry")
        # Validators are stored last, and only when the feed was worked through completely:
        # otherwise the next poll must re-read it (entries left over or to retry).
        if result.retry_later == 0 and len(new) == len(unseen):
            self._store.set_validators(feed.url, response.headers.get("etag"),
                                       response.headers.get("last-modified"), body_hash)
        metrics.FEED_POLLS.labels(outcome="ok").inc()
        log.info("feed_polled", entries=len(parsed.entries), new=result.new_entries,
                 published=result.published, dead_lettered=result.dead_lettered,
                 retry_later=result.retry_later, problem=parsed.problem)
        return result

    async def _emit(self, entry: FeedEntry) -> str:
        log = logger.bind(article_id=entry.article_id, url=entry.link, feed_url=entry.feed_url)
        try:
            page = await fetch_page(self._fetcher, entry)
            article = extract_article(page, self._extract)
            await self._sink.publish(article)
        except TransientError as err:
            metrics.count(STAGE, err.reason)
            log.warning("article_retry_later", reason=err.reason, error=str(err))
            return "retry"
        except RejectedRecord as err:
            await self._sink.dead_letter(_dead_letter(entry, err))
            self._store.mark_seen(entry.article_id, entry.feed_url, err.reason,
                                  datetime.now(UTC))
            metrics.count(STAGE, err.reason)
            log.warning("article_dead_lettered", reason=err.reason, error=str(err))
            return "dead-lettered"
        self._store.mark_seen(entry.article_id, entry.feed_url, "ok", datetime.now(UTC))
        metrics.count(STAGE, "ok")
        log.info("article_published", title=article.title,
                 quality=article.extraction.quality, chars=article.extraction.text_length)
        return "ok"

    async def run(self, feeds: tuple[FeedSubscription, ...], stop: asyncio.Event,
                  *, once: bool = False) -> list[PollResult]:
        """Poll every feed on its interval until `stop` is set (or one round if `once`)."""
        results: list[PollResult] = []
        due = {feed.url: 0.0 for feed in feeds}
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            now = loop.time()
            for feed in feeds:
                if stop.is_set():
                    break
                if due[feed.url] <= now:
                    results.append(await self.poll_feed(feed))
                    due[feed.url] = loop.time() + (feed.interval_s or self._poller.interval_s)
            if once:
                break
            wait = max(0.0, min(due.values()) - loop.time())
            # Sleep until the next feed is due, waking at once on shutdown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
        return results

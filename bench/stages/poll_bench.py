"""Polling benchmark: 10,000 feeds on a local server, conditional GETs, page fetches.

    python -m bench.stages.poll_bench [--feeds 10000] [--pages 2000] [--concurrency 64]

A separate process serves the feeds (so its CPU is not the poller's): a minimal asyncio
HTTP/1.1 server with keep-alive. Feed i has an ETag that changes only when the feed does.
The poller side is the real stack: PollLoop -> Poller -> Fetcher (SSRF guard, host limiter,
capped reads) -> parse_feed -> fetch_page -> extract_article, with in-memory sinks (no Kafka:
this measures the poller, not the broker). Feed state starts as if restored from Kafka, with
every current entry already seen, then:

  round "304":   nothing changed: every feed answers 304 (the steady state of most feeds)
  round "mixed": 10% of the feeds gained one entry (200, parse, fetch + extract the new page),
                 90% answer 304
  pages:         fetch_page over real news pages (../shared/bench/extraction/html, gzip on
                 the wire) or synthetic 120 KB pages when that corpus is absent

Figures: polls (or pages) per second of wall time, CPU seconds per poll of this process
(time.process_time), and so polls per second per fully used core.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from connectors.feeds.parsing import entry_identity
from connectors.feeds.state import FeedState, SeenIds, seen_id
from connectors.fetch.fetching import Fetcher, fetch_page, make_client
from connectors.poll.loop import PollLoop
from connectors.poll.poller import Poller
from connectors.poll.registry import Registry
from pipeline.identity import canonical_url
from pipeline.records import FeedEntry, FeedSubscription
from pipeline.settings import PROJECT_ROOT, FetchSettings, PollerSettings, TopicSettings

TOPICS = TopicSettings()

CORPUS = PROJECT_ROOT.parent / "shared" / "bench" / "extraction" / "html"
ENTRIES_PER_FEED = 20
CHANGING = 10  # every 10th feed gains an entry per round: 10 %


# -- the feed server (its own process) ---------------------------------------------------------
def _feed_body(base: str, feed: int, version: int) -> bytes:
    items = []
    for n in range(version + ENTRIES_PER_FEED - 1, version - 1, -1):
        link = f"{base}/page/{feed}-{n}"
        items.append(f"<item><title>Feed {feed} story {n}</title><link>{link}</link>"
                     f"<guid>{link}</guid><description>Story {n} of feed {feed}, in brief."
                     f"</description><pubDate>Sun, 22 Nov 2026 10:{n % 60:02d}:00 GMT</pubDate>"
                     f"</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {feed}</title><link>{base}/</link>{''.join(items)}</channel></rss>"
            ).encode()


def _pages() -> list[bytes]:
    """Gzipped page bodies: real news pages when the shared corpus is there."""
    if CORPUS.is_dir():
        return [p.read_bytes() for p in sorted(CORPUS.glob("*.html.gz"))]
    filler = "<p>The harbour commission met on Thursday to discuss the ferry timetable.</p>"
    return [gzip.compress(f"<html><body><article><h1>Page {i}</h1>{filler * 1500}</article>"
                          f"</body></html>".encode()) for i in range(20)]


class _FeedServer(asyncio.Protocol):
    # Set once per server process before serving: the one state all connections share.
    versions: ClassVar[dict[int, int]] = {}
    pages: ClassVar[list[bytes]] = []
    base: ClassVar[str] = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:])}
            self._answer(path, headers)

    def _send(self, status: str, body: bytes, extra: str = "") -> None:
        self.transport.write(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}"
                             f"\r\n".encode() + body)

    def _answer(self, path: str, headers: dict[str, str]) -> None:
        if path.startswith("/feed/"):
            feed = int(path[6:].split(".")[0])
            version = self.versions.get(feed, 0)
            etag = f'"{feed}-{version}"'
            if headers.get("if-none-match") == etag:
                self._send("304 Not Modified", b"", f"ETag: {etag}\r\n")
            else:
                self._send("200 OK", _feed_body(self.base, feed, version),
                           f"ETag: {etag}\r\nContent-Type: application/rss+xml\r\n")
        elif path.startswith("/page/"):
            page = self.pages[hash(path) % len(self.pages)]
            self._send("200 OK", page, "Content-Type: text/html; charset=utf-8\r\n"
                                       "Content-Encoding: gzip\r\n")
        elif path == "/advance":
            for feed in range(0, max(self.versions) + 1, CHANGING):
                self.versions[feed] = self.versions.get(feed, 0) + 1
            self._send("200 OK", b"ok")
        else:
            self._send("404 Not Found", b"no")


def _serve(port: int, feeds: int, ready: multiprocessing.synchronize.Event) -> None:
    async def main() -> None:
        _FeedServer.versions = dict.fromkeys(range(feeds), 0)
        _FeedServer.pages = _pages()
        _FeedServer.base = f"http://127.0.0.1:{port}"
        server = await asyncio.get_running_loop().create_server(_FeedServer, "127.0.0.1", port)
        ready.set()
        await server.serve_forever()

    asyncio.run(main())


# -- the poller side --------------------------------------------------------------------------
class CountingSink:
    """The RecordSink contract, counting: this measures the poller, not the broker."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def send(self, topic: str, key: str | None, value: bytes | None) -> None:
        self.sent[topic] += 1


@dataclass
class Figure:
    name: str
    count: int
    wall_s: float
    cpu_s: float

    def line(self) -> str:
        return (f"{self.name:<28} {self.count:>6} in {self.wall_s:6.2f} s wall = "
                f"{self.count / self.wall_s:7.0f}/s; CPU {1e3 * self.cpu_s / self.count:.3f} ms "
                f"each = {self.count / self.cpu_s:7.0f}/s per core")


async def _timed(name: str, count: int, work: Callable[[], Awaitable[object]]) -> Figure:
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    return Figure(name, count, time.perf_counter() - wall, time.process_time() - cpu)


def _restored_state(base: str, feed: int) -> FeedState:
    """A feed's state as a new owner would load it: validators known, entries all seen."""
    url = f"{base}/feed/{feed}.xml"
    seen = SeenIds()
    for n in range(ENTRIES_PER_FEED):
        link = canonical_url(f"{base}/page/{feed}-{n}")
        seen.add(seen_id(entry_identity(link, link, None, None)))
    return FeedState(key=url, url=url, etag=f'"{feed}-0"', body_hash="unknown",
                     polls=1, seen=seen.pack())


async def run(port: int, feeds: int, pages: int, concurrency: int) -> list[Figure]:
    base = f"http://127.0.0.1:{port}"
    fetch = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_concurrency=concurrency,
                          per_host_min_delay_s=0)
    opts = PollerSettings(concurrency=concurrency, jitter=0, validator_probe_every=10 ** 6)
    sink = CountingSink()
    figures = []
    async with make_client(fetch) as client:
        fetcher = Fetcher(client, fetch)
        poller = Poller(sink, TOPICS, fetcher, opts, owner="bench")
        for name in ("304", "mixed"):
            if name == "mixed":
                await client.get(f"{base}/advance")
            loop = PollLoop(poller, Registry(sink, TOPICS), opts)
            for feed in range(feeds):
                state = _restored_state(base, feed)
                loop.put(state.key, FeedSubscription(url=state.url), state)
            figure = await _timed(f"polls, {name}", feeds,
                                  functools.partial(loop.run, asyncio.Event(), once=True))
            outcomes = [r.outcome for r in loop.results]
            figures.append(figure)
            print(figure.line(), f"(ok {outcomes.count('ok')}, not-modified "
                  f"{outcomes.count('not-modified')}, other "
                  f"{len(outcomes) - outcomes.count('ok') - outcomes.count('not-modified')})",
                  flush=True)
        print(f"articles published in the mixed round: {sink.sent[TOPICS.articles]}", flush=True)

        entries = [FeedEntry(article_id=f"{i:032x}", feed_url=f"{base}/feed/0.xml",
                             link=f"{base}/page/bench-{i}") for i in range(pages)]
        semaphore = asyncio.Semaphore(concurrency)
        sizes: list[int] = []

        async def one(entry: FeedEntry) -> None:
            async with semaphore:
                sizes.append((await fetch_page(fetcher, entry)).byte_size)

        async def all_pages() -> None:
            await asyncio.gather(*(one(e) for e in entries))

        figure = await _timed("page fetches", pages, all_pages)
        figures.append(figure)
        print(figure.line(), f"(mean page {sum(sizes) / len(sizes) / 1024:.0f} KiB decoded, "
              f"{sum(sizes) / figure.wall_s / 2 ** 20:.0f} MiB/s)", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=8)  # one host: see RESULTS
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    port = args.port or _free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, args.feeds, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            sys.exit("feed server did not start")
        print(f"poll_bench: {args.feeds} feeds, {args.pages} pages, concurrency "
              f"{args.concurrency}, pid {os.getpid()}, corpus "
              f"{'shared' if CORPUS.is_dir() else 'synthetic'}", flush=True)
        asyncio.run(run(port, args.feeds, args.pages, args.concurrency))
    finally:
        server.terminate()
        server.join()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()

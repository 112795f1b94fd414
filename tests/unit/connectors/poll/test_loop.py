"""The polling loop: feeds added and removed at run time, failing feeds kept on schedule,
a poll interrupted by a move hands over exactly what it emitted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from prometheus_client import REGISTRY

from connectors.feeds.parsing import entry_identity
from connectors.feeds.state import SeenIds, seen_id
from connectors.fetch.fetching import Fetcher, make_client
from connectors.poll.articles import ArticleFlow
from connectors.poll.extract_pool import ExtractionPool
from connectors.poll.loop import PollLoop
from connectors.poll.poller import Poller
from connectors.poll.registry import Registry
from pipeline.records import FeedSubscription
from pipeline.settings import FetchSettings, PollerSettings
from tests.hostile_server import HostileServer, rss, send
from tests.memory_sink import TOPICS, MemorySink


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    hostile.add_pages("/a/", 10)
    yield hostile
    hostile.close()


OPTS = PollerSettings(min_interval_s=0.05, failure_ceiling_s=0.2, jitter=0.1, concurrency=4,
                      state_write_interval_s=0)


@pytest.fixture
async def parts(extraction_pool: ExtractionPool) -> AsyncIterator[tuple[PollLoop, MemorySink]]:
    fetch = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_min_delay_s=0,
                          per_host_concurrency=8, total_timeout_s=3, read_timeout_s=3)
    sink = MemorySink()
    async with make_client(fetch) as client:
        fetcher = Fetcher(client, fetch)
        flow = ArticleFlow(sink, TOPICS, fetcher, extraction_pool, OPTS)
        yield PollLoop(Poller(fetcher, flow, OPTS, owner="w1"), Registry(sink, TOPICS), OPTS), sink
        await flow.close()


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)  # polling a counter another task moves
    assert condition(), what


def fast(url: str) -> FeedSubscription:
    return FeedSubscription(url=url, interval_s=0.05)


async def test_feeds_added_and_removed_while_running(
        parts: tuple[PollLoop, MemorySink], server: HostileServer) -> None:
    loop, sink = parts
    server.routes["/f1.xml"] = lambda h: send(h, 200, rss([("x", server.url("/a/1"))]),
                                              "application/rss+xml")
    server.routes["/f2.xml"] = lambda h: send(h, 200, rss([("y", server.url("/a/2"))]),
                                              "application/rss+xml")
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    loop.put("k1", fast(server.url("/f1.xml")), None)
    await until(lambda: server.hits.get("/f1.xml", 0) >= 3, "f1 polled repeatedly")
    await until(lambda: len(sink.articles) == 1, "f1's page published")
    loop.put("k2", fast(server.url("/f2.xml")), None)
    await until(lambda: server.hits.get("/f2.xml", 0) >= 1, "f2 picked up at run time")
    await loop.remove(["k1"], save=False)
    f1_hits = server.hits["/f1.xml"]
    f2_hits = server.hits["/f2.xml"]
    await until(lambda: server.hits["/f2.xml"] >= f2_hits + 5, "f2 still polled")
    # Removed: never polled again (a request cancelled in flight may still reach the server).
    assert server.hits["/f1.xml"] <= f1_hits + 1
    await until(lambda: len(sink.articles) == 2, "f2's page published")
    stop.set()
    await running
    assert sorted(a.url for a in sink.articles) == [server.url("/a/1"), server.url("/a/2")]
    assert sink.states["k2"].owner == "w1" and sink.states["k2"].polls >= 5


async def test_a_feed_failing_forever_is_retried_and_shows_unhealthy(
        parts: tuple[PollLoop, MemorySink], server: HostileServer) -> None:
    loop, sink = parts
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    loop.put("bad", fast(server.url("/error")), None)
    await until(lambda: server.hits.get("/error", 0) >= 8, "the failing feed retried")
    stop.set()
    await running
    state = sink.states["bad"]
    assert state.health == "unhealthy" and state.consecutive_failures >= 8
    assert state.issues["http-500"] == state.failures_total
    # ...and in the metrics while owned (the gauge goes when the feed is released).
    loop.put("bad", fast(server.url("/error")), state)
    assert REGISTRY.get_sample_value("newsflow_feeds", {"health": "unhealthy"}) == 1


async def test_once_polls_every_feed_exactly_once(
        parts: tuple[PollLoop, MemorySink], server: HostileServer) -> None:
    loop, _ = parts
    for i in range(6):
        server.routes[f"/once{i}.xml"] = lambda h, i=i: send(
            h, 200, rss([(f"e{i}", server.url(f"/a/{i}"))]), "application/rss+xml")
        loop.put(f"o{i}", FeedSubscription(url=server.url(f"/once{i}.xml")), None)
    results = await loop.run(asyncio.Event(), once=True)
    assert sorted(r.outcome for r in results) == ["ok"] * 6
    assert [server.hits[f"/once{i}.xml"] for i in range(6)] == [1] * 6


async def test_removal_mid_poll_hands_over_what_was_emitted(
        parts: tuple[PollLoop, MemorySink], server: HostileServer) -> None:
    loop, sink = parts
    links = [server.url("/a/3"), server.url("/slow")]
    server.routes["/mid.xml"] = lambda h: send(h, 200, rss([("fast", links[0]),
                                                             ("slow", links[1])]),
                                               "application/rss+xml")
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    loop.put("mid", FeedSubscription(url=server.url("/mid.xml")), None)
    await until(lambda: any(a.url == links[0] for a in sink.articles), "the fast page emitted")
    await loop.remove(["mid"], save=True)  # as on a rebalance: the slow page is in flight
    # The cancelled poll winding down must not get the feed polled again by this worker.
    assert "mid" not in loop.polling and "mid" not in loop.feeds
    stop.set()
    await running
    handed_over = sink.states["mid"]
    seen = SeenIds.unpack(handed_over.seen)
    assert seen_id(entry_identity(links[0], links[0], "fast", None)) in seen
    assert seen_id(entry_identity(links[1], links[1], "slow", None)) not in seen
    # The slow page was in hand: it goes to the next owner with the feed, not lost.
    assert [p.entry.link for p in handed_over.pending] == [links[1]]

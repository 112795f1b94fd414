"""The poller against the hostile local server: bad feeds and pages never stop it or lose data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from connectors.feeds import FeedSubscription, parse_feed
from connectors.fetching import Fetcher, make_client
from connectors.poller import Poller, SeenStore
from pipeline.records import DeadLetter, ExtractedArticle
from pipeline.settings import FetchSettings, PollerSettings
from tests.hostile_server import PAGE, HostileServer, rss, send


class ListSink:
    """An ArticleSink that keeps what it is given (the poller's contract, not a Kafka mock)."""

    def __init__(self) -> None:
        self.articles: list[ExtractedArticle] = []
        self.letters: list[DeadLetter] = []

    async def publish(self, article: ExtractedArticle) -> None:
        self.articles.append(article)

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    for i in range(60):
        hostile.routes[f"/a/{i}"] = lambda h, i=i: send(
            h, 200, PAGE.format(title=f"Story {i}").encode(), "text/html; charset=utf-8")
    yield hostile
    hostile.close()


@pytest.fixture
async def poller(tmp_path: Path) -> AsyncIterator[tuple[Poller, ListSink, SeenStore]]:
    fetch = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_min_delay_s=0,
                          total_timeout_s=3, read_timeout_s=3, max_bytes=2_000_000)
    sink = ListSink()
    store = SeenStore(tmp_path / "seen.sqlite")
    async with make_client(fetch) as client:
        yield Poller(sink, store, Fetcher(client, fetch),
                     PollerSettings(state_dir=tmp_path, max_entries_per_poll=25)), sink, store
    store.close()


def feed(server: HostileServer, path: str, links: list[str]) -> FeedSubscription:
    body = rss([(f"Entry {i}", link) for i, link in enumerate(links)])
    server.routes[path] = lambda h: send(h, 200, body, "application/rss+xml")
    return FeedSubscription(url=server.url(path))


async def test_bad_pages_are_dead_lettered_and_good_ones_in_the_same_feed_kept(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer) -> None:
    p, sink, _ = poller
    links = [server.url(x) for x in ("/a/1", "/gone", "/loop/a", "/bomb", "/pdf", "/a/2")]
    result = await p.poll_feed(feed(server, "/mixed.xml", links))
    assert result.outcome == "ok"
    assert sorted(a.url for a in sink.articles) == [server.url("/a/1"), server.url("/a/2")]
    assert sorted(d.reason for d in sink.letters) == [
        "http-410", "not-html", "page-too-large", "redirect-loop"]
    assert all(d.stage == "poll" and d.payload for d in sink.letters)


async def test_transient_failures_are_retried_next_poll_not_lost(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer) -> None:
    p, sink, _ = poller
    server.routes["/flaky"] = server.routes["/error"]
    subscription = feed(server, "/flaky.xml", [server.url("/a/3"), server.url("/flaky")])
    first = await p.poll_feed(subscription)
    assert (first.published, first.retry_later) == (1, 1)
    server.routes["/flaky"] = server.routes["/a/4"]  # the page recovers
    second = await p.poll_feed(subscription)
    assert (second.new_entries, second.published) == (1, 1)
    assert [a.url for a in sink.articles] == [server.url("/a/3"), server.url("/flaky")]


async def test_second_poll_emits_nothing_and_duplicates_across_feeds_once(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer) -> None:
    p, sink, _ = poller
    shared = [server.url("/a/5"), server.url("/a/6")]
    await p.poll_feed(feed(server, "/one.xml", shared))
    await p.poll_feed(feed(server, "/two.xml", [*shared, server.url("/a/7")]))
    again = await p.poll_feed(FeedSubscription(url=server.url("/one.xml")))
    assert again.outcome == "not-modified"  # same bytes as last time
    assert sorted(a.url for a in sink.articles) == [server.url(f"/a/{i}") for i in (5, 6, 7)]


async def test_large_feed_is_worked_through_in_capped_polls_without_loss(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer) -> None:
    p, sink, _ = poller
    subscription = feed(server, "/big.xml", [server.url(f"/a/{i}") for i in range(10, 60)])
    counts = [(await p.poll_feed(subscription)).published for _ in range(3)]
    assert counts == [25, 25, 0]
    assert len({a.url for a in sink.articles}) == 50


@pytest.mark.parametrize(("path", "reason"), [
    ("/html-not-feed", "feed-not-a-feed"),
    ("/error", "http-500"),
    ("/busy", "http-429"),
    ("/slow", "timeout"),
])
async def test_broken_feeds_are_reported_not_raised(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer,
        path: str, reason: str) -> None:
    p, sink, _ = poller
    result = await p.poll_feed(FeedSubscription(url=server.url(path)))
    assert result.outcome == reason and sink.articles == []


async def test_one_bad_feed_does_not_stop_the_others(
        poller: tuple[Poller, ListSink, SeenStore], server: HostileServer) -> None:
    p, sink, _ = poller
    feeds = (FeedSubscription(url=server.url("/error")),
             FeedSubscription(url="http://no-such-host.invalid/rss"),
             feed(server, "/fine.xml", [server.url("/a/8")]))
    results = await p.run(feeds, asyncio.Event(), once=True)
    assert [r.outcome for r in results] == ["http-500", "dns-error", "ok"]
    assert [a.url for a in sink.articles] == [server.url("/a/8")]


def test_twenty_thousand_entry_feed_parses() -> None:
    body = rss([(f"Entry {i}", f"https://big.example/{i}") for i in range(20_000)])
    assert len(parse_feed(body, "https://big.example/rss").entries) == 20_000

"""The poller against the hostile local server: bad feeds and pages never stop it or lose data.

Each test polls `LiveFeed`s as the poll loop keeps them (state, seen-set and entries in hand
carried from one poll to the next) and waits for the article flow to settle what it took in
hand; `MemorySink` is the RecordSink contract, not a Kafka mock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.feeds.parsing import parse_feed
from connectors.fetch.fetching import Fetcher, make_client
from connectors.poll.articles import ArticleFlow
from connectors.poll.extract_pool import ExtractionPool
from connectors.poll.feed import LiveFeed
from connectors.poll.poller import Poller, PollResult
from pipeline.errors import RejectedRecord, SinkUnavailable
from pipeline.options import BoilerplateOptions, ExtractOptions
from pipeline.records import FeedSubscription
from pipeline.settings import FetchSettings, PollerSettings
from tests.hostile_server import PAGE, HostileServer, rss, send
from tests.memory_sink import TOPICS, MemorySink

FETCH = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_min_delay_s=0,
                      total_timeout_s=3, read_timeout_s=3, max_bytes=4_000_000)


class Owner:
    """One LiveFeed per URL, carried across polls as the poll loop does."""

    def __init__(self, poller: Poller, sink: MemorySink) -> None:
        self.poller, self.sink = poller, sink
        self.feeds: dict[str, LiveFeed] = {}

    @property
    def settled(self) -> dict[str, int]:
        return self.poller.articles.counts.settled

    def feed(self, url: str, **sub: object) -> LiveFeed:
        if url not in self.feeds:
            self.feeds[url] = LiveFeed.resume(url, FeedSubscription(url=url, **sub), None)  # type: ignore[arg-type]
        return self.feeds[url]

    async def poll(self, url: str) -> PollResult:
        """One poll, and every page it took in hand fetched and published (or dead-lettered)."""
        result = await self.poller.poll_feed(self.feed(url))
        await self.poller.articles.idle()
        return result


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    hostile.add_pages("/a/", 60)
    yield hostile
    hostile.close()


def poller_opts(**changes: object) -> PollerSettings:
    base: dict[str, object] = dict(max_entries_per_poll=25, jitter=0, min_interval_s=60,
                                   failure_ceiling_s=3600, validator_probe_every=3,
                                   retry_base_s=0.05, retry_max_s=0.2)
    base.update(changes)
    return PollerSettings(**base)  # type: ignore[arg-type]


async def make_owner(sink: MemorySink, pool: ExtractionPool, fetcher: Fetcher,
                     opts: PollerSettings | None = None) -> Owner:
    opts = opts or poller_opts()
    flow = ArticleFlow(sink, TOPICS, fetcher, pool, opts)
    return Owner(Poller(fetcher, flow, opts, owner="t"), sink)


@pytest.fixture
async def owner(extraction_pool: ExtractionPool) -> AsyncIterator[Owner]:
    async with make_client(FETCH) as client:
        made = await make_owner(MemorySink(), extraction_pool, Fetcher(client, FETCH))
        yield made
        await made.poller.articles.close()


def serve_feed(server: HostileServer, path: str, links: list[str], **headers: str) -> str:
    body = rss([(f"Entry {i}", link) for i, link in enumerate(links)])
    server.routes[path] = lambda h: send(h, 200, body, "application/rss+xml", headers)
    return server.url(path)


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)  # a counter another task moves
    assert condition(), what


async def test_bad_pages_are_dead_lettered_and_good_ones_in_the_same_feed_kept(
        owner: Owner, server: HostileServer) -> None:
    links = [server.url(x) for x in ("/a/1", "/gone", "/loop/a", "/bomb", "/pdf", "/a/2")]
    result = await owner.poll(serve_feed(server, "/mixed.xml", links))
    assert (result.outcome, result.new_entries) == ("ok", 6)
    assert sorted(a.url for a in owner.sink.articles) == [server.url("/a/1"), server.url("/a/2")]
    assert sorted(d.reason for d in owner.sink.letters) == [
        "http-410", "not-html", "page-too-large", "redirect-loop"]
    assert all(d.stage == "poll" and d.payload for d in owner.sink.letters)
    assert all(a.extracted_at and a.extracted_at >= a.fetched_at for a in owner.sink.articles)


async def test_a_page_failing_transiently_is_retried_on_its_own_not_lost(
        owner: Owner, server: HostileServer) -> None:
    answers = iter([500, 503])  # then it recovers
    server.routes["/flaky"] = lambda h: send(h, next(answers, 200), PAGE.format(
        title="Back").encode(), "text/html")
    url = serve_feed(server, "/flaky.xml", [server.url("/a/3"), server.url("/flaky")])
    await owner.poll(url)
    await until(lambda: len(owner.sink.articles) == 2, "the flaky page published on retry")
    assert server.hits["/flaky"] == 3 and owner.sink.letters == []
    live = owner.feeds[url]
    assert not live.pending and len(live.seen) == 2
    assert (await owner.poll(url)).new_entries == 0  # nothing handed over twice


async def test_a_page_that_never_recovers_is_dead_lettered_after_its_attempts(
        extraction_pool: ExtractionPool, server: HostileServer) -> None:
    async with make_client(FETCH) as client:
        capped = await make_owner(MemorySink(), extraction_pool, Fetcher(client, FETCH),
                                  poller_opts(retry_attempts=3))
        server.routes["/down"] = lambda h: send(h, 503, b"down", "text/plain")
        await capped.poll(serve_feed(server, "/down.xml", [server.url("/down")]))
        await until(lambda: len(capped.sink.letters) == 1, "the page given up on")
        await capped.poller.articles.close()
    letter = capped.sink.letters[0]
    assert (letter.reason, letter.attempts) == ("http-503", 3)
    assert "gave up after 3 attempts" in letter.error


async def test_entries_in_hand_are_handed_over_with_their_attempts(
        extraction_pool: ExtractionPool, server: HostileServer) -> None:
    server.routes["/later"] = lambda h: send(h, 503, b"down", "text/plain", {"Retry-After": "60"})
    async with make_client(FETCH) as client:
        first = await make_owner(MemorySink(), extraction_pool, Fetcher(client, FETCH))
        url = serve_feed(server, "/handover.xml", [server.url("/later")])
        await first.poll(url)
        await until(lambda: bool(first.feeds[url].pending)
                    and next(iter(first.feeds[url].pending.values())).attempts == 1,
                    "one failed attempt")
        await first.poller.articles.release(first.feeds[url])  # the feed moves away
        saved = first.feeds[url].snapshot()
        await first.poller.articles.close()
    (pending,) = saved.pending
    assert pending.attempts == 1 and pending.last_error and "http-503" in pending.last_error
    assert pending.next_attempt_at and pending.next_attempt_at > datetime.now(UTC)
    # The next owner: the page recovered, and the entry scrolled off the feed meanwhile.
    server.routes["/later"] = server.routes["/a/4"]
    serve_feed(server, "/handover.xml", [])
    async with make_client(FETCH) as client:
        second = await make_owner(MemorySink(), extraction_pool, Fetcher(client, FETCH))
        retried = pending.model_copy(update={"next_attempt_at": None})
        live = LiveFeed.resume(url, FeedSubscription(url=url),
                               saved.model_copy(update={"pending": (retried,)}))
        for entry_id, entry in live.pending.items():
            second.poller.articles.submit(live, entry_id, entry)
        await second.poller.articles.idle()
        await second.poller.articles.close()
    assert [a.url for a in second.sink.articles] == [server.url("/later")]


async def test_second_poll_emits_nothing_and_duplicates_across_feeds_once(
        owner: Owner, server: HostileServer) -> None:
    shared = [server.url("/a/5"), server.url("/a/6")]
    one = serve_feed(server, "/one.xml", shared)
    await owner.poll(one)
    two = await owner.poll(serve_feed(server, "/two.xml", [*shared, server.url("/a/7")]))
    assert two.new_entries == 3 and owner.settled["duplicate"] == 2
    assert (await owner.poll(one)).outcome == "not-modified"  # same bytes as last time
    assert sorted(a.url for a in owner.sink.articles) == [server.url(f"/a/{i}") for i in (5, 6, 7)]


async def test_a_restarted_owner_resumes_from_the_saved_state(
        owner: Owner, server: HostileServer) -> None:
    url = serve_feed(server, "/resume.xml", [server.url("/a/8"), server.url("/a/9")])
    await owner.poll(url)
    saved = owner.feeds[url].snapshot()
    # A new process (or another worker): same state, new Poller, a changed body.
    url = serve_feed(server, "/resume.xml", [server.url(f"/a/{i}") for i in (8, 9, 10)])
    owner.feeds[url] = LiveFeed.resume(url, FeedSubscription(url=url), saved)
    result = await owner.poll(url)
    assert result.new_entries == 1
    assert [a.url for a in owner.sink.articles][-1] == server.url("/a/10")
    assert len(owner.sink.articles) == 3


async def test_large_feed_is_worked_through_in_capped_polls_without_loss(
        owner: Owner, server: HostileServer) -> None:
    url = serve_feed(server, "/big.xml", [server.url(f"/a/{i}") for i in range(10, 60)])
    counts = [(await owner.poll(url)).new_entries for _ in range(3)]
    assert counts == [25, 25, 0]
    assert len({a.url for a in owner.sink.articles}) == 50


async def test_twenty_thousand_entry_feed_is_worked_through_without_repeats(
        owner: Owner, server: HostileServer) -> None:
    url = serve_feed(server, "/huge-feed.xml", [server.url(f"/nope/{i}") for i in range(20_000)])
    first = await owner.poll(url)
    assert (first.outcome, first.new_entries, len(owner.sink.letters)) == ("ok", 25, 25)
    second = await owner.poll(url)
    assert (second.new_entries, len(owner.sink.letters)) == (25, 50)  # the next 25
    assert len({d.key for d in owner.sink.letters}) == 50
    live = owner.feeds[url]
    assert live.state.body_hash is None  # incomplete: the next poll reads it again
    assert len(live.seen) == 50 and len(live.snapshot().model_dump_json()) < 10_000


async def test_pages_in_hand_are_bounded_whatever_the_burst(
        extraction_pool: ExtractionPool, server: HostileServer) -> None:
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def counted(h):  # type: ignore[no-untyped-def]
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)  # a slow site: requests overlap if the poller lets them
        with lock:
            state["now"] -= 1
        send(h, 200, PAGE.format(title="Burst").encode(), "text/html")

    for i in range(30):
        server.routes[f"/burst/{i}"] = counted
    fetch = FETCH.model_copy(update={"per_host_concurrency": 20})
    async with make_client(fetch) as client:
        bounded = await make_owner(MemorySink(), extraction_pool, Fetcher(client, fetch),
                                   poller_opts(pages_in_hand=3, max_entries_per_poll=500))
        await bounded.poll(serve_feed(server, "/burst.xml",
                                      [server.url(f"/burst/{i}") for i in range(30)]))
        await bounded.poller.articles.close()
    assert len(bounded.sink.articles) == 30 and state["most"] == 3


async def test_a_busy_feed_does_not_starve_a_quiet_one(
        extraction_pool: ExtractionPool, server: HostileServer) -> None:
    quiet_site = HostileServer(host="127.0.0.2").start()
    try:
        for i in range(20):
            server.routes[f"/busy-site/{i}"] = lambda h: (time.sleep(0.05), send(
                h, 200, PAGE.format(title="Busy").encode(), "text/html"))
        async with make_client(FETCH) as client:
            fair = await make_owner(MemorySink(), extraction_pool, Fetcher(client, FETCH),
                                    poller_opts(pages_in_hand=2, max_entries_per_poll=500))
            busy = serve_feed(server, "/busy-site.xml",
                              [server.url(f"/busy-site/{i}") for i in range(20)])
            await fair.poller.poll_feed(fair.feed(busy))
            quiet_site.routes["/q"] = server.routes["/a/20"]
            quiet = serve_feed(quiet_site, "/quiet.xml", [quiet_site.url("/q")])
            await fair.poll(quiet)
            await fair.poller.articles.close()
        order = [a.url for a in fair.sink.articles]
        assert len(order) == 21
        assert order.index(quiet_site.url("/q")) <= 4  # not behind the busy feed's backlog
    finally:
        quiet_site.close()


class FlakySink(MemorySink):
    """The broker refuses the first `failures` articles (down, restarting), then takes all."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures, self.error = failures, error

    async def send(self, topic: str, key: str | None, value: bytes | None) -> None:
        if topic == TOPICS.articles and self.failures:
            self.failures -= 1
            raise self.error
        await super().send(topic, key, value)


async def test_a_broker_that_is_down_is_waited_for_and_nothing_is_dead_lettered(
        extraction_pool: ExtractionPool, server: HostileServer) -> None:
    sink = FlakySink(3, SinkUnavailable("broker restarting", target="articles"))
    async with make_client(FETCH) as client:
        patient = await make_owner(sink, extraction_pool, Fetcher(client, FETCH))
        await patient.poll(serve_feed(server, "/patient.xml", [server.url("/a/21")]))
        await patient.poller.articles.close()
    assert [a.url for a in sink.articles] == [server.url("/a/21")] and sink.letters == []


@pytest.mark.parametrize(("error", "reason"), [
    (RejectedRecord("record too large", reason="record-too-large"), "record-too-large"),
    (ValueError("a bug in a sink"), "bug:ValueError"),  # unexpected: a dead letter, not a loss
])
async def test_an_article_the_broker_refuses_is_dead_lettered_and_settled(
        extraction_pool: ExtractionPool, server: HostileServer, error: Exception,
        reason: str) -> None:
    sink = FlakySink(1, error)
    async with make_client(FETCH) as client:
        refused = await make_owner(sink, extraction_pool, Fetcher(client, FETCH))
        url = serve_feed(server, f"/refused-{reason}.xml", [server.url("/a/22")])
        await refused.poll(url)
        assert (await refused.poll(url)).new_entries == 0  # settled: not handed over again
        await refused.poller.articles.close()
    assert [d.reason for d in sink.letters] == [reason] and sink.articles == []


@pytest.mark.parametrize(("path", "reason"), [
    ("/html-not-feed", "feed-not-a-feed"),
    ("/error", "http-500"),
    ("/busy", "http-429"),
    ("/slow", "timeout"),
    ("/huge", "page-too-large"),
    ("/bomb", "page-too-large"),
    ("/loop/a", "redirect-loop"),
])
async def test_broken_feeds_are_counted_and_rescheduled_not_raised(
        owner: Owner, server: HostileServer, path: str, reason: str) -> None:
    before = datetime.now(UTC)
    result = await owner.poll(server.url(path))
    state = owner.feeds[server.url(path)].state
    assert result.outcome == reason and owner.sink.articles == []
    assert (state.consecutive_failures, state.issues, state.health) == (1, {reason: 1}, "degraded")
    assert state.next_poll_at is not None and state.next_poll_at > before


async def test_retry_after_on_429_delays_the_next_poll(owner: Owner, server: HostileServer) -> None:
    before = datetime.now(UTC)
    await owner.poll(server.url("/busy"))  # Retry-After: 120
    assert owner.feeds[server.url("/busy")].state.next_poll_at >= before + timedelta(seconds=120)


async def test_a_feed_failing_forever_backs_off_to_the_ceiling_and_stays_scheduled(
        owner: Owner, server: HostileServer) -> None:
    url = server.url("/error")
    gaps = []
    for _ in range(10):
        before = datetime.now(UTC)
        await owner.poll(url)
        state = owner.feeds[url].state
        assert state.next_poll_at is not None
        gaps.append(round((state.next_poll_at - before).total_seconds() / 60))
    # minutes: never more often than the feed's normal 5 min, doubling from the 1 min minimum,
    # then retried at the 1 h ceiling for ever
    assert gaps == [5, 5, 5, 8, 16, 32, 60, 60, 60, 60]
    assert (state.health, state.consecutive_failures) == ("unhealthy", 10)


async def test_a_non_ascii_etag_never_breaks_the_next_polls(
        owner: Owner, server: HostileServer) -> None:
    body = rss([("E", server.url("/a/23"))])
    server.routes["/etag.xml"] = lambda h: h.send_response(200) or h.send_header(
        "Content-Type", "application/rss+xml") or h.send_header(
        "Content-Length", str(len(body))) or h.send_header("ETag", '"caf\xe9"') or (
        h.end_headers(), h.wfile.write(body))
    url = server.url("/etag.xml")
    outcomes = [(await owner.poll(url)).outcome for _ in range(3)]
    assert outcomes == ["ok", "not-modified", "not-modified"]  # the body hash still decides
    state = owner.feeds[url].state
    assert state.etag is None and state.issues.get("validator-not-ascii") == 1
    assert [a.url for a in owner.sink.articles] == [server.url("/a/23")]


async def test_closed_port_is_a_network_error_and_other_feeds_go_on(
        owner: Owner, server: HostileServer) -> None:
    url = serve_feed(server, "/fine.xml", [server.url("/a/11")])
    outcomes = [(await owner.poll(u)).outcome for u in ("http://127.0.0.1:1/rss", url)]
    assert outcomes == ["network-error", "ok"]
    assert [a.url for a in owner.sink.articles] == [server.url("/a/11")]


async def test_odd_feeds_keep_every_valid_entry_and_count_the_rest(
        owner: Owner, server: HostileServer) -> None:
    future = (datetime.now(UTC) + timedelta(days=400)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Odd</title>'
            f"<item><title>No link</title><guid isPermaLink='false'>x-1</guid></item>"
            f"<item><title>Future</title><link>{server.url('/a/12')}</link>"
            f"<pubDate>{future}</pubDate></item>"
            f"<item><title>Epoch</title><link>{server.url('/a/13')}</link>"
            f"<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>"
            f"<item><title>Caf\xe9 \xff unclosed <b></title><link>{server.url('/a/14')}</link>"
            f"</item></channel></rss>").encode("latin-1")
    server.routes["/odd.xml"] = lambda h: send(h, 200, body, "application/rss+xml; charset=utf-8")
    result = await owner.poll(server.url("/odd.xml"))
    assert (result.outcome, len(owner.sink.articles)) == ("ok", 3)
    issues = owner.feeds[server.url("/odd.xml")].state.issues
    assert issues["entry-without-link"] == 1 and issues["malformed-feed"] == 1
    assert issues["date-in-future"] >= 1 and issues["date-too-old"] >= 1
    assert {a.published_at for a in owner.sink.articles if a.url.endswith(("/12", "/13"))} \
        <= {None} | {a.published_at for a in owner.sink.articles if a.date_source != "feed"}


async def test_json_feed_and_news_sitemap_are_polled(owner: Owner, server: HostileServer) -> None:
    json_feed = ('{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": "'
                 + server.url("/a/15") + '"}]}').encode()
    server.routes["/feed.json"] = lambda h: send(h, 200, json_feed, "application/feed+json")
    sitemap = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news='
               b'"http://www.google.com/schemas/sitemap-news/0.9"><url><loc>'
               + server.url("/a/16").encode() + b"</loc><news:news><news:title>T</news:title>"
               b"</news:news></url></urlset>")
    server.routes["/news.xml"] = lambda h: send(h, 200, sitemap, "application/xml")
    for path in ("/feed.json", "/news.xml"):
        assert (await owner.poll(server.url(path))).new_entries == 1
    assert [a.url for a in owner.sink.articles] == [server.url("/a/15"), server.url("/a/16")]


async def test_conditional_get_and_lying_validators_are_learned(
        owner: Owner, server: HostileServer) -> None:
    """A server whose ETag never changes answers 304 even after a new entry: the periodic
    unconditional probe catches it, and from then on the body hash alone decides."""
    items = [server.url("/a/17")]
    seen_headers: list[str | None] = []

    def stubborn(h):  # type: ignore[no-untyped-def]
        seen_headers.append(h.headers.get("If-None-Match"))
        if h.headers.get("If-None-Match") == '"forever"':
            return send(h, 304, b"", "application/rss+xml", {"ETag": '"forever"'})
        body = rss([(f"E{i}", link) for i, link in enumerate(items)])
        return send(h, 200, body, "application/rss+xml", {"ETag": '"forever"'})

    server.routes["/stubborn.xml"] = stubborn
    url = server.url("/stubborn.xml")
    first = await owner.poll(url)
    items.append(server.url("/a/18"))  # published, but the ETag stays
    outcomes = [first.outcome] + [(await owner.poll(url)).outcome for _ in range(3)]
    assert outcomes == ["ok", "not-modified", "ok", "not-modified"]
    assert seen_headers == [None, '"forever"', None, None]  # probe, then never trusted again
    state = owner.feeds[url].state
    assert not state.validators_trusted and state.issues == {"validators-untrusted": 1}
    assert [a.url for a in owner.sink.articles] == items


async def test_permanent_redirect_moves_the_feed_temporary_does_not(
        owner: Owner, server: HostileServer) -> None:
    target = serve_feed(server, "/new-home.xml", [server.url("/a/19")])
    server.routes["/old-home.xml"] = lambda h: send(h, 301, b"", "text/plain",
                                                    {"Location": "/new-home.xml"})
    server.routes["/elsewhere.xml"] = lambda h: send(h, 302, b"", "text/plain",
                                                     {"Location": "/new-home.xml"})
    moved = await owner.poll(server.url("/old-home.xml"))
    assert moved.moved_to == target and owner.feeds[server.url("/old-home.xml")].state.url == target
    temporary = await owner.poll(server.url("/elsewhere.xml"))
    assert temporary.moved_to is None
    assert owner.feeds[server.url("/elsewhere.xml")].state.url == server.url("/elsewhere.xml")


def test_twenty_thousand_entry_feed_parses() -> None:
    body = rss([(f"Entry {i}", f"https://big.example/{i}") for i in range(20_000)])
    assert len(parse_feed(body, "https://big.example/rss").entries) == 20_000


async def test_unresolvable_feed_host_is_a_counted_failure_not_a_crash(
        extraction_pool: ExtractionPool) -> None:
    from tests.unit.connectors.fetch.test_fetching import no_such_name

    fetch = FetchSettings(per_host_min_delay_s=0, total_timeout_s=3)
    sink = MemorySink()
    async with make_client(fetch, getaddrinfo=no_such_name) as client:
        fetcher = Fetcher(client, fetch)
        dns_owner = await make_owner(sink, extraction_pool, fetcher)
        result = await dns_owner.poll("http://no-such-host.invalid/rss")
    assert result.outcome == "dns-error"
    assert sink.articles == [] and sink.letters == []


async def test_chrome_repeated_across_a_domain_is_learned_and_stripped(
        server: HostileServer, tmp_path: Path) -> None:
    promo = "The Gazette covers the twelve parishes of the lower Tessel valley every weekday."
    topics = ["tram", "ferry", "market", "bridge", "library", "museum"]
    for i, topic in enumerate(topics):
        body = "".join(f"<p>The {topic} {word} was discussed at length by the committee on "
                       f"{day}, and residents raised their concerns about the {topic}.</p>"
                       for word, day in (("plan", "Monday"), ("budget", "Tuesday")))
        html = f"<html><body><article><h1>{topic}</h1>{body}<p>{promo}</p></article></body></html>"
        server.routes[f"/d/{i}"] = lambda h, html=html: send(h, 200, html.encode(), "text/html")
    learning_pool = ExtractionPool(ExtractOptions(), processes=1, budget_s=20,
                                   blocks_path=tmp_path / "blocks.sqlite",
                                   boilerplate=BoilerplateOptions(min_pages=2))
    sink = MemorySink()
    try:
        async with make_client(FETCH) as client:
            learning = await make_owner(sink, learning_pool, Fetcher(client, FETCH))
            for i in range(len(topics)):  # one feed per page: learning happens page by page
                await learning.poll(serve_feed(server, f"/dfeed{i}.xml", [server.url(f"/d/{i}")]))
            await learning.poller.articles.close()
    finally:
        learning_pool.close()
    with_promo = [promo in a.text for a in sink.articles]
    assert with_promo == [True, True, True, False, False, False]
    assert all("committee" in a.text for a in sink.articles)


async def test_extraction_over_its_time_budget_is_dead_lettered_and_the_feed_goes_on(
        server: HostileServer) -> None:
    # ~1.5 MB of dense tables: several seconds of extraction (4.5 s of CPU on the project box)
    cell = "<td><a href='/x'>link</a> <b>bold</b> text</td>"
    heavy = ("<html><body>" + ("<table><tr>" + cell * 40 + "</tr></table><p>" + "word " * 50
                                + "</p>") * 700 + "</body></html>").encode()
    server.routes["/heavy"] = lambda h: send(h, 200, heavy, "text/html")
    hasty_pool = ExtractionPool(ExtractOptions(), processes=1, budget_s=1.0)
    sink = MemorySink()
    try:
        async with make_client(FETCH) as client:
            hasty = await make_owner(sink, hasty_pool, Fetcher(client, FETCH))
            result = await hasty.poll(serve_feed(server, "/budget.xml", [
                server.url("/heavy"), server.url("/a/40")]))
            await hasty.poller.articles.close()
    finally:
        hasty_pool.close()
    assert result.outcome == "ok"
    assert [d.reason for d in sink.letters] == ["extraction-timeout"]
    assert [a.url for a in sink.articles] == [server.url("/a/40")]  # a fresh process took it

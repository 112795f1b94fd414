"""robots.txt per RFC 9309 against a real local server: one fetch per origin, bounded size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.fetch.fetching import Fetcher, fetch_page, make_client
from pipeline.errors import FetchUnavailable
from pipeline.identity import article_id_for
from pipeline.records import FeedEntry
from pipeline.settings import FetchSettings
from tests.hostile_server import HostileServer, send

SETTINGS = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_min_delay_s=0,
                         per_host_concurrency=20, total_timeout_s=5, read_timeout_s=5)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    hostile.add_pages("/a/", 20)
    yield hostile
    hostile.close()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with make_client(SETTINGS) as client:
        yield Fetcher(client, SETTINGS)


def entry(url: str) -> FeedEntry:
    return FeedEntry(article_id=article_id_for(url), feed_url="http://feed.test/rss", link=url)


async def test_twenty_new_entries_of_a_host_ask_for_robots_txt_once(
        fetcher: Fetcher, server: HostileServer) -> None:
    pages = await asyncio.gather(*(fetch_page(fetcher, entry(server.url(f"/a/{i}")))
                                   for i in range(20)))
    assert len(pages) == 20 and server.hits["/robots.txt"] == 1


async def test_a_huge_robots_txt_is_read_to_its_first_500_kib(
        fetcher: Fetcher, server: HostileServer) -> None:
    rules = b"User-agent: *\nDisallow: /private/\n" + b"# padding\n" * 1_300_000  # 13 MB
    server.routes["/robots.txt"] = lambda h: send(h, 200, rules, "text/plain")
    page = await fetch_page(fetcher, entry(server.url("/page")))
    assert page.status == 200
    with pytest.raises(Exception) as info:
        await fetch_page(fetcher, entry(server.url("/private/page")))
    assert getattr(info.value, "reason", None) == "robots-disallowed"


async def test_a_looping_robots_txt_is_unavailable_so_everything_is_allowed(
        fetcher: Fetcher, server: HostileServer) -> None:
    server.routes["/robots.txt"] = lambda h: send(h, 302, b"", "text/plain",
                                                  {"Location": "/robots.txt"})
    pages = await asyncio.gather(*(fetch_page(fetcher, entry(server.url(f"/a/{i}")))
                                   for i in range(5)))
    assert {p.status for p in pages} == {200}


async def test_an_unreachable_robots_txt_is_retryable_and_asked_for_once(
        fetcher: Fetcher, server: HostileServer) -> None:
    server.routes["/robots.txt"] = lambda h: send(h, 503, b"down", "text/plain")
    results = await asyncio.gather(*(fetch_page(fetcher, entry(server.url(f"/a/{i}")))
                                     for i in range(10)), return_exceptions=True)
    assert all(isinstance(r, FetchUnavailable) and r.reason == "robots-unavailable"
               for r in results)
    assert server.hits["/robots.txt"] == 1  # the failure is remembered, not asked ten times
    assert "/a/0" not in server.hits  # nothing fetched while robots.txt is unreachable

"""The fetcher against a real local server that misbehaves (no monkeypatched HTTP)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.fetch.fetching import Fetcher, decode_html, fetch_page, make_client
from pipeline.errors import FetchUnavailable, PageRejected
from pipeline.identity import article_id_for
from pipeline.records import FeedEntry
from pipeline.settings import FetchSettings
from tests.hostile_server import HostileServer

LOOPBACK = ("127.0.0.0/8",)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    yield hostile
    hostile.close()


def opts(**changes: object) -> FetchSettings:
    base: dict[str, object] = dict(allowed_networks=LOOPBACK, per_host_min_delay_s=0,
                                   total_timeout_s=3, read_timeout_s=3, max_bytes=1_000_000)
    base.update(changes)
    return FetchSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    settings = opts()
    async with make_client(settings) as client:
        yield Fetcher(client, settings)


def entry(url: str) -> FeedEntry:
    return FeedEntry(article_id=article_id_for(url), feed_url="http://feed.test/rss", link=url)


async def test_plain_page(fetcher: Fetcher, server: HostileServer) -> None:
    page = await fetch_page(fetcher, entry(server.url("/page")))
    assert page.status == 200 and "harbour commission" in page.html


@pytest.mark.parametrize(("path", "error", "reason"), [
    ("/slow", FetchUnavailable, "timeout"),  # one byte a second: the total time budget
    ("/huge", PageRejected, "page-too-large"),  # 1 GiB body: cut at the cap
    ("/bomb", PageRejected, "page-too-large"),  # 1 GiB gzip bomb: cut, never inflated
    ("/loop/a", PageRejected, "redirect-loop"),
])
async def test_hostile_answers_are_cut_short(fetcher: Fetcher, server: HostileServer, path: str,
                                            error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        await fetcher.get(server.url(path))
    assert info.value.reason == reason  # type: ignore[attr-defined]


async def test_permanent_redirect_is_reported(fetcher: Fetcher, server: HostileServer) -> None:
    result = await fetcher.get(server.url("/moved"))
    assert result.final_url == server.url("/page")
    assert result.permanent_redirect == server.url("/page")


@pytest.mark.parametrize(("path", "error", "reason"), [
    ("/error", FetchUnavailable, "http-500"),
    ("/busy", FetchUnavailable, "http-429"),
    ("/gone", PageRejected, "http-410"),
    ("/pdf", PageRejected, "not-html"),
    ("/private/page", PageRejected, "robots-disallowed"),
])
async def test_statuses_are_classified(fetcher: Fetcher, server: HostileServer, path: str,
                                       error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        await fetch_page(fetcher, entry(server.url(path)))
    assert info.value.reason == reason  # type: ignore[attr-defined]


async def test_retry_after_is_carried(fetcher: Fetcher, server: HostileServer) -> None:
    with pytest.raises(FetchUnavailable) as info:
        await fetcher.get(server.url("/busy"))
    assert info.value.retry_after == 120


async def no_such_name(host: str, port: int) -> list[tuple[object, ...]]:
    """A resolver that knows no names: tests never query the machine's real resolver."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def test_unresolvable_name_is_retryable() -> None:
    settings = opts()
    async with make_client(settings) as client:
        fetcher = Fetcher(client, settings, getaddrinfo=no_such_name)
        with pytest.raises(FetchUnavailable) as info:
            await fetcher.get("http://no-such-host.invalid/feed")
    assert info.value.reason == "dns-error"


async def test_ssrf_guard_refuses_loopback_unless_allowlisted(server: HostileServer) -> None:
    settings = opts(allowed_networks=())
    async with make_client(settings) as client:
        with pytest.raises(PageRejected) as info:
            await Fetcher(client, settings).get(server.url("/page"))
    assert info.value.reason == "ssrf-blocked"


async def test_ssrf_guard_checks_every_redirect_hop(fetcher: Fetcher, server: HostileServer) -> None:
    # loopback is allowlisted, the link-local metadata address it redirects to is not
    with pytest.raises(PageRejected) as info:
        await fetcher.get(server.url("/to-metadata"))
    assert info.value.reason == "ssrf-blocked"
    assert "169.254.169.254" in str(info.value)


async def test_invalid_utf8_and_wrong_charset_decode_without_crashing(
        fetcher: Fetcher, server: HostileServer) -> None:
    bad = await fetch_page(fetcher, entry(server.url("/invalid-utf8")))
    assert "\ufffd" in bad.html and "commission" in bad.html
    wrong = await fetch_page(fetcher, entry(server.url("/wrong-charset")))
    assert "Caf" in wrong.html and "commission" in wrong.html


def test_meta_charset_used_when_header_has_none() -> None:
    body = '<html><head><meta charset="windows-1252"></head><body>caf\xe9</body></html>'
    assert "café" in decode_html(body.encode("cp1252"), None)

"""The fetcher against a real local server that misbehaves (no monkeypatched HTTP)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.fetch.fetching import Fetcher, decode_html, fetch_page, make_client
from connectors.fetch.netguard import is_forbidden
from pipeline.errors import FetchUnavailable, PageRejected
from pipeline.identity import article_id_for
from pipeline.records import FeedEntry
from pipeline.settings import FetchSettings
from tests.hostile_server import HostileServer, send

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


async def test_a_fetch_cancelled_in_its_politeness_delay_gives_the_host_back(
        server: HostileServer) -> None:
    # One request at a time per host, 0.3 s between starts: the second fetch waits its turn.
    settings = opts(per_host_concurrency=1, per_host_min_delay_s=0.3)
    async with make_client(settings) as client:
        fetcher = Fetcher(client, settings)
        await fetcher.get(server.url("/page"))
        waiting = asyncio.create_task(fetcher.get(server.url("/page")))
        await asyncio.sleep(0)  # it holds the host's turn and sleeps out the delay
        waiting.cancel()  # as a feed handed to another poller is
        with pytest.raises(asyncio.CancelledError):
            await waiting
        result = await fetcher.get(server.url("/page"))  # within the 3 s budget, not refused
        assert result.status == 200


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
    async with make_client(settings, getaddrinfo=no_such_name) as client:
        fetcher = Fetcher(client, settings)
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


async def test_a_name_is_resolved_once_per_connection_and_checked_there(
        server: HostileServer) -> None:
    """The guard and the connection use one answer: a second lookup (the old way) would let
    a DNS answer change between the check and the connect (rebinding)."""
    port = int(server.base.rsplit(":", 1)[1])
    answers = {"site.test": "127.0.0.1", "inside.test": "10.1.2.3"}
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    settings = opts()
    async with make_client(settings, getaddrinfo=resolver) as client:
        fetcher = Fetcher(client, settings)
        page = await fetcher.get(f"http://site.test:{port}/page")
        with pytest.raises(PageRejected) as info:
            await fetcher.get(f"http://inside.test:{port}/page")
    assert page.status == 200 and lookups == ["site.test", "inside.test"]
    assert info.value.reason == "ssrf-blocked" and "10.1.2.3" in str(info.value)


@pytest.mark.parametrize("address", [
    "100.64.0.1",  # shared address space, where cloud metadata services may live
    "192.0.0.170", "192.0.0.9",  # IETF protocol assignments
    "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
    "::ffff:169.254.169.254", "64:ff9b::a00:1",  # IPv4 mapped, and NAT64 of 10.0.0.1
    "fec0::1",  # site-local
    "224.0.0.251", "ff02::1", "0.0.0.0", "198.18.0.1",
])
def test_non_global_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::"])
def test_public_addresses_pass(address: str) -> None:
    assert not is_forbidden(ipaddress.ip_address(address))


async def test_proxy_variables_in_the_environment_are_ignored(
        fetcher: Fetcher, server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:1")  # nothing listens there
    settings = opts()
    async with make_client(settings) as client:
        assert (await Fetcher(client, settings).get(server.url("/page"))).status == 200


async def test_a_redirect_to_an_impossible_port_is_rejected_not_raised(
        fetcher: Fetcher, server: HostileServer) -> None:
    server.routes["/to-port-99999"] = lambda h: send(h, 302, b"", "text/plain",
                                                     {"Location": "http://127.0.0.1:99999/x"})
    with pytest.raises(PageRejected) as info:
        await fetch_page(fetcher, entry(server.url("/to-port-99999")))
    assert info.value.reason == "invalid-url"


async def test_invalid_utf8_and_wrong_charset_decode_without_crashing(
        fetcher: Fetcher, server: HostileServer) -> None:
    bad = await fetch_page(fetcher, entry(server.url("/invalid-utf8")))
    assert "\ufffd" in bad.html and "commission" in bad.html
    wrong = await fetch_page(fetcher, entry(server.url("/wrong-charset")))
    assert "Caf" in wrong.html and "commission" in wrong.html


def test_meta_charset_used_when_header_has_none() -> None:
    body = '<html><head><meta charset="windows-1252"></head><body>caf\xe9</body></html>'
    assert "café" in decode_html(body.encode("cp1252"), None)

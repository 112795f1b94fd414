"""Fetching feeds and article pages (adapter): one shared httpx client behind hard limits.

HTTP outcomes are classified here and nowhere else: a usable answer becomes an `HttpResult`
(200 or 304), 408/425/429/5xx and network failures are `FetchUnavailable` (retry later, with
Retry-After), anything else a `PageRejected` with a reason slug. Limits hold while streaming:
the body cap applies to the *decompressed* size, so a gzip bomb is cut off, not inflated;
redirects are followed by hand; every connection passes the SSRF guard (netguard.py).
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from connectors.fetch import robots
from connectors.fetch.netguard import (
    AddrInfo,
    GuardedBackend,
    NetworkGuard,
    is_certificate_error,
    system_getaddrinfo,
)
from connectors.fetch.robots import RobotsCache
from pipeline.errors import FetchUnavailable, PageRejected
from pipeline.records import FeedEntry, FetchedPage
from pipeline.settings import FetchSettings

HTML_TYPES = ("text/html", "application/xhtml+xml")
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
GZIP_WBITS = 16 + zlib.MAX_WBITS


@dataclass
class HttpResult:
    url: str  # requested
    final_url: str  # after redirects
    status: int  # 200 or 304
    headers: httpx.Headers
    body: bytes
    permanent_redirect: str | None = None  # where a 301/308 chain starting at url leads
    charset: str | None = None


class HostLimiter:
    """Per host: at most N requests in flight and a minimum gap between request starts."""

    def __init__(self, per_host: int, min_delay_s: float) -> None:
        self._min_delay_s = min_delay_s
        self._semaphores: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host))
        self._last_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """A request's turn at `host` for the with-block. The turn is given back however the
        block or the politeness delay ends: a fetch cancelled in the delay (its time budget
        spent, its feed handed to another poller) once kept it, and two such kept the host
        shut for good."""
        async with self._semaphores[host]:
            gap = self._last_start.get(host, 0.0) + self._min_delay_s - time.monotonic()
            if gap > 0:
                await asyncio.sleep(gap)  # politeness delay: a rate limit, not a wait on a condition
            self._last_start[host] = time.monotonic()
            yield


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport whose connections go through the SSRF guard (netguard.GuardedBackend).

    httpx does not take a network backend, so the connection pool it built is replaced by the
    same pool with one; proxies from the environment are never used (`trust_env` off).
    """

    def __init__(self, guard: NetworkGuard, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard))


def make_client(opts: FetchSettings, *,
                getaddrinfo: AddrInfo = system_getaddrinfo) -> httpx.AsyncClient:
    """The process's one HTTP client (connection pooling across feeds and pages)."""
    timeout = httpx.Timeout(opts.read_timeout_s, connect=opts.connect_timeout_s)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,  # followed by hand: each hop is checked
        headers={"User-Agent": opts.user_agent, "Accept-Encoding": "gzip, deflate"},
        transport=GuardedTransport(NetworkGuard(opts.allowed_networks, getaddrinfo), limits),
        trust_env=False,
    )


def retry_after_s(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def decode_html(body: bytes, header_charset: str | None) -> str:
    """Header charset, then <meta charset>, then UTF-8; undecodable bytes are replaced."""
    candidates = [header_charset]
    if match := META_CHARSET_RE.search(body[:4096]):
        candidates.append(match.group(1).decode("ascii", "replace"))
    for charset in candidates:
        if not charset:
            continue
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            continue
    return body.decode("utf-8", errors="replace")


def _decompressor(encoding: str, url: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(GZIP_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise PageRejected(f"unsupported content encoding {encoding!r}", url=url,
                       reason="unsupported-encoding")


async def read_capped(response: httpx.Response, max_bytes: int, *,
                      truncate: bool = False) -> bytes:
    """Read and decompress the body, refusing to produce more than max_bytes of it (with
    `truncate`, the first max_bytes are the answer instead)."""
    url = str(response.url)
    decompressor = _decompressor(response.headers.get("content-encoding", ""), url)
    too_large = PageRejected(f"body larger than {max_bytes} bytes", url=url,
                             status=response.status_code, reason="page-too-large")
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            if decompressor is None:
                out = raw
            else:
                # max_length bounds what one chunk may inflate to: the bomb never expands.
                out = decompressor.decompress(raw, max_bytes - size + 1)
            if size + len(out) > max_bytes or (decompressor and decompressor.unconsumed_tail):
                if not truncate:
                    raise too_large
                chunks.append(out[:max_bytes - size])
                break
            size += len(out)
            chunks.append(out)
    except zlib.error as err:
        raise PageRejected(f"corrupt {response.headers.get('content-encoding')} body: {err}",
                           url=url, reason="bad-encoding") from err
    return b"".join(chunks)


def _check_target(url: str) -> None:
    """Refuse what no request can be made to (a redirect to port 99999, to ftp:, no host)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError out of 0-65535
    except ValueError as err:
        raise PageRejected(f"cannot fetch {url}: {err}", url=url, reason="invalid-url") from err
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PageRejected(f"cannot fetch {url}: not an http(s) URL with a host", url=url,
                           reason="invalid-url")


@dataclass
class Fetcher:
    """Everything a fetch needs, built once per process and shared by all feeds."""

    client: httpx.AsyncClient  # from make_client: its connections pass the SSRF guard
    opts: FetchSettings
    guard: NetworkGuard = field(init=False)
    limiter: HostLimiter = field(init=False)
    robots: RobotsCache = field(init=False)

    def __post_init__(self) -> None:
        self.guard = NetworkGuard(self.opts.allowed_networks)  # literal hops; names: the client
        self.limiter = HostLimiter(self.opts.per_host_concurrency, self.opts.per_host_min_delay_s)
        self.robots = RobotsCache(self.opts.user_agent)

    async def get(self, url: str, headers: dict[str, str] | None = None, *,
                  max_bytes: int | None = None, truncate: bool = False) -> HttpResult:
        """GET within the total time budget; network failures become FetchUnavailable."""
        try:
            async with asyncio.timeout(self.opts.total_timeout_s):
                return await self._follow(url, headers or {}, max_bytes or self.opts.max_bytes,
                                          truncate)
        except TimeoutError as err:
            raise FetchUnavailable(f"no complete answer within {self.opts.total_timeout_s}s",
                                   url=url, reason="timeout") from err
        except httpx.TimeoutException as err:
            raise FetchUnavailable(f"timed out: {err}", url=url, reason="timeout") from err
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as err:
            # a redirect to port 99999, to ftp:, to a URL that does not parse
            raise PageRejected(f"cannot fetch {url}: {err}", url=url,
                               reason="invalid-url") from err
        except httpx.TransportError as err:
            if is_certificate_error(err):
                raise PageRejected(f"TLS certificate refused: {err}", url=url,
                                   reason="tls-certificate") from err
            raise FetchUnavailable(f"{type(err).__name__}: {err}", url=url,
                                   reason="network-error") from err

    async def robots_body(self, robots_url: str) -> bytes | None:
        """A robots.txt (its first robots.MAX_BYTES), or None where RFC 9309 calls it
        unavailable: a 4xx, a redirect loop, too many redirects, a refused target."""
        try:
            result = await self.get(robots_url, max_bytes=robots.MAX_BYTES, truncate=True)
        except PageRejected:
            return None
        return result.body

    async def _follow(self, url: str, headers: dict[str, str], max_bytes: int,
                      truncate: bool) -> HttpResult:
        current, seen = url, {url}
        permanent: str | None = None
        still_permanent = True
        for _hop in range(self.opts.max_redirects + 1):
            _check_target(current)
            self.guard.check_literal(current)
            host = (urlsplit(current).hostname or "").lower()
            async with self.limiter.slot(host), self.client.stream(
                    "GET", current, headers=headers) as response:
                status = response.status_code
                if status in REDIRECT_STATUS and "location" in response.headers:
                    target = urljoin(current, response.headers["location"])
                elif status in RETRYABLE_STATUS:
                    raise FetchUnavailable(
                        f"HTTP {status}", url=current, reason=f"http-{status}",
                        retry_after=retry_after_s(response.headers.get("retry-after"),
                                                  datetime.now(UTC)))
                elif status in (200, 304):
                    body = await read_capped(response, max_bytes, truncate=truncate)
                    return HttpResult(url=url, final_url=current, status=status,
                                      headers=response.headers, body=body,
                                      permanent_redirect=permanent,
                                      charset=response.charset_encoding)
                else:
                    raise PageRejected(f"HTTP {status}", url=current, status=status,
                                       reason=f"http-{status}")
            if target in seen:
                raise PageRejected(f"redirect loop at {target}", url=url, reason="redirect-loop")
            still_permanent = still_permanent and status in PERMANENT_REDIRECTS
            if still_permanent:
                permanent = target
            seen.add(target)
            current = target
        raise PageRejected(f"more than {self.opts.max_redirects} redirects", url=url,
                           reason="too-many-redirects")


async def fetch_page(fetcher: Fetcher, entry: FeedEntry) -> FetchedPage:
    if fetcher.opts.respect_robots and not await fetcher.robots.allows(entry.link,
                                                                        fetcher.robots_body):
        raise PageRejected("disallowed by robots.txt", url=entry.link, reason="robots-disallowed")
    result = await fetcher.get(entry.link)
    content_type = result.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        raise PageRejected(f"not HTML: {mime}", url=entry.link, status=result.status,
                           reason="not-html")
    return FetchedPage(
        article_id=entry.article_id,
        url=entry.link,
        final_url=result.final_url,
        feed_url=entry.feed_url,
        status=result.status,
        content_type=content_type or None,
        fetched_at=datetime.now(UTC),
        byte_size=len(result.body),
        html=decode_html(result.body, result.charset),
        entry=entry,
    )

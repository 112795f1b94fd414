"""Fetching article pages (adapter): one shared httpx client, size caps, typed outcomes.

HTTP outcomes are classified here and nowhere else: 2xx HTML becomes a FetchedPage, a
429/503/5xx or a network failure is a FetchUnavailable (retry later), anything else a
PageRejected with a reason slug.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from pipeline.errors import FetchUnavailable, PageRejected
from pipeline.records import FeedEntry, FetchedPage
from pipeline.settings import FetchSettings

HTML_TYPES = ("text/html", "application/xhtml+xml")
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def make_client(opts: FetchSettings) -> httpx.AsyncClient:
    """The process's one HTTP client (connection pooling across feeds and pages)."""
    timeout = httpx.Timeout(opts.read_timeout_s, connect=opts.connect_timeout_s)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=opts.max_redirects,
        headers={"User-Agent": opts.user_agent},
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )


class HostLimiter:
    """At most N concurrent requests per host, so one slow site can't be hammered."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._semaphores: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self._per_host))

    def for_url(self, url: str) -> asyncio.Semaphore:
        return self._semaphores[(urlsplit(url).hostname or "").lower()]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read the decoded body, stopping as soon as it passes max_bytes (so a gzip bomb is cut)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise PageRejected(f"body larger than {max_bytes} bytes", url=str(response.url),
                               status=response.status_code, reason="page-too-large")
        chunks.append(chunk)
    return b"".join(chunks)


async def get_capped(client: httpx.AsyncClient, url: str, opts: FetchSettings,
                     headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    """GET with the total time budget and size cap; network failures become FetchUnavailable."""
    try:
        async with asyncio.timeout(opts.total_timeout_s):
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code in RETRYABLE_STATUS:
                    raise FetchUnavailable(f"HTTP {response.status_code}", url=url,
                                           retry_after=_retry_after(response),
                                           reason=f"http-{response.status_code}")
                body = await read_capped(response, opts.max_bytes)
                return response, body
    except TimeoutError as err:
        raise FetchUnavailable(f"no complete answer within {opts.total_timeout_s}s", url=url,
                               reason="timeout") from err
    except httpx.TooManyRedirects as err:
        raise PageRejected(f"more than {opts.max_redirects} redirects", url=url,
                           reason="too-many-redirects") from err
    except httpx.TimeoutException as err:
        raise FetchUnavailable(f"timed out: {err}", url=url, reason="timeout") from err
    except httpx.DecodingError as err:
        raise PageRejected(f"undecodable content encoding: {err}", url=url,
                           reason="bad-encoding") from err
    except httpx.TransportError as err:
        raise FetchUnavailable(f"{type(err).__name__}: {err}", url=url,
                               reason="network-error") from err


async def fetch_page(client: httpx.AsyncClient, entry: FeedEntry, opts: FetchSettings,
                     limiter: HostLimiter) -> FetchedPage:
    async with limiter.for_url(entry.link):
        response, body = await get_capped(client, entry.link, opts)
    if response.status_code != 200:
        raise PageRejected(f"HTTP {response.status_code}", url=entry.link,
                           status=response.status_code, reason=f"http-{response.status_code}")
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        raise PageRejected(f"not HTML: {mime}", url=entry.link, status=200,
                           reason="not-html")
    return FetchedPage(
        article_id=entry.article_id,
        url=entry.link,
        final_url=str(response.url),
        feed_url=entry.feed_url,
        status=response.status_code,
        content_type=content_type or None,
        fetched_at=datetime.now(UTC),
        byte_size=len(body),
        html=decode_html(body, response.charset_encoding),
        entry=entry,
    )

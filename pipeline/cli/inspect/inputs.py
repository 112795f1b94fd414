"""The one reader for "a file or a URL" (`newsflow extract`, `enrich`, `trace`).

A URL is fetched as the poller fetches (SSRF guard, size caps, robots.txt: settings.fetch). A file
is read as bytes (`.gz` decompressed) and decoded as the fetcher decodes; markup makes it a page,
plain text stays text. Either way its identity is one URL, so every command gives a file the same
`article_id`: `--url` when given, else the file's absolute path under http://localhost.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from connectors.fetch.fetching import Fetcher, decode_html, fetch_page, make_client
from pipeline.identity import article_id_for, canonical_url
from pipeline.records import FeedEntry, FetchedPage
from pipeline.settings import FetchSettings

_HTML_RE = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|article|main|div|p)\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class PlainText:
    """A text file: its text and the identity URL it goes by."""

    text: str
    url: str
    byte_size: int


def is_html(text: str) -> bool:
    return bool(_HTML_RE.search(text[:4096]))


def file_url(path: Path) -> str:
    return "http://localhost" + quote(str(path.resolve()))


def page_from_html(html: str, url: str, *, now: datetime, byte_size: int | None = None,
                   final_url: str | None = None) -> FetchedPage:
    canonical = canonical_url(url)
    return FetchedPage(article_id=article_id_for(canonical), url=canonical,
                       final_url=final_url or url, status=200, content_type="text/html",
                       fetched_at=now,
                       byte_size=byte_size if byte_size is not None else len(html.encode()),
                       html=html)


async def fetch_url(url: str, fetch: FetchSettings) -> FetchedPage:
    """The page at `url`, fetched as the poller fetches it."""
    async with make_client(fetch) as client:
        canonical = canonical_url(url)
        entry = FeedEntry(article_id=article_id_for(canonical), feed_url=url, link=canonical)
        return await fetch_page(Fetcher(client, fetch), entry)


def read_input(target: str, url: str | None, fetch: FetchSettings, *,
               now: datetime) -> FetchedPage | PlainText:
    """The page at an http(s) URL or in a file, or a text file's text. Raises ValueError for a
    target that is neither, OSError for an unreadable file, NewsflowError for a failed fetch."""
    if target.startswith(("http://", "https://")):
        return asyncio.run(fetch_url(target, fetch))
    path = Path(target)
    if not path.is_file():
        raise ValueError(f"no such file, and not an http(s) URL: {target}")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = decode_html(raw, None)
    identity = canonical_url(url) if url else file_url(path)
    if not is_html(text):
        return PlainText(text=text, url=identity, byte_size=len(raw))
    return page_from_html(text, identity, now=now, byte_size=len(raw))

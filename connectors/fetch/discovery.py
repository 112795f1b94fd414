"""Feed discovery: given a site's home or section page, find its feeds.

`feed_links` (pure) reads `<link rel="alternate">` with a feed type, then anchors that look
like feeds; `candidate_paths` lists the usual places to try when a page advertises nothing.
`discover_feeds` (adapter) fetches the page and keeps only candidates that parse as a feed.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from connectors.feeds.parsing import parse_feed
from connectors.fetch.fetching import Fetcher, HttpResult
from pipeline.errors import NewsflowError
from pipeline.identity import canonical_url

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json", "application/json", "application/xml", "text/xml",
})
FEED_HINTS = ("rss", "atom", "feed", ".xml", "news-sitemap", "sitemap_news")
COMMON_PATHS = ("feed", "rss", "rss.xml", "feed.xml", "atom.xml", "index.xml", "feed.json",
                "feeds/posts/default", "?feed=rss2", "news-sitemap.xml", "sitemap_news.xml")
MAX_CANDIDATES = 12  # each is a request to the site: stay polite


def _absolute(href: str | None, base: str) -> str | None:
    if not href:
        return None
    try:
        return canonical_url(urljoin(base, href.strip()))
    except ValueError:
        return None  # mailto:, javascript:, ...


def feed_links(html: str | bytes, base_url: str) -> list[str]:
    """Feed URLs a page names: advertised alternates first, then feed-looking same-site links."""
    if not html:
        return []
    try:
        doc = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    found: list[str] = []
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        mime = (link.get("type") or "").split(";")[0].strip().lower()
        url = _absolute(link.get("href"), base_url)
        if "alternate" in rels and mime in FEED_TYPES and url is not None:
            found.append(url)
    host = urlsplit(base_url).hostname
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").lower()
        if any(hint in href for hint in FEED_HINTS):
            url = _absolute(anchor.get("href"), base_url)
            if url is not None and urlsplit(url).hostname == host:
                found.append(url)
    return list(dict.fromkeys(found))


def candidate_paths(page_url: str) -> list[str]:
    """Usual feed locations under the page's section and under the site root."""
    parts = urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}/"
    section = urljoin(page_url, "./") if parts.path not in ("", "/") else root
    bases = list(dict.fromkeys([section.rstrip("/") + "/", root]))
    return [urljoin(base, path) for base in bases for path in COMMON_PATHS]


def _parses(result: HttpResult) -> bool:
    try:
        parse_feed(result.body, result.final_url, content_type=result.headers.get("content-type"))
    except NewsflowError:
        return False
    return True


async def _is_feed(fetcher: Fetcher, url: str) -> bool:
    try:
        return _parses(await fetcher.get(url))
    except NewsflowError:
        return False  # unreachable or refused: not a feed we could poll


async def discover_feeds(fetcher: Fetcher, page_url: str) -> list[str]:
    """Feeds of a site, verified by fetching; the page itself if it is already a feed."""
    result = await fetcher.get(page_url)
    if _parses(result):
        return [canonical_url(page_url)]
    candidates = feed_links(result.body, result.final_url)[:MAX_CANDIDATES]
    if not candidates:
        candidates = candidate_paths(result.final_url)[:MAX_CANDIDATES]
    verdicts = await asyncio.gather(*(_is_feed(fetcher, url) for url in candidates))
    return [url for url, ok in zip(candidates, verdicts, strict=True) if ok]

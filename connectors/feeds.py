"""Feed parsing (pure): feed bytes -> ParsedFeed of FeedEntry records, plus article identity.

`article_id` is made here, once, from the canonical link: it is the log field, the Kafka key
and the Elasticsearch `_id` downstream.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import yaml

from pipeline.errors import FeedRejected
from pipeline.records import FeedEntry, Record

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_ga", "_gl", "ref_src", "cmpid", "ocid", "smid", "sr_share",
})
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}


class ParsedFeed(Record):
    feed_url: str
    title: str | None = None
    entries: tuple[FeedEntry, ...] = ()
    problem: str | None = None  # set when the feed parsed only leniently (malformed XML)


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same article gets the same identity.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters,
    and sorts the remaining query parameters.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def article_id_for(canonical: str) -> str:
    """Stable id of an article: the first 32 hex chars of SHA-256 of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def source_domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _as_datetime(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _entry_from(raw: feedparser.FeedParserDict, feed_url: str) -> FeedEntry | None:
    link = raw.get("link") or ""
    try:
        link = canonical_url(link)
    except ValueError:
        return None  # an entry without a usable link has no page to fetch
    authors = tuple(a.get("name", "") for a in raw.get("authors", []) if a.get("name"))
    categories = tuple(t.get("term", "") for t in raw.get("tags", []) if t.get("term"))
    return FeedEntry(
        article_id=article_id_for(link),
        feed_url=feed_url,
        link=link,
        guid=raw.get("id"),
        title=raw.get("title"),
        summary=raw.get("summary"),
        published=_as_datetime(raw.get("published_parsed")),
        updated=_as_datetime(raw.get("updated_parsed")),
        authors=authors,
        categories=categories,
    )


def parse_feed(body: bytes, feed_url: str, *, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS/Atom bytes leniently. Raises FeedRejected when it is not a feed at all."""
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(body, response_headers=headers)
    problem = None
    if parsed.get("bozo"):
        problem = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
    if not parsed.get("version") and not parsed.entries:
        raise FeedRejected(
            f"not a feed ({problem or 'no feed elements found'})",
            feed_url=feed_url, reason="feed-not-a-feed",
        )
    entries = tuple(e for raw in parsed.entries if (e := _entry_from(raw, feed_url)) is not None)
    return ParsedFeed(
        feed_url=feed_url,
        title=parsed.feed.get("title"),
        entries=entries,
        problem=problem,
    )


class FeedSubscription(Record):
    url: str
    interval_s: float | None = None  # None: the poller's default interval
    tags: tuple[str, ...] = ()


class FeedList(Record):
    feeds: tuple[FeedSubscription, ...] = ()


def parse_feed_list(text: str) -> FeedList:
    """Parse config/feeds.yaml content (a `feeds:` list of {url, interval_s, tags})."""
    data = yaml.safe_load(text) or {}
    return FeedList.model_validate(data)

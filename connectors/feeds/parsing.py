"""Feed parsing (pure): feed bytes -> ParsedFeed of FeedEntry records.

Each entry's `article_id` is made here from its canonical link (pipeline/identity.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from pydantic import Field

from connectors.feeds.formats import (
    RawEntry,
    read_json_feed,
    read_news_sitemap,
    read_rss_atom,
    sniff_format,
)
from connectors.feeds.text import valid_text
from pipeline.datetimes import date_problem
from pipeline.errors import FeedRejected
from pipeline.identity import article_id_for, canonical_url
from pipeline.records import FeedEntry, Record


class ParsedFeed(Record):
    feed_url: str
    format: str = "unknown"  # rss20, atom10, json1.1, news-sitemap, ...
    title: str | None = None
    entries: tuple[FeedEntry, ...] = ()
    problem: str | None = None  # set when the feed parsed only leniently (malformed XML)
    # Entries dropped or repaired, by reason slug: entry-without-link, duplicate-entry,
    # date-in-future, date-too-old. Counted, so `feeds status` can show them.
    issues: dict[str, int] = Field(default_factory=dict)
    ttl_s: float | None = None  # the publisher's freshness hints, for the scheduler
    update_period_s: float | None = None


def entry_identity(link: str | None, guid: str | None, title: str | None,
                   date: datetime | None) -> str:
    """What makes an entry "the same entry" across polls, robust to unstable GUIDs.

    The canonical link when there is one (some CMSs mint a new GUID on every edit), else the
    GUID, else a hash of title and date. 16 bytes of SHA-256, hex.
    """
    if link:
        basis = "link:" + link
    elif guid:
        basis = "guid:" + guid
    else:
        basis = f"text:{title or ''}|{date.isoformat() if date else ''}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _sane_date(value: datetime | None, now: datetime | None,
               issues: Counter[str]) -> datetime | None:
    # A date from the future or before news on the web is a publisher's bug; keeping it would
    # sort the article wrongly and skew the publishing rate the scheduler learns.
    if value is None:
        return None
    problem = date_problem(value, now or value)  # without a clock only "too old" applies
    if problem is not None:
        issues[problem] += 1
        return None
    return value


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def link_base(feed_url: str, declared_base: str | None) -> str:
    """What a relative entry link is relative to: the feed's own site link, else its URL."""
    if declared_base:
        try:
            base = urljoin(feed_url, declared_base)  # a feed's <link> may be relative itself
            if _is_http(base):
                return base
        except ValueError:
            pass
    return feed_url


def _resolved(link: str | None, base: str) -> str | None:
    if not link:
        return None
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. a broken IPv6 literal in the base or the link
        return None


def _entry_from(raw: RawEntry, feed_url: str, base: str, now: datetime | None,
                issues: Counter[str]) -> FeedEntry | None:
    link = None
    # A relative link ("/news/1") is a page on the feed's site; a GUID only counts when it is
    # an absolute http(s) URL (a permalink): "1234" is no page.
    # feedparser copies an RSS <guid> into the link (isPermaLink defaults to true): that copy
    # is not resolved either.
    relative_link = raw.link if raw.link != raw.guid else None
    for candidate in (_resolved(relative_link, base) or raw.link, raw.guid):
        try:
            link = canonical_url(candidate) if candidate else None
        except ValueError:
            continue
        if link:
            break
    if link is None:
        issues["entry-without-link"] += 1  # no page to fetch
        return None
    return FeedEntry(
        article_id=article_id_for(link),
        feed_url=feed_url,
        link=link,
        guid=raw.guid,
        title=raw.title,
        summary=raw.summary,
        # RSS 1.0's dc:date and date-less Atom entries only have "updated": the best we know.
        published=_sane_date(raw.published or raw.updated, now, issues),
        updated=_sane_date(raw.updated, now, issues),
        authors=raw.authors,
        categories=raw.categories,
        enclosures=raw.enclosures,
    )


def parse_feed(body: bytes, feed_url: str, *, content_type: str | None = None,
               now: datetime | None = None) -> ParsedFeed:
    """Parse RSS, Atom, JSON Feed or a news sitemap leniently into one entry shape.

    Raises FeedRejected when the bytes are not a feed at all. `now` enables the future-date
    check (pure: the caller passes the clock).
    """
    try:
        return _parse(body, feed_url, content_type, now)
    except FeedRejected:
        raise
    except Exception as err:
        # The one promise to callers: "not a feed" is FeedRejected, so a hostile input never
        # crashes the poller. The fuzz test asserts this net is never reached.
        raise FeedRejected(valid_text(f"feed parser failed: {type(err).__name__}: {err}"),
                           feed_url=feed_url, reason="feed-parser-error") from err


def _parse(body: bytes, feed_url: str, content_type: str | None,
           now: datetime | None) -> ParsedFeed:
    kind = sniff_format(body)
    if kind == "json":
        raw = read_json_feed(body, feed_url)
    elif kind == "sitemap":
        raw = read_news_sitemap(body, feed_url)
    else:
        raw = read_rss_atom(body, feed_url, content_type)
    base = link_base(feed_url, raw.base_url)
    issues: Counter[str] = Counter()
    entries: list[FeedEntry] = []
    identities: set[str] = set()
    for item in raw.entries:
        entry = _entry_from(item, feed_url, base, now, issues)
        if entry is None:
            continue
        identity = entry_identity(entry.link, entry.guid, entry.title, entry.published)
        if identity in identities:
            issues["duplicate-entry"] += 1
            continue
        identities.add(identity)
        entries.append(entry)
    return ParsedFeed(feed_url=feed_url, format=raw.format, title=raw.title,
                      entries=tuple(entries),
                      problem=valid_text(raw.problem) if raw.problem else None, issues=dict(issues),
                      ttl_s=raw.ttl_s, update_period_s=raw.update_period_s)

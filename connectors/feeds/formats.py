"""Feed formats (pure): bytes -> RawFeed, one reader per format, no normalisation yet.

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 go through feedparser; JSON Feed 1.0/1.1 and Google News
sitemaps (`<news:news>`) are read here. `connectors/feeds/parsing.py` picks the reader by sniffing the
bytes and turns RawEntry into FeedEntry (canonical link, identity, date sanity).
"""

from __future__ import annotations

import calendar
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser
from lxml import etree

from connectors.feeds.text import plain_text, valid_text
from pipeline.errors import FeedRejected
from pipeline.records import Enclosure

JSON_FEED_VERSION = "https://jsonfeed.org/version/"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
URLSET_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(urlset|sitemapindex)[\s>]")
# A numeric character reference; those naming no character (a surrogate, beyond U+10FFFF)
# make feedparser raise instead of parse.
CHAR_REF_RE = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
ENCODING_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
UTF8_BOM = b"\xef\xbb\xbf"
MAX_INT_DIGITS = 30  # a JSON number longer than this is no size or id, just a way to crash int()
UPDATE_PERIOD_S = {"hourly": 3600.0, "daily": 86400.0, "weekly": 7 * 86400.0,
                   "monthly": 30 * 86400.0, "yearly": 365 * 86400.0}


@dataclass
class RawEntry:
    link: str | None = None
    guid: str | None = None
    title: str | None = None
    summary: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()


@dataclass
class RawFeed:
    format: str  # rss20, atom10, rss090, json-feed, news-sitemap, ... (feedparser's names)
    title: str | None = None
    entries: list[RawEntry] = field(default_factory=list)
    problem: str | None = None  # why the document only parsed leniently
    base_url: str | None = None  # what relative entry links resolve against (feed URL if None)
    ttl_s: float | None = None  # RSS <ttl>: minutes the publisher says a copy stays fresh
    update_period_s: float | None = None  # sy:updatePeriod / sy:updateFrequency


def sniff_format(body: bytes) -> str:
    """'json', 'sitemap' or 'xml' (anything feedparser should try), from the first bytes."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "json"
    if URLSET_RE.search(head):
        return "sitemap"
    return "xml"


def _text(value: object) -> str | None:
    # Every string leaves here valid for UTF-8: JSON "\\ud800" or a bad reference must not
    # reach Kafka.
    return valid_text(value).strip() or None if isinstance(value, str) else None


def _detail_text(detail: object, fallback: object) -> str | None:
    """Plain text of a feedparser text construct, by its declared type (text/html or plain)."""
    if isinstance(detail, dict) and isinstance(detail.get("value"), str):
        kind = str(detail.get("type") or "")
        return plain_text(detail["value"], is_html=None if not kind else "html" in kind)
    return plain_text(fallback) if isinstance(fallback, str) else None


def _safe_char_refs(body: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        digits = match.group(1) or match.group(2)
        if len(digits) > 8:
            return b"&#xFFFD;"
        code = int(digits, 16) if match.group(1) else int(digits)
        return match.group(0) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF \
            else b"&#xFFFD;"
    return CHAR_REF_RE.sub(replace, body)


def utf8_or_windows_1252(body: bytes) -> bytes:
    """UTF-8 bytes of a document that says (or defaults to) UTF-8 but holds windows-1252 bytes.

    The commonest wrong charset on the web; a parser told "utf-8" drops or garbles the
    entries. Documents declaring another charset, or with a UTF-16/32 BOM, are left alone.
    """
    text = body.removeprefix(UTF8_BOM)
    if text.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in text[:4]:
        return body  # UTF-16/32, with or without a BOM
    declared = ENCODING_DECL_RE.match(text)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("cp1252", errors="replace").encode("utf-8")
    return body


def _struct_time(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None  # a year feedparser accepted but datetime cannot hold


def _iso_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _length(value: object) -> int | None:
    digits = str(value).strip()
    if len(digits) > MAX_INT_DIGITS:
        return None
    try:
        length = int(digits)
    except ValueError:
        return None
    return length if length >= 0 else None


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 and math.isfinite(number) else None


def read_rss_atom(body: bytes, feed_url: str, content_type: str | None) -> RawFeed:
    """RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 via feedparser (lenient on malformed XML)."""
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(_safe_char_refs(body), response_headers=headers)
    problem = None
    if parsed.get("bozo"):
        problem = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
    if not parsed.get("version") and not parsed.entries:
        raise FeedRejected(f"not a feed ({problem or 'no feed elements found'})",
                           feed_url=feed_url, reason="feed-not-a-feed")
    ttl = _number(parsed.feed.get("ttl"))
    period = UPDATE_PERIOD_S.get(str(parsed.feed.get("sy_updateperiod", "")).strip().lower())
    frequency = _number(parsed.feed.get("sy_updatefrequency")) or 1.0
    entries = []
    for raw in parsed.entries:
        entries.append(RawEntry(
            link=_text(raw.get("link")),
            guid=_text(raw.get("id")),
            title=_detail_text(raw.get("title_detail"), raw.get("title")),
            summary=_detail_text(raw.get("summary_detail"), raw.get("summary")),
            published=_struct_time(raw.get("published_parsed")),
            updated=_struct_time(raw.get("updated_parsed")),
            authors=tuple(n for a in raw.get("authors", []) if (n := _text(a.get("name")))),
            categories=tuple(t for c in raw.get("tags", []) if (t := _text(c.get("term")))),
            enclosures=tuple(Enclosure(url=href, mime_type=_text(e.get("type")),
                                       length=_length(e.get("length")))
                             for e in raw.get("enclosures", []) if (href := _text(e.get("href")))),
        ))
    return RawFeed(format=parsed.get("version") or "unknown",
                   title=_detail_text(parsed.feed.get("title_detail"), parsed.feed.get("title")),
                   entries=entries, problem=problem, base_url=_text(parsed.feed.get("link")),
                   ttl_s=ttl * 60 if ttl else None,
                   update_period_s=period / frequency if period else None)


def _json_authors(item: dict[str, object]) -> tuple[str, ...]:
    authors = item.get("authors")  # 1.1
    if not isinstance(authors, list):
        single = item.get("author")  # 1.0
        authors = [single] if isinstance(single, dict) else []
    return tuple(n for a in authors if isinstance(a, dict) and (n := _text(a.get("name"))))


def _json_enclosures(item: dict[str, object]) -> tuple[Enclosure, ...]:
    attachments = item.get("attachments")
    if not isinstance(attachments, list):
        return ()
    return tuple(Enclosure(url=url, mime_type=_text(a.get("mime_type")),
                           length=_length(a.get("size_in_bytes")))
                 for a in attachments if isinstance(a, dict) and (url := _text(a.get("url"))))


def _bounded_int(digits: str) -> int | str:
    # Past Python's 4,300-digit limit int() raises ValueError; kept as text, _length ignores it.
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits


def read_json_feed(body: bytes, feed_url: str) -> RawFeed:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        doc = json.loads(utf8_or_windows_1252(body), parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FeedRejected(f"invalid JSON: {err}", feed_url=feed_url,
                           reason="feed-bad-json") from err
    except RecursionError as err:
        raise FeedRejected("JSON nested too deeply", feed_url=feed_url,
                           reason="feed-bad-json") from err
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(version, str) \
            or not version.startswith(JSON_FEED_VERSION):
        raise FeedRejected("JSON but not a JSON Feed (no jsonfeed.org version)", feed_url=feed_url,
                           reason="feed-not-a-feed")
    items = doc.get("items")
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        tags = item.get("tags")
        entries.append(RawEntry(
            link=_text(item.get("url")) or _text(item.get("external_url")),
            guid=_text(item.get("id")) or (str(item["id"]) if isinstance(item.get("id"), int)
                                           else None),
            title=plain_text(_text(item.get("title"))),
            summary=plain_text(_text(item.get("summary")) or _text(item.get("content_text"))),
            published=_iso_datetime(item.get("date_published")),
            updated=_iso_datetime(item.get("date_modified")),
            authors=_json_authors(item),
            categories=tuple(t for tag in tags if (t := _text(tag)))
            if isinstance(tags, list) else (),
            enclosures=_json_enclosures(item),
        ))
    suffix = version.removeprefix(JSON_FEED_VERSION)
    problem = None if isinstance(items, list) else "JSON Feed without an items list"
    return RawFeed(format=f"json{suffix}", title=plain_text(_text(doc.get("title"))),
                   entries=entries, problem=problem, base_url=_text(doc.get("home_page_url")))


def _child_text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, {"s": SITEMAP_NS, "n": NEWS_NS})
    return _text(found.text) if found is not None else None


def read_news_sitemap(body: bytes, feed_url: str) -> RawFeed:
    """A Google News sitemap: <url><loc/><news:news>…</news:news></url> entries only."""
    # No entities, no network: a sitemap must not be able to read files or expand a bomb.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(utf8_or_windows_1252(body), parser=parser)
    except etree.XMLSyntaxError as err:
        raise FeedRejected(f"unreadable sitemap: {err}", feed_url=feed_url,
                           reason="feed-not-a-feed") from err
    if root is None or etree.QName(root).localname != "urlset":
        raise FeedRejected("a sitemap index, not a news sitemap: add its child sitemaps",
                           feed_url=feed_url, reason="feed-sitemap-index")
    problem = "; ".join(str(e) for e in parser.error_log) or None
    entries = []
    for url in root.iter(f"{{{SITEMAP_NS}}}url"):
        news = url.find(f"{{{NEWS_NS}}}news")
        if news is None:
            continue  # a plain sitemap URL: no date or title, not news
        keywords = _child_text(news, "n:keywords") or ""
        published = _iso_datetime(_child_text(news, "n:publication_date"))
        entries.append(RawEntry(
            link=_child_text(url, "s:loc"),
            title=plain_text(_child_text(news, "n:title")),
            published=published,
            updated=_iso_datetime(_child_text(url, "s:lastmod")),
            categories=tuple(k.strip() for k in keywords.split(",") if k.strip()),
        ))
    name = _child_text(root, "s:url/n:news/n:publication/n:name")
    return RawFeed(format="news-sitemap", title=plain_text(name), entries=entries,
                   problem=problem)

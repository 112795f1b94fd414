"""Step 4: a fetched page becomes a clean article (`extract_article(page, opts)`).

Pure: no network, no clock (the date ceiling is `opts.now` or `page.fetched_at`), no globals.
The body comes from trafilatura (one base `Extractor` per `ExtractOptions`, copied per page),
checked against readability-lxml (`merge_bodies`: fallback and edge trimming), then cleaned
by `connectors.extract.cleaning.clean_text`. Every choice was measured with bench/stages/extraction_bench.py
on the dev split (figures in bench/RESULTS.md); what did not help was dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
from htmldate import find_date
from htmldate.extractors import try_date_expr
from trafilatura import bare_extraction
from trafilatura.metadata import (
    examine_meta,
    extract_catstags,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import Extractor

from connectors.extract.bodies import (
    declared_body_if_fuller,
    is_doubtful,
    merge_bodies,
    readability_text,
    shingles,
    with_live_updates,
)
from connectors.extract.cleaning import clean_text
from connectors.extract.html_tree import (
    detached,
    drop_comments,
    drop_screen_reader_text,
    drop_teaser_cards,
    parse_html,
    xpath_elements,
)
from connectors.extract.page_meta import modified_at, page_author, subtitle
from connectors.extract.publisher_day import is_utc_time, publisher_day
from connectors.extract.structured import StructuredArticle, meta_values, structured_article
from pipeline.datetimes import plausible_date, to_utc
from pipeline.errors import ExtractionEmpty
from pipeline.identity import source_domain
from pipeline.options import ExtractOptions
from pipeline.records import (
    ExtractedArticle,
    ExtractionOutcome,
    ExtractionQuality,
    FeedEntry,
    FetchedPage,
)

DateSource = Literal["feed", "page", "url"]

_TAG_RE = re.compile(r"<(!doctype|html|head|body|title|meta|div|p|article|main|section|span|"
                     r"table|h[1-6]|br|a|ul|li)\b", re.IGNORECASE)
_BINARY_RE = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")  # control bytes text never has
_LANG_RE = re.compile(r"([a-z]{2,3})(?![a-z])", re.IGNORECASE)  # "en", "en-GB", "en_US"
_URL_DATE_RE = re.compile(
    r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_]|$)")
# A post's id on Twitter/X holds the instant it was posted: milliseconds since Twitter's epoch
# in the bits above the lowest 22 ("snowflake" ids, 15+ digits since November 2010).
_STATUS_PATH_RE = re.compile(r"^/\w+/status(?:es)?/(\d{15,20})(?:/|$)")
_STATUS_HOSTS = frozenset({"twitter.com", "mobile.twitter.com", "x.com"})
_SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
_TEASER_RE = re.compile(
    r"(continue reading|read the (full|rest)|subscribe (now )?to (continue|read)|"
    r"(this|the rest of this) (article|story) is (for|available to) (subscribers|members)|"
    r"already a subscriber|to read the full|read more)\W*$",
    re.IGNORECASE,
)


def _trafilatura_options(opts: ExtractOptions, url: str) -> Extractor:
    """trafilatura's options for one page, built from ours (~60 µs; nothing shared is mutated)."""
    # deduplicate stays off: its cache is a process global that returns None for a page met
    # four times (adbar/trafilatura#778). Metadata is read apart (_metadata), so a body too
    # short for trafilatura does not take the page's title and date with it.
    options = Extractor(
        output_format="python", fast=opts.fast, precision=opts.favor_precision,
        recall=opts.favor_recall, comments=opts.include_comments, tables=opts.include_tables,
        dedup=False, with_metadata=False, url=url, source=url)
    options.max_file_size = opts.max_html_chars + 1
    options.min_file_size = 1
    return options


def extract_article(page: FetchedPage, opts: ExtractOptions) -> ExtractedArticle:
    """Turn one fetched page into an ExtractedArticle, or raise ExtractionEmpty with a reason."""
    html = _usable_html(page, opts)
    tree = _parsed(html, page)
    now = _now(page, opts)
    meta = _metadata(tree, page.final_url, now, page.entry)
    article = structured_article(tree)
    declared = meta_values(tree)
    published = _published(page, tree, meta, article, now)
    standfirst = subtitle(tree)
    drop_comments(tree)  # metadata above is read from the page as served
    drop_screen_reader_text(tree)
    drop_teaser_cards(tree, page.final_url)
    traf_body = _trafilatura_body(tree, page, opts)
    body, extractor = traf_body, "trafilatura"
    if opts.second_opinion and is_doubtful(
            traf_body, opts.doubt_below_chars, opts.doubt_headline_below_chars):
        body, extractor = merge_bodies(traf_body, readability_text(tree))
    if article and article.body and (full := declared_body_if_fuller(body, article.body)):
        body, extractor = full, "json-ld"
    elif article and article.updates and (
            live := with_live_updates(body, article.updates)) != body:
        body, extractor = live, f"{extractor}+json-ld"
    entry = page.entry
    title = _headline(entry, meta)
    text, truncated = bounded_text(clean_text(body, opts.clean, title=title), opts.max_text_chars)
    description = _str(meta.description) or (entry.summary if entry else None)
    # A headline with its date is still news (a photo or video page, a brief); without
    # text, summary or date there is nothing to index.
    if len(text.split()) < opts.min_words and not description and not (
            title and published.at):
        raise ExtractionEmpty(f"no main text found in {page.final_url}",
                              url=page.url, reason="no-main-text")
    modified = modified_at(entry, article, declared, published_at=published.at, now=now)
    return ExtractedArticle(
        article_id=page.article_id, url=page.url, final_url=page.final_url,
        feed_url=page.feed_url, source_domain=source_domain(page.url),
        title=title,
        authors=(entry.authors if entry and entry.authors else _authors(meta.author)),
        published_at=published.at, published_day=published.day, date_source=published.source,
        site_name=_str(meta.sitename), description=description, text=text,
        subtitle=standfirst, top_image=_str(meta.image), canonical_url=_str(meta.url),
        modified_at=modified,
        language_hint=_language_hint(tree, declared, meta),
        tags=_tags(meta, entry.categories if entry else ()),
        http_status=page.status, content_type=page.content_type, byte_size=page.byte_size,
        fetched_at=page.fetched_at,
        extraction=ExtractionOutcome(extractor=extractor, text_length=len(text),
                                     quality=body_quality(text, page.url, description, opts),
                                     truncated=truncated),
    )


def bounded_text(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` cut to at most `max_chars` at the last paragraph break before it (a word break
    when one paragraph is longer), and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    cut = head.rfind("\n\n")
    if cut < max_chars // 2:
        cut = head.rfind(" ")
    return head[:cut if cut > 0 else max_chars].rstrip(), True


def body_quality(text: str, url: str, description: str | None,
                 opts: ExtractOptions) -> ExtractionQuality:
    """Flag bodies a reader would not call an article; the record is still emitted."""
    if not text:
        return "empty"
    paragraphs = text.split("\n\n")
    if urlsplit(url).path.strip("/") == "" or (
            len(paragraphs) >= 8 and len(text) / len(paragraphs) < 45):
        return "non_article"  # a home page, or a list of links and headlines
    if len(text) < opts.min_body_chars:
        return "too_short"
    if len(text) < opts.teaser_chars and (
            _TEASER_RE.search(text) or _is_restatement(text, description)):
        return "teaser"
    return "ok"


# --- body --------------------------------------------------------------------------------


def _usable_html(page: FetchedPage, opts: ExtractOptions) -> str:
    html = page.html
    if not html.strip():
        raise ExtractionEmpty(f"empty document at {page.final_url}", url=page.url,
                              reason="empty-document")
    head = html[:8192]
    if len(_BINARY_RE.findall(head)) > 0.05 * len(head):
        raise ExtractionEmpty(f"binary content at {page.final_url}", url=page.url,
                              reason="binary-content")
    if not _TAG_RE.search(html[:65536]):
        raise ExtractionEmpty(f"no HTML markup at {page.final_url}", url=page.url,
                              reason="not-html")
    return html[: opts.max_html_chars]


def _parsed(html: str, page: FetchedPage) -> lxml.html.HtmlElement:
    try:
        return parse_html(html)
    except (lxml.etree.LxmlError, ValueError, RecursionError, UnicodeError) as err:
        raise ExtractionEmpty(f"unparseable HTML at {page.final_url}: {err}", url=page.url,
                              reason="unparseable-html") from err


def _trafilatura_body(tree: lxml.html.HtmlElement, page: FetchedPage, opts: ExtractOptions) -> str:
    try:  # trafilatura copies the tree before it prunes it
        result = bare_extraction(tree, options=_trafilatura_options(opts, page.final_url))
    except (lxml.etree.LxmlError, RecursionError, UnicodeError) as err:
        raise ExtractionEmpty(f"unparseable HTML at {page.final_url}: {err}", url=page.url,
                              reason="unparseable-html") from err
    return result.text or "" if isinstance(result, TrafilaturaDocument) else ""


# --- metadata ----------------------------------------------------------------------------


def _now(page: FetchedPage, opts: ExtractOptions) -> datetime:
    return to_utc(opts.now or page.fetched_at)


def _metadata(tree: lxml.html.HtmlElement, url: str, now: datetime,
              entry: FeedEntry | None) -> TrafilaturaDocument:
    """The page's metadata from trafilatura's readers, in `extract_metadata`'s order, minus
    what no record field uses: its licence search (~1 ms a page), its host name, and its
    page-wide title and author searches when the feed entry gives them. Its author search is
    replaced by `page_author`, the same answers in a quarter of the time. An explicit max_date
    keeps htmldate from reading the clock; the site's masthead is out of its sight."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a handle, not a name
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001  # trafilatura guards its JSON-LD reader the same way
        pass
    if not (meta.title or entry and entry.title):
        meta.title = extract_title(tree)
    if not (meta.author or entry and entry.authors):
        meta.author = page_author(tree)
    meta.url = meta.url or extract_url(tree, url)
    with detached(_mastheads(tree, _headline(entry, meta))):
        meta.date = find_date(tree, url=meta.url, original_date=True, extensive_search=False,
                              max_date=now.strftime("%Y-%m-%d"), outputformat=_DATE_FORMAT)
    meta.sitename = _site_name(meta.sitename or extract_sitename(tree), meta.url)
    # trafilatura's category and tag searches keep only links whose address has /categor...
    # or /tag...: without one on the page they find nothing but the declared section.
    if not meta.categories:
        meta.categories = (extract_catstags("category", tree) if _LINK_TO_CATEGORY(tree)
                           else _declared_sections(tree))
    if not meta.tags and _LINK_TO_TAG(tree):
        meta.tags = extract_catstags("tag", tree)
    meta.clean_and_trim()
    return meta


_LINK_TO_CATEGORY = lxml.etree.XPath("boolean(//a[contains(@href, '/categor')])")
_LINK_TO_TAG = lxml.etree.XPath("boolean(//a[contains(@href, '/tag')])")
_DECLARED_SECTIONS = lxml.etree.XPath(
    "//head//meta[@property='article:section' or contains(@name, 'subject')]/@content")


def _declared_sections(tree: lxml.html.HtmlElement) -> list[str]:
    found = _DECLARED_SECTIONS(tree)
    return [str(s).strip() for s in found] if isinstance(found, list) else []


def _headline(entry: FeedEntry | None, meta: TrafilaturaDocument) -> str | None:
    """The feed entry's title, else the page's."""
    return (entry.title if entry and entry.title else None) or _str(meta.title)


def _site_name(declared: str | None, url: str | None) -> str | None:
    """"@handle" and "guardian" read as "Handle" and "Guardian"; else the URL's host."""
    name = (declared or "").lstrip("@")
    if name:
        return name if "." in name or name[0].isupper() else name.title()
    host = urlsplit(url or "").hostname or ""
    return re.sub(r"^(?:www|w\d+)\.", "", host) or None


def _published(page: FetchedPage, tree: lxml.html.HtmlElement, meta: TrafilaturaDocument,
               article: StructuredArticle | None, now: datetime) -> _Published:
    """The first plausible date of: the feed entry's, a Twitter/X post's id, a wiki diff's
    newer revision, htmldate's quick look at the page (metadata, JSON-LD, URL), the page's
    schema.org article, htmldate's extensive search (run only when all those fail: it costs
    ~10 ms), the URL's.

    Measured on ../shared/bench/dates (bench/RESULTS.md, Dates): htmldate's quick look
    before the schema.org date, because a JSON-LD stamp is more often a re-publication.
    The publisher's day is read from the chosen time (connectors/extract/publisher_day.py).
    """
    entry = page.entry
    headline = _headline(entry, meta)
    candidates: tuple[tuple[Callable[[], datetime | None], DateSource], ...] = (
        (lambda: entry.published if entry else None, "feed"),
        (lambda: _status_date(page.url), "url"),
        (lambda: _revision_date(page.url, tree, now), "page"),
        (lambda: _parse_date(_str(meta.date)), "page"),
        (lambda: _parse_date(article.published if article else None), "page"),
        (lambda: _parse_date(_extensive_date(tree, page.final_url, headline, now)), "page"),
        (lambda: _url_date(page.url), "url"),
    )
    for candidate, source in candidates:
        value = candidate()
        if value is not None and (plausible := plausible_date(value, now)) is not None:
            stamps = (_parse_date(_str(meta.date)),
                      _parse_date(article.published if article else None))
            printed = None if value.utcoffset() else _printed_day(page.html, tree, now)
            offset = _page_offset(page.html) if is_utc_time(value) else None
            return _Published(plausible, publisher_day(value, stamps, printed, offset), source)
    return _Published(None, None, None)


_EARLIEST = datetime(1995, 1, 1)  # for dates read from page text
_ABBREVIATION_DOT = re.compile(r"\b([^\W\d_]{3,4})\.")  # "Nov." in "Nov. 20, 2019"
# Wikis' change feeds link to diffs; the right-hand column heads the newer revision with its
# time ("Latest revision as of 05:33, 7 April 2020"), while the page's metadata is the article's.
_NEWER_REVISION = lxml.etree.XPath("string(//*[@id='mw-diff-ntitle1'])")


def _revision_date(url: str, tree: lxml.html.HtmlElement, now: datetime) -> datetime | None:
    """The day of a MediaWiki diff's newer revision (UTC, MediaWiki's default zone)."""
    if "diff=" not in urlsplit(url).query:
        return None
    day = _text_day(str(_NEWER_REVISION(tree)), now)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else None


_PRINTED_PUBLISHED = lxml.etree.XPath("(//*[@itemprop='datePublished'][not(self::meta)])[1]")


# A time written with its UTC offset: ISO 8601 ("2020-05-01T22:54:29-04:00") or RFC 2822
# ("Fri, 01 May 2020 23:00:00 -0400", in feeds and schedules embedded in the page). Matched
# from the colon before the minutes: a leading literal lets the scan skip ahead (~0.3 ms a
# page; a pattern opening with the date's digits costs 6 ms).
_OFFSET_TIME_RE = re.compile(r":[0-5]\d(?::[0-5]\d)?(?:\.\d+)? ?([+-])([01]\d):?([0-5]\d)(?!\d)")


def _page_offset(html: str) -> timedelta | None:
    """The UTC offset most of the page's times carry, leaving out UTC itself (many pages
    write machine stamps in UTC and their local times beside them)."""
    counts: Counter[timedelta] = Counter()
    for match in _OFFSET_TIME_RE.finditer(html):
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        if offset:
            counts[offset if sign == "+" else -offset] += 1
    return counts.most_common(1)[0][0] if counts else None


def _printed_day(html: str, tree: lxml.html.HtmlElement, now: datetime) -> date | None:
    """The day the page prints in its schema.org datePublished element ("06 Dicembre 2020")."""
    if not _prints_published(html):
        return None
    found = _PRINTED_PUBLISHED(tree)
    if not isinstance(found, list) or not found or not isinstance(found[0], lxml.html.HtmlElement):
        return None
    return _text_day(found[0].text_content(), now)


def _text_day(text: str, now: datetime) -> date | None:
    """The day a short text gives ("Latest revision as of 05:33, 7 April 2020", "06 Dicembre
    2020"), read by htmldate's date parser."""
    # "Nov. 20, 2019" without its dot is read by htmldate's own patterns, not dateparser (~5 ms)
    text = _ABBREVIATION_DOT.sub(r"\1", " ".join(text.split())[:120])
    day = try_date_expr(text, "%Y-%m-%d", True, _EARLIEST, now.replace(tzinfo=None))
    return date.fromisoformat(day) if day else None


def _prints_published(html: str) -> bool:
    """Whether an element other than <meta> carries itemprop="datePublished": found in the
    page's text, most pages (none, or only a <meta>) are spared a walk of the tree."""
    for attribute in ('itemprop="datePublished"', "itemprop='datePublished'"):
        at = html.find(attribute)
        while at != -1:
            tag = html.rfind("<", 0, at) + 1
            if html[tag:tag + 4].lower() != "meta":
                return True
            at = html.find(attribute, at + 1)
    return False


class _Published(NamedTuple):
    at: datetime | None  # UTC
    day: date | None  # in the page's own offset: the day the publisher printed
    source: DateSource | None


def _extensive_date(tree: lxml.html.HtmlElement, url: str, headline: str | None,
                    now: datetime) -> str | None:
    with detached(_mastheads(tree, headline)):
        return find_date(tree, url=url, original_date=True, extensive_search=True,
                         max_date=now.strftime("%Y-%m-%d"), outputformat=_DATE_FORMAT)


_HEADERS = lxml.etree.XPath("//header")
# The headline's opening: titles end in the site's name or a suffix the page's header omits.
_HEADLINE_KEY_CHARS = 25


def _mastheads(tree: lxml.html.HtmlElement, headline: str | None) -> list[lxml.etree._Element]:
    """The page's <header> elements that do not hold the story's headline: the site's
    masthead, whose date is the day the page was served ("Tuesday, (08 Dec 2020)" over a
    story of 13 October), not the story's. A story's own <header> holds its headline."""
    key = " ".join((headline or "").split())[:_HEADLINE_KEY_CHARS].lower()
    if len(key) < _HEADLINE_KEY_CHARS // 2:
        return []  # too short to tell a masthead from the story's header
    return [header for header in xpath_elements(_HEADERS(tree))
            if key not in " ".join(str(header.xpath("string()")).split()).lower()]


_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601, else RFC 2822 ("Sun, 11 Oct 2020 07:34:36 GMT", seen in JSON-LD)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _status_date(url: str) -> datetime | None:
    """When a Twitter/X post was posted, from its id: its page shows only relative times."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    match = _STATUS_PATH_RE.match(parts.path) if host in _STATUS_HOSTS else None
    if not match:
        return None
    return datetime.fromtimestamp(((int(match[1]) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000,
                                  tz=timezone.utc)


def _url_date(url: str) -> datetime | None:
    match = _URL_DATE_RE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None


def _language_hint(tree: lxml.html.HtmlElement, declared: dict[str, str],
                   meta: TrafilaturaDocument) -> str | None:
    """Primary subtag of <html lang>, og:locale or Content-Language; else trafilatura's."""
    for value in (tree.get("lang"), declared.get("og:locale"),
                  declared.get("content-language")):
        if value and (match := _LANG_RE.match(value.strip())):
            return match[1].lower()
    return _str(meta.language)


def _authors(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(a.strip() for a in value.split(";") if a.strip()))


def _tags(meta: TrafilaturaDocument, feed_categories: tuple[str, ...]) -> tuple[str, ...]:
    found = [*(meta.categories or []), *(meta.tags or []), *feed_categories]
    return tuple(dict.fromkeys(t.strip() for t in found if t and t.strip()))


def _is_restatement(text: str, description: str | None) -> bool:
    """The body says little more than the page's summary (a teaser or paywall stub)."""
    if not description:
        return False
    body, summary = shingles(text), shingles(description)
    return (bool(summary) and len(body) <= 2 * len(summary)
            and len(body & summary) >= 0.5 * len(summary))


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None

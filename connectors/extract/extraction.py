"""Step 4: a fetched page becomes a clean article (`extract_article(page, opts)`).

Pure: no network, no clock (the date ceiling is `opts.now` or `page.fetched_at`), no globals.
The body comes from trafilatura (one base `Extractor` per `ExtractOptions`, copied per page),
checked against readability-lxml (`merge_bodies`: fallback and edge trimming), then cleaned
by `connectors.extract.cleaning.clean_text`. Every choice was measured with bench/extraction_bench.py
on the dev split (figures in bench/RESULTS.md); what did not help was dropped.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
from readability import Document as ReadabilityDocument  # type: ignore[import-untyped]
from readability.readability import Unparseable  # type: ignore[import-untyped]
from trafilatura import bare_extraction
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import Extractor

from connectors.extract.cleaning import clean_text
from connectors.extract.page_meta import modified_at, subtitle
from pipeline.datetimes import plausible_date, to_utc
from pipeline.errors import ExtractionEmpty
from pipeline.identity import source_domain
from pipeline.options import ExtractOptions
from pipeline.records import ExtractedArticle, ExtractionOutcome, ExtractionQuality, FetchedPage

DateSource = Literal["feed", "page", "url"]

_TAG_RE = re.compile(r"<(!doctype|html|head|body|title|meta|div|p|article|main|section|span|"
                     r"table|h[1-6]|br|a|ul|li)\b", re.IGNORECASE)
_BINARY_RE = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")  # control bytes text never has
# NULs, C0 controls and lone surrogates make lxml stop or fail; no body needs them.
_STRIP_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_LANG_RE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([a-z]{2,3})\b|<meta\b[^>]*?"
                      r"(?:og:locale|content-language)[^>]*?content\s*=\s*[\"']?([a-z]{2,3})\b",
                      re.IGNORECASE)
_URL_DATE_RE = re.compile(
    r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_]|$)")
_WORD_RE = re.compile(r"\w+")
_TEASER_RE = re.compile(
    r"(continue reading|read the (full|rest)|subscribe (now )?to (continue|read)|"
    r"(this|the rest of this) (article|story) is (for|available to) (subscribers|members)|"
    r"already a subscriber|to read the full|read more)\W*$",
    re.IGNORECASE,
)


def _trafilatura_options(opts: ExtractOptions, url: str, now: datetime) -> Extractor:
    """trafilatura's options for one page, built from ours (~60 µs; nothing shared is mutated)."""
    # deduplicate stays off: its cache is a process global that returns None for a page met
    # four times (adbar/trafilatura#778).
    options = Extractor(
        output_format="python", fast=opts.fast, precision=opts.favor_precision,
        recall=opts.favor_recall, comments=opts.include_comments, tables=opts.include_tables,
        dedup=False, with_metadata=True, url=url, source=url)
    # An explicit max_date keeps htmldate from reading the clock.
    options.date_params = {"original_date": True, "extensive_search": False,
                           "max_date": now.strftime("%Y-%m-%d"),
                           "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
    options.max_file_size = opts.max_html_chars + 1
    options.min_file_size = 1
    return options


def extract_article(page: FetchedPage, opts: ExtractOptions) -> ExtractedArticle:
    """Turn one fetched page into an ExtractedArticle, or raise ExtractionEmpty with a reason."""
    html = _usable_html(page, opts)
    doc = _trafilatura(html, page, opts)
    traf_body = doc.text if doc is not None and doc.text else ""
    body, extractor = traf_body, "trafilatura"
    if opts.second_opinion and _is_doubtful(traf_body, opts.doubt_below_chars):
        body, extractor = merge_bodies(traf_body, _readability_paragraphs(html))
    meta = doc if doc is not None else TrafilaturaDocument()
    entry = page.entry
    title = (entry.title if entry and entry.title else None) or _str(meta.title)
    text = clean_text(body, opts.clean, title=title)
    description = _str(meta.description) or (entry.summary if entry else None)
    if len(text.split()) < opts.min_words and not description:
        raise ExtractionEmpty(f"no main text found in {page.final_url}",
                              url=page.url, reason="no-main-text")
    published_at, date_source = _published(page, meta, opts)
    modified = modified_at(html, entry, published_at=published_at, now=_now(page, opts))
    return ExtractedArticle(
        article_id=page.article_id, url=page.url, final_url=page.final_url,
        feed_url=page.feed_url, source_domain=source_domain(page.url),
        title=title,
        authors=(entry.authors if entry and entry.authors else _authors(meta.author)),
        published_at=published_at, date_source=date_source,
        site_name=_str(meta.sitename), description=description, text=text,
        subtitle=subtitle(html), top_image=_str(meta.image), canonical_url=_str(meta.url),
        modified_at=modified,
        language_hint=_language_hint(html, meta),
        tags=_tags(meta, entry.categories if entry else ()),
        http_status=page.status, content_type=page.content_type, byte_size=page.byte_size,
        fetched_at=page.fetched_at,
        extraction=ExtractionOutcome(extractor=extractor, text_length=len(text),
                                     quality=body_quality(text, page.url, description, opts)),
    )


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
    return _STRIP_RE.sub("", html[: opts.max_html_chars])


def _trafilatura(html: str, page: FetchedPage, opts: ExtractOptions) -> TrafilaturaDocument | None:
    options = _trafilatura_options(opts, page.final_url, _now(page, opts))
    try:
        result = bare_extraction(html, options=options)
    except (lxml.etree.LxmlError, RecursionError, UnicodeError) as err:
        raise ExtractionEmpty(f"unparseable HTML at {page.final_url}: {err}", url=page.url,
                              reason="unparseable-html") from err
    return result if isinstance(result, TrafilaturaDocument) else None


class _Readability(ReadabilityDocument):  # type: ignore[misc]
    """readability-lxml with a lighter parse: we need text, not safe HTML or absolute links.

    Its stock parse runs lxml's Cleaner and rewrites every link, half its run time.
    """

    def _parse(self, source: str) -> lxml.html.HtmlElement:
        parser = lxml.html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
        doc = lxml.html.document_fromstring(source, parser=parser)
        doomed = [el for el in doc.iter() if isinstance(el, lxml.html.HtmlElement) and (
            el.tag in _INVISIBLE or el.get("hidden") is not None
            or _HIDDEN_STYLE_RE.search(el.get("style") or ""))]
        for el in doomed:
            el.drop_tree()
        return doc


_INVISIBLE = frozenset({"script", "style", "noscript", "template"})
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _readability_paragraphs(html: str) -> str:
    """readability-lxml's idea of the body, as text paragraphs ("" when it finds none)."""
    try:
        summary = _Readability(html).summary(html_partial=True)
        root = lxml.html.fragment_fromstring(summary, create_parent="div")
    except (Unparseable, lxml.etree.LxmlError, ValueError, RecursionError, UnicodeError):
        return ""  # trafilatura's body stands alone; readability is only a second opinion
    return "\n".join(_block_texts(root))


_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "pre", "table", "tr", "td", "th", "section", "article",
                     "figure", "figcaption", "dd", "dt", "dl", "br", "header", "footer"})


def _block_texts(root: lxml.html.HtmlElement) -> list[str]:
    """Text of each block element, in document order, without recursion."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = " ".join("".join(buf).split())
        if line:
            out.append(line)
        buf.clear()

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                flush()
            if el.text and tag not in ("script", "style"):
                buf.append(el.text)
        else:
            if tag in _BLOCKS:
                flush()
            if el.tail and el is not root:
                buf.append(el.tail)
    flush()
    return out


# --- merge -------------------------------------------------------------------------------


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _WORD_RE.findall(text.lower())
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)}


_PROSE_END_RE = re.compile(r"[.!?…][\"”’')]*\s*$")


def _is_text(para: str) -> bool:
    """Running text rather than a table row, a label or a link."""
    return len(para.split()) >= 10 and "|" not in para


def _is_headline(para: str) -> bool:  # short, and not ending like a sentence
    return len(para.split()) <= 14 and not _PROSE_END_RE.search(para)


def _is_doubtful(body: str, below_chars: int) -> bool:
    """Worth a second opinion: little running text, or headline-shaped first or last line.

    Readability costs as much as trafilatura; a long body with prose at both ends is
    neither replaced (the fallback needs 1.5x its running text) nor trimmed by it.
    """
    paras = [p for p in body.split("\n") if p.strip()]
    if not paras or sum(len(p) for p in paras if _is_text(p)) < below_chars:
        return True
    return _is_headline(paras[0]) or _is_headline(paras[-1])


def _prefer_second(prim: list[str], sec: list[str], prim_all: set[tuple[str, ...]],
                   sec_all: set[tuple[str, ...]]) -> bool:
    """Readability found clearly more running text, and trafilatura's is tiny or inside it."""
    text_prim = sum(len(p) for p in prim if _is_text(p))
    text_sec = sum(len(p) for p in sec if _is_text(p))
    if text_sec < _FALLBACK_RATIO * text_prim or sec[0].lstrip().startswith("{"):
        return False
    return text_prim < _FALLBACK_CHARS or len(prim_all & sec_all) >= 0.6 * len(prim_all)


_FALLBACK_CHARS = 250  # below this, trafilatura's body is not trusted over a longer one
_FALLBACK_RATIO = 1.5  # 2 (trafilatura's own rule) missed a short article on the dev split


def merge_bodies(primary: str, second: str, *, trim_edges: bool = True,
                 fallback: bool = True) -> tuple[str, str]:
    """Combine trafilatura's body with readability's; return (text, extractor label).

    Both bodies are lists of paragraphs; a paragraph is "agreed" when half its 4-gram
    shingles occur in the other body. Then:
      * fallback: readability's body replaces trafilatura's when it has clearly more running
        text and trafilatura's is tiny or contained in it (trafilatura's own fallback, which
        `fast=True` skips, does the same job with a vendored readability);
      * trim_edges: headline-shaped lines before or after everything both agree on (repeated
        headlines, bylines, related links) are dropped.
    Measured and not kept: inserting prose only readability found between agreed paragraphs
    (on the dev split it added captions, author bios and promos more often than body text).
    """
    prim = [p for p in primary.split("\n") if p.strip()]
    sec = [p for p in second.split("\n") if p.strip()]
    if not prim or not sec:
        return ("\n".join(prim), "trafilatura") if prim or not fallback else (
            "\n".join(sec), "readability")
    prim_sh = [_shingles(p) for p in prim]
    prim_all: set[tuple[str, ...]] = set().union(*prim_sh)
    sec_all: set[tuple[str, ...]] = set().union(*(_shingles(p) for p in sec))
    if fallback and _prefer_second(prim, sec, prim_all, sec_all):
        return "\n".join(sec), "readability"
    agreed = [i for i, sh in enumerate(prim_sh) if sh and len(sh & sec_all) >= 0.5 * len(sh)]
    if not trim_edges or len(agreed) < 2:
        return "\n".join(prim), "trafilatura"
    edges = {*range(agreed[0]), *range(agreed[-1] + 1, len(prim))}
    kept = [p for i, p in enumerate(prim) if i not in edges or not _is_headline(p)]
    label = "trafilatura+readability" if len(kept) < len(prim) else "trafilatura"
    return "\n".join(kept), label


# --- metadata ----------------------------------------------------------------------------


def _now(page: FetchedPage, opts: ExtractOptions) -> datetime:
    return to_utc(opts.now or page.fetched_at)


def _published(page: FetchedPage, meta: TrafilaturaDocument,
               opts: ExtractOptions) -> tuple[datetime | None, DateSource | None]:
    """The first plausible date of: the feed entry's, the page's metadata, the URL's."""
    now = _now(page, opts)
    entry = page.entry
    candidates: list[tuple[datetime | None, DateSource]] = [
        (entry.published if entry else None, "feed"),
        (_parse_date(_str(meta.date)), "page"),
        (_url_date(page.url), "url"),
    ]
    for value, source in candidates:
        if (plausible := plausible_date(value, now)) is not None:
            return plausible, source
    return None, None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _url_date(url: str) -> datetime | None:
    match = _URL_DATE_RE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None


def _language_hint(html: str, meta: TrafilaturaDocument) -> str | None:
    """Primary subtag of <html lang>, og:locale or Content-Language; else trafilatura's."""
    match = _LANG_RE.search(html[:50000])
    if match:
        return (match[1] or match[2]).lower()
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
    body, summary = _shingles(text), _shingles(description)
    return (bool(summary) and len(body) <= 2 * len(summary)
            and len(body & summary) >= 0.5 * len(summary))


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None

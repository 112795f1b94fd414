"""The page's own structured data (pure): its schema.org article in JSON-LD.

Most news pages describe their article for search engines (`NewsArticle`, `BlogPosting`,
`LiveBlogPosting`...): headline, dates, authors, often the body (`articleBody`) and, for live
blogs, each update. Extraction uses it where the visible text and it agree, or where the
visible page plainly lacks what it describes (connectors/extract/extraction.py).

JSON-LD is read with the standard json module: extruct's JSON-LD extractor does the same
(XPath + json.loads) but brings rdflib, html5lib and an HTTP client with it.
"""

from __future__ import annotations

import html as html_lib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html

_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "blogposting",
    "liveblogposting", "report", "techarticle", "scholarlyarticle", "socialmediaposting"})
_LD_XPATH = "//script[@type='application/ld+json' or @type='application/ld+json; charset=utf-8']"
_META_XPATH = "//meta[@property or @name or @itemprop][@content]"


@dataclass(frozen=True)
class LiveUpdate:
    headline: str
    body: str


@dataclass(frozen=True)
class StructuredArticle:
    """What the page's JSON-LD says about its article; None where it says nothing."""

    kind: str  # schema.org type, lower case: "newsarticle", "liveblogposting", ...
    headline: str | None = None
    body: str | None = None
    published: str | None = None  # as written (ISO 8601 mostly)
    modified: str | None = None
    authors: tuple[str, ...] = ()
    updates: tuple[LiveUpdate, ...] = ()  # a live blog's posts, newest first as published
    free: bool | None = None  # isAccessibleForFree


def structured_article(tree: lxml.html.HtmlElement) -> StructuredArticle | None:
    """The page's main schema.org article: the live blog if there is one, else the article
    object with the longest body, else the first one."""
    found = [_article(obj, kind) for obj, kind in _article_objects(tree)]
    if not found:
        return None
    live = [a for a in found if a.updates]
    if live:
        return live[0]
    return max(found, key=lambda a: len(a.body or ""))


def meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """<meta> contents by lower-cased property/name/itemprop, first occurrence wins."""
    values: dict[str, str] = {}
    for el in tree.xpath(_META_XPATH):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = (el.get("content") or "").strip()
        if key and content and key not in values:
            values[key] = content
    return values


def _article_objects(tree: lxml.html.HtmlElement) -> Iterator[tuple[dict[str, object], str]]:
    for script in tree.xpath(_LD_XPATH):
        try:
            data = json.loads(script.text or "", strict=False)  # raw newlines occur in bodies
        except ValueError:
            continue  # broken JSON-LD is common and never worth failing a page for
        for obj in _top_objects(data):
            kind = _article_kind(obj.get("@type"))
            if kind:
                yield obj, kind


def _top_objects(data: object) -> Iterator[dict[str, object]]:
    """Top-level objects, @graph members and a page's mainEntity; not nested properties
    (a live blog's updates are BlogPostings too, but not the page's article)."""
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            continue
        yield item
        graph = item.get("@graph")
        if isinstance(graph, list):
            yield from (g for g in graph if isinstance(g, dict))
        main = item.get("mainEntity")
        if isinstance(main, dict):
            yield main


def _article_kind(value: object) -> str | None:
    kinds = value if isinstance(value, list) else [value]
    for kind in kinds:
        if isinstance(kind, str) and kind.lower() in _ARTICLE_TYPES:
            return kind.lower()
    return None


def _article(obj: dict[str, object], kind: str) -> StructuredArticle:
    updates = obj.get("liveBlogUpdate")
    return StructuredArticle(
        kind=kind, headline=_text(obj.get("headline")), body=_text(obj.get("articleBody")),
        published=_text(obj.get("datePublished")), modified=_text(obj.get("dateModified")),
        authors=_names(obj.get("author")),
        updates=tuple(_updates(updates if isinstance(updates, list) else [updates])),
        free=_flag(obj.get("isAccessibleForFree")))


def _updates(items: list[object]) -> Iterator[LiveUpdate]:
    for item in items:
        if isinstance(item, dict) and (body := _text(item.get("articleBody"))):
            yield LiveUpdate(headline=_text(item.get("headline")) or "", body=body)


def _text(value: object) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str):
        return None
    text = html_lib.unescape(value).strip()
    return text or None


def _names(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = _text(item.get("name")) if isinstance(item, dict) else _text(item)
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names))


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None

"""OPML import and export of the feed list (pure): OPML 1.0/2.0 `<outline xmlUrl=...>`.

Nested outlines are folders in feed readers; their titles become tags, as does a feed
outline's `category` attribute (comma or slash separated, per OPML 2.0). A pinned poll interval
travels as `newsflow:interval` (seconds) in our own namespace, which other readers ignore.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree import ElementTree

from lxml import etree

from connectors.feeds.subscriptions import FeedList
from pipeline.errors import FeedRejected
from pipeline.records import FeedSubscription

NEWSFLOW_NS = "https://github.com/newsflow/newsflow/opml"
_INTERVAL = f"{{{NEWSFLOW_NS}}}interval"
ElementTree.register_namespace("newsflow", NEWSFLOW_NS)


def _tags(outline: etree._Element, folders: tuple[str, ...]) -> tuple[str, ...]:
    category = outline.get("category") or ""
    extra = [t.strip() for part in category.split(",") for t in part.split("/") if t.strip()]
    return tuple(dict.fromkeys([*folders, *extra]))


def _interval(outline: etree._Element) -> float | None:
    raw = outline.get(_INTERVAL)
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        return None  # not ours to reject a whole import for: the interval is learned instead
    return seconds if seconds is not None and seconds > 0 else None


def _walk(node: etree._Element, folders: tuple[str, ...],
          out: list[FeedSubscription]) -> None:
    for outline in node.iterchildren("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        text = (outline.get("text") or "").strip()
        title = (outline.get("title") or "").strip() or (text if text != url else "") or None
        if url.startswith(("http://", "https://")):
            out.append(FeedSubscription(url=url, title=title, tags=_tags(outline, folders),
                                        interval_s=_interval(outline)))
        _walk(outline, (*folders, title) if title and not url else folders, out)


def parse_opml(body: bytes, source: str = "opml") -> FeedList:
    """The feeds of an OPML document; outlines without an http(s) xmlUrl are folders."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as err:
        raise FeedRejected(f"not OPML: {err}", feed_url=source, reason="opml-invalid") from err
    body_node = root.find("body") if root is not None and root.tag == "opml" else None
    if body_node is None:
        raise FeedRejected("not OPML: no <opml><body>", feed_url=source, reason="opml-invalid")
    feeds: list[FeedSubscription] = []
    _walk(body_node, (), feeds)
    return FeedList(feeds=tuple(feeds))


def render_opml(feeds: Iterable[FeedSubscription], title: str = "newsflow feeds") -> str:
    """OPML 2.0, one flat outline per feed, tags in `category` (round-trips with parse_opml)."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.tags:
            attrs["category"] = ",".join(feed.tags)
        if feed.interval_s is not None:
            attrs[_INTERVAL] = f"{feed.interval_s:g}"
        ElementTree.SubElement(body, "outline", attrs)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        root, encoding="unicode") + "\n"

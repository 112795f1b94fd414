from datetime import UTC, datetime

import pytest
from trafilatura.metadata import extract_author

from connectors.extract.html_tree import parse_html
from connectors.extract.page_meta import modified_at, page_author, subtitle
from connectors.extract.structured import meta_values, structured_article
from pipeline.records import FeedEntry

PUBLISHED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _modified(html: str, entry: FeedEntry | None = None) -> datetime | None:
    tree = parse_html(f"<html><head>{html}</head><body><p>x</p></body></html>")
    return modified_at(entry, structured_article(tree), meta_values(tree),
                       published_at=PUBLISHED, now=NOW)


def test_subtitle_from_a_standfirst_class() -> None:
    html = ('<h1>Tram vote</h1><p class="article-standfirst x">The council split 7&ndash;4 '
            'after <b>three</b> hours of debate.</p><p>Body.</p>')
    assert subtitle(parse_html(html)) == "The council split 7–4 after three hours of debate."
    assert subtitle(parse_html("<h1>No standfirst</h1><p>Body.</p>")) is None
    # "dek" is a class word, not any class containing those letters
    assert subtitle(parse_html('<p class="dekstop-only">Not a standfirst at all</p>')) is None


BYLINES = {
    "a byline's date is not its text": (
        '<div class="byline">By Jane Roe <time>Nov 20, 2026</time></div>', "Jane Roe"),
    "an author link outranks an earlier byline class": (
        '<p class="article-byline">Staff</p><p>Body.</p><a rel="author">John Doe</a>',
        "John Doe"),
    "a comment's author is not the article's": (
        '<div id="comments"><span class="author">Troll</span></div>'
        '<span class="writer">Ann Smith</span>', "Ann Smith"),
    "a byline too long to be one is passed over": (
        f'<div class="author">{"word " * 30}</div><span class="byline">Ann Smith</span>',
        "Ann Smith"),
    "a sidebar's author is skipped": (
        '<aside><div class="sidebar"><span class="author-name">Sid Bar</span></div></aside>', None),
    "no byline": ('<p class="lede">Body.</p>', None),
}


@pytest.mark.parametrize("body", BYLINES.values(), ids=BYLINES.keys())
def test_page_author_answers_as_trafilatura_does(body: tuple[str, str | None]) -> None:
    html, expected = body
    tree = parse_html(f"<html><body><h1>Tram vote</h1>{html}<p>Body text.</p></body></html>")
    assert page_author(tree) == expected
    assert page_author(tree) == extract_author(tree)  # the reader it replaces


def test_modified_from_page_meta_and_json_ld() -> None:
    meta = '<meta property="article:modified_time" content="2026-11-21T10:30:00+01:00">'
    assert _modified(meta) == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", '
          '"dateModified": "2026-11-21T12:00:00Z"}</script>')
    assert _modified(ld) == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_feed_updated_wins_and_implausible_dates_are_rejected() -> None:
    entry = FeedEntry(article_id="a", feed_url="https://f.example/rss", link="https://f.example/a",
                      updated=datetime(2026, 11, 21, 6, 0, tzinfo=UTC))
    assert _modified("", entry) == entry.updated
    future = '<meta name="dateModified" content="2031-01-01T00:00:00Z">'
    before = '<meta name="dateModified" content="2026-11-01T00:00:00Z">'
    epoch = '<meta name="dateModified" content="1970-01-01T00:00:00Z">'
    for html in (future, before, epoch):
        assert _modified(html) is None

from datetime import UTC, datetime

from connectors.extract.html_tree import parse_html
from connectors.extract.page_meta import modified_at, subtitle
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

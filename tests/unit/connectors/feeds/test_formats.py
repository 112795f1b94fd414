"""Every supported format normalised to one entry shape; bad entries counted, not fatal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.feeds.parsing import entry_identity, parse_feed
from pipeline.errors import FeedRejected
from pipeline.records import Enclosure
from tests.conftest import TEST_DATA

FEEDS = TEST_DATA / "feeds"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def parse(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return parse_feed((FEEDS / name).read_bytes(), f"https://feeds.example/{name}", now=NOW,
                      **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "fmt", "title", "links"), [
    ("rss091.xml", "rss091n", "Quayside Weekly",
     ["https://quayside.example/lighthouse", "https://quayside.example/fees"]),
    ("rss10.rdf", "rss10", "Valley Post", ["https://valley.example/bridge"]),
    ("rss2.xml", "rss20", "Harbourtown Gazette",
     ["https://gazette.example/2026/11/tram", "https://gazette.example/2026/11/ferry"]),
    ("atom03.xml", "atom03", "Old Mill Journal", ["https://mill.example/wheel"]),
    ("atom.xml", "atom10", "Valley Courier", ["https://courier.example/river-level"]),
    ("feed10.json", "json1", "Ridge Radio", ["https://ridge.example/storm"]),
    ("feed11.json", "json1.1", "Northshore Notes",
     ["https://northshore.example/dunes", "https://elsewhere.example/story"]),
    ("news-sitemap.xml", "news-sitemap", "Tidewater Tribune",
     ["https://tidewater.example/2026/11/20/flood-barrier",
      "https://tidewater.example/2026/11/19/market"]),
])
def test_every_format_gives_canonical_links(name: str, fmt: str, title: str,
                                            links: list[str]) -> None:
    parsed = parse(name)
    assert (parsed.format, parsed.title) == (fmt, title)
    assert [e.link for e in parsed.entries] == links
    assert all(e.feed_url == f"https://feeds.example/{name}" for e in parsed.entries)


def test_rss10_dc_date_creator_subject_and_update_period() -> None:
    parsed = parse("rss10.rdf")
    (bridge,) = parsed.entries
    assert bridge.published == datetime(2026, 11, 19, 10, tzinfo=UTC)
    assert bridge.authors == ("Ilse Varga",) and bridge.categories == ("Transport",)
    assert parsed.update_period_s == 1800  # hourly, twice


def test_atom03_dates_and_author() -> None:
    (wheel,) = parse("atom03.xml").entries
    assert wheel.published == datetime(2026, 11, 20, 7, tzinfo=UTC)
    assert wheel.updated == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert wheel.authors == ("Petra Holm",)


def test_json_feed_11_full_item() -> None:
    parsed = parse("feed11.json")
    dunes = parsed.entries[0]
    assert dunes.guid == "https://northshore.example/dunes"
    assert dunes.summary == "A metre a year."
    assert dunes.published == datetime(2026, 11, 18, 8, tzinfo=UTC)
    assert dunes.updated == datetime(2026, 11, 18, 12, tzinfo=UTC)
    assert dunes.authors == ("Aino Rask",)
    assert dunes.categories == ("Coast", "Science")
    assert dunes.enclosures == (Enclosure(url="https://northshore.example/dunes.jpg",
                                          mime_type="image/jpeg", length=20480),)
    assert parsed.entries[1].guid == "3"  # numeric ids are tolerated
    assert parsed.issues == {"entry-without-link": 1}  # the microblog note has no page


def test_json_feed_10_single_author() -> None:
    (storm,) = parse("feed10.json").entries
    assert storm.authors == ("Jon Brekke",) and storm.summary == "Winds up to 90 km/h."


def test_news_sitemap_title_date_keywords_and_plain_urls_skipped() -> None:
    flood, market = parse("news-sitemap.xml").entries
    assert flood.title == "Flood barrier tested"
    assert flood.published == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert flood.updated == datetime(2026, 11, 20, 11, tzinfo=UTC)
    assert flood.categories == ("flood", "barrier", "city")
    assert market.published == datetime(2026, 11, 19, tzinfo=UTC)  # date only: midnight UTC


def test_enclosure_ttl_bad_dates_missing_links_and_duplicates_are_counted() -> None:
    parsed = parse("rss2-hints.xml")
    ep12, future, epoch = parsed.entries
    assert ep12.enclosures == (Enclosure(url="https://hints.example/ep12.mp3",
                                         mime_type="audio/mpeg", length=12345678),)
    assert parsed.ttl_s == 90 * 60
    assert future.published is None and epoch.published is None  # kept, date dropped
    assert parsed.issues == {"date-in-future": 2, "date-too-old": 2,
                             "entry-without-link": 1, "duplicate-entry": 1}


def test_wrong_declared_charset_and_invalid_utf8_keep_every_entry() -> None:
    parsed = parse("wrong-charset.xml")
    assert parsed.problem is not None
    assert parsed.entries[0].title == "Crème brûlée festival"
    assert len(parsed.entries) == 2


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "feed-bad-json"),
    (b'{"title": "just some JSON"}', "feed-not-a-feed"),
    (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
     b"<sitemap><loc>https://x.example/s1.xml</loc></sitemap></sitemapindex>",
     "feed-sitemap-index"),
])
def test_not_quite_feeds_are_rejected_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FeedRejected) as info:
        parse_feed(body, "https://x.example/feed")
    assert info.value.reason == reason and info.value.feed_url == "https://x.example/feed"


def test_sitemap_entities_are_not_expanded() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
            b"<loc>https://x.example/a</loc><news:news><news:title>&x;</news:title>"
            b"</news:news></url></urlset>")
    (entry,) = parse_feed(body, "https://x.example/sitemap.xml").entries
    assert "root:" not in (entry.title or "")


def test_identity_prefers_link_then_guid_then_title_and_date() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    by_link = entry_identity("https://a.example/x", "guid-1", "T", when)
    assert by_link == entry_identity("https://a.example/x", "guid-2-after-an-edit", "T2", None)
    assert entry_identity(None, "guid-1", "T", when) == entry_identity(None, "guid-1", "U", None)
    assert entry_identity(None, None, "T", when) != entry_identity(None, None, "T", None)
    assert len({by_link, entry_identity(None, "guid-1", "T", when),
                entry_identity(None, None, "T", when)}) == 3

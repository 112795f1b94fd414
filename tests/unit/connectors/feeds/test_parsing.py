from datetime import UTC, datetime

import pytest

from connectors.feeds.parsing import parse_feed
from connectors.feeds.subscriptions import parse_feed_list
from pipeline.errors import FeedRejected
from pipeline.identity import article_id_for, canonical_url, source_domain
from tests.conftest import TEST_DATA

FEEDS = TEST_DATA / "feeds"


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTPS://Example.COM:443/a?utm_source=x&b=2&a=1&fbclid=z#frag", "https://example.com/a?a=1&b=2"),
    ("http://example.com:80", "http://example.com/"),
    ("http://example.com:8080/x", "http://example.com:8080/x"),
    ("https://example.com/p?gclid=1", "https://example.com/p"),
    ("https://example.com/p?id=7&ref=home", "https://example.com/p?id=7&ref=home"),
])
def test_canonical_url_normalises_host_port_and_tracking(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_url_rejects_non_http() -> None:
    with pytest.raises(ValueError, match="not an http"):
        canonical_url("ftp://example.com/file")


def test_article_id_is_stable_across_tracking_variants() -> None:
    a = article_id_for(canonical_url("https://example.com/story?utm_campaign=x"))
    b = article_id_for(canonical_url("https://EXAMPLE.com/story#top"))
    assert a == b
    assert len(a) == 32
    assert a != article_id_for(canonical_url("https://example.com/other-story"))


def test_source_domain_drops_www() -> None:
    assert source_domain("https://WWW.Example.org/a") == "example.org"


def test_rss2_entries_are_normalised() -> None:
    parsed = parse_feed((FEEDS / "rss2.xml").read_bytes(), "https://gazette.example/feed")
    assert parsed.title == "Harbourtown Gazette"
    # the entry without a link is skipped: there is no page to fetch
    assert [e.link for e in parsed.entries] == [
        "https://gazette.example/2026/11/tram",
        "https://gazette.example/2026/11/ferry",
    ]
    tram = parsed.entries[0]
    assert tram.published == datetime(2026, 11, 17, 8, 30, tzinfo=UTC)
    assert tram.authors == ("Mara Quell",)
    assert tram.categories == ("City",)
    assert tram.guid == "tram-1"
    assert parsed.problem is None


def test_atom_entry() -> None:
    parsed = parse_feed((FEEDS / "atom.xml").read_bytes(), "https://courier.example/atom")
    (entry,) = parsed.entries
    assert entry.link == "https://courier.example/river-level"
    assert entry.authors == ("Tobin Arkwright",)
    assert entry.updated == datetime(2026, 11, 20, 18, 30, 2, tzinfo=UTC)


def test_malformed_feed_is_parsed_leniently_and_problem_recorded() -> None:
    parsed = parse_feed((FEEDS / "malformed.xml").read_bytes(), "https://broken.example/rss")
    assert parsed.problem is not None
    assert len(parsed.entries) >= 1


def test_html_page_is_not_a_feed() -> None:
    html = b"<html><head><title>Home</title></head><body><p>Hello</p></body></html>"
    with pytest.raises(FeedRejected) as info:
        parse_feed(html, "https://example.com/")
    assert info.value.reason == "feed-not-a-feed"


def test_feed_list_yaml() -> None:
    feeds = parse_feed_list("feeds:\n  - url: https://a.example/rss\n    interval_s: 60\n"
                            "    tags: [x]\n  - url: https://b.example/atom\n").feeds
    assert [f.url for f in feeds] == ["https://a.example/rss", "https://b.example/atom"]
    assert feeds[0].interval_s == 60 and feeds[1].interval_s is None

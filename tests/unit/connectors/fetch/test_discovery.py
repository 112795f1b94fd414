"""Feed discovery in HTML and on a live local site; OPML import and export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.feeds.opml import parse_opml, render_opml
from connectors.fetch.discovery import candidate_paths, discover_feeds, feed_links
from connectors.fetch.fetching import Fetcher, make_client
from pipeline.errors import FeedRejected
from pipeline.records import FeedSubscription
from pipeline.settings import FetchSettings
from tests.conftest import TEST_DATA
from tests.hostile_server import HostileServer, rss, send

DATA = TEST_DATA / "feeds"
HOME = b"""<html><head>
<link rel="alternate" type="application/rss+xml" title="All" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" href="https://Site.example/atom?utm_source=x">
<link rel="alternate" hreflang="de" href="/de/">
<link rel="stylesheet" href="/style.css">
</head><body><a href="/world/rss">World RSS</a><a href="https://other.example/rss">theirs</a>
<a href="mailto:desk@site.example">mail</a></body></html>"""


def test_feed_links_advertised_first_then_same_site_feed_anchors() -> None:
    assert feed_links(HOME, "https://site.example/") == [
        "https://site.example/feed.xml",
        "https://site.example/atom",
        "https://site.example/world/rss",
    ]


def test_feed_links_of_garbage_is_empty() -> None:
    assert feed_links(b"", "https://site.example/") == []
    assert feed_links(b"\x00\xff not html", "https://site.example/") == []


def test_candidate_paths_cover_section_and_root() -> None:
    paths = candidate_paths("https://site.example/world/")
    assert paths[0] == "https://site.example/world/feed"
    assert "https://site.example/rss.xml" in paths
    assert "https://site.example/news-sitemap.xml" in paths


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    feed = rss([("A", "http://x.example/a")])
    hostile.routes["/home"] = lambda h: send(h, 200, HOME.replace(
        b"https://Site.example/atom?utm_source=x", b"/missing-atom"), "text/html")
    hostile.routes["/feed.xml"] = lambda h: send(h, 200, feed, "application/rss+xml")
    hostile.routes["/world/rss"] = lambda h: send(h, 200, b"<html>not a feed</html>", "text/html")
    hostile.routes["/bare/"] = lambda h: send(h, 200, b"<html><p>nothing</p></html>", "text/html")
    hostile.routes["/bare/rss.xml"] = lambda h: send(h, 200, feed, "application/rss+xml")
    yield hostile
    hostile.close()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    opts = FetchSettings(allowed_networks=("127.0.0.0/8",), per_host_min_delay_s=0,
                         total_timeout_s=3)
    async with make_client(opts) as client:
        yield Fetcher(client, opts)


async def test_discovery_keeps_only_candidates_that_parse(fetcher: Fetcher,
                                                          server: HostileServer) -> None:
    assert await discover_feeds(fetcher, server.url("/home")) == [server.url("/feed.xml")]


async def test_discovery_falls_back_to_common_paths(fetcher: Fetcher,
                                                    server: HostileServer) -> None:
    assert await discover_feeds(fetcher, server.url("/bare/")) == [server.url("/bare/rss.xml")]


async def test_a_feed_url_discovers_itself(fetcher: Fetcher, server: HostileServer) -> None:
    assert await discover_feeds(fetcher, server.url("/feed.xml")) == [server.url("/feed.xml")]


def test_opml_import_folders_and_categories_become_tags() -> None:
    feeds = parse_opml((DATA / "subscriptions.opml").read_bytes()).feeds
    assert [(f.url, f.title, f.tags) for f in feeds] == [
        ("https://gazette.example/feed", "Harbourtown Gazette", ("World",)),
        ("https://courier.example/atom", "Courier", ("World", "local", "weather", "rivers")),
        ("https://plain.example/rss.xml", "No folder", ()),
    ]


def test_opml_export_round_trips() -> None:
    feeds = (FeedSubscription(url="https://a.example/rss", title="A & B", tags=("x", "y"),
                              interval_s=900),
             FeedSubscription(url="https://b.example/atom?x=1&y=2"))
    again = parse_opml(render_opml(feeds).encode()).feeds
    fields = [(f.url, f.title, f.tags, f.interval_s) for f in again]
    assert fields == [(f.url, f.title, f.tags, f.interval_s) for f in feeds]


def test_opml_interval_that_is_not_a_positive_number_is_learned_instead() -> None:
    body = (b'<opml version="2.0" xmlns:newsflow="https://github.com/newsflow/newsflow/opml">'
            b'<body><outline xmlUrl="https://a.example/rss" newsflow:interval="soon"/>'
            b'<outline xmlUrl="https://b.example/rss" newsflow:interval="-5"/></body></opml>')
    assert [f.interval_s for f in parse_opml(body).feeds] == [None, None]


def test_not_opml_is_rejected() -> None:
    with pytest.raises(FeedRejected) as info:
        parse_opml(b"<rss version='2.0'><channel/></rss>")
    assert info.value.reason == "opml-invalid"

"""The demo news site: feed, pages, conditional GETs, run-time changes, rare words."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import feedparser
import httpx
import pytest

from pipeline.demo.site import ARTICLES, CHROME_MARKER, RESERVE, serve_demo_site


@pytest.fixture()
def site():
    with serve_demo_site() as running:
        yield running


def test_feed_lists_every_article_and_links_resolve(site) -> None:
    response = httpx.get(site.feed_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"

    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert len(parsed.entries) == len(ARTICLES) == 6
    for entry in parsed.entries:
        assert entry.link.startswith(site.base_url + "/")  # the real port, not a placeholder
        assert entry.id == entry.link
        assert entry.author and entry.summary and entry.published_parsed[:2] == (2026, 11)
        page = httpx.get(entry.link)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert [url for url, _, _ in site.articles] == [e.link for e in parsed.entries]


def test_article_pages_carry_metadata_and_chrome(site) -> None:
    for url, title, _ in site.articles:
        html = httpx.get(url).text
        assert '<html lang="en">' in html
        assert f'<link rel="canonical" href="{url}">' in html
        assert re.search(r'<meta property="og:title" content="[^"]+">', html)
        assert '<meta name="author" content="' in html
        published = re.search(r'<meta property="article:published_time" content="([^"]+)">', html)
        assert published and published.group(1).startswith("2026-11-")
        assert published.group(1).endswith("+00:00")
        for chrome in ("Skip to main content", "Share on", "Print", "Related stories",
                       "cookies", "Sign me up", "&copy; 2026", CHROME_MARKER):
            assert chrome in html, (chrome, url)
        assert html.count("<article>") == 1


def test_home_page_links_every_article(site) -> None:
    html = httpx.get(site.base_url + "/").text
    for url, _, _ in site.articles:
        assert f'href="{url}"' in html
    assert httpx.get(site.base_url + "/nope").status_code == 404


def test_feed_etag_gives_304_until_the_feed_changes(site) -> None:
    first = httpx.get(site.feed_url)
    etag = first.headers["etag"]
    again = httpx.get(site.feed_url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = httpx.get(site.feed_url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304

    url, title, rare = site.publish_next()
    changed = httpx.get(site.feed_url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    entries = feedparser.parse(changed.content).entries
    assert len(entries) == 7 and entries[0].link == url and entries[0].title == title
    assert rare == RESERVE[0].rare_word and rare in httpx.get(url).text
    with pytest.raises(LookupError):
        site.publish_next()


def test_add_and_update_article(site) -> None:
    url = site.add_article("a-new-bridge", "A new bridge opens", "First para.\n\nSecond para.",
                           rare_word="quoin")
    assert url in [u for u, _, _ in site.articles]
    assert "Second para." in httpx.get(url).text
    old_page = httpx.get(url)
    feed_etag = httpx.get(site.feed_url).headers["etag"]

    site.update_article("a-new-bridge", ["Rewritten body."])
    new_page = httpx.get(url, headers={"If-None-Match": old_page.headers["etag"]})
    assert new_page.status_code == 200 and "Rewritten body." in new_page.text
    assert "Second para." not in new_page.text
    with pytest.raises(KeyError):
        site.update_article("no-such-slug", "x")
    with pytest.raises(ValueError):
        site.add_article("a-new-bridge", "Again", "dup")
    assert httpx.get(site.feed_url).headers["etag"] != feed_etag  # Last-Modified moved


def test_failure_injection_and_request_log(site) -> None:
    site.fail("/feed.xml", status=503, times=1)
    assert httpx.get(site.feed_url).status_code == 503
    assert httpx.get(site.feed_url).status_code == 200
    assert site.hits["/feed.xml"] == 2
    assert [s for _, p, s in site.request_log if p == "/feed.xml"] == [503, 200]


def test_marker_only_in_chrome_and_rare_words_unique(site) -> None:
    everything = ARTICLES + RESERVE
    for article in everything:
        text = " ".join((article.title, article.description, article.body_text)).lower()
        assert CHROME_MARKER.lower() not in text, article.slug
        assert 250 <= len(article.body_text.split()) <= 450, article.slug
        assert article.rare_word and article.rare_word in article.body_text.lower()

    site.publish_next()
    pages = {url: httpx.get(url).text.lower() for url, _, _ in site.articles}
    shared = [httpx.get(site.feed_url).text.lower(), httpx.get(site.base_url + "/").text.lower()]
    for url, _, rare in site.articles:
        assert CHROME_MARKER.lower() in pages[url]
        # The rare word is on its own page and nowhere else on the site.
        assert [u for u, html in pages.items() if rare in html] == [url], rare
        assert not any(rare in text for text in shared), rare
    assert len({a.rare_word for a in everything}) == len(everything)


def test_runs_in_the_foreground_as_a_module() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.demo.site.server", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        banner = proc.stdout.readline()
        base = re.search(r"(http://\S+?)/\s", banner).group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(base + "/feed.xml").status_code == 200
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

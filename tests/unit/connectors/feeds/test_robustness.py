"""What publishers really send: HTML titles, relative links, wrong charsets, hostile bytes."""

from __future__ import annotations

import random

import pytest

from connectors.feeds.parsing import ParsedFeed, parse_feed
from connectors.feeds.text import plain_text
from pipeline.errors import FeedRejected
from tests.conftest import TEST_DATA

FEEDS = TEST_DATA / "feeds"
URL = "https://site.example/feeds/main.xml"
JSON_HEAD = b'{"version": "https://jsonfeed.org/version/1.1", '


def rss(items: bytes, channel: bytes = b"<title>T</title>", prolog: bytes = b"") -> bytes:
    return (prolog + b'<rss version="2.0"><channel>' + channel + items
            + b"</channel></rss>")


def item(title: bytes = b"t", link: bytes = b"https://site.example/a", extra: bytes = b"") -> bytes:
    return b"<item><title>" + title + b"</title><link>" + link + b"</link>" + extra + b"</item>"


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_utf8_safe(parsed: ParsedFeed) -> None:
    for text in strings_in(parsed.model_dump()):
        text.encode("utf-8")  # raises on a lone surrogate


# -- titles are plain text --------------------------------------------------------------------

@pytest.mark.parametrize(("raw_title", "expected"), [
    (b"&lt;b&gt;&amp;amp;&lt;/b&gt; Co", "& Co"),  # HTML in an RSS title
    (b"Rock &amp;amp; roll", "Rock & roll"),  # escaped twice
    (b"Rock &amp;amp;amp; roll", "Rock & roll"),  # the publisher's double escape, once more
    (b"It&amp;#8217;s", "It\u2019s"),  # an undecoded numeric reference
    (b"  two\n\t lines  ", "two lines"),
    (b"<![CDATA[<p>A</p><p>B</p>]]>", "A B"),
])
def test_rss_titles_come_out_as_plain_text(raw_title: bytes, expected: str) -> None:
    (entry,) = parse_feed(rss(item(raw_title)), URL).entries
    assert entry.title == expected


def test_feed_title_and_atom_text_types() -> None:
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &lt;b&gt;B&lt;/b&gt;'
            b' &amp;amp; C</title><entry><title type="text">a &lt;b&gt; b</title>'
            b'<link href="https://site.example/x"/><summary type="html">&lt;p&gt;One&lt;/p&gt;'
            b"&lt;p&gt;Two&lt;/p&gt;</summary></entry></feed>")
    parsed = parse_feed(body, URL)
    assert parsed.title == "A B & C"
    (entry,) = parsed.entries
    assert entry.title == "a <b> b"  # declared plain text: the "<b>" is the text itself
    assert entry.summary == "One Two"


def test_json_feed_title_with_markup_and_entities() -> None:
    body = JSON_HEAD + (b'"title": "Caf&eacute;", "items": [{"url": "https://site.example/a",'
                        b' "title": "<i>Big</i> &amp; small"}]}')
    parsed = parse_feed(body, URL)
    assert parsed.title == "Caf\u00e9" and parsed.entries[0].title == "Big & small"


def test_plain_text_keeps_text_that_only_looks_like_markup() -> None:
    assert plain_text("AT&T: 3 < 4 &notice", is_html=False) == "AT&T: 3 < 4 &notice"
    assert plain_text("Caf\u00c3\u00a9 \u00e2\u20ac\u0153q\u00e2\u20ac\u009d") == "Caf\u00e9 \u201cq\u201d"
    assert plain_text("Ma\u00f1ana \u00c0 la carte") == "Ma\u00f1ana \u00c0 la carte"


# -- relative links ---------------------------------------------------------------------------

def test_relative_rss_links_resolve_against_the_channel_link() -> None:
    body = rss(item(link=b"/news/1") + item(link=b"news/2.html") + item(link=b"mailto:x@y.z"),
               channel=b"<title>T</title><link>https://www.site.example/home/</link>")
    parsed = parse_feed(body, URL)
    assert [e.link for e in parsed.entries] == ["https://www.site.example/news/1",
                                                "https://www.site.example/home/news/2.html"]
    assert parsed.issues == {"entry-without-link": 1}  # mailto: is no page


def test_relative_links_without_a_channel_link_resolve_against_the_feed_url() -> None:
    (entry,) = parse_feed(rss(item(link=b"news/1.html")), URL).entries
    assert entry.link == "https://site.example/feeds/news/1.html"


def test_atom_xml_base_is_honoured() -> None:
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://cdn.example/blog/">'
            b'<title>T</title><entry><title>x</title><link href="posts/1"/></entry></feed>')
    (entry,) = parse_feed(body, URL).entries
    assert entry.link == "https://cdn.example/blog/posts/1"


def test_relative_guid_is_not_a_link() -> None:
    body = rss(b"<item><title>x</title><guid>1234</guid></item>")
    assert parse_feed(body, URL).issues == {"entry-without-link": 1}


def test_json_feed_and_sitemap_relative_links() -> None:
    body = JSON_HEAD + (b'"home_page_url": "https://home.example/", "items": '
                        b'[{"url": "/p/1", "id": "1"}]}')
    assert [e.link for e in parse_feed(body, URL).entries] == ["https://home.example/p/1"]
    sitemap = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>/a</loc>'
               b"<news:news><news:title>A</news:title></news:news></url></urlset>")
    assert [e.link for e in parse_feed(sitemap, URL).entries] == ["https://site.example/a"]


# -- encodings --------------------------------------------------------------------------------

WINDOWS_1252_TEXT = "Cr\u00e8me br\u00fbl\u00e9e \u2019s \u201cbest\u201d"


@pytest.mark.parametrize("prolog", [b'<?xml version="1.0" encoding="utf-8"?>',
                                    b"\xef\xbb\xbf"])
def test_windows_1252_bytes_in_a_utf8_rss(prolog: bytes) -> None:
    body = rss(item(WINDOWS_1252_TEXT.encode("cp1252")), prolog=prolog)
    assert parse_feed(body, URL).entries[0].title == WINDOWS_1252_TEXT


def test_windows_1252_json_feed_and_sitemap() -> None:
    body = JSON_HEAD + b'"items": [{"url": "https://site.example/a", "title": "%s"}]}' \
        % WINDOWS_1252_TEXT.encode("cp1252")
    assert parse_feed(body, URL).entries[0].title == WINDOWS_1252_TEXT
    sitemap = ('<?xml version="1.0" encoding="UTF-8"?><urlset '
               'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
               f"<loc>https://site.example/a</loc><news:news><news:title>{WINDOWS_1252_TEXT}"
               "</news:title></news:news></url></urlset>").encode("cp1252")
    assert parse_feed(sitemap, URL).entries[0].title == WINDOWS_1252_TEXT


def test_utf8_read_as_windows_1252_is_repaired() -> None:
    text = "Cr\u00e8me br\u00fbl\u00e9e \u2019s"
    double_encoded = text.encode("utf-8").decode("cp1252").encode("utf-8")
    assert parse_feed(rss(item(double_encoded)), URL).entries[0].title == text


# -- hostile inputs: parsed, or FeedRejected --------------------------------------------------

HOSTILE = {
    "lone-surrogate-reference": rss(item(b"a&#xD800;b")),
    "decimal-surrogate-reference": rss(item(b"a&#55296;b")),
    "out-of-range-reference": rss(item(b"a&#99999999;b")),
    "huge-reference": rss(item(b"a&#" + b"9" * 40 + b";b")),
    "5000-digit-ttl": rss(item(), channel=b"<title>T</title><ttl>" + b"9" * 5000 + b"</ttl>"),
    "5000-digit-enclosure-length": rss(item(extra=b'<enclosure url="https://site.example/a.mp3"'
                                            b' length="' + b"9" * 5000 + b'"/>')),
    "5000-digit-size-in-bytes": JSON_HEAD + b'"items": [{"url": "https://site.example/a", '
                                b'"attachments": [{"url": "https://site.example/a.mp3", '
                                b'"size_in_bytes": ' + b"9" * 5000 + b"}]}]}",
    "5000-digit-json-id": JSON_HEAD + b'"items": [{"url": "https://site.example/a", "id": '
                          + b"9" * 5000 + b"}]}",
    "json-lone-surrogate": JSON_HEAD + b'"title": "a\\ud800", "items": [{"url": '
                           b'"https://site.example/\\udc00", "title": "\\udfff"}]}',
    "deep-json": JSON_HEAD + b'"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep-json-objects": JSON_HEAD + b'"x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    "nul-bytes": rss(item(b"a\x00b")),
    "bad-ipv6-link": rss(item(link=b"http://[::1/x")),
    "bad-port-link": rss(item(link=b"https://site.example:99999/x")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_parses_or_is_rejected(name: str) -> None:
    try:
        parsed = parse_feed(HOSTILE[name], URL)
    except FeedRejected as rejected:
        assert rejected.reason != "feed-parser-error", rejected  # a reason, not the safety net
        return
    assert_utf8_safe(parsed)


def test_surrogate_and_out_of_range_references_become_replacement_characters() -> None:
    assert parse_feed(HOSTILE["lone-surrogate-reference"], URL).entries[0].title == "a\ufffdb"
    assert parse_feed(HOSTILE["out-of-range-reference"], URL).entries[0].title == "a\ufffdb"
    assert parse_feed(HOSTILE["5000-digit-ttl"], URL).ttl_s is None


def test_deep_json_is_rejected_as_bad_json() -> None:
    with pytest.raises(FeedRejected) as info:
        parse_feed(HOSTILE["deep-json"], URL)
    assert info.value.reason == "feed-bad-json"


# -- fuzz: random and mutated bytes -----------------------------------------------------------

SEEDS = [path.read_bytes() for path in sorted(FEEDS.iterdir())
         if path.suffix in (".xml", ".rdf", ".json")] + list(HOSTILE.values())
SPICE = [b"&#xD800;", b"&#99999999;", b"&amp;amp;", b"<b>", b"\xff\xfe", b"\xef\xbb\xbf",
         b"\x00", b"[[[[", b'"\\ud800"', b"9" * 5000, b"<![CDATA[", b"]]>", b"&", b"<", b"\x93"]


def mutate(rng: random.Random, body: bytes) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:  # truncation
        return body[:rng.randrange(len(body) + 1)]
    if choice == 1:  # random bytes
        return rng.randbytes(rng.randrange(200))
    position = rng.randrange(len(body) + 1)
    if choice == 2:  # a hostile fragment inserted
        return body[:position] + rng.choice(SPICE) + body[position:]
    if choice == 3:  # bytes flipped
        data = bytearray(body)
        for _ in range(rng.randrange(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return body[:position] + body[rng.randrange(len(body) + 1):]  # a slice cut out


def test_fuzz_parse_feed_returns_a_feed_or_rejects_it() -> None:
    rng = random.Random(20261202)
    for case in range(2500):
        body = mutate(rng, rng.choice(SEEDS))
        try:
            parsed = parse_feed(body, URL)
        except FeedRejected as rejected:
            assert rejected.reason != "feed-parser-error", (case, body[:200], rejected)
            continue
        assert_utf8_safe(parsed)

"""extract_article: body, metadata, quality flags and hostile input (no network, no clock)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.extract.extraction import (
    bounded_text,
    extract_article,
    merge_bodies,
    source_domain,
)
from pipeline.datetimes import FUTURE_SLACK
from pipeline.errors import ExtractionEmpty
from pipeline.options import ExtractOptions
from pipeline.records import ExtractedArticle, FeedEntry, FetchedPage
from tests.conftest import SHARED

BENCH = SHARED / "bench" / "extraction"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
URL = "https://www.Example-News.org/local/2024/05/30/council-budget"
OPTS = ExtractOptions()
UNDATED_URL = "https://www.example-news.org/local/council-budget"

PARAGRAPHS = [
    "The Riverside town council approved a new budget on Thursday evening after a debate "
    "that ran for almost four hours and drew more than two hundred residents to the hall.",
    "The plan sets aside money for repairing the old stone bridge, which engineers closed to "
    "heavy lorries last winter after finding cracks in two of its arches.",
    "“We have waited long enough for this bridge,” said Marta Olsen, who runs a bakery on the "
    "east bank and has watched her deliveries take a detour for months.",
    "Opponents argued that the library and the swimming pool would lose staff as a result, "
    "and several asked the council to delay the vote until the spring.",
    "The budget passed by seven votes to four. Work on the bridge is expected to begin in "
    "August and to last about a year, according to the town engineer.",
]

DEMO_PAGE = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Council approves budget to fix the old bridge | Riverside Herald</title>
<meta property="og:site_name" content="Riverside Herald">
<meta name="description" content="Councillors vote seven to four for bridge repairs.">
<meta name="author" content="Ada Lindqvist">
<meta property="article:published_time" content="2024-05-30T19:45:00+02:00">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/local">Local</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<div class="cookie-notice"><p>We use cookies to give you the best experience on our site.
By continuing to browse you agree to our cookie policy.</p><button>Accept all cookies</button></div>
<div class="donate-banner"><h3>Support independent journalism — donate today</h3>
<p>Our reporting is free for everyone. If you value it, please give what you can.</p>
<a href="/donate">Donate today</a></div>
<main><article>
<h1>Council approves budget to fix the old bridge</h1>
<p class="byline">By Ada Lindqvist, 30 May 2024</p>
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a>
<a href="#">Email this article</a></div>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
</article>
<aside class="related"><h2>Related stories</h2><ul>
<li><a href="/a">Library opening hours cut for the summer</a></li>
<li><a href="/b">Swimming pool to close for repairs in July</a></li>
<li><a href="/c">Ferry timetable changes from Monday</a></li></ul></aside></main>
<footer><p>© 2024 Riverside Herald Ltd. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a> | <a href="/contact">Contact us</a></p>
</footer></body></html>"""


def page(html: str = DEMO_PAGE, *, url: str = URL, entry: FeedEntry | None = None,
         fetched_at: datetime = FETCHED) -> FetchedPage:
    return FetchedPage(article_id="a1", url=url, final_url=url + "?ref=feed",
                       feed_url="https://www.example-news.org/rss", status=200,
                       content_type="text/html; charset=utf-8", fetched_at=fetched_at,
                       byte_size=len(html.encode("utf-8", "replace")), html=html, entry=entry)


def entry(**fields: object) -> FeedEntry:
    return FeedEntry.model_validate({"article_id": "a1", "feed_url": "https://x.org/rss",
                                     "link": URL, **fields})


def test_demo_page_yields_only_the_article_body() -> None:
    article = extract_article(page(), OPTS)
    assert article.text.split("\n\n") == PARAGRAPHS
    assert article.extraction.quality == "ok"
    assert article.extraction.text_length == len(article.text)


def test_record_fields_come_from_page_and_metadata() -> None:
    article = extract_article(page(), OPTS)
    assert isinstance(article, ExtractedArticle)
    assert (article.article_id, article.url, article.final_url) == ("a1", URL, URL + "?ref=feed")
    assert article.feed_url == "https://www.example-news.org/rss"
    assert article.source_domain == "example-news.org"
    assert article.title == "Council approves budget to fix the old bridge"
    assert article.site_name == "Riverside Herald"
    assert article.description == "Councillors vote seven to four for bridge repairs."
    assert article.authors == ("Ada Lindqvist",)
    assert article.language_hint == "en"
    assert (article.http_status, article.byte_size, article.fetched_at) == (
        200, page().byte_size, FETCHED)
    assert article.content_type == "text/html; charset=utf-8"
    assert article.published_at is not None and article.published_at.tzinfo is not None
    assert article.published_at.date().isoformat() == "2024-05-30"
    assert article.published_day is not None and article.published_day.isoformat() == "2024-05-30"
    assert article.date_source == "page"


def test_sections_and_tags_come_from_meta_or_the_pages_topic_links() -> None:
    declared = DEMO_PAGE.replace(
        "</head>", '<meta property="article:section" content="Local politics"></head>')
    assert extract_article(page(declared), OPTS).tags == ("Local politics",)
    linked = DEMO_PAGE.replace("</body>", (
        '<div class="entry-meta">Filed under <a href="/category/bridges/">Bridges</a> '
        '<a href="/tag/budget/">Budget 2024</a></div></body>'))
    assert extract_article(page(linked), OPTS).tags == ("Bridges", "Budget 2024")


def test_feed_date_and_title_are_preferred() -> None:
    published = datetime(2024, 5, 30, 18, 0, tzinfo=timezone(timedelta(hours=-4)))
    article = extract_article(page(entry=entry(published=published, title="Feed title",
                                               authors=("Feed Author",),
                                               categories=("Local",))), OPTS)
    assert article.published_at == published.astimezone(timezone.utc)
    assert article.published_at.utcoffset() == timedelta(0)
    assert article.date_source == "feed"
    assert article.title == "Feed title"
    assert article.authors == ("Feed Author",)
    assert "Local" in article.tags


def test_future_and_ancient_dates_are_rejected() -> None:
    future = entry(published=FETCHED + timedelta(days=3))
    article = extract_article(page(entry=future), OPTS)
    assert article.date_source == "page"  # the feed's date is in the future: next source
    ancient = entry(published=datetime(1970, 1, 1, tzinfo=timezone.utc))
    assert extract_article(page(entry=ancient), OPTS).date_source == "page"
    # With a ceiling before every date the page states, none of them may come back.
    early = ExtractOptions(now=datetime(2024, 5, 1, tzinfo=timezone.utc))
    article = extract_article(page(entry=future), early)
    assert article.published_at is None or article.published_at <= early.now + FUTURE_SLACK


def test_schema_org_date_when_the_page_has_no_other() -> None:
    html = re.sub(r'<meta property="article:published_time"[^>]*>|, 30 May 2024', "", DEMO_PAGE)
    html = html.replace("</head>", '<script type="application/ld+json">{"@type": "NewsArticle",'
                        ' "datePublished": "Tue, 28 May 2024 07:00:00 GMT"}</script></head>')
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_at == datetime(2024, 5, 28, 7, 0, tzinfo=timezone.utc)


def test_a_late_evening_story_keeps_the_publishers_day() -> None:
    html = DEMO_PAGE.replace('content="2024-05-30T19:45:00+02:00"',
                             'content="2024-05-30T22:45:00-04:00"')
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_at == datetime(2024, 5, 31, 2, 45, tzinfo=timezone.utc)
    assert article.published_day is not None and article.published_day.isoformat() == "2024-05-30"


def test_a_date_in_a_commented_out_rdf_block_is_read() -> None:
    html = re.sub(r'<meta property="article:published_time"[^>]*>|, 30 May 2024', "", DEMO_PAGE)
    html = html.replace("</body>", '<!-- <rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/">'
                        '<rdf:Description dc:date="2024-05-29T22:00:00+09:00" /></rdf:RDF> -->'
                        "</body>")
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_day is not None and article.published_day.isoformat() == "2024-05-29"


def test_a_headline_with_a_date_is_kept_without_text() -> None:
    html = ('<html><head><title>Photos: the new bridge opens</title>'
            '<meta property="article:published_time" content="2024-05-30T10:00:00Z"></head>'
            '<body><img src="a.jpg"></body></html>')
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.extraction.quality == "empty"
    assert article.published_at == datetime(2024, 5, 30, 10, 0, tzinfo=timezone.utc)


def test_url_date_is_the_last_resort() -> None:
    html = re.sub(r'<meta property="article:published_time"[^>]*>|, 30 May 2024', "", DEMO_PAGE)
    article = extract_article(page(html), OPTS)
    assert article.date_source in ("page", "url")  # htmldate may read the URL itself
    assert article.published_at == datetime(2024, 5, 30, tzinfo=timezone.utc)


def test_a_posts_id_dates_a_twitter_page() -> None:
    # The id's upper bits count milliseconds since Twitter's epoch: 2020-07-11 06:25:02.176 UTC,
    # whatever the saved page's own metadata says (here the demo page's 30 May 2024).
    status = "https://twitter.com/Reuters/status/1281836879789404160/photo/1"
    tweet = extract_article(page(url=status), OPTS)
    assert tweet.published_at == datetime(2020, 7, 11, 6, 25, 2, 176000, tzinfo=timezone.utc)
    assert tweet.date_source == "url"
    profile = extract_article(page(url="https://twitter.com/Reuters"), OPTS)
    assert profile.published_at == datetime(2024, 5, 30, 17, 45, tzinfo=timezone.utc)


def test_the_printed_publication_day_settles_a_utc_stamp() -> None:
    html = DEMO_PAGE.replace("2024-05-30T19:45:00+02:00", "2024-05-30T23:15:00Z").replace(
        "<article>", '<article><p itemprop="datePublished">31 maggio 2024</p>')
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_at == datetime(2024, 5, 30, 23, 15, tzinfo=timezone.utc)
    assert article.published_day == date(2024, 5, 31)


def test_a_utc_stamp_takes_the_offset_of_the_pages_other_times() -> None:
    # A TV schedule embedded in the page writes New York's offset; the story's stamp is UTC.
    html = DEMO_PAGE.replace("2024-05-30T19:45:00+02:00", "2024-05-31T02:54:29Z").replace(
        ", 30 May 2024", "").replace("</body>", '<script>var schedule = [{"date": "Thu, 30 May 2024 23:00:00 -0400"},'
        ' {"date": "Fri, 31 May 2024 06:00:00 -0400"}];</script></body>')
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_at == datetime(2024, 5, 31, 2, 54, 29, tzinfo=timezone.utc)
    assert article.published_day == date(2024, 5, 30)
    day_only = html.replace("2024-05-31T02:54:29Z", "2024-05-31")
    assert extract_article(page(day_only, url=UNDATED_URL), OPTS).published_day == date(2024, 5, 31)


def test_the_date_in_a_sites_masthead_is_not_the_storys() -> None:
    # The masthead shows the day the page was served; the story's header gives its own date.
    html = (re.sub(r'<meta property="article:published_time"[^>]*>|, 30 May 2024', "", DEMO_PAGE)
            .replace("<nav>", '<header class="header--section"><ul class="header--topbar-info">'
                     "<li>Saturday, (01 Jun 2024)</li></ul><nav>")
            .replace("</nav>", "</nav></header>")
            .replace('<p class="byline">By Ada Lindqvist</p>',
                     '<ul class="meta"><li><a href="/time/2024-05-28">28 May 2024 18:29</a></li>'
                     "</ul>"))
    article = extract_article(page(html, url=UNDATED_URL), OPTS)
    assert article.published_day == date(2024, 5, 28)


def test_a_wiki_diff_is_dated_by_its_newer_revision() -> None:
    html = DEMO_PAGE.replace("<article>", '<article><table><tr><td class="diff-ntitle">'
                             '<div id="mw-diff-ntitle1"><a href="?oldid=2">Latest revision as '
                             'of 05:33, 7 April 2020</a></div></td></tr></table>')
    diff = "https://wiki.example.org/index.php?title=Bridge&diff=591343&oldid=588001"
    article = extract_article(page(html, url=diff), OPTS)
    assert article.published_day == date(2020, 4, 7)  # not the page's 30 May 2024
    assert extract_article(page(html), OPTS).published_day == date(2024, 5, 30)


def test_a_paragraph_opening_with_a_comment_is_kept() -> None:
    # Comments stay in the parse for the date search; trafilatura reads no text after a
    # comment that opens a paragraph (a CMS's drop-cap marks: "<p><!-- INLINE --><span>S").
    marked = [f"<p><!-- INLINE(dropcap) --><span class='dropcap'>{p[0]}</span>{p[1:]}</p>"
              if n in (1, 3) else f"<p>{p}</p>" for n, p in enumerate(PARAGRAPHS)]
    html = DEMO_PAGE.replace("".join(f"<p>{p}</p>" for p in PARAGRAPHS), "".join(marked))
    # Without readability's second opinion, which takes over when whole paragraphs go.
    article = extract_article(page(html), ExtractOptions(second_opinion=False))
    assert article.extraction.extractor == "trafilatura"
    assert all(p[20:80] in article.text for p in PARAGRAPHS)


def test_options_are_frozen_and_a_page_met_again_keeps_its_body() -> None:
    opts = ExtractOptions()
    with pytest.raises(ValueError):
        opts.favor_precision = False  # type: ignore[misc]
    first = extract_article(page(), opts)
    # deduplicate is off: the same page keeps its body on every call (trafilatura#778).
    for _ in range(5):
        assert extract_article(page(), opts).text == first.text


def test_without_second_opinion_or_cleaning() -> None:
    plain = ExtractOptions(second_opinion=False, fast=False)
    assert extract_article(page(), plain).extraction.extractor == "trafilatura"


def test_quality_flags() -> None:
    short = DEMO_PAGE.replace("".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:]), "")
    assert extract_article(page(short), OPTS).extraction.quality == "too_short"
    teaser = DEMO_PAGE.replace("".join(f"<p>{p}</p>" for p in PARAGRAPHS[3:]),
                               "<p>Subscribe to continue reading.</p>")
    assert extract_article(page(teaser), OPTS).extraction.quality == "teaser"
    home = extract_article(page(url="https://www.example-news.org/"), OPTS)
    assert home.extraction.quality == "non_article"


BODY = [f"Sentence number {w} of the report says the council met and voted on the plan."
        for w in ("one", "two", "three", "four")]


def test_merge_trims_headline_lines_outside_the_agreed_region() -> None:
    primary = "\n".join(["Council votes on the plan", *BODY, "Storm hits the coast"])
    text, label = merge_bodies(primary, "\n".join(BODY))
    assert text.split("\n") == BODY
    assert label == "trafilatura+readability"
    assert merge_bodies(primary, "\n".join(BODY), trim_edges=False)[0] == primary


def test_merge_falls_back_when_trafilatura_has_little_or_a_part() -> None:
    longer = "\n".join([*BODY, *(b.replace("report", "annex") for b in BODY)])
    assert merge_bodies(BODY[0], longer) == (longer, "readability")
    assert merge_bodies("| Price | 1 |", longer) == (longer, "readability")
    assert merge_bodies("", longer) == (longer, "readability")
    unrelated = "\n".join(f"Line {n}: a long forecast of rain and wind on the coast, with "
                          "storms expected over the hills by the weekend." for n in range(12))
    assert merge_bodies("\n".join(BODY), unrelated)[1] == "trafilatura"  # not contained
    assert merge_bodies("\n".join(BODY), longer, fallback=False)[1] == "trafilatura"


@pytest.mark.parametrize("html, reason", [
    ("", "empty-document"),
    ("  \n\t ", "empty-document"),
    ("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 50, "not-html"),
    ('{"title": "json, not html"}', "not-html"),
    ("".join(chr(c % 256) for c in range(0, 40000, 7)), "binary-content"),
    ("<html><body><nav><a href='/'>Home</a></nav></body></html>", "no-main-text"),
])
def test_unusable_input_raises_with_reason(html: str, reason: str) -> None:
    with pytest.raises(ExtractionEmpty) as err:
        extract_article(page(html), OPTS)
    assert err.value.reason == reason
    assert err.value.url == URL


@pytest.mark.parametrize("html", [
    DEMO_PAGE.replace(PARAGRAPHS[1], PARAGRAPHS[1] + " \udcff\ud800 broken"),
    DEMO_PAGE.replace(PARAGRAPHS[2], "\x00\x01" + PARAGRAPHS[2]),
    DEMO_PAGE.encode("utf-8").decode("latin-1"),  # mojibake: UTF-8 read as Latin-1
    DEMO_PAGE.replace("<main>", "<div>" * 100_000).replace("</main>", "</div>" * 100_000),
    "<html><body><article>" + "<span>" * 100_000 + "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
])
def test_hostile_input_gives_an_article_or_a_reason(html: str) -> None:
    try:
        article = extract_article(page(html), OPTS)
    except ExtractionEmpty as err:
        assert err.reason in {"no-main-text", "unparseable-html"}
    else:
        assert article.extraction.quality in {"ok", "too_short", "teaser", "non_article"}
        assert "\x00" not in article.text


def test_huge_page_is_capped() -> None:
    filler = "".join(f"<p>Paragraph {i} of a page far longer than any article, repeated.</p>"
                     for i in range(300_000))  # ~20 MB
    html = DEMO_PAGE.replace("</article>", filler + "</article>")
    assert len(html) > 20_000_000
    opts = ExtractOptions(max_html_chars=300_000)
    article = extract_article(page(html), opts)
    assert article.text.startswith(PARAGRAPHS[0])
    assert article.extraction.text_length < opts.max_html_chars


def test_a_body_over_the_text_limit_is_cut_at_a_paragraph_and_flagged() -> None:
    filler = "".join(f"<p>Paragraph {i} of a transcript longer than the record may carry.</p>"
                     for i in range(4000))  # ~260,000 characters of text
    article = extract_article(page(DEMO_PAGE.replace("</article>", filler + "</article>")),
                              ExtractOptions(max_text_chars=50_000))
    assert article.extraction.truncated
    assert article.extraction.text_length == len(article.text) <= 50_000
    assert article.text.startswith(PARAGRAPHS[0])
    assert article.text.endswith("carry.")  # a whole paragraph, not a cut word
    assert not extract_article(page(), ExtractOptions()).extraction.truncated


def test_bounded_text_cuts_at_a_word_inside_one_long_paragraph() -> None:
    assert bounded_text("short", 10) == ("short", False)
    assert bounded_text("one two three four", 12) == ("one two", True)
    # the paragraph break is too early (under half the limit): cut at the last word instead
    assert bounded_text("first.\n\nsecond paragraph here", 20) == ("first.\n\nsecond", True)
    assert bounded_text("a paragraph here.\n\nand more", 24) == ("a paragraph here.", True)


def test_source_domain() -> None:
    assert source_domain("https://WWW.Example.co.uk:8443/a?b") == "example.co.uk"
    assert source_domain("http://news.example.org/") == "news.example.org"


def _bench_case(page_id: str) -> tuple[str, str, str]:
    if not (BENCH / "ground-truth.json").is_file():
        pytest.skip(f"extraction benchmark not found at {BENCH} (shared/ beside the project)")
    truth = json.loads((BENCH / "ground-truth.json").read_text(encoding="utf-8"))
    matches = [k for k in truth if k.startswith(page_id)]
    if not matches:
        pytest.skip(f"page {page_id} not in {BENCH}")
    html = gzip.decompress((BENCH / "html" / f"{matches[0]}.html.gz").read_bytes())
    return html.decode("utf-8"), truth[matches[0]]["url"], truth[matches[0]]["articleBody"]


@pytest.mark.parametrize("page_id", ["c00962aa", "d90bda7e", "70cb2d5b", "f5c90a6d"])
def test_bench_pages_read_in_place(page_id: str) -> None:
    html, url, truth = _bench_case(page_id)
    article = extract_article(page(html, url=url), OPTS)
    words, expected = re.findall(r"\w+", article.text), re.findall(r"\w+", truth)
    common = len(set(zip(words, words[1:])) & set(zip(expected, expected[1:])))
    assert common >= 0.9 * len(set(zip(expected, expected[1:])))
    assert common >= 0.9 * len(set(zip(words, words[1:])))


def test_merge_keeps_a_list_article_and_swaps_a_headline_rail() -> None:
    listing = "\n".join(["Album of the year", *(f"- Band {i}" for i in range(40))])
    standfirst = ("The winners were announced on Saturday night in London, where the ceremony "
                  "ran for three hours.")
    assert merge_bodies(listing, standfirst)[1] == "trafilatura"
    rail = "\n".join(f"Another story about something else entirely number {i}" for i in range(6))
    story = "\n".join(f"{p} It was the {n}th meeting." for n in range(3) for p in BODY)
    assert merge_bodies(rail, story)[1] == "readability"  # headlines are not running text


def test_live_blog_posts_come_from_json_ld_when_the_body_lacks_them() -> None:
    posts = [("FT: Luton 2 Villa 3", "Unai Emery punches the air at the end of a tense match."),
             ("90 minutes", "Villa look to have just done enough after a late set-piece.")]
    ld = json.dumps({"@type": "LiveBlogPosting", "headline": "Live", "liveBlogUpdate": [
        {"@type": "BlogPosting", "headline": h, "articleBody": b} for h, b in posts]})
    html = DEMO_PAGE.replace("</head>", f'<script type="application/ld+json">{ld}</script></head>')
    article = extract_article(page(html), OPTS)
    assert "Unai Emery punches the air" in article.text and "90 minutes" in article.text
    assert article.text.index(PARAGRAPHS[-1][:40]) < article.text.index("FT: Luton")
    assert article.extraction.extractor.endswith("+json-ld")


_REST_OF_STORY = [
    "Engineers said the repairs would need a crane on each bank and a temporary footbridge.",
    "The footbridge will open in July, two weeks before the lorries are diverted to the ring road.",
    "Shops on the east bank asked for signs on the ring road pointing drivers to the old town.",
    "The council will publish the contractor's timetable on its website at the end of the month.",
]


def _paywalled(declared: list[str]) -> str:
    """The demo page with two visible paragraphs under a paywall prompt, and a declared body."""
    ld = json.dumps({"@type": "NewsArticle", "headline": "Council approves budget",
                     "isAccessibleForFree": False, "articleBody": "".join(declared)})
    visible = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    return (DEMO_PAGE.replace("".join(f"<p>{p}</p>" for p in PARAGRAPHS), visible)
            .replace("</head>", f'<script type="application/ld+json">{ld}</script></head>'))


def test_a_paywalled_page_gets_the_body_its_json_ld_declares() -> None:
    article = extract_article(page(_paywalled([*PARAGRAPHS, *_REST_OF_STORY])), OPTS)
    assert article.extraction.extractor == "json-ld"
    # its paragraphs were joined with nothing between them ("arches.“We have"): split again
    assert article.text.split("\n\n") == [*PARAGRAPHS, *_REST_OF_STORY]


def test_a_declared_body_that_is_not_the_visible_story_is_not_taken() -> None:
    other = [p.replace("bridge", "tunnel").replace("council", "ministry") for p in _REST_OF_STORY]
    article = extract_article(page(_paywalled(other * 3)), OPTS)
    assert article.extraction.extractor != "json-ld"
    assert article.text.split("\n\n") == PARAGRAPHS[:2]

"""The page's schema.org article read from JSON-LD."""

from connectors.extract.html_tree import parse_html
from connectors.extract.structured import LiveUpdate, structured_article


def _page(*scripts: str) -> str:
    blocks = "".join(f'<script type="application/ld+json">{s}</script>' for s in scripts)
    return f"<html><head>{blocks}</head><body><p>Visible text.</p></body></html>"


def test_the_article_object_is_found_in_a_graph_and_its_fields_read() -> None:
    ld = ('{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "S"},'
          '{"@type": ["NewsArticle"], "headline": "Tram vote &amp; budget",'
          '"datePublished": "2024-03-02T10:00:00Z", "author": [{"@type": "Person", '
          '"name": "Ada L"}, "Bo K"], "articleBody": "Body text.", '
          '"isAccessibleForFree": "False"}]}')
    article = structured_article(parse_html(_page(ld)))
    assert article is not None
    assert article.kind == "newsarticle"
    assert article.headline == "Tram vote & budget"
    assert article.published == "2024-03-02T10:00:00Z"
    assert article.authors == ("Ada L", "Bo K")
    assert article.body == "Body text."
    assert article.free is False


def test_live_blog_updates_and_broken_json_is_skipped() -> None:
    broken = '{"@type": "NewsArticle", "headline": '
    live = ('{"@type": "LiveBlogPosting", "headline": "Live", "liveBlogUpdate": ['
            '{"@type": "BlogPosting", "headline": "FT: 2-3", "articleBody": "Late winner."},'
            '{"@type": "BlogPosting", "headline": "No body"}]}')
    plain = '{"@type": "NewsArticle", "headline": "Other", "articleBody": "A longer body here."}'
    article = structured_article(parse_html(_page(broken, plain, live)))
    assert article is not None and article.kind == "liveblogposting"
    assert article.updates == (LiveUpdate(headline="FT: 2-3", body="Late winner."),)


def test_no_article_object() -> None:
    assert structured_article(parse_html(_page('{"@type": "Organization"}'))) is None
    assert structured_article(parse_html("<p>no scripts</p>")) is None

import lxml.html

from connectors.extract.html_tree import (
    detached,
    drop_comments,
    drop_screen_reader_text,
    drop_teaser_cards,
    parse_html,
    xpath_elements,
)


def test_parse_drops_what_libxml2_cannot_take() -> None:
    # NUL stops libxml2; lone surrogates have no UTF-8; noncharacters and C0 controls are refused.
    tree = parse_html("<p>one\x00 two\ud800 three\ufffe four\x0b five\x1f</p><p>six\tseven</p>")
    assert tree.text_content() == "one two three four fivesix\tseven"


def test_comments_are_dropped_and_their_text_after_kept() -> None:
    tree = parse_html("<p><!-- INLINE --><span>S</span><!-- END -->chwartz began<!-- x --> her"
                      " work.</p>")
    drop_comments(tree)
    paragraph = tree.find(".//p")
    assert paragraph is not None and paragraph.text is None
    assert lxml.html.tostring(paragraph, encoding=str) == \
        "<p><span>S</span>chwartz began her work.</p>"


def test_screen_reader_text_is_dropped_and_its_tail_kept() -> None:
    tree = parse_html(
        '<p>The index <a href="/q">(.GSPTSE)<span style="clip: rect(0 0 0 0); width:1px">'
        ', opens new tab</span></a> closed higher.</p>'
        '<h2><span class="sr-only">Card title</span><a href="/c">Card title</a></h2>'
        '<p class="visually-hidden-focusable x">Skip to content</p>'
        '<p class="sr-only-note">A class that only starts alike stays.</p>')
    drop_screen_reader_text(tree)
    text = lxml.html.tostring(tree, method="text", encoding="unicode")
    assert "The index (.GSPTSE) closed higher." in text
    assert text.count("Card title") == 1
    assert "Skip to content" in text  # a focusable skip link is visible on focus: not ours
    assert "A class that only starts alike stays." in text


def _card(slug: str, title: str, dek: str) -> str:
    return (f'<div class="c"><a href="/story/{slug}"><img src="/{slug}.jpg"></a>'
            f'<h3><a href="https://news.example/story/{slug}/">{title}</a></h3><p>{dek}</p></div>')


def test_teaser_cards_are_dropped_but_not_the_article() -> None:
    tree = parse_html(
        '<article><h2><a href="/story/this">Section heading that is a link</a></h2>'
        '<p>The article itself, with <a href="/story/this"><img src="/x.jpg"></a>.</p>'
        '</article><aside>'
        + _card("one", "Another headline", "Its one-line description.")
        + _card("two", "A second headline", "Its own description.") + '</aside>')
    drop_teaser_cards(tree, "https://news.example/story/this")
    text = lxml.html.tostring(tree, method="text", encoding="unicode")
    assert "description" not in text
    # a heading linked to the page itself (with its picture) is the article, not a card
    assert "The article itself" in text and "Section heading" in text


def test_xpath_elements_types_a_result_and_keeps_matching_attribute_owners() -> None:
    tree = parse_html('<html><body><p class="byline" id="a">x</p><p class="lede">y</p>'
                      '<author>z</author></body></html>')
    found = tree.xpath("//@class|//author")
    assert [el.tag for el in xpath_elements(found)] == ["author"]  # values need keep_value
    kept = xpath_elements(found, lambda value: "byline" in value)
    assert [(el.tag, el.get("id")) for el in kept] == [("p", "a"), ("author", None)]
    assert xpath_elements(tree.xpath("count(//p)")) == []
    assert xpath_elements(tree.xpath("//@class|//@id"), bool) == [tree.find(".//p")] + [
        tree.findall(".//p")[1]]  # once each, in document order


def test_detached_elements_are_gone_inside_the_block_and_back_in_place_after() -> None:
    page = ("<body><header>Today <b>1 June</b> tail</header>masthead tail<div><header>Story"
            "</header><p>Text</p></div></body>")
    tree = parse_html(page)
    before = lxml.html.tostring(tree, encoding=str)
    outer, inner = tree.findall(".//header")
    with detached([outer, inner]):
        assert tree.text_content() == "Text"  # a tail ("masthead tail") goes with its element
    assert lxml.html.tostring(tree, encoding=str) == before

import lxml.html

from connectors.extract.html_tree import drop_screen_reader_text, parse_html


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

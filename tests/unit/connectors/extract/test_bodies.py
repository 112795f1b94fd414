from connectors.extract.bodies import is_doubtful, readability_text
from connectors.extract.html_tree import parse_html

_PROSE = ("The council voted on Tuesday to close the bridge for repairs after inspectors found "
          "corrosion in two of its main supports. ")


def test_readability_reads_a_body_that_holds_an_html_comment() -> None:
    # The page's tree keeps comments (htmldate reads some); readability's sanitize() raised on
    # one beside a block it weighs for removal and the page lost its second opinion.
    tree = parse_html(
        "<html><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article>"
        "<div class='byline'><!-- avatar --><div><a href='/jd'><img src='/jd.jpg'></a></div>"
        f"<p>By Jane Doe</p></div><p>{_PROSE * 3}</p><p>{_PROSE * 2}</p></article>"
        "<footer><p>Copyright 2026 Example News. All rights reserved.</p></footer>"
        "</body></html>")
    body = readability_text(tree)
    assert "corrosion in two of its main supports" in body
    assert "Home" not in body and "All rights reserved" not in body


def test_readability_skips_what_no_reader_sees() -> None:
    hidden = {"script": "<script>var promo = 'Subscribe today to our print edition';</script>",
              "hidden": "<p hidden>Hidden editor's note about the council vote.</p>",
              "style": "<p style='DISPLAY: None'>Styled away: more on the bridge repairs.</p>",
              "visibility": "<div style='visibility:hidden'><p>Invisible bridge survey.</p></div>",
              "both": "<script hidden>var tracker = 'bridge';</script>"}
    tree = parse_html(f"<html><body><article><p>{_PROSE * 3}</p>{''.join(hidden.values())}"
                      f"<p>{_PROSE * 2}</p></article></body></html>")
    body = readability_text(tree)
    assert "corrosion in two of its main supports" in body
    for marker in ("Subscribe today", "editor's note", "Styled away", "bridge survey", "tracker"):
        assert marker not in body
    assert "Hidden editor" in "".join(tree.itertext())  # the page's own tree is left whole


def test_a_short_body_or_a_headline_first_line_in_a_moderate_one_is_doubtful() -> None:
    def doubtful(body: str) -> bool:
        return is_doubtful(body, below_chars=200, headline_below_chars=1000)

    assert doubtful("Too short.")
    assert doubtful(f"Related stories\n{_PROSE * 3}")
    assert not doubtful(f"{_PROSE * 3}\nMore from Example News")
    # On a long body an edge trim moves F1 by under 0.01 and a readability call costs ~25 ms.
    assert not doubtful(f"Related stories\n{_PROSE * 12}")

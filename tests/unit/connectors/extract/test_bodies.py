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


def test_only_a_short_body_or_a_headline_first_line_is_doubtful() -> None:
    assert is_doubtful("Too short.", below_chars=200)
    assert is_doubtful(f"Related stories\n{_PROSE * 3}", below_chars=200)
    assert not is_doubtful(f"{_PROSE * 3}\nMore from Example News", below_chars=200)

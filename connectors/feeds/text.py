"""Feed text (pure): what publishers put in titles and summaries, made plain, valid text.

Titles arrive as HTML (`<b>&amp;</b>`), escaped twice (`&amp;amp;`, `&amp;#8217;`), decoded
with the wrong charset (`CafÃ©`) or holding lone surrogates that cannot be encoded to UTF-8
(and so cannot go to Kafka as JSON). `plain_text` undoes each of these.
"""

from __future__ import annotations

import html
import re

from lxml import etree
from lxml import html as lxml_html

# A markup tag, only to decide whether a value that claims no type is HTML; lxml parses it.
TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
# A complete character or entity reference; html.unescape alone would also decode "&not" in
# "&notice", so only references with their semicolon are decoded a second time.
ENTITY_RE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")
SURROGATE_RE = re.compile("[\ud800-\udfff]")
# XML 1.0 forbids these, and lxml refuses strings holding them.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# UTF-8 lead bytes read as windows-1252/latin-1, followed by a continuation byte read the same
# way: the signature of mojibake ("Ã©" for "é", "â€™" for "’").
MOJIBAKE_RE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d"
                         "\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026"
                         "\u2030\u2039\u203a\u20ac\u2122]")
BLOCK_TAGS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3",
                        "h4", "h5", "h6", "blockquote", "pre", "hr", "table", "section"})
MAX_MARKUP_CHARS = 1_000_000  # lxml on a hostile multi-megabyte title is not worth its time


def valid_text(value: str) -> str:
    """`value` with lone surrogates replaced, so that it always encodes to UTF-8."""
    return SURROGATE_RE.sub("\ufffd", value)


def repair_mojibake(value: str) -> str:
    """Undo UTF-8 text decoded as windows-1252 (or latin-1), when that is clearly what happened.

    Re-encoding must succeed and the bytes must be valid UTF-8: legitimate accented text
    almost never is, so real "Ã" or "â" survive.
    """
    if not MOJIBAKE_RE.search(value):
        return value
    try:
        return b"".join(_as_read_byte(char) for char in value).decode("utf-8")
    except (UnicodeError, ValueError):
        return value


def _as_read_byte(char: str) -> bytes:
    # The byte a windows-1252 reader turned into `char`; its five undefined bytes (0x81, 0x8d,
    # 0x8f, 0x90, 0x9d) come through as the latin-1 control characters.
    try:
        return char.encode("cp1252")
    except UnicodeEncodeError:
        return char.encode("latin-1")  # ValueError (UnicodeEncodeError) for any other char


def _html_to_text(markup: str) -> str:
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup  # not even lenient HTML: keep the characters
    for element in root.iter():
        # "a<br>b" or "<p>a</p><p>b</p>" are two words, not "ab".
        if isinstance(element.tag, str) and element.tag.lower() in BLOCK_TAGS:
            element.tail = " " + (element.tail or "")
    return str(root.text_content())


def plain_text(value: str | None, *, is_html: bool | None = None) -> str | None:
    """Plain text of a title or summary: tags stripped, entities decoded, whitespace collapsed.

    `is_html`: the value's declared type (feedparser's text/html vs text/plain); None when the
    format declares none, then markup is stripped only if the value holds a tag.
    """
    if value is None:
        return None
    text = CONTROL_RE.sub("", valid_text(value))
    if is_html is None:
        is_html = bool(TAG_RE.search(text)) or bool(ENTITY_RE.search(text))
    if is_html and len(text) <= MAX_MARKUP_CHARS and ("<" in text or "&" in text):
        text = _html_to_text(text)
    # Whatever is still a reference was escaped twice by the publisher (`&amp;amp;`): once more.
    text = ENTITY_RE.sub(lambda match: html.unescape(match.group(0)), text)
    text = repair_mojibake(valid_text(text))
    return " ".join(text.split()) or None

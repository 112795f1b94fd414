"""One parse per page: the lxml tree every extractor and metadata reader works on (pure).

trafilatura and readability-lxml both accept a parsed `HtmlElement` and copy it before they
mutate it, so a page is parsed once (about 1.9 ms for a 300 KB page) and copied where needed
(a deep copy costs a sixth of a parse). The parser maps every element to `HtmlElement` in C:
lxml.html's default lookup is a Python call per element proxy, ~1 ms a page in trafilatura.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urljoin

import lxml.etree
import lxml.html

# libxml2 mishandles some doctype declarations (lxml bug 1955915); nothing needs them.
_DOCTYPE_RE = re.compile(r"\s*<!\s*doctype[^>]*>", re.IGNORECASE)
_XML_DECLARATION_RE = re.compile(r"\s*<\?xml[^>]*>", re.IGNORECASE)
# NULs, C0 controls and noncharacters make libxml2 stop or fail; no text needs them. Deleted
# from the UTF-8 bytes (no multi-byte sequence holds a byte under 0x80): a regex over the
# str costs ~1.4 ms a page, this ~0.1 ms.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())


def _parser() -> lxml.html.HTMLParser:
    # Comments stay: blogs put their Dublin Core date in a commented-out RDF block, which
    # htmldate reads. They go before the body is extracted (drop_comments).
    parser = lxml.html.HTMLParser(  # type: ignore[call-arg]  # lxml-stubs lack default_doctype
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=False,
        remove_pis=True)
    parser.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
    return parser


def parse_html(html: str) -> lxml.html.HtmlElement:
    """The document's root element; raises lxml.etree.LxmlError (or ValueError) when libxml2
    cannot make a tree of it."""
    head = html[:1024]
    if match := _XML_DECLARATION_RE.match(head):
        html = html[match.end():]  # a str with an encoding declaration is refused by lxml
    if match := _DOCTYPE_RE.match(html[:1024]):
        html = html[match.end():]
    data = html.encode("utf-8", "ignore")  # a lone surrogate has no UTF-8: dropped
    data = data.translate(None, _CONTROL_BYTES)
    for noncharacter in _NONCHARACTERS:
        if noncharacter in data:
            data = data.replace(noncharacter, b"")
    # The parser is made per page: cheap (µs), and lxml parsers are not safe to share.
    root = lxml.html.document_fromstring(data, parser=_parser())
    if not isinstance(root, lxml.html.HtmlElement):
        raise ValueError("no HTML element tree")
    return root



def xpath_elements(found: object,
                   keep_value: Callable[[str], object] | None = None) -> list[lxml.etree._Element]:
    """An XPath result's elements in document order, once each (none for a boolean, number
    or string result). With `keep_value`, an attribute value in the result stands for its
    element when `keep_value(value)` holds: matching `//@class` values in Python is cheaper
    than XPath predicates on every element."""
    elements: dict[lxml.etree._Element, None] = {}
    for item in found if isinstance(found, list) else ():
        if isinstance(item, lxml.etree._Element):
            elements[item] = None
        elif (keep_value is not None and isinstance(item, lxml.etree._ElementUnicodeResult)
              and keep_value(item) and (owner := item.getparent()) is not None):
            elements[owner] = None
    return list(elements)

@contextmanager
def detached(elements: Sequence[lxml.etree._Element]) -> Iterator[None]:
    """The tree without `elements` for the time of a with-block, then as it was (tails too):
    cheaper than a copy for a reader that must not see part of the page."""
    removed = []
    for el in elements:
        parent = el.getparent()
        if parent is not None:
            removed.append((parent, parent.index(el), el))
            parent.remove(el)
    try:
        yield
    finally:
        for parent, at, el in reversed(removed):
            parent.insert(at, el)


# Text only a screen reader gets: the usual utility classes, or the 1px clip idiom inline.
# No reader sees it and neither benchmark's gold keeps it; left in, it doubles a card's
# headline ("Title Title") and splits a sentence at ", opens new tab".
_SCREEN_READER_CLASS_RE = re.compile(
    r"(?:^|\s)(?:sr-only|visually-?hidden|screen-reader-(?:text|only)|element-invisible|"
    r"element-hidden)(?:\s|$)", re.IGNORECASE)


def drop_comments(tree: lxml.html.HtmlElement) -> None:
    """Remove HTML comments from `tree` in place (their tails stay). Kept for the date search,
    they cost body text after it: trafilatura loses a whole paragraph whose drop cap sits
    between comment marks ("<p><!-- INLINE --><span>S</span><!-- END -->chwartz began")."""
    for comment in list(tree.iter(lxml.etree.Comment)):
        if comment.getparent() is not None:
            comment.drop_tree()


def drop_screen_reader_text(tree: lxml.html.HtmlElement) -> None:
    """Remove screen-reader-only elements from `tree` in place (their tails stay)."""
    # Collected first (dropping while walking skips the next sibling); a Python walk beats an
    # XPath with contains() on every class and style by a third.
    hidden = [el for el in tree.iter(lxml.etree.Element) if _reads_only_aloud(el)]
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()


def _reads_only_aloud(el: lxml.html.HtmlElement) -> bool:
    if (cls := el.get("class")) and _SCREEN_READER_CLASS_RE.search(cls):
        return True
    style = el.get("style")
    return bool(style) and "clip:rect(0" in style.replace(" ", "").lower()


_LINKED_HEADINGS_XPATH = "//h2[.//a[@href]]|//h3[.//a[@href]]|//h4[.//a[@href]]"
_CARD_MAX_CHARS = 600  # a teaser: headline, a line of description, a date
_CARD_MAX_DEPTH = 5


def drop_teaser_cards(tree: lxml.html.HtmlElement, url: str) -> None:
    """Remove teaser cards (links to other stories) from `tree` in place.

    A card is the smallest element holding a heading that is one link and a picture linking
    to the same address, with little text: a related-story rail's unit. Extractors drop its
    link-dense headline but keep its description line, which then reads as body text.
    """
    for heading in tree.xpath(_LINKED_HEADINGS_XPATH):
        links = heading.xpath(".//a[@href]")
        text = " ".join(heading.text_content().split())
        if len(links) != 1 or not text or (
                len(" ".join(links[0].text_content().split())) < 0.9 * len(text)):
            continue
        target = _address(links[0].get("href"), url)
        if target == _address(url, url):
            continue  # the page's own headline, linked to itself as blogs do
        card = _card_of(heading, target, url)
        if card is not None and card.getparent() is not None and (
                len(" ".join(card.text_content().split())) <= _CARD_MAX_CHARS):
            card.drop_tree()


def _card_of(heading: lxml.html.HtmlElement, target: str,
             url: str) -> lxml.html.HtmlElement | None:
    el = heading
    for _ in range(_CARD_MAX_DEPTH):
        el = el.getparent()
        if el is None or len(el.xpath(".//h2[.//a]|.//h3[.//a]|.//h4[.//a]")) > 1:
            return None  # past the card: a rail of them
        if any(_address(a.get("href"), url) == target
               for a in el.xpath(".//a[@href][.//img or .//picture]")):
            return el
    return None


def _address(href: str | None, base: str) -> str:
    return urljoin(base, (href or "").strip()).split("#")[0].rstrip("/")

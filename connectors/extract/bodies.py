"""The body: trafilatura's text checked against readability-lxml's (pure).

`readability_text(tree)` runs readability-lxml on the page's parsed tree and returns its body
as text paragraphs; `merge_bodies` decides between the two bodies and trims the edges.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import lxml.etree
import lxml.html
from readability import Document as ReadabilityDocument  # type: ignore[import-untyped]
from readability.readability import Unparseable  # type: ignore[import-untyped]

from connectors.extract.html_tree import xpath_elements
from connectors.extract.structured import LiveUpdate

_WORD_RE = re.compile(r"\w+")
# Elements a reader never sees, and furniture that is never the body (menus, footers, asides,
# figures, embeds): readability would score their text like any other, and skipping them cuts
# its time by a quarter (F1 unchanged on both sets). Not <form>: ASP.NET pages wrap the whole
# page in one. Comments go too: the page's tree keeps them for htmldate, and readability's
# sanitize() raises on one (5 of the 138 benchmark pages).
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "button", "select", "iframe",
                   "nav", "footer", "aside", "figure", lxml.etree.Comment)
_HIDDEN_OR_STYLED = lxml.etree.XPath("//*[@hidden]|//@style")


def _invisible(doc: lxml.html.HtmlElement) -> list[lxml.etree._Element]:
    """The elements above, once each. Tags by lxml's C-level `iter` and styles matched in
    Python: 0.8 ms a page against 1.2-1.9 for one XPath union with translate() on styles."""
    found = dict.fromkeys(doc.iter(*_INVISIBLE_TAGS))
    found.update(dict.fromkeys(xpath_elements(_HIDDEN_OR_STYLED(doc), _hides)))
    return list(found)


def _hides(style: str) -> bool:
    style = style.lower().replace(" ", "")
    return "display:none" in style or "visibility:hidden" in style


class _Readability(ReadabilityDocument):  # type: ignore[misc]
    """readability-lxml on a tree already parsed, returning text rather than HTML.

    The stock class parses the HTML string on each pass of `summary()` (up to three times),
    runs lxml's Cleaner and rewrites every link; we need none of that, only the text.
    """

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        super().__init__(tree)
        self._page = tree

    def _parse(self, source: object) -> lxml.html.HtmlElement:
        # Each pass starts from the page as parsed: summary() mutates the tree it gets.
        doc = copy.deepcopy(self._page)
        for el in _invisible(doc):
            if isinstance(el, lxml.html.HtmlMixin) and el.getparent() is not None:
                el.drop_tree()  # its tail stays
        return doc

    def get_clean_html(self) -> str:
        # readability's documented hook for its DOM-to-text step: our text, not its HTML
        return "\n".join(_block_texts(self.html))


def readability_text(tree: lxml.html.HtmlElement) -> str:
    """readability-lxml's idea of the body, as text paragraphs ("" when it finds none)."""
    try:
        text: str = _Readability(tree).summary(html_partial=True)
    except (Unparseable, lxml.etree.LxmlError, ValueError, RecursionError, UnicodeError):
        return ""  # trafilatura's body stands alone; readability is only a second opinion
    return text


_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "pre", "table", "tr", "td", "th", "section", "article",
                     "figure", "figcaption", "dd", "dt", "dl", "br", "header", "footer"})


def _block_texts(root: lxml.html.HtmlElement) -> list[str]:
    """Text of each block element, in document order, without recursion."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = " ".join("".join(buf).split())
        if line:
            out.append(line)
        buf.clear()

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                flush()
            if el.text and tag not in ("script", "style"):
                buf.append(el.text)
        else:
            if tag in _BLOCKS:
                flush()
            if el.tail and el is not root:
                buf.append(el.tail)
    flush()
    return out


# --- merge -------------------------------------------------------------------------------


def shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _WORD_RE.findall(text.lower())
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return set(zip(tokens, tokens[1:], tokens[2:], tokens[3:]))


_PROSE_END_RE = re.compile(r"[.!?…][\"”’')]*\s*$")


def _is_text(para: str) -> bool:
    """Running text rather than a table row, a label or a link."""
    return len(para.split()) >= 10 and "|" not in para


def _is_headline(para: str) -> bool:  # short, and not ending like a sentence
    return len(para.split()) <= 14 and not _PROSE_END_RE.search(para)


def is_doubtful(body: str, below_chars: int, headline_below_chars: int) -> bool:
    """Worth a second opinion: little running text, or a headline-shaped first line in a
    body of moderate length.

    Readability costs as much as trafilatura; a long body that opens with prose is neither
    replaced (the fallback needs 1.5x its running text) nor trimmed by it. A headline-shaped
    last line alone was a trigger too, and changed none of its 10 bodies on either set.
    """
    paras = [p for p in body.split("\n") if p.strip()]
    running = sum(len(p) for p in paras if _is_text(p)) if paras else 0
    if running < below_chars:
        return True
    return running < headline_below_chars and _is_headline(paras[0])


def _prefer_second(prim: list[str], sec: list[str], prim_all: set[tuple[str, ...]],
                   sec_all: set[tuple[str, ...]]) -> bool:
    """Readability found clearly more prose, and trafilatura's body is inside it, or has
    little prose and is smaller overall.

    Prose is sentence-shaped lines: a rail of related headlines is not (it was replaced too
    rarely), and neither is a list article's "- Artist" lines, which the overall size keeps
    from being swapped for a standfirst.
    """
    prose_prim = sum(len(p) for p in prim if _is_prose(p))
    prose_sec = sum(len(p) for p in sec if _is_prose(p))
    if prose_sec < _FALLBACK_RATIO * prose_prim or sec[0].lstrip().startswith("{"):
        return False
    if len(prim_all & sec_all) >= 0.6 * len(prim_all):
        return True
    size_prim, size_sec = sum(map(len, prim)), sum(map(len, sec))
    return prose_prim < _FALLBACK_CHARS and size_sec >= _FALLBACK_RATIO * size_prim


def _is_prose(para: str) -> bool:  # running text with a sentence end: not a headline
    return _is_text(para) and bool(_SENTENCE_END_RE.search(para))


_SENTENCE_END_RE = re.compile(r"[.!?…][\"”’')]*(\s|$)")


_FALLBACK_CHARS = 250  # below this, trafilatura's body is not trusted over a longer one
_FALLBACK_RATIO = 1.5  # 2 (trafilatura's own rule) missed a short article on the dev split


def merge_bodies(primary: str, second: str, *, trim_edges: bool = True,
                 fallback: bool = True) -> tuple[str, str]:
    """Combine trafilatura's body with readability's; return (text, extractor label).

    Both bodies are lists of paragraphs; a paragraph is "agreed" when half its 4-gram
    shingles occur in the other body. Then:
      * fallback: readability's body replaces trafilatura's when it has clearly more running
        text and trafilatura's is tiny or contained in it (trafilatura's own fallback, which
        `fast=True` skips, does the same job with a vendored readability);
      * trim_edges: headline-shaped lines before or after everything both agree on (repeated
        headlines, bylines, related links) are dropped.
    Measured and not kept: inserting prose only readability found between agreed paragraphs
    (on the dev split it added captions, author bios and promos more often than body text).
    """
    prim = [p for p in primary.split("\n") if p.strip()]
    sec = [p for p in second.split("\n") if p.strip()]
    if not prim or not sec:
        return ("\n".join(prim), "trafilatura") if prim or not fallback else (
            "\n".join(sec), "readability")
    prim_sh = [shingles(p) for p in prim]
    prim_all: set[tuple[str, ...]] = set().union(*prim_sh)
    sec_all: set[tuple[str, ...]] = set().union(*(shingles(p) for p in sec))
    if fallback and _prefer_second(prim, sec, prim_all, sec_all):
        return "\n".join(sec), "readability"
    agreed = [i for i, sh in enumerate(prim_sh) if sh and len(sh & sec_all) >= 0.5 * len(sh)]
    if not trim_edges or len(agreed) < 2:
        return "\n".join(prim), "trafilatura"
    edges = {*range(agreed[0]), *range(agreed[-1] + 1, len(prim))}
    kept = [p for i, p in enumerate(prim) if i not in edges or not _is_headline(p)]
    label = "trafilatura+readability" if len(kept) < len(prim) else "trafilatura"
    return "\n".join(kept), label


_MARKUP_RE = re.compile(r"<[a-zA-Z/][^>]*>")
# Declared bodies often join their paragraphs with nothing between: "projects.The county".
_GLUED_PARAGRAPH_RE = re.compile(
    r"(?<=[a-z0-9][.!?])(?=[A-Z“])|(?<=[a-z0-9][.!?][”\"’)])(?=[A-Z])")
_DECLARED_RATIO = 2  # the visible body is at most half of the declared one
_DECLARED_CONTAINED = 0.6  # share of the visible body's shingles the declared body holds


def declared_body_if_fuller(body: str, declared: str) -> str | None:
    """The page's own JSON-LD `articleBody` when the visible body is only a part of it.

    Paywalled and "read more" pages print a few paragraphs and declare the whole story for
    search engines. Taken only when it has at least twice the text and holds most of what is
    visible. None of the 19 extraction-benchmark pages that declare a body is such a page (the
    declared one is the same story, flattened); 2 of the 200 pages of the dates set are (a
    paywall showing 409 and 478 chars of stories declared at 3,884 and 8,109).
    A page that shows no body at all (rendered by script) gets a declared one of 50 words or
    more. Bodies with markup in them are left alone: text only.
    """
    if len(declared) < _DECLARED_RATIO * len(body) or _MARKUP_RE.search(declared):
        return None
    seen = shingles(body)
    if not seen and len(declared.split()) < 50:
        return None
    if seen and len(seen & shingles(declared)) < _DECLARED_CONTAINED * len(seen):
        return None
    return _GLUED_PARAGRAPH_RE.sub("\n", declared)


def with_live_updates(body: str, updates: Sequence[LiveUpdate]) -> str:
    """A live blog's posts (from its JSON-LD) after the body, when the body lacks most of them.

    Extractors keep the blog's introduction and drop the stream of posts under it, or take
    the posts: the page's own list of updates tells which happened.
    """
    have = shingles(body)
    missing = [u for u in updates
               if (sh := shingles(u.body)) and len(sh & have) < 0.5 * len(sh)]
    if len(missing) < 0.5 * len(updates):
        return body
    posts = (f"{u.headline}\n{u.body}" if u.headline else u.body for u in missing)
    return "\n".join([body, *posts]) if body else "\n".join(posts)

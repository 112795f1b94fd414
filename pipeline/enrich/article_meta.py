"""Small enrichers of the article's own metadata: lead summary, section, authors, reading
time. Pure string work, microseconds each."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

# Split after ., ! or ? (optionally closed by a quote) before a capital or opening quote;
# "Mr." and "U.S." style abbreviations are not sentence ends.
_SENTENCE_RE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]?\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")
_ABBREVIATION_RE = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Sen|Rep|Gov|Gen|Col|Lt|Prof|No|vs|"
                              r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z])\.$")
_SECTION_RE = re.compile(r"^[a-z][a-z-]{1,30}$")
_NOT_SECTIONS = frozenset({"amp", "www", "article", "articles", "story", "stories", "post",
                           "posts", "p", "a", "en", "us", "uk", "index", "html", "content",
                           "id", "s", "item", "items", "view", "read"})
_BY_RE = re.compile(r"^\s*(?:by|von|par|por|di)\s+", re.IGNORECASE)
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\|)\s*", re.IGNORECASE)


def lead_summary(text: str, title: str | None, *, min_chars: int = 150,
                 max_chars: int = 400) -> str | None:
    """The first sentences of the body, at least `min_chars` when the lead allows, never more
    than `max_chars` (a single long first sentence is cut at a word)."""
    title_key = (title or "").casefold().strip()
    sentences: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = " ".join(paragraph.split())
        if not paragraph or paragraph.casefold() == title_key:
            continue
        if not sentences and (len(paragraph) < 40 or paragraph[-1:] not in ".!?\"'\u201d"):
            continue  # chrome and headings before the lead: "Skip to main content"
        for sentence in _sentences(paragraph):
            if sentences and len(" ".join([*sentences, sentence])) > max_chars:
                return " ".join(sentences)
            sentences.append(sentence)
            if len(" ".join(sentences)) >= min_chars:
                return _cut(" ".join(sentences), max_chars)
    return _cut(" ".join(sentences), max_chars) if sentences else None


def _sentences(paragraph: str) -> list[str]:
    pieces = _SENTENCE_RE.split(paragraph)
    out: list[str] = []
    for piece in pieces:
        if out and _ABBREVIATION_RE.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def section_from_url(url: str) -> str | None:
    """The site section a URL's path names: /world/middle-east/slug -> "world"."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    segments = [s for s in parts.path.lower().split("/") if s]
    for segment in segments[:-1]:  # the last segment is the story's slug
        if _SECTION_RE.match(segment) and segment not in _NOT_SECTIONS \
                and segment.count("-") <= 2:
            return segment
    return None


def normalise_authors(authors: tuple[str, ...]) -> tuple[str, ...]:
    """Bylines to names: "By JANE DOE and John Roe" -> ("Jane Doe", "John Roe")."""
    names: dict[str, str] = {}
    for byline in authors:
        for part in _AUTHOR_SPLIT_RE.split(_BY_RE.sub("", byline)):
            name = " ".join(part.split()).strip(" .-")
            if not name or "@" in name or "://" in name or len(name) > 60 or \
                    not any(c.isalpha() for c in name):
                continue
            if name.isupper():
                name = name.title()
            names.setdefault(name.casefold(), name)
    return tuple(names.values())


def reading_time_s(word_count: int, words_per_minute: int = 230) -> int:
    return math.ceil(word_count * 60 / words_per_minute) if word_count else 0

"""Keywords: 5-10 key phrases of an article, by phrase frequency and position.

yake measured ~20 docs/s here, a fifth of the whole enrichment budget, so this is a RAKE-like
scorer instead: candidate phrases are runs of up to three words between stop words and
punctuation, scored by how often they recur, how long they are, and whether the title and lead
use them. One regex pass and a few dicts: ~1 ms per 1,000 words. Stop-word lists are spaCy's
(per language, no model needed), loaded once with the other models.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\S")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
# Words a news story uses whatever it is about: reporting verbs, time words.
EXTRA_STOP_WORDS = frozenset("""
said says say saying told tells according added adds also would could may might must reported
reports reporting including like just year years month months week weeks day days time times
today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday january
february march april june july august september october november december percent per cent
mr mrs ms dr new old many much several including according around among amid want wants went
get gets got make makes made take takes took think thing things lot way ways go going come
came set sets used use uses including told asked asks people group groups part parts
""".split())


@dataclass(frozen=True)
class KeywordOptions:
    max_keywords: int = 10
    min_keywords: int = 5  # filled from single-mention phrases when fewer recur
    max_words: int = 3
    lead_chars: int = 600  # the lead counts extra: reporters put the subject up front


def stop_words_for(language: str) -> frozenset[str] | None:
    """spaCy's stop-word list for an ISO 639-1 code, or None when spaCy has none."""
    from spacy.util import get_lang_class  # deferred with the rest of spaCy

    try:
        words = get_lang_class(language).Defaults.stop_words
    except ImportError:
        return None
    return frozenset(words) if words else None


def keyword_phrases(title: str | None, text: str, stop_words: frozenset[str],
                    opts: KeywordOptions = KeywordOptions()) -> tuple[str, ...]:
    """Key phrases, best first: recurring multi-word phrases, then recurring words."""
    surfaces: dict[str, str] = {}  # folded word -> first spelling seen
    lead = f"{title or ''}\n{text[:opts.lead_chars]}"
    lead_counts = _ngram_counts(_stream(lead, stop_words, surfaces), opts.max_words)
    counts = _ngram_counts(_stream(text[opts.lead_chars:], stop_words, surfaces), opts.max_words)
    boosted = set(lead_counts)
    counts.update(lead_counts)
    # Only recurring phrases and the lead's can win; the rest is never scored.
    own = {p: c for p, c in counts.items() if c > 1 or p in boosted}
    # A word counts on its own only where it is not part of a recurring longer phrase:
    # "South Dakota" x5 leaves "Dakota" nothing of its own.
    for phrase, count in list(own.items()):
        if len(phrase) > 1 and count > 1:
            for part in _parts(phrase):
                own[part] = min(own.get(part, 0), counts[part] - count)
    scored = []
    for phrase, count in own.items():
        if count < 1 or (len(phrase) == 1 and len(phrase[0]) < 3):
            continue
        score = count * len(phrase) * (1.5 if phrase in boosted else 1.0)
        scored.append((score, count, phrase))
    scored.sort(key=lambda s: (-s[0], -len(s[2])))
    chosen: list[tuple[str, ...]] = []
    for pass_min in (2, 1):  # recurring phrases first; one-off lead phrases fill up
        for _score, count, phrase in scored:
            if len(chosen) >= opts.max_keywords or (pass_min == 1 and len(chosen) >=
                                                      opts.min_keywords):
                break
            if count < pass_min or phrase in chosen or (count == 1 and phrase not in boosted):
                continue
            if any(_overlaps(phrase, other) for other in chosen):
                continue
            chosen.append(phrase)
    return tuple(" ".join(surfaces[w] for w in phrase) for phrase in chosen)


def _parts(phrase: tuple[str, ...]) -> list[tuple[str, ...]]:
    n = len(phrase)
    return [phrase[a:b] for a in range(n) for b in range(a + 1, n + 1) if b - a < n]


def _stream(text: str, stop_words: frozenset[str], surfaces: dict[str, str]) -> list[str | None]:
    """Folded content words, with None where a stop word or punctuation breaks a phrase."""
    out: list[str | None] = [None]
    for token in _TOKEN_RE.findall(_URL_RE.sub(" ", text)):
        lower = token.lower()
        if len(token) == 1 or not token[0].isalpha() or lower in stop_words \
                or lower in EXTRA_STOP_WORDS:
            if out[-1] is not None:
                out.append(None)
            continue
        key = _fold(lower)
        surfaces.setdefault(key, token)
        out.append(key)
    return out


def _ngram_counts(stream: list[str | None], max_words: int) -> Counter[tuple[str, ...]]:
    """Counts of the 1..max_words-grams that cross no break; Counter over zip stays in C."""
    counts: Counter[tuple[str, ...]] = Counter()
    for size in range(1, max_words + 1):
        grams = Counter(zip(*(stream[i:] for i in range(size))))
        counts.update({g: c for g, c in grams.items() if None not in g})
    return counts  # None-free by the filter above


def _fold(lower: str) -> str:
    """A plural -s folded: "observation points" counts with "observation point"."""
    if len(lower) > 4 and lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return lower[:-1]
    return lower


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    n = len(short)
    return any(long_[i:i + n] == short for i in range(len(long_) - n + 1))

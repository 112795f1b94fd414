"""What dedup compares (pure): the signed body, its MinHash signature, its story terms.

The body is the article text without its headline and without short lines (menus, "Skip to
main content", donation counters, "source:" trailers): paragraphs of fewer than
`min_paragraph_words` words, and short lines carrying a URL (site banners); a text made of
short lines only is kept whole. Upstream extraction already cleans text
(`connectors/extract/cleaning.py`); this filter is only what dedup needs to stay robust on raw text
(the CLI, the seeds). Tokens are runs of word characters, lower-cased: scripts without spaces
(Chinese, Japanese, Thai) become few, long tokens, so their shingles match poorly.
"""

from __future__ import annotations

import hashlib
import operator
import re
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rensa import RMinHash  # type: ignore[import-untyped]

from pipeline.options import DedupOptions

WORD_RE = re.compile(r"\w+")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
_TERM_RE = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE = ("'s", "’s", "'", "’")
_SENTENCE_END = frozenset(".!?:;\"“”‘'—–-|")
_BANNER_MAX_WORDS = 20

# Capitalised words that name no one: sentence starters, days, months, titles of address.
STOP_TERMS = frozenset("""
a about after again against all also an and another any are as at be because been before
being between both but by can could did do does during each even every few for from further
had has have he her here hers him his how however i if in into is it its just last least
less many may me might more most much must my neither new next no nor not now of off on once
one only or other our out over own per same she should since so some still such than that
the their them then there these they this those though three through to too two under until
up upon very was we were what when where whether which while who whom whose why will with
within without would yet you your monday tuesday wednesday thursday friday saturday sunday
today yesterday tomorrow january february march april may june july august september october
november december mr mrs ms dr sir madam
""".split())


@dataclass(frozen=True)
class TextFeatures:
    words: int  # words in the signed body
    content_hash: str  # of the signed body; compared across URLs only when it is signed
    signature: tuple[int, ...]  # () when too short
    terms: tuple[str, ...]  # story terms of headline + lead, most telling first


def body_paragraphs(text: str, title: str | None, opts: DedupOptions) -> list[str]:
    title_words = _words(title) if title else []
    # Words are counted only as far as any rule below looks: a long paragraph is not split whole.
    enough = max(opts.min_paragraph_words, _BANNER_MAX_WORDS, len(title_words) + 2) + 1
    kept = []
    for line in text.splitlines():
        n = len(line.split(None, enough))  # whitespace words: cheap, close enough for a length cut
        if n < opts.min_paragraph_words:
            continue
        if n <= _BANNER_MAX_WORDS and _URL_RE.search(line):
            continue
        if title_words and abs(n - len(title_words)) <= 2 and _words(line) == title_words:
            continue  # the headline repeated as the first line
        kept.append(line)
    # A text of short lines only (a brief, a live ticker) is all body: keep it, so that its
    # content hash still tells one version from the next.
    return kept or [line for line in text.splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


def shingles(tokens: Sequence[str], size: int) -> list[str]:
    if len(tokens) < size:
        return [" ".join(tokens)] if tokens else []
    return list(map(" ".join, zip(*(tokens[i:] for i in range(size)), strict=False)))


def minhash(tokens: Sequence[str], opts: DedupOptions) -> tuple[int, ...]:
    sketch = RMinHash(num_perm=opts.num_perm, seed=opts.seed)
    sketch.update(shingles(tokens, opts.shingle_size))
    return tuple(sketch.digest())


def signature(text: str, opts: DedupOptions, *, title: str | None = None) -> tuple[int, ...]:
    """MinHash of the word shingles of the signed body; () when it is under `min_words`."""
    tokens = _words("\n".join(body_paragraphs(text, title, opts)))
    return minhash(tokens, opts) if len(tokens) >= opts.min_words else ()


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    if not a or len(a) != len(b):
        return 0.0
    return float(sum(map(operator.eq, a, b))) / len(a)


def band_keys(sig: Sequence[int], opts: DedupOptions) -> list[str]:
    """One LSH key per band: band number and its `rows` values in hex."""
    raw = struct.pack(f"<{len(sig)}I", *sig)
    width = 4 * opts.rows
    return [f"b{band}:{raw[band * width:(band + 1) * width].hex()}" for band in range(opts.bands)]


def story_terms(title: str | None, paragraphs: Sequence[str], opts: DedupOptions) -> tuple[str, ...]:
    """Names in the lead (and headline): capitalised words used as names there.

    A word is a name when it is capitalised, not a stop word, never written in lower case in
    the lead, and capitalised at least once *inside* a sentence ("Hundreds" or "Remember"
    opening a sentence is not a name). Headline words count when the lead also capitalises
    them, or the headline is in sentence case (in Title Case every word is capitalised).
    Ranked: headline names first, then by frequency, then by first appearance.
    """
    lead = " ".join(_first_words(paragraphs, opts.cluster_lead_words))
    found = [(m.group(), m.start()) for m in _TERM_RE.finditer(lead)]
    lowercase = {token for token, _ in found if token.islower()}
    capitalised = [(position, _term(token), _is_sentence_start(lead, start))
                   for position, (token, start) in enumerate(found) if token[0].isupper()]
    inside = {term for _, term, initial in capitalised if not initial}
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for position, term, _ in capitalised:
        if term in inside and _is_name(term, lowercase):
            counts[term] += 1
            first_seen.setdefault(term, position)
    in_title: set[str] = set()
    if title:
        words = _TERM_RE.findall(title)
        title_case = sum(w[0].isupper() for w in words) >= 0.6 * len(words)
        for index, word in enumerate(words):
            term = _term(word)
            if not word[0].isupper() or not _is_name(term, lowercase):
                continue
            if term in counts or (not title_case and index > 0):
                in_title.add(term)
                counts[term] += 1
                first_seen.setdefault(term, -1)
    ranked = sorted(counts, key=lambda t: (t not in in_title, -counts[t], first_seen[t]))
    return tuple(ranked[:opts.cluster_max_terms])


def _first_words(paragraphs: Sequence[str], n: int) -> list[str]:
    words: list[str] = []
    for paragraph in paragraphs:
        words += paragraph.split(None, n - len(words))[:n - len(words)]
        if len(words) >= n:
            break
    return words


def _is_name(term: str, lowercase: set[str]) -> bool:
    return len(term) >= 2 and term not in STOP_TERMS and term not in lowercase


def _is_sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 3):start].rstrip()
    return not before or before[-1] in _SENTENCE_END


def _term(token: str) -> str:
    term = token.lower()
    if term.endswith(_POSSESSIVE):
        for suffix in _POSSESSIVE:
            if term.endswith(suffix):
                term = term[: -len(suffix)]
                break
    return term.strip("'’-")


def text_features(title: str | None, text: str, opts: DedupOptions) -> TextFeatures:
    paragraphs = body_paragraphs(text, title, opts)
    tokens = _words("\n".join(paragraphs))
    terms = story_terms(title, paragraphs, opts)
    digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()[:32]
    signed = minhash(tokens, opts) if len(tokens) >= opts.min_words else ()
    return TextFeatures(len(tokens), digest, signed, terms)

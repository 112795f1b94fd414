"""A synthetic dedup corpus made from the extraction dev split (never committed, read in place).

Originals are the dev-split bodies dressed in their site's chrome, with a headline made from
the URL slug. For each original long enough to sign, variants of the kinds wire copy shows:

    redressed    another site's chrome and a new headline
    headline     only a new headline
    truncated    the first 50-80 % of the words, redressed
    edited10/20  10 % / 20 % of sentences edited (words swapped, sentence dropped or replaced)
    combo        truncated to 60-90 %, 10-20 % edited, redressed

Negatives: the originals themselves (same-site pairs share their site's chrome; several are
same topic), and 150 short briefs (15-42 random words) carrying one shared 18-word boilerplate line.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[\"“‘'(A-Z0-9])")
SLUG_WORD_RE = re.compile(r"[a-z]{2,}")
BASE_TIME = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
KINDS = ("redressed", "headline", "truncated", "edited10", "edited20", "combo")
BOILERPLATE = ("This story was produced with support from the Regional Newsroom Fund and may "
               "be republished with credit.")


@dataclass(frozen=True)
class Doc:
    id: str
    url: str
    title: str
    body: str
    published_at: datetime
    original: str | None = None  # the original's id, for variants
    kind: str = "original"

    def as_json(self) -> str:
        return json.dumps({"id": self.id, "url": self.url, "title": self.title, "body": self.body,
                           "published_at": self.published_at.isoformat()})


def load_pages(path: Path) -> list[tuple[str, str, str]]:
    """(id, url, body) of each dev-split page, in id order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(key, data[key]["url"], data[key]["articleBody"]) for key in sorted(data)]


def slug_title(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    words = SLUG_WORD_RE.findall(path.rsplit("/", 1)[-1].lower())
    if len(words) < 3:
        words = SLUG_WORD_RE.findall(path.lower())[-8:]
    text = " ".join(words) or "untitled"
    return text[0].upper() + text[1:]


def chrome(host: str) -> tuple[list[str], list[str]]:
    """A site's furniture around the article: header lines and footer lines."""
    rng = random.Random(host)
    name = host.removeprefix("www.").split(".")[0].capitalize()
    header = ["Skip to main content", "Menu", "Search",
              (f"- {name} | {rng.choice(['News you can trust', 'Daily news', 'The full story'])}"
              f" - https://{host}/ -"), rng.choice(["Home > World", "Latest", "Top stories"])]
    footer = [f"Sign up for the {name} morning briefing and get the day's top stories in your inbox.",
              "Share this article", f"source: {host}",
              f"© 2026 {name} Media. All rights reserved.",
              f"Support independent journalism: donate to {name} today.",
              "Related", rng.choice(["Markets slide as rates rise", "Storm warning for the coast"])]
    return header, footer


def dress(body: str, title: str, host: str) -> str:
    header, footer = chrome(host)
    return "\n".join([*header, "", title, "", body, "", *footer])


def _sentences(body: str) -> list[list[str]]:
    return [SENTENCE_RE.split(p) for p in body.split("\n") if p.strip()]


def edit(body: str, share: float, rng: random.Random, vocabulary: list[str],
         donors: list[str]) -> str:
    """Edit `share` of the sentences: swap 2-4 words, drop the sentence, or replace it."""
    paras = _sentences(body)
    slots = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
    for i, j in rng.sample(slots, max(1, round(share * len(slots)))):
        op = rng.random()
        if op < 0.5:
            words = paras[i][j].split()
            for k in rng.sample(range(len(words)), min(len(words), rng.randint(2, 4))):
                words[k] = rng.choice(vocabulary)
            paras[i][j] = " ".join(words)
        elif op < 0.75:
            paras[i][j] = ""
        else:
            paras[i][j] = rng.choice(donors)
    return "\n".join(" ".join(s for s in p if s) for p in paras)


def truncate(body: str, keep: float) -> str:
    words = body.split(" ")
    return " ".join(words[:max(1, round(len(words) * keep))])


def new_headline(rng: random.Random, vocabulary: list[str]) -> str:
    words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 10))]
    return " ".join(words).capitalize()


def make_corpus(pages: list[tuple[str, str, str]], *, min_words: int = 50,
                per_kind: int = 4, seed: int = 7) -> tuple[list[Doc], list[Doc], list[Doc]]:
    """(originals, variants, briefs); published dates all fall within one week."""
    rng = random.Random(seed)
    vocabulary = sorted({w for _, _, b in pages for w in b.split() if w.isalpha()})
    donors = [s for _, _, b in pages for p in _sentences(b) for s in p if len(s.split()) > 8]
    hosts = sorted({urlsplit(u).hostname or "x.example" for _, u, _ in pages})
    originals, variants, briefs = [], [], []
    for n, (key, url, body) in enumerate(pages):
        host = urlsplit(url).hostname or "x.example"
        title = slug_title(url)
        when = BASE_TIME + timedelta(hours=2 * (n % 24))  # all within 48 h
        original = Doc(key[:32], url, title, dress(body, title, host), when)
        originals.append(original)
        if len(body.split()) < min_words:
            continue
        for kind in KINDS:
            for k in range(per_kind):
                other = rng.choice([h for h in hosts if h != host])
                headline = title if kind not in ("redressed", "headline", "combo") else \
                    new_headline(rng, vocabulary)
                text = body
                if kind == "truncated":
                    text = truncate(text, rng.uniform(0.5, 0.8))
                elif kind in ("edited10", "edited20"):
                    text = edit(text, 0.1 if kind == "edited10" else 0.2, rng, vocabulary, donors)
                elif kind == "combo":
                    text = edit(truncate(text, rng.uniform(0.6, 0.9)), rng.uniform(0.1, 0.2), rng,
                                vocabulary, donors)
                dressed = dress(text, headline, host if kind == "headline" else other)
                vid = f"{key[:24]}{KINDS.index(kind)}{k:07d}"
                variants.append(Doc(vid, f"https://{other}/wire/{vid}", headline, dressed,
                                    when + timedelta(hours=rng.uniform(0, 30)), key[:32], kind))
    for n in range(150):
        # Words drawn at random: a brief shares the boilerplate line and nothing else (a brief
        # made of an original's sentences would be a true copy of it).
        words = [rng.choice(vocabulary) for _ in range(rng.randint(15, 42))]
        body = " ".join(words) + "\n" + BOILERPLATE
        briefs.append(Doc(f"brief{n:027d}", f"https://briefs.example/{n}", "In brief",
                          body, BASE_TIME + timedelta(hours=n % 48), None, "brief"))
    return originals, variants, briefs

"""Per-domain learned boilerplate (pure): a block that recurs across many pages of one domain
is chrome, whatever its wording ("This story has been updated", a sign-off, a promo line).

`strip_learned_boilerplate` reads a view of what the domain has shown before and returns the
article without blocks seen on more than `min_pages` *other* pages of that domain, plus the
observations to record. A block is never dropped on the first pages of a domain, because
nothing has been seen yet; the adapter (`BlockStore`) persists observations and bounds them.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from pipeline.records import ExtractedArticle, ExtractionOutcome

_NORMALISE_RE = re.compile(r"[\W\d_]+", re.UNICODE)


class BoilerplateOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_pages: int = Field(default=3, ge=1)  # seen on more than this many other pages: chrome
    min_chars: int = Field(default=12, ge=1)  # tiny blocks ("Advertisement") are the cleaner's
    max_blocks_per_domain: int = Field(default=20_000, ge=100)


class BlockMemory(Protocol):
    def pages_with(self, domain: str, fingerprint: str, *, excluding: str) -> int: ...


def fingerprint(block: str) -> str:
    """Case, digits and punctuation are ignored: dates and counters vary in repeated chrome."""
    normal = _NORMALISE_RE.sub(" ", block.lower()).strip()
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest()


def strip_learned_boilerplate(article: ExtractedArticle, memory: BlockMemory,
                              opts: BoilerplateOptions) -> tuple[ExtractedArticle, list[str]]:
    paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
    kept: list[str] = []
    observed: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) < opts.min_chars:
            kept.append(paragraph)
            continue
        fp = fingerprint(paragraph)
        observed.append(fp)
        seen_on = memory.pages_with(article.source_domain, fp, excluding=article.article_id)
        if seen_on <= opts.min_pages:
            kept.append(paragraph)
    if len(kept) == len(paragraphs) or not kept:
        # Nothing learned applies, or everything would go: keep the page as extracted.
        return article, observed
    text = "\n\n".join(kept)
    extraction = ExtractionOutcome(extractor=f"{article.extraction.extractor}+domain-memory",
                                   text_length=len(text), quality=article.extraction.quality)
    return article.model_copy(update={"text": text, "extraction": extraction}), observed


class BlockStore:
    """SQLite-backed BlockMemory (adapter): survives restarts, bounded per domain."""

    def __init__(self, path: Path, opts: BoilerplateOptions) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.options = opts
        self._opts = opts
        # WAL and a busy timeout: pollers on one machine may share the file.
        self._db = sqlite3.connect(path, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blocks (domain TEXT, fp TEXT, article_id TEXT, "
            "seen INTEGER, PRIMARY KEY (domain, fp, article_id))")
        self._db.commit()
        self._tick = 0

    def pages_with(self, domain: str, fingerprint: str, *, excluding: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM blocks WHERE domain = ? AND fp = ? AND article_id != ?",
            (domain, fingerprint, excluding)).fetchone()
        return int(row[0])

    def record(self, domain: str, article_id: str, fingerprints: list[str]) -> None:
        self._tick += 1
        cap = self._opts.min_pages + 1  # past the threshold, more page ids add nothing
        for fp in set(fingerprints):
            count = self.pages_with(domain, fp, excluding=article_id)
            if count < cap:
                self._db.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)",
                                 (domain, fp, article_id, self._tick))
        self._prune(domain)
        self._db.commit()

    def _prune(self, domain: str) -> None:
        (rows,) = self._db.execute("SELECT COUNT(*) FROM blocks WHERE domain = ?",
                                   (domain,)).fetchone()
        excess = int(rows) - self._opts.max_blocks_per_domain
        if excess > 0:  # forget the least recently seen blocks of this domain
            self._db.execute(
                "DELETE FROM blocks WHERE rowid IN (SELECT rowid FROM blocks WHERE domain = ? "
                "ORDER BY seen LIMIT ?)", (domain, excess))

    def close(self) -> None:
        self._db.close()

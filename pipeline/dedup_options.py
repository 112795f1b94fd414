"""Dedup settings: one frozen object, usable as the `Settings.dedup` slice as it is.

Defaults are the measured ones (bench/dedup_bench.py, figures in bench/RESULTS.md (Dedup)).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


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

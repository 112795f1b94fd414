"""Enrichment in worker processes (adapter): the Faust worker's way to use more than one core.

Enrichment is CPU-bound Python (spaCy, regexes); in the worker's event loop it also starves the
dedup agent sharing the process (bench/RESULTS.md). With `enrich.processes` > 0 the enrich agent
hands each record, as bytes, to a pool of that many processes that load the models once and run
the same `enrich_article`; the worker keeps Kafka I/O and dedup. Processes are spawned, not
forked: forking a process that runs Kafka client and RocksDB threads is unsafe.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

from pipeline.enrich.enrichment import EnrichmentModels, enrich_article, load_models
from pipeline.options import EnrichOptions
from pipeline.records import ExtractedArticle

_models: EnrichmentModels | None = None  # per pool process, set once by its initializer


def _load(options: EnrichOptions) -> None:
    global _models  # noqa: PLW0603 - the pool process's one copy of the models
    _models = load_models(options)


def enrich_payload(payload: bytes) -> bytes:
    """In a pool process: ExtractedArticle JSON in, EnrichedArticle JSON out."""
    assert _models is not None, "pool process started without its models"
    article = ExtractedArticle.model_validate_json(payload)
    return enrich_article(article, _models, now=datetime.now(UTC)).model_dump_json().encode()


def start_pool(options: EnrichOptions, processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_load, initargs=(options,))

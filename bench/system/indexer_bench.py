"""The indexer on the real local stack: documents per second and per indexer CPU-second.

    python -m bench.system.indexer_bench [--articles 20000] [--runs 2]

Produces `--articles` enriched articles (~940-word dev-split bodies, as in
bench/system/dedup_agent_bench.py) to a fresh 4-partition enriched topic, starts one `newsflow index`,
and times the first document searchable to the last. It counts with `_count` on the run's own
alias and reads the indexer's CPU (Linux /proc) over the same span. The index is deleted
afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch

from bench.system.dedup_agent_bench import enriched_payloads
from bench.system.stack_runs import cpu_seconds, produce, run_and_report
from bench.system.worker_scaling import run_env
from pipeline.kafka import ensure_topics
from pipeline.records import EnrichedArticle
from pipeline.settings import Settings, load_settings
from pipeline.stack.workers import WorkerGroup


def time_indexing(settings: Settings, n: int, group: WorkerGroup,
                  pid: int) -> tuple[int, float, float]:
    """(documents, seconds, indexer CPU seconds) from the first document counted to the last."""
    es = Elasticsearch(settings.es.url)
    first: tuple[float, float, int] | None = None  # wall, cpu, documents already counted
    try:
        while True:
            group.check_alive()
            if es.indices.exists_alias(name=settings.es.index_alias):
                count = int(es.count(index=settings.es.index_alias)["count"])
                if count and first is None:
                    first = time.monotonic(), cpu_seconds(pid), count
                if count >= n:
                    assert first is not None
                    wall, cpu, counted = first
                    return count - counted, time.monotonic() - wall, cpu_seconds(pid) - cpu
            time.sleep(0.2)  # ES refreshes every second; a count is the only signal it gives
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{settings.es.index_alias}-*")
        es.options(ignore_status=404).indices.delete_index_template(name=settings.es.template_name)
        es.close()


def run(n_articles: int, tmp: Path) -> tuple[int, float, float]:
    run_id = f"ixbench{uuid.uuid4().hex[:8]}"
    env = run_env(run_id, {"es.index_alias": run_id, "indexer.group_id": f"{run_id}-indexer"})
    os.environ.update(env)
    settings = load_settings()
    asyncio.run(ensure_topics(settings.kafka, settings.topics))
    records = [(EnrichedArticle.model_validate_json(value).article_id.encode(), value)
               for value in enriched_payloads(n_articles)]
    asyncio.run(produce(settings, settings.topics.enriched, records))
    group = WorkerGroup(env=env, log_dir=tmp / run_id)
    indexer = group.start("indexer", "index")
    try:
        return time_indexing(settings, n_articles, group, indexer.popen.pid)
    finally:
        group.stop_all()


def main() -> None:
    run_and_report(__doc__, "documents", articles=20_000, runs=2,
                   tmp=Path("/tmp/newsflow-indexer-bench"), run=run)


if __name__ == "__main__":
    main()

"""End-to-end worker throughput on the real local stack: 1 vs 2 Faust worker processes.

    python -m bench.system.worker_scaling [--articles 600] [--workers 1 2]

Produces `--articles` extracted articles (dev-split bodies, ~1,000 words, unique URLs) to a
fresh articles topic, starts N `newsflow worker` processes (enrich + dedup), and times how long
until every article is on the enriched topic. Answers issue 5's question "a process pool or
several Faust workers?" for this 2-core box: `--workers 1 2` for the second, `--processes N`
(`enrich.processes`) for the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from bench.system.stack_runs import produce
from pipeline.identity import article_id_for, canonical_url
from pipeline.kafka import ensure_topics
from pipeline.records import ExtractedArticle, ExtractionOutcome
from pipeline.settings import PROJECT_ROOT, Settings, load_settings
from pipeline.stack.workers import WorkerGroup, settings_env

SHARED = PROJECT_ROOT.parent / "shared"


def run_env(run_id: str, extra: dict[str, object]) -> dict[str, str]:
    """Settings (as env) for one bench run: its own topics and Faust app, quiet logs."""
    return settings_env({
        "topics.articles": f"{run_id}.articles", "topics.enriched": f"{run_id}.enriched",
        "topics.dead_letter": f"{run_id}.dl", "topics.dedup": f"{run_id}.dedup",
        "topics.unique": f"{run_id}.unique", "topics.partitions": 4,
        "worker.app_id": f"{run_id}-worker", "log_level": "warning", **extra})


def articles(n: int) -> list[ExtractedArticle]:
    truth = json.loads((SHARED / "bench" / "extraction" / "ground-truth.json").read_text())
    bodies = [v["articleBody"] for v in truth.values() if len(v["articleBody"].split()) > 300]
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        url = canonical_url(f"https://bench.example/{uuid.uuid4().hex}")
        # rotate paragraphs so copies of one body are distinct articles, not near-duplicates
        paras = bodies[i % len(bodies)].split("\n")
        k = (i // len(bodies)) % max(1, len(paras))
        text = "\n\n".join(paras[k:] + paras[:k]) + f"\n\nRun {i}."
        out.append(ExtractedArticle(
            article_id=article_id_for(url), url=url, final_url=url, source_domain="bench.example",
            title=f"Benchmark article {i}", text=text, http_status=200, byte_size=len(text),
            fetched_at=now, extraction=ExtractionOutcome(extractor="bench",
                                                         text_length=len(text), quality="ok")))
    return out


async def wait_enriched(settings: Settings, n: int, group: WorkerGroup) -> float:
    consumer = AIOKafkaConsumer(settings.topics.enriched,
                                bootstrap_servers=settings.kafka.bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen: set[bytes] = set()
    first: float | None = None
    try:
        while len(seen) < n:
            group.check_alive()
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for r in records:
                    first = first or time.monotonic()
                    seen.add(r.key or b"")
        return time.monotonic() - (first or time.monotonic())
    finally:
        await consumer.stop()


def run(n_articles: int, n_workers: int, tmp: Path, processes: int) -> tuple[float, float]:
    run_id = f"bench{uuid.uuid4().hex[:8]}"
    env = run_env(run_id, {"enrich.processes": processes})
    os.environ.update(env)
    settings = load_settings()
    asyncio.run(ensure_topics(settings.kafka, settings.topics))
    items = articles(n_articles)
    asyncio.run(produce(settings, settings.topics.articles,
                        [(a.article_id.encode(), a.model_dump_json().encode()) for a in items]))
    group = WorkerGroup(env=env, log_dir=tmp / run_id)
    started = time.monotonic()
    for w in range(n_workers):
        group.env = {**env, "NEWSFLOW_WORKER__DATA_DIR": str(tmp / run_id / f"faust{w}"),
                     "NEWSFLOW_WORKER__WEB_PORT": str(26100 + w)}
        group.start(f"worker{w}", "worker")
    try:
        steady = asyncio.run(wait_enriched(settings, n_articles, group))
    finally:
        group.stop_all()
    return time.monotonic() - started, steady


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--processes", type=int, default=0, help="enrich.processes (pool size)")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/newsflow-worker-bench"))
    args = ap.parse_args()
    print(f"{'workers':>8} {'pool':>5} {'articles':>9} {'total s':>8} {'first->last s':>14} "
          f"{'articles/s':>11}")
    for n in args.workers:
        total, steady = run(args.articles, n, args.tmp, args.processes)
        print(f"{n:>8} {args.processes:>5} {args.articles:>9} {total:>8.1f} {steady:>14.1f} "
              f"{args.articles / steady:>11.1f}", flush=True)


if __name__ == "__main__":
    main()

"""The running dedup agent on the real local stack: verdicts per second and per worker CPU-second.

    python -m bench.system.dedup_agent_bench [--articles 10000] [--runs 3]

Produces `--articles` enriched articles (dev-split bodies, ~940 words, unique URLs: the same
records as bench/system/worker_scaling.py, already enriched) straight to a fresh dedup topic, starts one
`newsflow worker`, and times the first to the last record on the enriched topic. It also reads
the worker's CPU time (Linux /proc) at those two moments, so the per-core figure does not depend
on what else the machine runs. Everything a verdict costs in the agent is in it: the Kafka
consume, the decode, signing, lookups, the state write (local index and the Faust table with its
changelog), the encode and the two sends (enriched and unique).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from bench.system.stack_runs import cpu_seconds, produce, run_and_report
from bench.system.worker_scaling import articles, run_env
from pipeline.dedup.verdict import DEDUP_PARTITION_KEY
from pipeline.kafka import ensure_topics
from pipeline.records import EnrichedArticle
from pipeline.settings import Settings, load_settings
from pipeline.stack.workers import WorkerGroup


def enriched_payloads(n: int) -> list[bytes]:
    now = datetime.now(UTC)
    return [EnrichedArticle(**a.model_dump(), language="en", language_confidence=0.99,
                            word_count=len(a.text.split()), enriched_at=now
                            ).model_dump_json().encode() for a in articles(n)]


async def time_verdicts(settings: Settings, n: int, group: WorkerGroup,
                        pid: int) -> tuple[int, float, float]:
    """(verdicts, seconds, worker CPU seconds) from the first verdict read to the last."""
    consumer = AIOKafkaConsumer(settings.topics.enriched,
                                bootstrap_servers=settings.kafka.bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen = 0
    first: tuple[float, float, int] | None = None  # wall, cpu, verdicts already seen
    try:
        while seen < n:
            group.check_alive()
            batch = await consumer.getmany(timeout_ms=1000)
            if first is None and batch:
                # the clock starts after this first batch: the worker's start-up is not timed
                first = time.monotonic(), cpu_seconds(pid), sum(map(len, batch.values()))
            seen += sum(map(len, batch.values()))
        assert first is not None
        return seen - first[2], time.monotonic() - first[0], cpu_seconds(pid) - first[1]
    finally:
        await consumer.stop()


def run(n_articles: int, tmp: Path) -> tuple[int, float, float]:
    run_id = f"ddbench{uuid.uuid4().hex[:8]}"
    env = run_env(run_id, {"worker.data_dir": str(tmp / run_id / "faust"),
                           "worker.web_port": 26150})
    os.environ.update(env)
    settings = load_settings()
    asyncio.run(ensure_topics(settings.kafka, settings.topics))
    records = [(DEDUP_PARTITION_KEY, value) for value in enriched_payloads(n_articles)]
    asyncio.run(produce(settings, settings.topics.dedup, records))
    group = WorkerGroup(env=env, log_dir=tmp / run_id)
    worker = group.start("worker", "worker")
    try:
        return asyncio.run(time_verdicts(settings, n_articles, group, worker.popen.pid))
    finally:
        group.stop_all()


def main() -> None:
    run_and_report(__doc__, "verdicts", articles=10_000, runs=3,
                   tmp=Path("/tmp/newsflow-dedup-agent-bench"), run=run)


if __name__ == "__main__":
    main()

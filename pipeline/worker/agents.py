"""Faust agents: one thin loop per stage around a pure core function.

    articles --enrich_articles--> dedup (1 partition) --dedup_articles--> enriched (+ unique)

Everything one event causes happens inside the loop's `try`: a record that can't be processed is
dead-lettered with its reason and the loop goes on (an agent that raises is crashed by Faust,
its event acked, and its partition silently stops). Events are acked only once what they
produced is on the broker (pipeline/worker/outputs.py), so a worker killed at any moment is
replayed from its last commit and loses nothing; the dedup verdict of a replayed record is the
one it first got (pipeline/dedup/verdict.py, `source`).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path

import structlog
from faust.types import EventT, StreamT

from pipeline import telemetry
from pipeline.dedup.state import EncodedStateView
from pipeline.dedup.verdict import (
    DEDUP_PARTITION_KEY,
    dedup_input,
    dedup_verdict,
    is_first_copy,
    with_verdict,
)
from pipeline.enrich.enrichment import EnrichmentModels, enrich_article, load_models
from pipeline.errors import RejectedRecord
from pipeline.options import DedupOptions, EnrichOptions
from pipeline.records import DeadLetter, DedupVerdict, EnrichedArticle, ExtractedArticle, decode
from pipeline.worker.app import PipelineApp
from pipeline.worker.dedup_store import UpdateLogStore
from pipeline.worker.enrich_pool import enrich_payload, start_pool
from pipeline.worker.outputs import Outputs

logger = structlog.get_logger("newsflow.worker")
EXPIRY_CHUNK = 256  # expired dedup keys deleted per event: expiry keeps pace, never stalls
PAYLOAD_CHARS = 512 * 1024  # of a dead letter's original record: the letter must fit the broker
STORE_BACKOFF_S = (1.0, 30.0)  # the dedup store failing (a full disk): first wait, longest
AgentFun = Callable[[StreamT[bytes]], Awaitable[None]]


def dead_letter(event: EventT[bytes], stage: str, err: Exception) -> DeadLetter:
    """The event as a dead letter: RejectedRecord with its reason, anything else as a bug."""
    message = event.message
    if isinstance(err, RejectedRecord):
        reason, detail = err.reason, str(err)
        logger.warning("article_dead_lettered", stage=stage, reason=reason, error=detail)
    else:
        reason, detail = f"bug:{type(err).__name__}", "".join(
            traceback.format_exception(err, limit=5))
        logger.error("article_dead_lettered", stage=stage, reason=reason, error=detail)
    value = event.value if isinstance(event.value, bytes) else str(event.value).encode()
    payload = value.decode("utf-8", "replace")
    key = message.key.decode("utf-8", "replace") if isinstance(message.key, bytes) else None
    telemetry.count(stage, reason)
    return DeadLetter(stage=stage, reason=reason, error=detail, source_topic=message.topic,
                      partition=message.partition, offset=message.offset, key=key,
                      payload=payload[:PAYLOAD_CHARS], payload_truncated=len(payload) > PAYLOAD_CHARS,
                      failed_at=datetime.now(UTC))


async def _park(pipeline: PipelineApp, outputs: Outputs, event: EventT[bytes], stage: str,
                err: Exception) -> None:
    """Dead-letter the event; it is acked once the letter is on the broker."""
    try:
        letter = dead_letter(event, stage, err).model_dump_json().encode()
        await outputs.send(event, [(pipeline.dead_letter, event.message.key, letter)])
    except Exception:  # noqa: BLE001 - the event stays unacked: redelivered after a restart
        logger.exception("dead_letter_failed", stage=stage, offset=event.message.offset)


def is_storage_error(err: Exception) -> bool:
    """A failing disk under the dedup store (RocksDB reports I/O errors as plain exceptions)."""
    text = str(err)
    return isinstance(err, OSError) or "IO error" in text or "No space" in text


def enrich_agent(pipeline: PipelineApp, outputs: Outputs, models: EnrichmentModels | None,
                 pool: Executor | None) -> AgentFun:
    """articles -> dedup topic: enrich in this process (`models`) or in `pool`'s processes."""

    async def enrich_articles(stream: StreamT[bytes]) -> None:
        loop = asyncio.get_running_loop()
        async for event in stream.noack().events():  # type: ignore[attr-defined]
            msg = event.message
            try:
                if pool is None:
                    assert models is not None
                    article = decode(ExtractedArticle, event.value, topic=msg.topic,
                                     partition=msg.partition, offset=msg.offset)
                    payload = enrich_article(article, models, now=datetime.now(UTC)
                                             ).model_dump_json().encode()
                else:
                    payload = await loop.run_in_executor(pool, enrich_payload, event.value)
                await outputs.send(event, [(pipeline.dedup, DEDUP_PARTITION_KEY, payload)])
            except Exception as err:  # noqa: BLE001 - parked with its reason, never dropped
                await _park(pipeline, outputs, event, "enrich", err)
                continue
            telemetry.count("enrich", "ok")

    return enrich_articles


def dedup_agent(pipeline: PipelineApp, outputs: Outputs, store: UpdateLogStore,
                opts: DedupOptions) -> AgentFun:
    """dedup topic -> enriched (+ unique): one verdict per article against the store."""
    state = EncodedStateView(store)

    async def judge(article: EnrichedArticle, source: str) -> DedupVerdict:
        """The verdict, its state written; a store that fails (a full disk) is waited for."""
        backoff = STORE_BACKOFF_S[0]
        while True:
            now = datetime.now(UTC)
            try:
                verdict, update = dedup_verdict(dedup_input(article), state, opts, now=now,
                                                source=source)
                store.apply(update)
                store.expire(now.timestamp(), limit=EXPIRY_CHUNK)
                return verdict
            except Exception as err:
                if not is_storage_error(err):
                    raise
                telemetry.count("dedup", "store-unavailable")
                logger.warning("dedup_store_unavailable", error=str(err), backoff_s=backoff)
                await asyncio.sleep(backoff)  # a disk to free: no condition to await
                backoff = min(backoff * 2, STORE_BACKOFF_S[1])

    async def dedup_articles(stream: StreamT[bytes]) -> None:
        async for event in stream.noack().events():  # type: ignore[attr-defined]
            msg = event.message
            try:
                article = decode(EnrichedArticle, event.value, topic=msg.topic,
                                 partition=msg.partition, offset=msg.offset)
                verdict = await judge(article, f"{msg.topic}:{msg.partition}:{msg.offset}")
                final = with_verdict(article, verdict)
                key, payload = final.article_id.encode(), final.model_dump_json().encode()
                targets = [pipeline.enriched, pipeline.unique] if is_first_copy(verdict) \
                    else [pipeline.enriched]
                await outputs.send(event, [(topic, key, payload) for topic in targets])
            except Exception as err:  # noqa: BLE001 - parked with its reason, never dropped
                await _park(pipeline, outputs, event, "dedup", err)
                continue
            telemetry.count("dedup", verdict.dup_kind)
            logger.info("article_deduplicated", article_id=final.article_id,
                        dup_kind=verdict.dup_kind, duplicate_of=verdict.duplicate_of,
                        version=verdict.version, cluster_id=verdict.cluster_id)

    return dedup_articles


def register_agents(pipeline: PipelineApp, enrich_opts: EnrichOptions,
                    dedup_opts: DedupOptions, data_dir: Path) -> None:
    # Models load once per process, before any event: here, or in each pool process.
    pool = start_pool(enrich_opts, enrich_opts.processes) if enrich_opts.processes else None
    models = None if pool else load_models(enrich_opts)
    store = UpdateLogStore(pipeline.dedup_log, data_dir / "dedup-index",
                           bucket_hours=dedup_opts.bucket_hours,
                           expiry_hours=dedup_opts.expiry_hours)

    # mode types receivers with mypy_extensions argument kinds that no plain `def` matches.
    @pipeline.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_dedup_index(app: object, *args: object, **kwargs: object) -> None:
        # Another worker may own the log next; at the next event the index is rebuilt from it.
        store.close()

    # With a pool, one agent instance per pool process keeps every process busy; enrichment
    # is stateless, so the order across instances does not matter.
    outputs = Outputs()
    pipeline.app.agent(pipeline.articles, name="enrich_articles",
                       concurrency=max(1, enrich_opts.processes))(
        enrich_agent(pipeline, outputs, models, pool))
    # concurrency=1: the agent reads and writes its tables; more would race on them.
    pipeline.app.agent(pipeline.dedup, name="dedup_articles", concurrency=1)(
        dedup_agent(pipeline, outputs, store, dedup_opts))

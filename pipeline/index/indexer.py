"""The indexer (adapter): enriched topic -> Elasticsearch bulk, offsets committed after ES acks.

Records are batched (up to `indexer.batch_size`, at most `indexer.flush_interval_s` after the
first: fewer, larger bulks cost ES far less per document) and each bulk item is classified:
2xx indexed, 409 an older version (counted, not an error), another 4xx a dead letter with ES's
reason, 429/5xx retried. Elasticsearch that is slow, stalled, restarting or full (timeouts,
connection errors, request-level 429 and 5xx) never stops the indexer: the batch is retried
with capped backoff while its partitions wait; a request too large for ES (413) is split in
halves. Offsets are committed only once every record of the batch has a final disposition, so
a crash re-delivers rather than loses; since `_id = article_id`, re-delivery overwrites instead
of duplicating. Each document gets `indexed_at` and its stage latencies (`latency_ms`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import CommitFailedError, KafkaError
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, ConnectionTimeout
from elasticsearch import ConnectionError as ESConnectionError

from pipeline import telemetry
from pipeline.errors import BadRecord, SinkUnavailable
from pipeline.index.documents import (
    ClusterFeatures,
    es_action,
    ilm_policy,
    index_template,
    is_indexed,
)
from pipeline.index.search import es_unreachable
from pipeline.kafka import LagProbe, RecordSink, start_client
from pipeline.records import DeadLetter, EnrichedArticle, decode
from pipeline.settings import ElasticsearchSettings, Settings

logger = structlog.get_logger("newsflow.indexer")
STAGE = "index"
BACKOFF_S = (0.5, 30.0)  # waiting for Elasticsearch or Kafka: first, most
PAYLOAD_CHARS = 512 * 1024  # of a dead letter's original record: the letter must fit the broker
TRANSIENT_ES = (ESConnectionError, ConnectionTimeout)


def make_es(es: ElasticsearchSettings) -> AsyncElasticsearch:
    return AsyncElasticsearch(es.url, request_timeout=es.request_timeout_s)


async def detect_features(client: AsyncElasticsearch) -> ClusterFeatures:
    """Ask the cluster what it has instead of assuming a full distribution."""
    # A missing module answers 400 (unknown analyzer) or 404/405 (no such endpoint).
    try:
        await client.indices.analyze(analyzer="english", text="probe")
        english = True
    except ApiError as err:
        if err.meta.status >= 500:
            raise
        english = False
    try:
        await client.ilm.get_status()
        ilm = True
    except ApiError as err:
        if err.meta.status >= 500:
            raise
        ilm = False
    return ClusterFeatures(english_analyzer=english, ilm=ilm)


async def install_index(client: AsyncElasticsearch, es: ElasticsearchSettings) -> ClusterFeatures:
    """Template (+ ILM policy where available), then the first index behind the write alias.

    ES down, stalled, starting (503) or overloaded (429) raises SinkUnavailable: the caller
    waits for it (pipeline/service.py `when_up`)."""
    try:
        return await _install_index(client, es)
    except TRANSIENT_ES as err:
        raise es_unreachable(es) from err
    except ApiError as err:
        if err.meta.status not in (408, 429) and err.meta.status < 500:  # 408: not yellow yet
            raise
        raise es_unreachable(es) from err


async def _install_index(client: AsyncElasticsearch,
                         es: ElasticsearchSettings) -> ClusterFeatures:
    features = await detect_features(client)
    if features.ilm:
        await client.ilm.put_lifecycle(name=es.index_alias, body=ilm_policy())
    await client.indices.put_index_template(name=es.template_name,
                                            body=index_template(es, features))
    if not await client.indices.exists_alias(name=es.index_alias):
        try:
            await client.indices.create(index=es.first_index,
                                        aliases={es.index_alias: {"is_write_index": True}})
        except BadRequestError as err:
            if err.error != "resource_already_exists_exception":
                raise
    # A new index answers 503 until its primary shard is assigned: be ready before indexing.
    await client.cluster.health(index=es.index_alias, wait_for_status="yellow", timeout="60s")
    logger.info("index_ready", alias=es.index_alias, english_analyzer=features.english_analyzer,
                ilm=features.ilm)
    return features


@dataclass
class BatchOutcome:
    indexed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


class Abandoned(Exception):
    """Stop was asked while Elasticsearch or Kafka was being waited for: the batch in hand is
    left uncommitted (redelivered to whoever consumes next)."""


class RequestTooLarge(Exception):
    """ES refused a bulk request as too large (413)."""


Pending = dict[str, tuple[ConsumerRecord[bytes, bytes], dict[str, object]]]


def _letter(record: ConsumerRecord[bytes, bytes], reason: str, error: str) -> DeadLetter:
    payload = (record.value or b"").decode("utf-8", "replace")
    return DeadLetter(stage=STAGE, reason=reason, error=error, source_topic=record.topic,
                      partition=record.partition, offset=record.offset,
                      key=record.key.decode("utf-8", "replace") if record.key else None,
                      payload=payload[:PAYLOAD_CHARS],
                      payload_truncated=len(payload) > PAYLOAD_CHARS, failed_at=datetime.now(UTC))


class Indexer:
    def __init__(self, settings: Settings, consumer: AIOKafkaConsumer,
                 client: AsyncElasticsearch, sink: RecordSink) -> None:
        self._es = settings.es
        self._opts = settings.indexer
        self._consumer = consumer
        self._client = client
        self._sink = sink
        self._dead_letter_topic = settings.topics.dead_letter
        self._lag = LagProbe(settings.kafka, settings.indexer.group_id, [settings.topics.enriched])
        self._stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`; the batch in hand is finished and committed before leaving,
        or, if ES or Kafka is being waited for, abandoned uncommitted."""
        self._stop = stop
        lag = asyncio.create_task(self._lag.run(stop), name="consumer lag")
        try:
            while not stop.is_set():
                records = await self._next_batch()
                if not records:
                    continue
                telemetry.INDEXER_BATCH.set(len(records))
                try:
                    outcome = await self.index_batch(records)
                    await self._commit()
                except Abandoned:
                    logger.info("batch_abandoned", records=len(records))
                    return
                logger.info("batch_indexed", records=len(records), indexed=outcome.indexed,
                            duplicates=outcome.duplicates, dead_lettered=outcome.dead_lettered)
        finally:
            stop.set()
            await lag

    async def _next_batch(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Up to batch_size records: whatever is there, then what arrives within the flush
        interval after the first."""
        size, linger = self._opts.batch_size, self._opts.flush_interval_s
        batches = await self._consumer.getmany(timeout_ms=int(linger * 1000), max_records=size)
        records = [r for part in batches.values() for r in part]
        deadline = time.monotonic() + linger
        while records and len(records) < size and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = await self._consumer.getmany(timeout_ms=int(left * 1000),
                                                max_records=size - len(records))
            records += [r for part in more.values() for r in part]
        return records

    async def index_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> BatchOutcome:
        outcome = BatchOutcome()
        pending: Pending = {}
        now = datetime.now(UTC)
        for record in records:
            try:
                article = decode(EnrichedArticle, record.value or b"", topic=record.topic,
                                 partition=record.partition, offset=record.offset)
            except BadRecord as err:
                await self._dead_letter(_letter(record, err.reason, str(err)))
                outcome.dead_lettered += 1
                telemetry.count(STAGE, err.reason)
                continue
            if not is_indexed(article):
                outcome.duplicates += 1
                telemetry.count(STAGE, "same-url")
                continue
            # Later records of the same article win, as they would in Kafka order.
            pending[article.article_id] = (record, es_action(article, self._es.index_alias,
                                                             indexed_at=now))
        await self._index_all(pending, outcome)
        return outcome

    async def _index_all(self, pending: Pending, outcome: BatchOutcome) -> None:
        backoff = BACKOFF_S[0]
        while pending:
            try:
                results = await self._bulk([action for _, action in pending.values()])
            except RequestTooLarge:
                await self._split(pending, outcome)
                return
            retry: Pending = {}
            for doc_id, status, error in results:
                record, action = pending[doc_id]
                if status < 300:
                    outcome.indexed += 1
                    telemetry.count(STAGE, "ok")
                elif status == 409:
                    outcome.duplicates += 1
                    telemetry.count(STAGE, "duplicate")
                elif status == 429 or status >= 500:
                    retry[doc_id] = (record, action)
                else:
                    await self._dead_letter(
                        _letter(record, f"es-{status}", error or "rejected by Elasticsearch"))
                    outcome.dead_lettered += 1
                    telemetry.count(STAGE, f"es-{status}")
            pending = retry
            if pending:
                logger.warning("bulk_retry", items=len(pending), backoff_s=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, BACKOFF_S[1])

    async def _split(self, pending: Pending, outcome: BatchOutcome) -> None:
        """A bulk ES refused as too large: halves, down to the one document that is."""
        if len(pending) == 1:
            ((record, _),) = pending.values()
            await self._dead_letter(_letter(record, "es-413", "document too large for "
                                                              "Elasticsearch (413)"))
            outcome.dead_lettered += 1
            telemetry.count(STAGE, "es-413")
            return
        items = list(pending.items())
        logger.warning("bulk_split", items=len(items))
        await self._index_all(dict(items[:len(items) // 2]), outcome)
        await self._index_all(dict(items[len(items) // 2:]), outcome)

    async def _bulk(self, actions: list[dict[str, object]]) -> list[tuple[str, int, str | None]]:
        operations: list[Mapping[str, object]] = []
        for action in actions:
            operations.append({"index": {"_index": action["_index"], "_id": action["_id"],
                                         "version": action["_version"],
                                         "version_type": action["_version_type"]}})
            operations.append(cast(Mapping[str, object], action["_source"]))
        backoff = BACKOFF_S[0]
        while True:
            try:
                with telemetry.BULK_SECONDS.time():
                    response = await self._client.bulk(operations=operations)
                break
            except TRANSIENT_ES as err:
                # ES down, stalled or restarting: keep the batch and the offsets, wait for it.
                problem = f"{type(err).__name__}: {err}"
            except ApiError as err:
                status = err.meta.status
                if status == 413:
                    raise RequestTooLarge from err
                if status != 429 and status < 500:
                    raise  # our request is malformed: a bug that retrying would not mend
                problem = f"HTTP {status}: {err.message}"
            telemetry.count(STAGE, "es-unavailable")
            logger.warning("es_unavailable", error=problem, backoff_s=backoff)
            await self._pause(backoff)
            backoff = min(backoff * 2, BACKOFF_S[1])
        results = []
        for item in response["items"]:
            info = item["index"]
            error = info.get("error")
            results.append((info["_id"], int(info["status"]),
                            str(error.get("reason")) if isinstance(error, dict) else None))
        return results

    async def _commit(self) -> None:
        try:
            await self._patiently("commit_retry", KafkaError, self._consumer.commit)
        except CommitFailedError as err:  # the group moved the partitions on: redelivered
            logger.warning("commit_failed", error=str(err))

    async def _dead_letter(self, letter: DeadLetter) -> None:
        value = letter.model_dump_json().encode()
        await self._patiently("dead_letter_retry", SinkUnavailable,
                              lambda: self._sink.send(self._dead_letter_topic, letter.key, value))

    async def _patiently(self, event: str, transient: type[Exception],
                         attempt: Callable[[], Awaitable[object]]) -> None:
        """`attempt()` until it succeeds, waiting out `transient` failures with capped backoff."""
        backoff = BACKOFF_S[0]
        while True:
            try:
                await attempt()
                return
            except CommitFailedError:
                raise  # not transient, though a KafkaError: the caller decides
            except transient as err:
                logger.warning(event, error=str(err), backoff_s=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, BACKOFF_S[1])

    async def _pause(self, seconds: float) -> None:
        """Wait before trying again; Abandoned if stop is asked meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        if self._stop.is_set():
            raise Abandoned


async def start_consumer(settings: Settings) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        settings.topics.enriched,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        group_id=settings.indexer.group_id,
        client_id=f"{settings.kafka.client_id}-indexer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await start_client(consumer, settings.kafka)
    return consumer

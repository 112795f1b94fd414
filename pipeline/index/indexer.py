"""The indexer (adapter): enriched topic -> Elasticsearch bulk, offsets committed after ES acks.

Each bulk item is classified: 2xx indexed, 409 a duplicate (counted, not an error), 400 a
dead letter, 429/5xx transient (the batch is retried with capped backoff, blocking the
partition: the backpressure we want when ES struggles). Offsets are committed only once every
record of the batch has a final disposition, so a crash re-delivers rather than loses; since
`_id = article_id`, re-delivery overwrites instead of duplicating.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError
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
from pipeline.kafka import RecordSink, start_client
from pipeline.records import DeadLetter, EnrichedArticle, decode
from pipeline.settings import ElasticsearchSettings, Settings

logger = structlog.get_logger("newsflow.indexer")
STAGE = "index"
MAX_BACKOFF_S = 30.0


def es_unreachable(es: ElasticsearchSettings) -> SinkUnavailable:
    return SinkUnavailable(
        f"Elasticsearch is not reachable at {es.url}. Start the local stack with "
        "`newsflow stack up`, or point NEWSFLOW_ES__URL at your cluster.",
        target=es.url, reason="es-unreachable")


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
    """Template (+ ILM policy where available), then the first index behind the write alias."""
    try:
        features = await detect_features(client)
    except ESConnectionError as err:
        raise es_unreachable(es) from err
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


def _letter(record: ConsumerRecord[bytes, bytes], reason: str, error: str) -> DeadLetter:
    return DeadLetter(stage=STAGE, reason=reason, error=error, source_topic=record.topic,
                      partition=record.partition, offset=record.offset,
                      key=record.key.decode("utf-8", "replace") if record.key else None,
                      payload=(record.value or b"").decode("utf-8", "replace"),
                      failed_at=datetime.now(UTC))


class Indexer:
    def __init__(self, settings: Settings, consumer: AIOKafkaConsumer,
                 client: AsyncElasticsearch, sink: RecordSink) -> None:
        self._es = settings.es
        self._opts = settings.indexer
        self._consumer = consumer
        self._client = client
        self._sink = sink
        self._dead_letter_topic = settings.topics.dead_letter

    async def index_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> BatchOutcome:
        outcome = BatchOutcome()
        pending: dict[str, tuple[ConsumerRecord[bytes, bytes], dict[str, object]]] = {}
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
            pending[article.article_id] = (record, es_action(article, self._es.index_alias))
        backoff = 0.5
        while pending:
            results = await self._bulk([action for _, action in pending.values()])
            retry: dict[str, tuple[ConsumerRecord[bytes, bytes], dict[str, object]]] = {}
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
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return outcome

    async def _dead_letter(self, letter: DeadLetter) -> None:
        await self._sink.send(self._dead_letter_topic, letter.key,
                              letter.model_dump_json().encode())

    async def _bulk(self, actions: list[dict[str, object]]) -> list[tuple[str, int, str | None]]:
        operations: list[Mapping[str, object]] = []
        for action in actions:
            operations.append({"index": {"_index": action["_index"], "_id": action["_id"],
                                         "version": action["_version"],
                                         "version_type": action["_version_type"]}})
            operations.append(cast(Mapping[str, object], action["_source"]))
        backoff = 0.5
        while True:
            try:
                with telemetry.BULK_SECONDS.time():
                    response = await self._client.bulk(operations=operations)
                break
            except ESConnectionError as err:
                # ES down: keep the batch, keep the offsets, wait for it to come back.
                logger.warning("es_unavailable", error=str(err), backoff_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        results = []
        for item in response["items"]:
            info = item["index"]
            error = info.get("error")
            results.append((info["_id"], int(info["status"]),
                            str(error.get("reason")) if isinstance(error, dict) else None))
        return results

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`; the batch in hand is finished and committed before leaving."""
        while not stop.is_set():
            batches = await self._consumer.getmany(
                timeout_ms=int(self._opts.flush_interval_s * 1000),
                max_records=self._opts.batch_size)
            records = [r for partition in batches.values() for r in partition]
            if not records:
                continue
            telemetry.INDEXER_BATCH.set(len(records))
            outcome = await self.index_batch(records)
            await self._consumer.commit()
            logger.info("batch_indexed", records=len(records), indexed=outcome.indexed,
                        duplicates=outcome.duplicates, dead_lettered=outcome.dead_lettered)


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

"""Kafka plumbing shared by the workers (adapter): topic creation, the producer, the one sink."""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
)

from pipeline.errors import RejectedRecord, SinkUnavailable
from pipeline.settings import KafkaSettings, TopicSettings

logger = structlog.get_logger("newsflow.kafka")


def unreachable(kafka: KafkaSettings) -> SinkUnavailable:
    return SinkUnavailable(
        f"Kafka is not reachable at {kafka.bootstrap_servers}. Start the local stack with "
        "`newsflow stack up`, or point NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS at your cluster.",
        target=kafka.bootstrap_servers, reason="kafka-unreachable",
    )


async def ensure_topics(kafka: KafkaSettings, topics: TopicSettings) -> None:
    """Create the pipeline's topics with the configured partition counts (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers,
                                client_id=f"{kafka.client_id}-admin",
                                request_timeout_ms=int(kafka.request_timeout_s * 1000))
    try:
        await admin.start()
    except KafkaConnectionError as err:
        raise unreachable(kafka) from err
    try:
        existing = set(await admin.list_topics())
        wanted = [_new_topic(name, topics) for name in topics.all_names() if name not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another worker created it between list and create: the goal is met
            logger.info("topics_created", topics=[t.name for t in wanted])
    finally:
        await admin.close()


# Registry and feed state are tables, not streams: compacted, and rolled hourly so that the
# log a new owner replays on rebalance stays close to one record per feed.
COMPACTED_CONFIG = {"cleanup.policy": "compact", "segment.ms": str(3600 * 1000),
                    "min.cleanable.dirty.ratio": "0.1"}


def _new_topic(name: str, topics: TopicSettings) -> NewTopic:
    if name in topics.compacted_names():
        return NewTopic(name, topics.feed_partitions, topics.replication_factor,
                        topic_configs=COMPACTED_CONFIG)
    if name == topics.dedup:
        return NewTopic(name, 1, topics.replication_factor)
    return NewTopic(name, topics.partitions, topics.replication_factor)


async def start_client(client: AIOKafkaConsumer | AIOKafkaProducer, kafka: KafkaSettings) -> None:
    """Start an aiokafka client; a broker that does not answer is a clear, actionable error."""
    try:
        await client.start()
    except KafkaConnectionError as err:
        await client.stop()
        raise unreachable(kafka) from err


async def start_producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=kafka.client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=int(kafka.request_timeout_s * 1000),
    )
    await start_client(producer, kafka)
    return producer


class RecordSink(Protocol):
    """Where every stage outside Faust sends a record: a topic, a key, a value (None: a
    tombstone). `KafkaSink` is the implementation; tests keep records in memory."""

    async def send(self, topic: str, key: str | None, value: bytes | None) -> None: ...


class KafkaSink:
    """A RecordSink over the process's one producer: returns once the broker acknowledged."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def send(self, topic: str, key: str | None, value: bytes | None) -> None:
        try:
            await self._producer.send_and_wait(topic, value, key=key.encode() if key else None)
        except MessageSizeTooLargeError as err:
            raise RejectedRecord(f"record for {topic} too large ({len(value or b'')} bytes): "
                                 f"{err}", reason="record-too-large") from err
        except (KafkaError, asyncio.TimeoutError) as err:
            raise SinkUnavailable(f"send to {topic} failed: {err}", target=topic) from err

    async def flush(self) -> None:
        await self._producer.flush()

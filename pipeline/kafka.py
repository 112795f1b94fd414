"""Kafka plumbing shared by the workers (adapter): topic creation, the producer, the one sink."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
)

from pipeline import telemetry
from pipeline.errors import RejectedRecord, SinkUnavailable
from pipeline.settings import KafkaSettings, TopicSettings

logger = structlog.get_logger("newsflow.kafka")
LAG_INTERVAL_S = 10.0


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


class StallWatch:
    """How long a consumer group has had work and made none of it: the longest time any
    partition with lag has kept the same committed offset (0 when every lagging one moves).

    A worker that is slow still commits; one that is up but stuck (a consumer that never got
    its partitions back after a restore) does not, and only its lag says so.
    """

    def __init__(self) -> None:
        self._unchanged_since: dict[TopicPartition, tuple[int, float]] = {}

    def observe(self, committed: Mapping[TopicPartition, int],
                lags: Mapping[TopicPartition, int], now: float) -> float:
        stalled = 0.0
        for tp, lag in lags.items():
            offset = committed.get(tp, -1)
            seen = self._unchanged_since.get(tp)
            if lag == 0 or seen is None or seen[0] != offset:
                self._unchanged_since[tp] = (offset, now)
            else:
                stalled = max(stalled, now - seen[1])
        return stalled

    def reset(self) -> None:
        """Forget what was seen: a broker outage or a recovery is not the worker's stall."""
        self._unchanged_since.clear()


class LagProbe:
    """Real consumer lag of one consumer group, per partition: the end offset minus the
    committed offset, exported as `newsflow_consumer_lag{group,topic,partition}`.

    Read from the broker (the group's committed offsets, the topics' end offsets), so it is the
    lag an operator would see with kafka-consumer-groups.sh, not a batch size. A broker that
    does not answer leaves the last figures in place until the next measurement.
    """

    def __init__(self, kafka: KafkaSettings, group: str, topics: list[str]) -> None:
        self._kafka = kafka
        self._group = group
        self._topics = topics
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._stall = StallWatch()
        self.stalled_s = 0.0  # see StallWatch; 0 until measured
        self.paused = False  # set while the consumer may rightly not commit (table recovery)

    async def measure(self) -> dict[TopicPartition, int]:
        try:
            if self._admin is None or self._consumer is None:
                self._admin = AIOKafkaAdminClient(
                    bootstrap_servers=self._kafka.bootstrap_servers,
                    client_id=f"{self._kafka.client_id}-lag",
                    request_timeout_ms=int(self._kafka.request_timeout_s * 1000))
                await self._admin.start()
                self._consumer = AIOKafkaConsumer(
                    bootstrap_servers=self._kafka.bootstrap_servers, enable_auto_commit=False,
                    client_id=f"{self._kafka.client_id}-lag")
                await self._consumer.start()
            committed = await self._admin.list_consumer_group_offsets(self._group)
            partitions = [TopicPartition(t, p) for t in self._topics
                          for p in self._consumer.partitions_for_topic(t) or ()]
            end = await self._consumer.end_offsets(partitions) if partitions else {}
        except (KafkaError, OSError, asyncio.TimeoutError) as err:
            logger.warning("lag_unmeasured", group=self._group, error=str(err))
            await self.close()
            self._stall.reset()
            self.stalled_s = 0.0
            return {}
        lags, offsets = {}, {}
        for tp, end_offset in end.items():
            done = committed.get(tp)
            offsets[tp] = done.offset if done and done.offset >= 0 else 0
            lags[tp] = max(0, end_offset - offsets[tp])
            telemetry.CONSUMER_LAG.labels(group=self._group, topic=tp.topic,
                                          partition=str(tp.partition)).set(lags[tp])
        if self.paused:
            self._stall.reset()
        self.stalled_s = self._stall.observe(offsets, lags, time.monotonic())
        telemetry.CONSUMER_STALLED.labels(group=self._group).set(self.stalled_s)
        return lags

    async def run(self, stop: asyncio.Event, interval_s: float = LAG_INTERVAL_S) -> None:
        try:
            while not stop.is_set():
                await self.measure()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval_s):
                        await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if admin is not None:
            await admin.close()
        if consumer is not None:
            await consumer.stop()

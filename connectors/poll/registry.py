"""The feed registry and feed state in Kafka (adapter): the records, and reading them back.

Two compacted topics, both keyed by the feed's registry key (its canonical URL when added) and
with the same partition count, so partition p of one holds the same feeds as partition p of the
other:

    newsflow.feeds.v1       FeedSubscription JSON; a tombstone (null value) removes the feed
    newsflow.feed-state.v1  FeedState JSON, written by the feed's owner after each poll

Who owns which feed is connectors/poll/ownership.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.feeds.state import FeedState
from pipeline.errors import BadRecord
from pipeline.kafka import RecordSink, start_client
from pipeline.records import FeedSubscription, decode
from pipeline.settings import KafkaSettings, TopicSettings

logger = structlog.get_logger("newsflow.registry")
Table = dict[str, bytes | None]  # key -> latest value (None: tombstone)
R = TypeVar("R", FeedSubscription, FeedState)


async def read_table(kafka: KafkaSettings, topic: str,
                     partitions: Iterable[int] | None = None) -> Table:
    """The latest value of every key in a compacted topic (all partitions, or the given)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers,
                                client_id=f"{kafka.client_id}-table", enable_auto_commit=False,
                                request_timeout_ms=int(kafka.request_timeout_s * 1000))
    await start_client(consumer, kafka)
    try:
        if partitions is None:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh topic
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        table: Table = {}
        if not tps:
            return table
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        table[record.key.decode()] = record.value
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return table
    finally:
        await consumer.stop()


def decode_table(table: Table, model: type[R], topic: str) -> dict[str, R]:
    out: dict[str, R] = {}
    for key, value in table.items():
        if value is None:
            continue
        try:
            out[key] = decode(model, value, topic=topic)
        except BadRecord as err:
            logger.warning("registry_record_skipped", topic=topic, key=key, error=str(err))
    return out


class Registry:
    """The registry's and feed states' records (CLI and pollers), written through a sink."""

    def __init__(self, sink: RecordSink, topics: TopicSettings) -> None:
        self._sink = sink
        self._topics = topics

    async def put(self, key: str, subscription: FeedSubscription | None) -> None:
        value = subscription.model_dump_json().encode() if subscription else None
        await self._sink.send(self._topics.feeds, key, value)

    async def save_state(self, state: FeedState) -> None:
        await self._sink.send(self._topics.feed_state, state.key,
                              state.model_dump_json().encode())

    async def drop_state(self, key: str) -> None:
        await self._sink.send(self._topics.feed_state, key, None)

    async def move_feed(self, key: str, subscription: FeedSubscription) -> None:
        """A permanent redirect: the registry entry keeps its key and polls the new URL."""
        await self.put(key, subscription)

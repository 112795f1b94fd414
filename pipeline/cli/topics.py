"""The command line's Kafka (kafka-python, synchronous): reading topics, producing a few records.

One client per kind of work: the workers are asyncio programs and use aiokafka (Faust's own
transport is built on it); a command that reads, prints and exits is plain synchronous code,
and kafka-python is the synchronous client. Reading never joins a consumer group unless one is
named, so looking at a topic moves nobody's offsets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError, KafkaTimeoutError

from pipeline.errors import SinkUnavailable
from pipeline.kafka import unreachable
from pipeline.settings import KafkaSettings, TopicSettings

POLL_MS = 500


def short_names(topics: TopicSettings) -> dict[str, str]:
    """The public topics by the short names the commands accept."""
    return {"articles": topics.articles, "enriched": topics.enriched, "unique": topics.unique,
            "dead-letter": topics.dead_letter}


def topic_named(name: str, topics: TopicSettings) -> str:
    """A short name (`enriched`) or a full topic name (`newsflow.enriched.v1`)."""
    return short_names(topics).get(name, name)


@contextmanager
def consumer(kafka: KafkaSettings, group: str | None = None) -> Iterator[KafkaConsumer]:
    try:
        client = KafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers.split(","),
            client_id=f"{kafka.client_id}-cli", group_id=group,
            enable_auto_commit=group is not None, auto_offset_reset="earliest",
            request_timeout_ms=max(int(kafka.request_timeout_s * 1000), 30_000),
            bootstrap_timeout_ms=int(kafka.request_timeout_s * 1000), consumer_timeout_ms=POLL_MS)
    except KafkaTimeoutError as err:  # no broker answered the bootstrap
        raise unreachable(kafka) from err
    try:
        yield client
    finally:
        client.close()


def topic_exists(kafka: KafkaSettings, topic: str) -> bool:
    with consumer(kafka) as client:
        return topic in client.topics()


def read(kafka: KafkaSettings, topic: str, *, since: datetime | None = None,
         last: int | None = None, follow: bool = False,
         group: str | None = None) -> Iterator[ConsumerRecord]:
    """Records of `topic` in offset order per partition: all of them, those after `since`, or
    the `last` N of each partition; up to the end offsets as they were at the start, or on and
    on with `follow`. With `group`, the group's committed offsets say where to start."""
    with consumer(kafka, group) as client:
        partitions = [TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or ()]
        if not partitions:
            raise SinkUnavailable(f"no such topic: {topic}", target=topic,
                                  reason="topic-not-found")
        if group is not None:
            client.subscribe([topic])
        else:
            client.assign(partitions)
            _seek(client, partitions, since, last)
        end = client.end_offsets(partitions)
        while True:
            batch = client.poll(timeout_ms=POLL_MS)
            for records in batch.values():
                yield from records
            if not follow and all(client.position(tp) >= end[tp] for tp in
                                  (client.assignment() or partitions)):
                return


def _seek(client: KafkaConsumer, partitions: list[TopicPartition], since: datetime | None,
          last: int | None) -> None:
    if since is not None:
        wanted = {tp: int(since.timestamp() * 1000) for tp in partitions}
        found = client.offsets_for_times(wanted)
        end = client.end_offsets(partitions)
        for tp in partitions:
            client.seek(tp, found[tp].offset if found.get(tp) else end[tp])
    elif last is not None:
        begin, end = client.beginning_offsets(partitions), client.end_offsets(partitions)
        for tp in partitions:
            client.seek(tp, max(begin[tp], end[tp] - last))
    else:
        client.seek_to_beginning(*partitions)


@contextmanager
def producer(kafka: KafkaSettings) -> Iterator[KafkaProducer]:
    try:
        client = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers.split(","),
                               client_id=f"{kafka.client_id}-cli", acks="all",
                               max_request_size=1_048_576,
                               bootstrap_timeout_ms=int(kafka.request_timeout_s * 1000))
    except KafkaTimeoutError as err:  # no broker answered the bootstrap
        raise unreachable(kafka) from err
    try:
        yield client
    finally:
        client.flush()
        client.close()


def send(client: KafkaProducer, topic: str, key: bytes | None, value: bytes,
         timeout_s: float = 30.0) -> None:
    """Send one record and wait for the broker's acknowledgement."""
    deadline = time.monotonic() + timeout_s
    try:
        client.send(topic, value=value, key=key).get(timeout=max(1.0, deadline - time.monotonic()))
    except KafkaError as err:
        raise SinkUnavailable(f"send to {topic} failed: {err}", target=topic) from err

"""Feed ownership (adapter): a consumer group on the registry topic decides who polls what.

The partitions Kafka assigns a poller are the feeds it polls. On assignment it loads those
partitions of the state topic, then replays the registry partitions from the start (no committed
offsets: the registry is a table, read whole); it keeps consuming, so `newsflow feeds add/remove`
reach a running poller. On revocation it stops the feeds' polls and saves their state (each save
acknowledged by the broker) before the group moves on, so the next owner resumes exactly where it
stopped. A poller that dies is dropped from the group after `poller.session_timeout_s` and its
partitions move to the others.

The rebalance callbacks only record what changed: aiokafka swallows an exception raised in
`on_partitions_assigned` (a broker restarting while the state was read), which left a poller
holding partitions and polling none of their feeds. So the assigned partitions are paused, and
the run loop loads their feed states and replays their registry records, retrying with backoff
until it succeeds (or the partitions are revoked), and logs and counts every failed attempt.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from connectors.feeds.state import FeedState
from connectors.poll.loop import PollLoop
from connectors.poll.registry import Registry, decode_table, read_table
from pipeline import telemetry
from pipeline.errors import BadRecord, NewsflowError
from pipeline.kafka import start_client
from pipeline.records import FeedSubscription, decode
from pipeline.settings import KafkaSettings, PollerSettings, TopicSettings

logger = structlog.get_logger("newsflow.poller")
LOAD_BACKOFF_S = (0.5, 15.0)  # loading an assignment the broker could not serve: first, most


class FeedOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """This poller's share of the registry, kept in a PollLoop as Kafka assigns it."""

    def __init__(self, kafka: KafkaSettings, topics: TopicSettings, opts: PollerSettings,
                 loop: PollLoop, registry: Registry) -> None:
        self._kafka = kafka
        self._topics = topics
        self._loop = loop
        self._registry = registry
        session_ms = int(opts.session_timeout_s * 1000)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers, client_id=f"{kafka.client_id}-poller",
            group_id=opts.group_id, enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=session_ms, heartbeat_interval_ms=max(500, session_ms // 3),
            request_timeout_ms=int(kafka.request_timeout_s * 1000))
        self._owned: dict[str, int] = {}  # feed key -> registry partition
        # While an assignment is replayed: the registry's latest value per key, and the
        # assigned partitions' states. Applied at once when the replay reaches the end offsets
        # taken at assignment, so a remove+re-add in the log never polls a half-built set.
        self._pending: dict[str, tuple[int, FeedSubscription | None]] = {}
        self._states: dict[str, FeedState] = {}
        self._catch_up: dict[TopicPartition, int] | None = None
        self._to_load: list[TopicPartition] | None = None  # assigned, state not loaded yet
        self._load_backoff_s = LOAD_BACKOFF_S[0]
        self.ready = asyncio.Event()  # set once the assigned registry partitions are replayed

    async def start(self) -> None:
        self._consumer.subscribe([self._topics.feeds], listener=self)
        await start_client(self._consumer, self._kafka)

    async def stop(self) -> None:
        await self._consumer.stop()  # leaves the group: the others rebalance at once

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        partitions = {tp.partition for tp in revoked}
        keys = [k for k, p in self._owned.items() if p in partitions]
        self.ready.clear()
        self._catch_up, self._pending, self._states, self._to_load = None, {}, {}, None
        await self._loop.remove(keys, save=True)
        for key in keys:
            del self._owned[key]
        logger.info("feeds_released", partitions=sorted(partitions), feeds=len(keys))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # No I/O here (see the module docstring): nothing is read until the state is loaded.
        self._consumer.pause(*assigned)
        self._to_load, self._pending, self._states = list(assigned), {}, {}
        self._catch_up = None
        self._load_backoff_s = LOAD_BACKOFF_S[0]

    async def _load_assignment(self, assigned: list[TopicPartition]) -> None:
        partitions = sorted(tp.partition for tp in assigned)
        table = await read_table(self._kafka, self._topics.feed_state, partitions)
        states = decode_table(table, FeedState, self._topics.feed_state)
        catch_up: dict[TopicPartition, int] = {}
        if assigned:
            await self._consumer.seek_to_beginning(*assigned)
            catch_up = await self._consumer.end_offsets(list(assigned))
        if self._to_load is not assigned:
            return  # revoked (or reassigned) meanwhile: that assignment is gone
        self._states, self._catch_up, self._to_load = states, catch_up, None
        self._consumer.resume(*assigned)
        logger.info("feeds_assigned", partitions=partitions, states=len(states))

    async def run(self, stop: asyncio.Event) -> None:
        """Apply registry changes to the loop until `stop` is set; a broker that is down or
        restarting is waited for, never a reason to stop."""
        while not stop.is_set():
            try:
                if self._to_load is not None:
                    await self._load_assignment(self._to_load)
                batch = await self._consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        await self._apply(record)
                await self._check_ready()
            except (KafkaError, OSError, NewsflowError) as err:
                telemetry.count("poll", "assignment-retry")
                logger.warning("feeds_assignment_retry", error=f"{type(err).__name__}: {err}",
                               reason=getattr(err, "reason", "kafka-error"),
                               backoff_s=self._load_backoff_s)
                await asyncio.sleep(self._load_backoff_s)  # a broker to wait for
                self._load_backoff_s = min(self._load_backoff_s * 2, LOAD_BACKOFF_S[1])

    async def _apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.key is None:
            return
        key = record.key.decode()
        subscription = None
        if record.value is not None:
            try:
                subscription = decode(FeedSubscription, record.value, topic=record.topic,
                                      partition=record.partition, offset=record.offset)
            except BadRecord as err:
                logger.warning("registry_record_skipped", feed_key=key, error=str(err))
                return
        if not self.ready.is_set():
            self._pending[key] = (record.partition, subscription)
            return
        if subscription is not None:
            self._own(key, record.partition, subscription)
            return
        await self._loop.remove([key], save=False)
        self._owned.pop(key, None)
        await self._registry.drop_state(key)
        logger.info("feed_removed", feed_key=key)

    def _own(self, key: str, partition: int, subscription: FeedSubscription) -> None:
        self._owned[key] = partition
        self._loop.put(key, subscription, self._states.get(key))

    async def _check_ready(self) -> None:
        if self.ready.is_set() or self._catch_up is None:
            return
        assignment = self._consumer.assignment()
        for tp, end in self._catch_up.items():
            if tp not in assignment or await self._consumer.position(tp) < end:
                return  # still replaying, or a rebalance is under way
        for key, (partition, subscription) in self._pending.items():
            if subscription is not None:
                self._own(key, partition, subscription)
        self._pending, self._states = {}, {}
        self.ready.set()
        logger.info("feeds_owned", feeds=len(self._owned))

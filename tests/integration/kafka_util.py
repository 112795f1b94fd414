"""Small helpers for integration tests: read a topic to its end, produce raw records, wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.system import stack_runs
from bench.system.stack_runs import read_records
from pipeline.settings import Settings


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every record of `topic` as it is now: (key, value)."""
    return read_records(bootstrap, topic)


def produce(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(stack_runs.produce(settings, topic, records))


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str,
             check: Callable[[], None] | None = None) -> None:
    """Poll `condition` until true; `check` runs each round (e.g. workers still alive)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if check:
            check()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.25)


async def _lag(bootstrap: str, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in
                      (consumer.partitions_for_topic(topic) or set())]
        end = await consumer.end_offsets(partitions)
        lag = 0
        for tp in partitions:
            lag += end[tp] - ((await consumer.committed(tp)) or 0)
        return lag
    finally:
        await consumer.stop()


def consumer_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of `topic` that consumer group `group` has not committed yet."""
    return asyncio.run(_lag(bootstrap, group, topic))

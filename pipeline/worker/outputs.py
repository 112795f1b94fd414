"""What the worker's agents produce (adapter): an event is acked only once its records are on
the broker.

Faust acks an event as soon as its agent takes the next one, and commits acked offsets every
few seconds, while the records the agent sent may still sit in the producer's buffer: a worker
killed then has committed past outputs that never reached Kafka, and a send that failed was only
logged. So the agents read their streams with `noack()`, and `Outputs.send` acks the event from
the delivery callbacks of every record it produced; Faust commits up to the first offset not
acked, so acks may arrive in any order. A record the producer gave up on is sent again (with
backoff) before its event is acked; one too large for the broker raises RejectedRecord at once,
for the agent to dead-letter instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import structlog
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from faust.types import EventT, TopicT

from pipeline import telemetry
from pipeline.errors import RejectedRecord

logger = structlog.get_logger("newsflow.worker")
BACKOFF_S = (0.5, 15.0)  # a send the producer refused or gave up on: first, most
Output = tuple[TopicT, bytes | None, bytes]  # topic, key, value


@dataclass
class _Delivery:
    event: EventT[bytes]
    remaining: int


class Outputs:
    def __init__(self) -> None:
        self._resends: set[asyncio.Task[None]] = set()

    async def send(self, event: EventT[bytes], records: Sequence[Output]) -> None:
        """Send `records` and ack `event` once all of them are acknowledged by the broker.

        Returns when they are handed to the producer (not delivered); raises RejectedRecord
        for a record the broker would refuse, before anything is sent."""
        for _, _, value in records:
            _check_size(value)
        delivery = _Delivery(event, len(records))
        if not records:
            event.ack()
        for topic, key, value in records:
            future = await self._hand_over(topic, key, value)
            future.add_done_callback(partial(self._delivered, delivery, topic, key, value))

    async def _hand_over(self, topic: TopicT, key: bytes | None,
                         value: bytes) -> asyncio.Future[object]:
        backoff = BACKOFF_S[0]
        while True:
            try:
                return await topic.send(key=key, value=value)  # type: ignore[return-value]
            except MessageSizeTooLargeError as err:
                raise RejectedRecord(f"record for {topic.get_topic_name()} is too large "
                                     f"({len(value)} bytes): {err}",
                                     reason="record-too-large") from err
            except KafkaError as err:  # the producer is not ready, or the broker is gone
                telemetry.count("worker", "send-retry")
                logger.warning("send_retry", topic=topic.get_topic_name(), error=str(err),
                               backoff_s=backoff)
                await asyncio.sleep(backoff)  # a broker to wait for: no condition to await
                backoff = min(backoff * 2, BACKOFF_S[1])

    def _delivered(self, delivery: _Delivery, topic: TopicT, key: bytes | None, value: bytes,
                   future: asyncio.Future[object]) -> None:
        if future.cancelled() or future.exception() is not None:
            error = "cancelled" if future.cancelled() else str(future.exception())
            logger.warning("send_failed", topic=topic.get_topic_name(), error=error)
            task = asyncio.ensure_future(self._resend(delivery, topic, key, value))
            self._resends.add(task)
            task.add_done_callback(self._resends.discard)
            return
        delivery.remaining -= 1
        if delivery.remaining == 0:
            delivery.event.ack()

    async def _resend(self, delivery: _Delivery, topic: TopicT, key: bytes | None,
                      value: bytes) -> None:
        await asyncio.sleep(BACKOFF_S[0])
        future = await self._hand_over(topic, key, value)
        future.add_done_callback(partial(self._delivered, delivery, topic, key, value))


# Faust's producer refuses requests over 1 MiB (producer_max_request_size, set in app.py to
# the broker's default message.max.bytes); a record near it would fail there, after the
# state write. A margin for the record's framing.
MAX_RECORD_BYTES = 1_048_576 - 16 * 1024


def _check_size(value: bytes) -> None:
    if len(value) > MAX_RECORD_BYTES:
        raise RejectedRecord(f"record of {len(value)} bytes is over the {MAX_RECORD_BYTES} "
                             "the broker takes", reason="record-too-large")

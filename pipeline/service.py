"""How an asyncio worker process runs (shared): until SIGTERM/SIGINT, the batch in hand finished.

`newsflow poll` and `newsflow index` each have a `serve(settings, stop)` coroutine that returns
once `stop` is set and its batch in hand is finished (or abandoned uncommitted); `run_service`
is the one way they are started. The Faust worker runs under Faust's own loop and signal
handling (pipeline/worker/service.py). All three connect through `when_up`: a worker started
before Kafka or Elasticsearch, or while one restarts, waits for it instead of exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from pipeline import telemetry
from pipeline.errors import SinkUnavailable

logger = structlog.get_logger("newsflow.service")
T = TypeVar("T")
STARTUP_BACKOFF_S = (1.0, 30.0)  # first wait, cap


def run_service(serve: Callable[[asyncio.Event], Awaitable[None]], *, metrics_port: int) -> None:
    """Serve metrics on `metrics_port` (0: off) and run `serve(stop)` until it returns."""
    telemetry.serve_metrics(metrics_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    asyncio.run(main())


async def when_up(connect: Callable[[], Awaitable[T]], stop: asyncio.Event,
                  backoff_s: tuple[float, float] = STARTUP_BACKOFF_S) -> T | None:
    """`connect()`, retried with capped backoff while Kafka or Elasticsearch is unavailable
    (SinkUnavailable); None when `stop` is set first. Other errors (a bad setting) propagate."""
    delay = backoff_s[0]
    while not stop.is_set():
        try:
            return await connect()
        except SinkUnavailable as err:
            logger.warning("waiting_for_stack", target=err.target, reason=err.reason,
                           error=str(err), retry_in_s=delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, backoff_s[1])
    return None


def run_when_up(connect: Callable[[], Awaitable[T]]) -> T | None:
    """`when_up` for a process that has no loop yet (the Faust worker before Faust starts):
    SIGTERM/SIGINT while waiting return None."""

    async def main() -> T | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await when_up(connect, stop)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())

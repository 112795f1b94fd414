"""How an asyncio worker process runs (shared): until SIGTERM/SIGINT, the batch in hand finished.

`newsflow poll` and `newsflow index` each have a `serve(settings, stop)` coroutine that returns
once `stop` is set and its batch in hand is finished (or abandoned uncommitted); `run_service`
is the one way they are started. The Faust worker runs under Faust's own loop and signal
handling (pipeline/worker/service.py).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from pipeline import telemetry


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

"""`newsflow poll` (adapter): one poller process, wired from Settings.

Feed ownership follows the registry consumer group; the owned feeds are polled by a PollLoop,
and articles, dead letters and feed state go to Kafka through the process's one producer.
"""

from __future__ import annotations

import asyncio
import os
import socket

import structlog
from aiokafka import AIOKafkaProducer

from connectors.fetch.fetching import Fetcher, make_client
from connectors.poll.articles import ArticleFlow
from connectors.poll.extract_pool import ExtractionPool
from connectors.poll.loop import PollLoop
from connectors.poll.ownership import FeedOwnership
from connectors.poll.poller import Poller
from connectors.poll.registry import Registry
from pipeline.kafka import KafkaSink, ensure_topics, start_producer
from pipeline.service import run_service, when_up
from pipeline.settings import Settings

logger = structlog.get_logger("newsflow.poller")


def run(settings: Settings, *, once: bool = False) -> None:
    run_service(lambda stop: serve(settings, stop, once=once),
                metrics_port=settings.poller.metrics_port)


async def serve(settings: Settings, stop: asyncio.Event, *, once: bool = False) -> None:
    owner = settings.poller.worker_id or f"{socket.gethostname()}-{os.getpid()}"

    async def connect() -> AIOKafkaProducer:
        await ensure_topics(settings.kafka, settings.topics)
        return await start_producer(settings.kafka)

    # `--once` is a command, not a worker: it fails at once, naming the address.
    producer = await connect() if once else await when_up(connect, stop)
    if producer is None:
        return  # stopped before Kafka came up
    sink = KafkaSink(producer)
    registry = Registry(sink, settings.topics)
    # Learned boilerplate is per machine (pollers sharing a state dir share it) and survives
    # restarts; the extraction processes read and write it.
    pool = ExtractionPool(settings.extract, processes=settings.poller.extract_processes,
                          budget_s=settings.poller.extract_timeout_s,
                          blocks_path=settings.poller.state_dir / "boilerplate.sqlite",
                          boilerplate=settings.boilerplate)
    try:
        async with make_client(settings.fetch) as client:
            fetcher = Fetcher(client, settings.fetch)
            articles = ArticleFlow(sink, settings.topics, fetcher, pool, settings.poller)
            loop = PollLoop(Poller(fetcher, articles, settings.poller, owner=owner), registry,
                            settings.poller)
            ownership = FeedOwnership(settings.kafka, settings.topics, settings.poller, loop,
                                      registry)
            await ownership.start()
            logger.info("poller_started", owner=owner, once=once,
                        extract_processes=pool.processes)
            try:
                await _poll_owned(ownership, loop, stop, once=once)
            finally:
                await ownership.stop()
                await articles.close()
            if once:
                logger.info("poll_once_done", feeds=len(loop.results), **articles.counts.settled)
    finally:
        pool.close()
        await producer.stop()  # flushes the last state records
        logger.info("poller_stopped", owner=owner)


async def _poll_owned(ownership: FeedOwnership, loop: PollLoop, stop: asyncio.Event, *,
                      once: bool) -> None:
    """Follow the registry and poll, concurrently; `once` waits for the owned set first."""
    following = asyncio.create_task(ownership.run(stop))
    try:
        if once:
            ready = asyncio.create_task(ownership.ready.wait())
            await asyncio.wait({ready, following}, return_when=asyncio.FIRST_COMPLETED)
            if following.done():
                following.result()  # the registry consumer failed: raise its error
            await loop.run(stop, once=True)
            stop.set()
        else:
            await asyncio.gather(loop.run(stop), following)
    finally:
        stop.set()
        await following

"""`newsflow` command line: wiring only. Each command builds Settings once and hands slices on."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from rich.console import Console

from pipeline.errors import NewsflowError
from pipeline.cli.feeds import feeds_app
from pipeline.cli.support import fail, hits_table, settings_or_exit
from pipeline.telemetry import configure_logging
from pipeline.cli.dedupe import dedupe_command
from pipeline.cli.enrich import enrich_command
from pipeline.cli.extract import extract_command
from pipeline.cli.trace import trace_command
from pipeline.cli.stack import stack_app

if TYPE_CHECKING:
    from connectors.poll.loop import PollLoop
    from connectors.poll.registry import FeedOwnership

app = typer.Typer(help="newsflow: streaming news ingestion (feeds -> Kafka -> Faust -> ES).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(stack_app, name="stack", help="The local Kafka + Elasticsearch stack.")
app.command("extract")(extract_command)
app.command("enrich")(enrich_command)
app.command("dedupe")(dedupe_command)
app.command("trace")(trace_command)
app.add_typer(feeds_app, name="feeds", help="The feed registry (Kafka): add, remove, status...")
logger = structlog.get_logger("newsflow.cli")


async def _until_signalled() -> asyncio.Event:
    """An event set by SIGTERM/SIGINT, so loops finish their batch before leaving."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


@app.command()
def poll(once: Annotated[bool, typer.Option(
        help="Poll every feed this worker owns once, then exit.")] = False) -> None:
    """Poll the feeds this worker owns (a share of the Kafka registry), produce new articles."""
    import os
    import socket

    from connectors.extract.boilerplate import BlockStore, BoilerplateOptions
    from connectors.fetch.fetching import Fetcher, make_client
    from connectors.poll.loop import PollLoop
    from connectors.poll.poller import Poller
    from pipeline import telemetry
    from pipeline.kafka import KafkaArticleSink, ensure_topics, start_producer
    from connectors.poll.registry import FeedOwnership, Registry

    settings = settings_or_exit()
    telemetry.serve_metrics(settings.poller.metrics_port)
    owner = settings.poller.worker_id or f"{socket.gethostname()}-{os.getpid()}"

    async def main() -> None:
        stop = await _until_signalled()
        await ensure_topics(settings.kafka, settings.topics)
        producer = await start_producer(settings.kafka)
        registry = Registry(producer, settings.topics)
        # Per machine (pollers sharing a state dir share it); survives restarts.
        blocks = BlockStore(settings.poller.state_dir / "boilerplate.sqlite",
                            BoilerplateOptions())
        try:
            async with make_client(settings.fetch) as client:
                poller = Poller(KafkaArticleSink(producer, settings.topics),
                                Fetcher(client, settings.fetch), settings.poller, owner=owner,
                                blocks=blocks)
                loop = PollLoop(poller, registry, settings.poller)
                ownership = FeedOwnership(settings.kafka, settings.topics, settings.poller, loop,
                                          registry)
                await ownership.start()
                logger.info("poller_started", owner=owner, once=once)
                try:
                    await _poll_owned(ownership, loop, stop, once=once)
                finally:
                    await ownership.stop()
        finally:
            await producer.stop()  # flushes the last state records
            blocks.close()
            logger.info("poller_stopped", owner=owner)

    try:
        asyncio.run(main())
    except NewsflowError as err:
        raise fail(err) from err


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
            results = await loop.run(stop, once=True)
            logger.info("poll_once_done", feeds=len(results),
                        published=sum(r.published for r in results))
            stop.set()
        else:
            await asyncio.gather(loop.run(stop), following)
    finally:
        stop.set()
        await following


@app.command()
def worker() -> None:
    """Run the Faust worker (enrichment agent)."""
    import faust
    from faust.sensors.prometheus import setup_prometheus_sensors

    from pipeline.worker.agents import register_agents
    from pipeline.worker.app import create_app
    from pipeline.kafka import ensure_topics

    settings = settings_or_exit()
    try:
        asyncio.run(ensure_topics(settings.kafka, settings.topics))
    except NewsflowError as err:
        raise fail(err) from err
    pipeline = create_app(settings)
    register_agents(pipeline, settings.enrich, settings.dedup, settings.worker.data_dir)
    # Faust's own stream/table metrics and ours, on the worker's web port at /metrics.
    setup_prometheus_sensors(pipeline.app)
    level = {"warning": "warn"}.get(settings.log_level, settings.log_level)
    faust_worker = faust.Worker(pipeline.app, loglevel=level, quiet=True)
    # Faust's start-up spinner sets the root logger to DEBUG, so every debug call in faust and
    # aiokafka (several per record) builds a LogRecord that the handler then drops.
    faust_worker.spinner = None
    faust_worker.execute_from_commandline()


@app.command()
def index() -> None:
    """Bulk-load the enriched topic into Elasticsearch."""
    from pipeline import telemetry
    from pipeline.index.indexer import Indexer, install_index, make_es, start_consumer
    from pipeline.kafka import KafkaArticleSink, ensure_topics, start_producer

    settings = settings_or_exit()
    telemetry.serve_metrics(settings.indexer.metrics_port)

    async def main() -> None:
        stop = await _until_signalled()
        client = make_es(settings.es)
        try:
            await install_index(client, settings.es)
            await ensure_topics(settings.kafka, settings.topics)
            producer = await start_producer(settings.kafka)
            consumer = await start_consumer(settings)
            try:
                indexer = Indexer(settings, consumer, client,
                                  KafkaArticleSink(producer, settings.topics))
                logger.info("indexer_started", topic=settings.topics.enriched,
                            alias=settings.es.index_alias)
                await indexer.run(stop)
            finally:
                await consumer.stop()
                await producer.stop()
        finally:
            await client.close()
            logger.info("indexer_stopped")

    try:
        asyncio.run(main())
    except NewsflowError as err:
        raise fail(err) from err


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for (all must match).")],
    since: Annotated[str | None, typer.Option(help="Only newer than e.g. 90m, 12h, 7d.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source domain.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only this language (ISO 639-1).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Search the indexed articles."""
    from pipeline.index.search import search_articles

    settings = settings_or_exit()
    try:
        hits = search_articles(settings.es, query, since=since, source=source, language=lang,
                               limit=limit)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    except NewsflowError as err:
        raise fail(err) from err
    if as_json:
        json.dump({"query": query, "hits": [h.as_dict() for h in hits]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    Console().print(hits_table(f"{len(hits)} hit(s) for {query!r}", hits))


@app.command()
def demo(
    once: Annotated[bool, typer.Option(help="Stop after the search instead of running on.")] = False,
    site_port: Annotated[int, typer.Option(help="Port of the bundled sample site.")] = 8765,
) -> None:
    """Bring the stack up, run the whole flow on the bundled sample site, search it."""
    from pipeline.demo.run import run_demo

    settings = settings_or_exit()
    configure_logging(settings.log_level, "console")  # a person is watching; workers log JSON
    try:
        run_demo(settings, once=once, site_port=site_port)
    except NewsflowError as err:
        raise fail(err) from err


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""`newsflow index` (adapter): one indexer process, wired from Settings."""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pipeline.index.indexer import Indexer, install_index, make_es, start_consumer
from pipeline.kafka import KafkaSink, ensure_topics, start_producer
from pipeline.service import run_service, when_up
from pipeline.settings import Settings

logger = structlog.get_logger("newsflow.indexer")


def run(settings: Settings) -> None:
    run_service(lambda stop: serve(settings, stop), metrics_port=settings.indexer.metrics_port)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    client = make_es(settings.es)

    async def connect() -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:
        await install_index(client, settings.es)
        await ensure_topics(settings.kafka, settings.topics)
        producer = await start_producer(settings.kafka)
        try:
            return producer, await start_consumer(settings)
        except BaseException:
            await producer.stop()
            raise

    try:
        clients = await when_up(connect, stop)
        if clients is None:
            return  # stopped before the stack came up
        producer, consumer = clients
        try:
            indexer = Indexer(settings, consumer, client, KafkaSink(producer))
            logger.info("indexer_started", topic=settings.topics.enriched,
                        alias=settings.es.index_alias)
            await indexer.run(stop)
        finally:
            await consumer.stop()
            await producer.stop()
    finally:
        await client.close()
        logger.info("indexer_stopped")

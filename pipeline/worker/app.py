"""The Faust app: declared from Settings (topic names differ per deployment and per test)."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from pipeline.settings import Settings
from pipeline.worker.transport import broker_url


@dataclass(frozen=True)
class PipelineApp:
    app: faust.App
    articles: faust.TopicT
    enriched: faust.TopicT
    dead_letter: faust.TopicT
    dedup: faust.TopicT
    unique: faust.TopicT
    # one record per dedup verdict (pipeline/worker/dedup_store.py)
    dedup_log: faust.types.TableT[bytes, bytes]


def create_app(settings: Settings) -> PipelineApp:
    app = faust.App(
        settings.worker.app_id,
        broker=broker_url(settings.kafka.bootstrap_servers),
        datadir=str(settings.worker.data_dir),
        store="rocksdb://",
        topic_replication_factor=settings.topics.replication_factor,
        topic_partitions=settings.topics.partitions,
        web_enabled=True,
        web_port=settings.worker.web_port,
        web_bind="127.0.0.1",
        producer_acks=-1,
        # The broker's default message.max.bytes; aiokafka's 1,000,000 would refuse records the
        # broker takes (the limit is checked before sending: pipeline/worker/outputs.py).
        producer_max_request_size=1_048_576,
        consumer_auto_offset_reset="earliest",
    )
    topics = settings.topics

    def raw_topic(name: str) -> faust.TopicT:
        # Payloads are our own JSON records (pipeline/records.py), decoded by one helper.
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                         value_serializer="raw", partitions=topics.partitions)

    dedup_topic = app.topic(topics.dedup, key_type=bytes, value_type=bytes, key_serializer="raw",
                            value_serializer="raw", partitions=1)
    # key_type/value_type bytes make Faust store raw bytes. One partition, like the dedup
    # topic it is co-partitioned with; most lookups miss, so bloom filters pay.
    dedup_log = app.Table("dedup-log", key_type=bytes, value_type=bytes, partitions=1,
                          options={"bloom_filter_size": 10})
    return PipelineApp(app=app, articles=raw_topic(topics.articles),
                       enriched=raw_topic(topics.enriched),
                       dead_letter=raw_topic(topics.dead_letter),
                       dedup=dedup_topic, unique=raw_topic(topics.unique), dedup_log=dedup_log)

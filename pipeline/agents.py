"""Faust agents: one thin loop per stage around a pure core function."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog
from faust.types import EventT

from pipeline import metrics
from pipeline.app import PipelineApp
from pipeline.enrichment import enrich_article, load_models
from pipeline.errors import RejectedRecord
from pipeline.records import DeadLetter, ExtractedArticle, decode

logger = structlog.get_logger("newsflow.worker")


def _dead_letter(event: EventT, stage: str, reason: str, error: str) -> bytes:
    message = event.message
    value = event.value if isinstance(event.value, bytes) else str(event.value).encode()
    key = message.key.decode("utf-8", "replace") if isinstance(message.key, bytes) else None
    return DeadLetter(stage=stage, reason=reason, error=error, source_topic=message.topic,
                      partition=message.partition, offset=message.offset, key=key,
                      payload=value.decode("utf-8", "replace"),
                      failed_at=datetime.now(UTC)).model_dump_json().encode()


def register_agents(pipeline: PipelineApp) -> None:
    models = load_models()  # once per process, before any event

    @pipeline.app.agent(pipeline.articles, name="enrich_articles")
    async def enrich_articles(stream: AsyncIterator[bytes]) -> None:
        async for event in stream.events():  # type: ignore[attr-defined]
            msg = event.message
            try:
                article = decode(ExtractedArticle, event.value, topic=msg.topic,
                                 partition=msg.partition, offset=msg.offset)
                enriched = enrich_article(article, models, now=datetime.now(UTC))
            except RejectedRecord as err:
                await pipeline.dead_letter.send(
                    key=msg.key, value=_dead_letter(event, "enrich", err.reason, str(err)))
                metrics.count("enrich", err.reason)
                logger.warning("article_dead_lettered", stage="enrich", reason=err.reason)
                continue
            except Exception as err:  # a bug must not stop the partition: park the record
                reason = f"bug:{type(err).__name__}"
                await pipeline.dead_letter.send(key=msg.key, value=_dead_letter(
                    event, "enrich", reason, traceback.format_exc(limit=5)))
                metrics.count("enrich", reason)
                logger.exception("article_dead_lettered", stage="enrich", reason=reason)
                continue
            await pipeline.enriched.send(key=enriched.article_id.encode(),
                                         value=enriched.model_dump_json().encode())
            metrics.count("enrich", "ok")
            logger.info("article_enriched", article_id=enriched.article_id,
                        language=enriched.language, words=enriched.word_count)

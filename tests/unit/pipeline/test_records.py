import json
from datetime import UTC, datetime

import pytest

from pipeline.errors import BadRecord
from pipeline.records import (
    SCHEMA_VERSION,
    EnrichedArticle,
    ExtractedArticle,
    ExtractionOutcome,
    decode,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def make_article(**changes: object) -> ExtractedArticle:
    fields: dict[str, object] = dict(
        article_id="a" * 32, url="https://gazette.example/tram", final_url="https://gazette.example/tram",
        feed_url="https://gazette.example/feed", source_domain="gazette.example",
        title="Council approves tram extension", text="The council voted seven to four.",
        http_status=200, byte_size=1234, fetched_at=NOW,
        extraction=ExtractionOutcome(extractor="trafilatura", text_length=32, quality="ok"),
    )
    fields.update(changes)
    return ExtractedArticle(**fields)  # type: ignore[arg-type]


def test_round_trip_through_json() -> None:
    article = make_article()
    payload = article.model_dump_json()
    assert json.loads(payload)["schema_version"] == SCHEMA_VERSION
    assert decode(ExtractedArticle, payload.encode(), topic="t") == article


def test_records_are_frozen_and_strict() -> None:
    article = make_article()
    with pytest.raises(Exception):
        article.title = "changed"  # type: ignore[misc]
    with pytest.raises(Exception):
        make_article(unexpected_field=1)


def test_decode_names_the_bad_field_and_where_it_came_from() -> None:
    payload = json.loads(make_article().model_dump_json())
    del payload["text"]
    with pytest.raises(BadRecord) as info:
        decode(ExtractedArticle, json.dumps(payload), topic="newsflow.articles.v1",
               partition=2, offset=41)
    err = info.value
    assert "text" in str(err)
    assert (err.topic, err.partition, err.offset) == ("newsflow.articles.v1", 2, 41)
    assert err.reason == "bad-record"


def test_decode_rejects_non_json() -> None:
    with pytest.raises(BadRecord):
        decode(ExtractedArticle, b"\xff\xfe not json", topic="t")


def test_enriched_article_extends_the_extracted_contract() -> None:
    article = make_article()
    enriched = EnrichedArticle(**article.model_dump(), language="en", language_confidence=0.98,
                               word_count=6, enriched_at=NOW)
    assert set(ExtractedArticle.model_fields) < set(EnrichedArticle.model_fields)
    assert enriched.extraction == article.extraction

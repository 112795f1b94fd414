"""The topic contract's JSON Schemas: in step with the record models, and describing them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from pipeline.records import DeadLetter, FeedSubscription
from pipeline.schemas import PUBLIC, schema_path, stale_schemas
from tests.unit.pipeline.test_records import make_article


def test_checked_in_schemas_match_the_models() -> None:
    assert stale_schemas() == [], "run `newsflow schemas` and commit config/schemas"


@pytest.mark.parametrize("topic", sorted(PUBLIC))
def test_every_field_is_described(topic: str) -> None:
    schema = json.loads(schema_path(topic).read_text(encoding="utf-8"))
    assert schema["$id"].endswith(f"{topic}.schema.json") and schema["title"] == topic
    definitions = [schema, *schema.get("$defs", {}).values()]
    for node in definitions:
        for name, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{topic}: {node.get('title')}.{name}"


def validate(topic: str, payload: str) -> None:
    schema = json.loads(schema_path(topic).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        json.loads(payload))


def test_records_validate_and_unknown_fields_are_allowed() -> None:
    article = make_article()
    validate("newsflow.articles.v1", article.model_dump_json())
    letter = DeadLetter(stage="poll", reason="http-410", error="gone", payload="{}",
                        failed_at=datetime.now(UTC))
    validate("newsflow.dead-letter.v1", letter.model_dump_json())
    validate("newsflow.feeds.v1", FeedSubscription(url="https://a.example/rss").model_dump_json())
    # A producer that adds a field within v1 is still valid; a v2 payload is not.
    extended = json.loads(article.model_dump_json()) | {"a_field_added_later": 1}
    validate("newsflow.articles.v1", json.dumps(extended))
    with pytest.raises(jsonschema.ValidationError):
        validate("newsflow.articles.v1", json.dumps(extended | {"schema_version": 2}))

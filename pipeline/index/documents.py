"""Elasticsearch documents and requests (pure): template, bulk actions, search bodies.

Nothing here talks to a cluster; `pipeline/index/indexer.py` and `pipeline/index/search.py` do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.errors import ConfigError
from pipeline.records import EnrichedArticle
from pipeline.settings import ElasticsearchSettings

JsonDict = dict[str, object]
SINCE_RE = re.compile(r"^(\d+)([mhdw])$")
SINCE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class ClusterFeatures:
    """What the connected cluster can do; the integ-test distribution lacks both."""

    english_analyzer: bool
    ilm: bool


def index_template(es: ElasticsearchSettings, features: ClusterFeatures) -> JsonDict:
    with es.template_file.open(encoding="utf-8") as fh:
        body = json.load(fh)  # parsed afresh on every call: ours to change
    if not isinstance(body, dict):
        raise ConfigError(f"{es.template_file}: an index template must be a JSON object")
    body.pop("_comment", None)
    body["index_patterns"] = [f"{es.index_alias}-*"]
    body["priority"] = 200
    inner = body["template"]
    if features.english_analyzer:
        props = inner["mappings"]["properties"]
        for name in ("title", "text", "description"):
            props[name].setdefault("fields", {})["en"] = {"type": "text", "analyzer": "english"}
    if features.ilm:
        inner["settings"]["index.lifecycle.name"] = es.index_alias
        inner["settings"]["index.lifecycle.rollover_alias"] = es.index_alias
    return body


def ilm_policy() -> JsonDict:
    """Roll the write index over monthly or at 30 GB, whichever comes first."""
    return {"policy": {"phases": {"hot": {"actions": {
        "rollover": {"max_age": "30d", "max_primary_shard_size": "30gb"}}}}}}


def is_indexed(article: EnrichedArticle) -> bool:
    """A `same_url` sighting shares its `_id` with the article already indexed: indexing it
    would overwrite that article's own verdict (a replay would call itself its duplicate)."""
    return article.dup_kind != "same_url"


def es_version(article: EnrichedArticle) -> int:
    """The external version of the article's document: when dedup first judged this text, in
    milliseconds. A later text of a URL always wins, even after dedup forgot the URL (expiry)
    and counted its `version` from 1 again; a replay of the same record carries the same
    instant (the stored verdict), so it overwrites; an older text is refused with 409."""
    if article.deduplicated_at is not None:
        return int(article.deduplicated_at.timestamp() * 1000)
    return article.version


STAGES = ("extract", "enrich", "dedup", "index")


def latency_ms(article: EnrichedArticle, indexed_at: datetime) -> dict[str, int]:
    """Milliseconds each stage took to pass the article on, from the stage timestamps, and
    `total` from fetch to index (searchable within the index's refresh interval after)."""
    marks = (article.fetched_at, article.extracted_at, article.enriched_at,
             article.deduplicated_at, indexed_at)
    out = {stage: round((end - start).total_seconds() * 1000)
           for stage, start, end in zip(STAGES, marks[:-1], marks[1:], strict=True)
           if start is not None and end is not None}
    out["total"] = round((indexed_at - article.fetched_at).total_seconds() * 1000)
    return out


def es_action(article: EnrichedArticle, alias: str, *, indexed_at: datetime) -> JsonDict:
    """One bulk `index` action: _id = article_id, so a redelivered record overwrites."""
    source = article.model_dump(mode="json")
    source["indexed_at"] = indexed_at.isoformat()
    source["latency_ms"] = latency_ms(article, indexed_at)
    return {
        "_op_type": "index",
        "_index": alias,
        "_id": article.article_id,
        "_version": es_version(article),
        "_version_type": "external_gte",
        "_source": source,
    }


def parse_since(value: str, now: datetime) -> datetime:
    """'90m', '12h', '7d', '2w' -> the instant that long before now."""
    match = SINCE_RE.match(value.strip())
    if not match:
        raise ValueError(f"expected a duration like 90m, 12h, 7d or 2w, got {value!r}")
    amount, unit = int(match.group(1)), SINCE_UNITS[match.group(2)]
    return now - timedelta(**{unit: amount})


def search_body(query: str, *, since: datetime | None = None, source: str | None = None,
                language: str | None = None, limit: int = 10,
                english_fields: bool = False) -> JsonDict:
    fields = ["title^3", "description^2", "text", "authors.text"]
    if english_fields:
        fields += ["title.en^2", "text.en"]
    filters: list[JsonDict] = []
    if since is not None:
        filters.append({"range": {"published_at": {"gte": since.isoformat()}}})
    if source:
        filters.append({"term": {"source_domain": source.lower().removeprefix("www.")}})
    if language:
        filters.append({"term": {"language": language.lower()}})
    return {
        "size": limit,
        "query": {"bool": {
            "must": [{"multi_match": {"query": query, "fields": fields,
                                      "type": "best_fields", "operator": "and"}}],
            "filter": filters,
        }},
        "highlight": {
            "fields": {"text": {"fragment_size": 160, "number_of_fragments": 1},
                       "title": {"number_of_fragments": 0}},
        },
        "_source": ["article_id", "title", "url", "source_domain", "published_at",
                    "language", "word_count"],
    }


PERCENTS = (50.0, 95.0, 99.0)


def stats_body(since: datetime) -> JsonDict:
    """Per-stage latency percentiles and counts of the documents indexed since `since` (plain
    aggregations over `latency_ms`: no scripts, which the integ-test distribution lacks)."""
    aggs: JsonDict = {"by_kind": {"terms": {"field": "dup_kind", "size": 10}},
                      "first": {"min": {"field": "indexed_at"}},
                      "last": {"max": {"field": "indexed_at"}}}
    for stage in (*STAGES, "total"):
        aggs[stage] = {"percentiles": {"field": f"latency_ms.{stage}",
                                       "percents": list(PERCENTS)}}
        aggs[f"{stage}_max"] = {"max": {"field": f"latency_ms.{stage}"}}
    return {"size": 0, "track_total_hits": True,
            "query": {"range": {"indexed_at": {"gte": since.isoformat()}}}, "aggs": aggs}

"""`newsflow search` (adapter): run a search body from documents.py, shape and render the hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch import Elasticsearch, NotFoundError
from rich.markup import escape
from rich.table import Table

from pipeline.errors import SinkUnavailable
from pipeline.index.documents import PERCENTS, STAGES, parse_since, search_body, stats_body
from pipeline.settings import ElasticsearchSettings


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    title: str | None
    url: str
    source_domain: str
    published_at: str | None
    language: str | None
    score: float
    snippet: str  # highlighted with <em>…</em>

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class StageLatency:
    stage: str
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class IndexStats:
    documents: int
    by_kind: dict[str, int]
    first_indexed: str | None
    last_indexed: str | None
    latency: list[StageLatency]


def index_stats(es: ElasticsearchSettings, since: datetime) -> IndexStats:
    """What the index says of the articles indexed since `since`: how many, and how long each
    stage held them (from their stage timestamps)."""
    client = Elasticsearch(es.url, request_timeout=es.request_timeout_s)
    try:
        answer = client.search(index=es.index_alias, body=stats_body(since))
    except ESConnectionError as err:
        raise es_unreachable(es) from err
    except NotFoundError:
        return IndexStats(0, {}, None, None, [])
    finally:
        client.close()
    aggs = answer["aggregations"]
    latency = []
    for stage in (*STAGES, "total"):
        values = aggs[stage]["values"]
        p50, p95, p99 = (values.get(f"{q:.1f}") for q in PERCENTS)
        latency.append(StageLatency(stage, p50, p95, p99, aggs[f"{stage}_max"]["value"]))
    return IndexStats(
        documents=int(answer["hits"]["total"]["value"]),
        by_kind={b["key"]: int(b["doc_count"]) for b in aggs["by_kind"]["buckets"]},
        first_indexed=aggs["first"].get("value_as_string"),
        last_indexed=aggs["last"].get("value_as_string"), latency=latency)


def es_unreachable(es: ElasticsearchSettings) -> SinkUnavailable:
    return SinkUnavailable(
        f"Elasticsearch is not reachable at {es.url}. Start the local stack with "
        "`newsflow stack up`, or point NEWSFLOW_ES__URL at your cluster.",
        target=es.url, reason="es-unreachable")


def _has_english_fields(client: Elasticsearch, alias: str) -> bool:
    mapping = client.indices.get_field_mapping(index=alias, fields="text.en")
    return any(index.get("mappings") for index in mapping.body.values())


def search_articles(es: ElasticsearchSettings, query: str, *, since: str | None = None,
                    source: str | None = None, language: str | None = None,
                    limit: int = 10) -> list[SearchHit]:
    client = Elasticsearch(es.url, request_timeout=es.request_timeout_s)
    try:
        body = search_body(
            query,
            since=parse_since(since, datetime.now(UTC)) if since else None,
            source=source, language=language, limit=limit,
            english_fields=_has_english_fields(client, es.index_alias),
        )
        response = client.search(index=es.index_alias, body=body)
    except ESConnectionError as err:
        raise es_unreachable(es) from err
    except NotFoundError:
        return []  # nothing indexed yet: the alias doesn't exist
    finally:
        client.close()
    hits = []
    for hit in response["hits"]["hits"]:
        src = hit["_source"]
        highlight = hit.get("highlight", {})
        snippet = (highlight.get("text") or highlight.get("title") or [""])[0]
        hits.append(SearchHit(
            article_id=src["article_id"], title=src.get("title"), url=src["url"],
            source_domain=src["source_domain"], published_at=src.get("published_at"),
            language=src.get("language"), score=float(hit["_score"] or 0.0), snippet=snippet))
    return hits


def hits_table(title: str, hits: list[SearchHit]) -> Table:
    """Search hits for a person: score, title, source, date, highlighted snippet."""
    table = Table(title=title, show_lines=True)
    for column in ("score", "title", "source", "published", "snippet"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        snippet = escape(hit.snippet).replace("<em>", "[bold yellow]").replace(
            "</em>", "[/bold yellow]")
        table.add_row(f"{hit.score:.2f}", escape(hit.title or "(untitled)"), hit.source_domain,
                      (hit.published_at or "")[:16], snippet)
    return table

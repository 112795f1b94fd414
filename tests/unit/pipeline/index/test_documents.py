from datetime import UTC, datetime, timedelta

import pytest

from pipeline.enrich.enrichment import enrich_article, load_models
from pipeline.index.documents import (
    ClusterFeatures,
    es_action,
    es_version,
    index_template,
    parse_since,
    search_body,
)
from pipeline.settings import ElasticsearchSettings
from tests.unit.pipeline.test_records import make_article

ES = ElasticsearchSettings(index_alias="news-test")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_template_without_optional_features_uses_only_core_analysis() -> None:
    body = index_template(ES, ClusterFeatures(english_analyzer=False, ilm=False))
    assert body["index_patterns"] == ["news-test-*"]
    props = body["template"]["mappings"]["properties"]  # type: ignore[index]
    assert props["title"]["fields"]["keyword"]["type"] == "keyword"
    assert props["source_domain"]["type"] == "keyword"
    assert props["published_at"]["type"] == "date"
    assert "en" not in props["text"].get("fields", {})
    assert "index.lifecycle.name" not in body["template"]["settings"]  # type: ignore[index]


def test_template_uses_english_analysis_and_ilm_where_the_cluster_has_them() -> None:
    body = index_template(ES, ClusterFeatures(english_analyzer=True, ilm=True))
    props = body["template"]["mappings"]["properties"]  # type: ignore[index]
    assert props["text"]["fields"]["en"]["analyzer"] == "english"
    assert body["template"]["settings"]["index.lifecycle.rollover_alias"] == "news-test"  # type: ignore[index]


def test_every_record_field_is_mapped() -> None:
    from pipeline.records import EnrichedArticle

    props = index_template(ES, ClusterFeatures(False, False))["template"]["mappings"]["properties"]  # type: ignore[index]
    assert set(EnrichedArticle.model_fields) <= set(props)


def test_es_action_uses_article_id_and_records_the_stage_latencies() -> None:
    enriched = enrich_article(make_article(), load_models(), now=NOW)
    fetched = enriched.fetched_at
    enriched = enriched.model_copy(update={
        "extracted_at": fetched + timedelta(seconds=1), "enriched_at": fetched + timedelta(seconds=3),
        "deduplicated_at": fetched + timedelta(seconds=3.5)})
    action = es_action(enriched, "news-test", indexed_at=fetched + timedelta(seconds=5))
    assert action["_id"] == enriched.article_id
    assert action["_index"] == "news-test"
    source = action["_source"]
    assert source["title"] == enriched.title  # type: ignore[index]
    assert source["latency_ms"] == {"extract": 1000, "enrich": 2000, "dedup": 500,  # type: ignore[index]
                                    "index": 1500, "total": 5000}


def test_a_later_text_of_a_url_wins_even_after_dedup_forgot_the_url() -> None:
    """Dedup's `version` restarts at 1 once it has forgotten a URL (expiry): the document's
    external version is when dedup judged the text, so the later edit still replaces it."""
    enriched = enrich_article(make_article(), load_models(), now=NOW)
    first = enriched.model_copy(update={"version": 3, "deduplicated_at": NOW})
    edited_after_expiry = enriched.model_copy(update={"version": 1,
                                                      "deduplicated_at": NOW + timedelta(days=9)})
    assert es_version(edited_after_expiry) > es_version(first)
    assert es_version(first) == es_version(first.model_copy())  # a replay: the same version


@pytest.mark.parametrize(("value", "hours"), [("90m", 1.5), ("12h", 12), ("7d", 168), ("2w", 336)])
def test_parse_since(value: str, hours: float) -> None:
    assert (NOW - parse_since(value, NOW)).total_seconds() == hours * 3600


def test_parse_since_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="90m"):
        parse_since("yesterday", NOW)


def test_search_body_filters() -> None:
    body = search_body("tram", since=NOW, source="WWW.Gazette.example", language="EN", limit=5)
    filters = body["query"]["bool"]["filter"]  # type: ignore[index]
    assert {"term": {"source_domain": "gazette.example"}} in filters
    assert {"term": {"language": "en"}} in filters
    assert body["size"] == 5

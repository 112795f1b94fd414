"""Enrichment in a spawned pool process gives what in-process enrichment gives."""

from pipeline.options import EnrichOptions
from pipeline.records import EnrichedArticle
from pipeline.worker.enrich_pool import enrich_payload, start_pool
from tests.unit.pipeline.test_records import make_article


def test_pool_process_enriches_a_record() -> None:
    article = make_article(text="The harbour council in Port Callow voted on Tuesday to approve "
                                "the tram extension after a long debate about costs and noise.")
    with start_pool(EnrichOptions(), 1) as pool:
        payload = pool.submit(enrich_payload, article.model_dump_json().encode()).result(120)
    enriched = EnrichedArticle.model_validate_json(payload)
    assert enriched.article_id == article.article_id
    assert enriched.language == "en" and enriched.word_count > 10

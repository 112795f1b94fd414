from datetime import UTC, datetime

import pytest

from pipeline.enrichment import EnrichmentModels, count_words, enrich_article, load_models
from tests.unit.test_records import make_article

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def models() -> EnrichmentModels:
    return load_models()


@pytest.mark.parametrize(("text", "lang"), [
    ("The city council voted on Tuesday to approve the tram line through the harbour district.", "en"),
    ("Le conseil municipal a voté mardi pour la nouvelle ligne de tramway dans le quartier du port.", "fr"),
    ("Der Stadtrat hat am Dienstag die neue Straßenbahnlinie durch das Hafenviertel beschlossen.", "de"),
    ("El ayuntamiento aprobó el martes la nueva línea de tranvía por el barrio del puerto.", "es"),
])
def test_language_detected_offline(models: EnrichmentModels, text: str, lang: str) -> None:
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    assert enriched.language == lang
    assert enriched.language_confidence is not None and enriched.language_confidence > 0.5


def test_empty_text_has_no_language(models: EnrichmentModels) -> None:
    enriched = enrich_article(make_article(text=""), models, now=NOW)
    assert enriched.language is None and enriched.word_count == 0


def test_word_count() -> None:
    assert count_words("It's a well-known fact: 3 trams, 12 stops.") == 8


def test_enrichment_keeps_every_extracted_field(models: EnrichmentModels) -> None:
    article = make_article()
    enriched = enrich_article(article, models, now=NOW)
    assert enriched.model_dump(include=set(type(article).model_fields)) == article.model_dump()
    assert enriched.enriched_at == NOW

from datetime import UTC, datetime

import pytest

from pipeline.enrich.enrichment import EnrichmentModels, count_words, enrich_article, load_models
from tests.unit.pipeline.test_records import make_article

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


# --- issue 5: the whole enrichment -------------------------------------------------------

import dataclasses
from datetime import timedelta

from pipeline.records import EnrichedArticle
from tests.conftest import SHARED

SEEDS = SHARED / "seeds"
needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason=f"seed articles not found at {SEEDS} (shared/ is not committed)")


@pytest.fixture(scope="module")
def seeds(models: EnrichmentModels) -> list[EnrichedArticle]:
    return [enrich_article(make_article(text=p.read_text(encoding="utf-8"), title=None), models,
                           now=NOW) for p in sorted(SEEDS.glob("*.txt"))]


def _names(enriched: list[EnrichedArticle], kind: str) -> str:
    return " | ".join(f for e in enriched for x in e.entities or () if x.kind == kind
                      for f in (x.name, *x.aliases))


@needs_seeds
@pytest.mark.parametrize("person", ["Erdogan", "Putin", "Assad", "Abdel Rahman", "Hamming",
                                    "Netanyahu", "Trump", "Akar", "Cavusoglu"])
def test_seed_people_are_found(seeds: list[EnrichedArticle], person: str) -> None:
    assert person in _names(seeds, "person")


@needs_seeds
@pytest.mark.parametrize("org", ["HTS", "NLF", "SOHR", "United Nations", "Hurriyet", "Anadolu"])
def test_seed_organisations_are_found(seeds: list[EnrichedArticle], org: str) -> None:
    assert org in _names(seeds, "organisation")


@needs_seeds
@pytest.mark.parametrize(("written", "country", "lat", "lon"), [
    ("Idlib", "SY", 35.93, 36.63), ("Saraqib", "SY", 35.86, 36.81),
    ("Jisr al-Shugur", "SY", 35.81, 36.32), ("Ankara", "TR", 39.92, 32.85),
    ("Sochi", "RU", 43.60, 39.72), ("Moscow", "RU", 55.75, 37.62), ("Hama", "SY", 35.13, 36.76),
    ("Deir Ezzor", "SY", 35.34, 40.14), ("Albu Kamal", "SY", 34.45, 40.92)])
def test_seed_places_resolve_to_their_coordinates(seeds: list[EnrichedArticle], written: str,
                                                  country: str, lat: float, lon: float) -> None:
    places = [p for e in seeds for p in e.places or () if p.mentioned_as == written]
    assert places, f"{written} not resolved"
    place = places[0]
    assert place.country_code == country and place.location is not None
    assert abs(place.location.lat - lat) < 0.1 and abs(place.location.lon - lon) < 0.1


@needs_seeds
def test_newspaper_and_first_name_are_not_places(seeds: list[EnrichedArticle]) -> None:
    written = {p.mentioned_as for e in seeds for p in e.places or ()}
    assert not {"Hurriyet", "Vladimir"} & written
    assert "Vladimir Putin" in _names(seeds, "person")


@needs_seeds
def test_seed_enrichment_is_complete(seeds: list[EnrichedArticle]) -> None:
    for enriched in seeds:
        assert enriched.enrichment_errors == ()
        assert enriched.language == "en"
        assert enriched.keywords is not None and 5 <= len(enriched.keywords) <= 10
        assert enriched.summary and len(enriched.summary) <= 400
        assert enriched.reading_time_s > 0
        assert enriched.countries and enriched.countries[0] in {"SY", "TR"}
        assert "Idlib" in enriched.place_names


class _BrokenNer:
    def pipe(self, texts: object) -> object:
        raise RuntimeError("model exploded")


def test_a_failing_enricher_leaves_its_field_null_and_the_article_goes_on(
        models: EnrichmentModels) -> None:
    broken = dataclasses.replace(models, ner=_BrokenNer())  # type: ignore[arg-type]
    text = "Turkey sent troops to Idlib on Tuesday, the Syrian Observatory for Human Rights said."
    enriched = enrich_article(make_article(text=text * 3), broken, now=NOW)
    assert enriched.entities is None and enriched.places is None and enriched.people == ()
    assert any(e.startswith("entities: RuntimeError: model exploded")
               for e in enriched.enrichment_errors)
    assert enriched.language == "en" and enriched.keywords


def test_entities_are_for_english_only_but_keywords_follow_the_language(
        models: EnrichmentModels) -> None:
    text = ("Le conseil municipal de Lyon a voté mardi pour la nouvelle ligne de tramway. "
            "La ligne de tramway traversera le quartier du port. Le maire de Lyon salue le vote.")
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    assert enriched.language == "fr"
    assert enriched.entities is None and enriched.enrichment_errors == ()
    assert enriched.keywords is not None and "ligne" in " ".join(enriched.keywords).lower()


def test_published_date_is_utc_checked_and_found_in_text(models: EnrichmentModels) -> None:
    future = NOW + timedelta(days=30)
    text = "Published 18 September 2018 10:15 GMT. The council voted to extend the tram line."
    enriched = enrich_article(make_article(text=text, published_at=future, date_source="feed"),
                              models, now=NOW)
    assert enriched.published_at == datetime(2018, 9, 18, 10, 15, tzinfo=UTC)
    assert enriched.date_source == "text"
    sane = enrich_article(make_article(published_at=datetime(2020, 1, 1, 12), date_source="page"),
                          models, now=NOW)
    assert sane.published_at == datetime(2020, 1, 1, 12, tzinfo=UTC) and sane.date_source == "page"


def test_reading_time_section_and_authors(models: EnrichmentModels) -> None:
    article = make_article(text="word " * 460, url="https://gazette.example/world/tram-story",
                           final_url="https://gazette.example/world/tram-story",
                           authors=("By JANE DOE and John Roe",))
    enriched = enrich_article(article, models, now=NOW)
    assert enriched.reading_time_s == 120
    assert enriched.section == "world"
    assert enriched.authors == ("Jane Doe", "John Roe")


def test_enriched_article_round_trips_through_json(models: EnrichmentModels) -> None:
    text = "Recep Tayyip Erdogan met Vladimir Putin in Sochi. Erdogan said Turkey would act."
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    assert EnrichedArticle.model_validate_json(enriched.model_dump_json()) == enriched


def test_results_tables_are_english_and_name_teams_and_initialled_players(
        models: EnrichmentModels) -> None:
    table = ("SOCCER - ENGLISH LEAGUE STANDINGS .\nLONDON 1996-08-31\nDivision one\n"
             "Stoke 4 3 1 0 7 4 10\nBarnsley 3 3 0 0 8 2 9\nNorwich 4 3 0 1 5 3 9\n"
             "Scorers : A. Dale 69 , H. Morris 69 ( Wales ) .\n")
    enriched = enrich_article(make_article(text=table, title=None), models, now=NOW)
    assert enriched.language == "en"  # digits and punctuation no longer drown the words
    assert {"Stoke", "Barnsley", "Norwich"} <= set(enriched.organisations)
    assert "A. Dale" in enriched.people
    assert not any(e.name[-1].isdigit() for e in enriched.entities or ())  # "H. Morris 69"
    assert "Wales" not in enriched.organisations


def test_demonyms_name_places_but_not_entities(models: EnrichmentModels) -> None:
    text = ("Spanish police arrested two men in Madrid on Monday, a spokesman said. The men "
            "were handed to French officials later in the week.")
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    by_written = {p.mentioned_as: p for p in enriched.places or ()}
    assert by_written["Spanish"].name == "Spain" and by_written["French"].country_code == "FR"
    assert by_written["Spanish"].location is not None  # countries carry a point for maps
    names = {f for e in enriched.entities or () for f in (e.name, *e.aliases)}
    assert "Spanish" not in names and "French" not in names


def test_a_news_agency_is_no_town_and_the_x_no_small_town(models: EnrichmentModels) -> None:
    text = ("Two people died in a gas explosion in Hangzhou, in eastern China, Xinhua news "
            "agency reported. The White House said on Friday it was following the news.")
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    assert "Xinhua" in enriched.organisations  # also several towns in China
    placed = {p.mentioned_as for p in enriched.places or ()}
    assert "Hangzhou" in placed and not placed & {"Xinhua", "White House"}


def test_a_dateline_state_places_its_town(models: EnrichmentModels) -> None:
    text = ("EDMONTON, Ky. (WBKO) - A Metcalfe County man was arrested on Thursday after a "
            "shooting on a farm road, police said.")
    enriched = enrich_article(make_article(text=text, title=None), models, now=NOW)
    edmonton = next(p for p in enriched.places or () if p.mentioned_as == "EDMONTON")
    assert (edmonton.country_code, edmonton.admin1_code) == ("US", "US.KY")


def test_a_continents_adjective_names_no_place(models: EnrichmentModels) -> None:
    text = ("African leaders met Turkish officials on Monday to discuss trade, a spokesman "
            "said after the talks.")
    enriched = enrich_article(make_article(text=text), models, now=NOW)
    named = {p.name for p in enriched.places or ()}
    assert "Turkey" in named and "Africa" not in named

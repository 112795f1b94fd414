"""Cheap text scanning for the entities step: regex tokens, capitalised runs, and the cues that
type a run without running NER on it (titles before a name, organisation head words, the
article's own "(ACRONYM)" declarations, country names and demonyms).

Everything here is a few regex passes and set look-ups: it runs on the whole body, where NER
only sees short windows (pipeline/enrich/entities.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS

# Dotted abbreviations ("U.S.") stay one token, as spaCy keeps them, and so does an initial
# before a name ("George W. Bush", "A. Dale"), so that the name stays one run.
_TOKEN = r"(?:[A-Z]\.){2,}|[A-Z]\.(?=\s+[A-Z][a-z])|\w+|[^\w\s]"
TOKEN_RE = re.compile(_TOKEN)
_SPACED_TOKEN_RE = re.compile(rf"(\s*)({_TOKEN})")
Label = Literal["PERSON", "ORG", "TEAM", "MEDIA", "GPE", "LOC", "FAC", "NORP"]

TITLES = frozenset("""
Mr Mrs Ms Dr Sir Dame Lord Lady President Vice Prime Minister Secretary General Gen Senator Sen
Rep Representative Governor Gov Mayor Chancellor King Queen Prince Princess Pope Sheikh Colonel
Col Lieutenant Lt Captain Capt Major Judge Justice Ambassador Chief Deputy Spokesman
Spokeswoman Speaker Chairman Chairwoman CEO Commander Coach Professor Prof Rev Father Bishop
Archbishop Cardinal Imam Rabbi Emir Sultan Crown Premier Director Attorney Foreign Defence
Defense Interior Finance Economy Health Justice Home Trade Labour
""".split())
TITLES_LOWER = frozenset(t.lower() for t in TITLES) | {"minister", "spokesperson", "leader",
                                                       "head", "analyst", "academic", "official"}
CALENDAR = frozenset("""
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
GMT UTC BST CET CEST EST EDT PST PDT
""".split())
# Last words of capitalised pairs that name things, not people ("Davis Cup", "Magic Box").
THING_HEADS = frozenset("""
Cup Cups Final Finals Open Championship Championships League Games Olympics Award Awards Prize
Festival Show Series Box Day Week Act Bill Street Road Avenue Square Park Bridge River Lake
Mountain Mountains Island Islands Airport Station Stadium Arena Hall House Tower Centre Center
Pro Plus Max Mini Lite Edition Phone Watch TV App Store Summit Agreement Deal Treaty War Wars
Valley Bay Coast Beach Sea Ocean Desert Forest Province Region District County Kingdom Republic
United Nations Nation People Peoples Workers Human Rights Democratic National International
Islamic Federal Central Northern Southern Eastern Western North South East West Middle Great
New Royal Supreme
""".split())
# Capitalised words that start no name by themselves.
SKIP_WORDS = CALENDAR | TITLES | frozenset("I Photo Image Read More Advertisement".split())
ORG_HEADS = frozenset("""
Party Front Council Ministry Agency Organisation Organization Union Forces Army Navy Bank Group
Company Corp Corporation Inc Ltd LLC University College Institute Observatory Committee
Commission Association Federation Court Parliament Assembly Senate Congress Service Department
Office Authority League Club FC Network Foundation Trust Fund Movement Brigade Brigades Units
Guard Police Airlines Airways Motors Technologies Systems Labs Studios Records Media News Times
Post Press Daily Herald Tribune Journal Gazette Telegraph Broadcasting Agency Alliance Coalition
Society Board Bureau Administration Cabinet Government Regime Fed Reserve Exchange Group Holdings
Partners Capital Hospital School Church Mosque Centre Center Museum Team Squad
""".split())
MEDIA_WORDS = frozenset({"daily", "newspaper", "agency", "broadcaster", "channel", "website",
                         "magazine", "tabloid", "radio", "tv", "television", "outlet", "paper"})
SENTENCE_END = frozenset({".", "!", "?", "\u201c", "\"", "\u2018", ":", "\u2014"})
CONNECTORS = frozenset({"al", "el", "bin", "ibn", "de", "del", "da", "di", "du", "la", "le",
                        "van", "von", "der", "den", "of", "for", "-", "&"})
# Sentence-initial single words with these endings are ordinary words ("Residents said").
_COMMON_ENDING_RE = re.compile(r"(?:ing|ed|ly|ive|ous|ents|ers|ions|ies|ness|ment|ity)$")
_ACRONYM_RE = re.compile(r"\s*\(\s*([A-Z][A-Za-z]{1,7})\s*\)")
_DEMONYM_ENDINGS = ("ian", "an", "n", "i", "ish", "ese", "ic", "ean")
# Adjectives the endings above cannot undo ("Spanish" is not "Span" + a country), and those of
# continents; English usage, as COUNTRY_ALIASES in places.py.
IRREGULAR_DEMONYMS = {
    "Spanish": "Spain", "French": "France", "British": "Britain", "Dutch": "Netherlands",
    "German": "Germany", "Greek": "Greece", "Swiss": "Switzerland", "Swedish": "Sweden",
    "Polish": "Poland", "Danish": "Denmark", "Finnish": "Finland", "Irish": "Ireland",
    "Welsh": "Wales", "Scottish": "Scotland", "Filipino": "Philippines", "Thai": "Thailand",
    "Norwegian": "Norway", "Portuguese": "Portugal", "Belgian": "Belgium", "Peruvian": "Peru",
    "Argentine": "Argentina", "Argentinian": "Argentina", "Icelandic": "Iceland",
    "Lebanese": "Lebanon", "Sudanese": "Sudan", "Vietnamese": "Vietnam", "Nepalese": "Nepal",
    "Afghan": "Afghanistan", "Saudi": "Saudi Arabia", "Emirati": "UAE", "Czech": "Czechia",
    "Slovak": "Slovakia", "Croatian": "Croatia", "Belarusian": "Belarus",
    "Uzbek": "Uzbekistan", "Kazakh": "Kazakhstan", "Singaporean": "Singapore",
    "Taiwanese": "Taiwan", "Mexican": "Mexico", "Haitian": "Haiti", "Egyptian": "Egypt",
    "Moroccan": "Morocco", "Ghanaian": "Ghana", "Somali": "Somalia", "Zimbabwean": "Zimbabwe",
    "Senegalese": "Senegal", "Cypriot": "Cyprus", "Maltese": "Malta", "Kiwi": "New Zealand",
    "Tajik": "Tajikistan", "Kyrgyz": "Kyrgyzstan", "Turkmen": "Turkmenistan",
    "Burmese": "Myanmar", "Bahraini": "Bahrain", "Congolese": "DR Congo",
    "European": "Europe", "African": "Africa", "Asian": "Asia",
}


# A results-table line: more numbers than lower-case words ("Stoke 4 3 1 0 7 4 10",
# "Leicestershire 22 points , Somerset 4 ."), where a name followed by a number is a team.
_LINE_NUMBER_RE = re.compile(r"(?<![\w.])\d[\d.,:-]*")
_LINE_WORD_RE = re.compile(r"\b[a-z]+\b")


@dataclass(frozen=True)
class Tokens:
    """Regex tokens of a text, as parallel lists (cheaper than one object per token)."""

    text: list[str]
    start: list[int]
    end: list[int]
    sentence_start: list[bool]


def tokenize(text: str) -> Tokens:
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    initial: list[bool] = []
    pos, previous = 0, "."
    for space, word in _SPACED_TOKEN_RE.findall(text):  # findall: ~3x cheaper than finditer
        pos += len(space)
        words.append(word)
        starts.append(pos)
        pos += len(word)
        ends.append(pos)
        initial.append(previous in SENTENCE_END or "\n" in space)
        previous = word
    return Tokens(words, starts, ends, initial)


def name_runs(tokens: Tokens) -> list[tuple[int, int]]:
    """Spans [i, j) of capitalised runs, the places a name may be. A run never crosses a
    sentence or paragraph break, may hold connectors ("Syrian Observatory for Human Rights",
    "Hayat Tahrir al-Sham"), and loses sentence-initial common words ("The", "On Tuesday")."""
    words, initial, starts, ends = tokens.text, tokens.sentence_start, tokens.start, tokens.end
    lowercase = {w for w in words if w.islower()}
    runs: list[tuple[int, int]] = []
    i, n = 0, len(words)
    while i < n:
        if not words[i][:1].isupper() or len(words[i]) == 1 or words[i] in SKIP_WORDS:
            i += 1
            continue
        j = i + 1
        while j < n and not initial[j]:
            if words[j][:1].isupper():
                j += 1
            elif _joins(words, starts, ends, j, n):
                j += 3 if words[j + 1] == "-" else 2
            else:
                break
        if initial[i]:  # "The Syrian Observatory", "Under the Sochi agreement"
            while i < j and (_is_common(words[i], lowercase) or words[i] in CONNECTORS):
                i += 1
        while i < j and words[i] in SKIP_WORDS:
            i += 1
        end = j
        while end > i and (words[end - 1] in SKIP_WORDS or words[end - 1] in CONNECTORS):
            end -= 1
        if end > i:
            runs.extend(_split_at_title(words, i, end))
        i = j
    return runs


def _split_at_title(words: list[str], i: int, j: int) -> list[tuple[int, int]]:
    """"Florida Senator Marco Rubio", "Bank of England Governor Mark Carney": what comes
    before the title is a name of its own. "John Major" stays whole: a title word needs a
    name after it."""
    for t in range(i + 1, j - 1):
        if words[t] in TITLES and words[t - 1] not in TITLES and words[t - 1] not in CONNECTORS \
                and any(words[u] not in TITLES for u in range(t + 1, j)):
            return [(i, t), (t, j)]
    return [(i, j)]


def team_runs(tokens: Tokens, text: str, runs: list[tuple[int, int]]) -> set[tuple[str, ...]]:
    """Runs written as a team in a results table: on a table line, followed by a number, not
    in parentheses (there a name is a competitor's country: "Freeman ( Jamaica ) 12.71")."""
    if not _LINE_NUMBER_RE.search(text):
        return set()
    tables: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        numbers = len(_LINE_NUMBER_RE.findall(line))
        if numbers >= 2 and len(_LINE_WORD_RE.findall(line)) < numbers:
            tables.append((offset, offset + len(line)))
        offset += len(line) + 1
    if not tables:
        return set()
    words, n = tokens.text, len(tokens.text)
    starts = [a for a, _ in tables]
    teams = set()
    for i, j in runs:
        at = bisect_right(starts, tokens.start[i]) - 1
        if at >= 0 and tokens.start[i] < tables[at][1] and j < n and words[j][:1].isdigit() \
                and not (i > 0 and words[i - 1] == "("):
            teams.add(tuple(words[i:j]))
    return teams


def _joins(words: list[str], starts: list[int], ends: list[int], j: int, n: int) -> bool:
    """A connector continues a run into the next capitalised word: "of", "for", "al-"."""
    word = words[j]
    if word == "-":  # hyphenated names only, not "Syria - Turkey"
        return j + 1 < n and ends[j - 1] == starts[j] == ends[j] - 1 and \
            ends[j] == starts[j + 1] and words[j + 1][:1].isupper()
    if word in ("al", "el") and j + 2 < n and words[j + 1] == "-":
        return ends[j + 1] == starts[j + 2] and words[j + 2][:1].isupper()
    return word in CONNECTORS and j + 1 < n and words[j + 1][:1].isupper()


def _is_common(word: str, lowercase: set[str]) -> bool:
    lower = word.lower()
    return lower in STOP_WORDS or lower in lowercase or bool(_COMMON_ENDING_RE.search(lower))


def is_title_case(title: str) -> bool:
    words = [w for w in title.split() if w[:1].isalpha() and w.lower() not in STOP_WORDS]
    return len(words) >= 3 and sum(w[:1].isupper() for w in words) >= 0.8 * len(words)


def demonym_country(word: str, country_names: frozenset[str]) -> str | None:
    """The country (or continent) an adjective names: "Syrian" -> "Syria", "Turkish" ->
    "Turkey", "Spanish" -> "Spain"."""
    if word in IRREGULAR_DEMONYMS:
        return IRREGULAR_DEMONYMS[word]
    for ending in _DEMONYM_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            for tail in ("", "a", "y", "e", "ey"):
                if stem + tail in country_names:
                    return stem + tail
    return None


def declared_acronym(text: str, end: int) -> str | None:
    """The acronym the text gives in parentheses right after offset `end`: "... Front (NLF)"."""
    match = _ACRONYM_RE.match(text, end)
    return match.group(1) if match else None


def initials(form: tuple[str, ...]) -> str:
    return "".join(w[0] for w in form if w[:1].isupper() and w not in CONNECTORS)


def cue_label(tokens: Tokens, i: int, j: int, text: str,
              country_code: Callable[[str], str | None],
              country_names: frozenset[str]) -> tuple[Label | None, int]:
    """A label for run [i, j) from cues alone, and where the name starts (after any titles:
    "Defence Minister Hulusi Akar"); None when only NER can tell."""
    words = tokens.text
    span = tuple(words[i:j])
    if span[-1] in ORG_HEADS or (len(span) > 2 and span[0] in ORG_HEADS and span[1] == "of"):
        if not (i > 1 and words[i - 1] == "s" and words[i - 2] in ("\u2019", "'")):
            return "ORG", i  # ... unless possessed: "Kurdish People's Protection Units"
        return None, i
    k = i  # "Israeli Prime Minister Benjamin Netanyahu": the name follows the titles
    while k < j - 1 and (words[k] in TITLES or words[k] in country_names
                         or demonym_country(words[k], country_names)):
        k += 1
    if k > i and words[k - 1] in TITLES:
        return "PERSON", k
    acronym = declared_acronym(text, tokens.end[j - 1])
    if acronym and len(span) > 1 and initials(span) == acronym:
        return "ORG", i
    if len(span) == 1:
        word = span[0]
        if word in country_names or country_code(word):
            return "GPE", i
        if demonym_country(word, country_names):
            return "NORP", i
        before = words[i - 1].lower() if i > 0 else ""
        if before in TITLES_LOWER:
            return "PERSON", i
        after = words[j].lower() if j < len(words) else ""
        # "Xinhua news agency", "state news agency Xinhua": a wire service, not its namesake town
        if after in MEDIA_WORDS or before in MEDIA_WORDS or (
                after == "news" and j + 1 < len(words) and words[j + 1].lower() in MEDIA_WORDS):
            return "MEDIA", i
        if before == "the" and after in ("said", "reported"):
            return "ORG", i
    elif country_code(" ".join(span)):
        return "GPE", i
    return None, i

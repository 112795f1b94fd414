"""Enrichment benchmark: throughput on one core, RSS, entity quality against full-text NER.

    python -m bench.stages.enrichment_bench [--shared ../shared] [--rounds 3] [--budgets 0,80,160,320]
                                     [--check]

Articles: the dev split's human-written bodies (shared/bench/extraction/ground-truth.json),
English ones only for throughput (entities run for English), plus the seeds
(shared/seeds/*.txt). One process, one BLAS thread: docs/s per core is measured on CPU time
(process_time), which other jobs on a shared machine slow less than wall time; both are
printed. Entity quality: the same spaCy model run as NER over the whole text is the reference;
a reference name counts as found when an entity of ours has it among its forms (typed: with
the same kind), and one of our entities is correct when any of its forms is a reference name.
`--check` exits 1 when a seed expectation fails or recall falls under the floors below.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import resource
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.enrich.enrichment import (
    EnrichmentModels,
    EnrichOptions,
    enrich_article,
    load_models,
)
from pipeline.enrich.entities import entity_form
from pipeline.records import EnrichedArticle, ExtractedArticle, ExtractionOutcome
from pipeline.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KINDS = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place",
         "FAC": "place"}
# Seed expectations of issue 5: substrings of some entity name or alias of that kind.
SEED_PEOPLE = ["Erdogan", "Putin", "Assad", "Abdel Rahman", "Hamming", "Netanyahu", "Trump",
               "Akar", "Cavusoglu"]
SEED_ORGS = ["HTS", "NLF", "SOHR", "United Nations", "Hurriyet", "Anadolu"]
SEED_PLACES = {  # name as written -> (GeoNames country, lat, lon) to 0.1 degree
    "Idlib": ("SY", 35.93, 36.63), "Saraqib": ("SY", 35.86, 36.81),
    "Jisr al-Shugur": ("SY", 35.81, 36.32), "Ankara": ("TR", 39.92, 32.85),
    "Sochi": ("RU", 43.60, 39.72), "Moscow": ("RU", 55.75, 37.62), "Hama": ("SY", 35.13, 36.76),
    "Deir Ezzor": ("SY", 35.34, 40.14), "Albu Kamal": ("SY", 34.45, 40.92)}
NOT_PLACES = ["Hurriyet", "Vladimir"]
# Floors for --check at the default options (measured 0.589 / 0.803 on 2026-11-22, see
# RESULTS.md): a change that loses more than a few points fails.
RECALL_FLOOR_TYPED = 0.55
PRECISION_FLOOR_TYPED = 0.75


def article(text: str, url: str, title: str | None = None) -> ExtractedArticle:
    return ExtractedArticle(
        article_id="b" * 32, url=url, final_url=url, source_domain="bench.example",
        title=title, text=text, http_status=200, byte_size=len(text), fetched_at=NOW,
        extraction=ExtractionOutcome(extractor="bench", text_length=len(text), quality="ok"))


def _first_words(text: str, n: int) -> str:
    match = list(re.finditer(r"\S+", text))
    return text[:match[n - 1].end()] if len(match) >= n else text


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def throughput(models: EnrichmentModels, docs: list[ExtractedArticle], rounds: int
               ) -> tuple[float, float, float]:
    """(docs per CPU second, docs per wall second, words per CPU second)."""
    for doc in docs[:5]:
        enrich_article(doc, models, now=NOW)
    words = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for doc in docs:
            words += enrich_article(doc, models, now=NOW).word_count
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = rounds * len(docs)
    return n / cpu, n / wall, words / cpu


def reference_entities(models: EnrichmentModels, texts: list[str]) -> list[set[tuple[str, str]]]:
    assert models.ner is not None
    out = []
    for doc in models.ner.pipe(texts, batch_size=16):
        found = set()
        for ent in doc.ents:
            form = entity_form(ent.text) if ent.label_ in KINDS else None
            if form:
                found.add((KINDS[ent.label_], form))
        out.append(found)
    return out


def entity_scores(ours: Iterable[EnrichedArticle], refs: Iterable[set[tuple[str, str]]]
                  ) -> dict[str, float]:
    hit_t = hit_u = total_ref = correct_t = correct_u = total_ours = 0
    for enriched, ref in zip(ours, refs, strict=True):
        entities = enriched.entities or ()
        typed = {(e.kind, f) for e in entities for f in (e.name, *e.aliases)}
        untyped = {f for _, f in typed}
        ref_forms = {f for _, f in ref}
        total_ref += len(ref)
        hit_t += sum(r in typed for r in ref)
        hit_u += sum(f in untyped for _, f in ref)
        total_ours += len(entities)
        correct_t += sum(any((e.kind, f) in ref for f in (e.name, *e.aliases)) for e in entities)
        correct_u += sum(any(f in ref_forms for f in (e.name, *e.aliases)) for e in entities)
    return {"recall": hit_t / max(total_ref, 1), "precision": correct_t / max(total_ours, 1),
            "recall_untyped": hit_u / max(total_ref, 1),
            "precision_untyped": correct_u / max(total_ours, 1), "reference": total_ref,
            "ours": total_ours}


def seed_report(enriched: list[EnrichedArticle]) -> list[str]:
    """Problems with the seed expectations; empty when all hold."""
    names = {kind: " | ".join(f for e in enriched for x in e.entities or () if x.kind == kind
                              for f in (x.name, *x.aliases))
             for kind in ("person", "organisation")}
    problems = [f"person not found: {p}" for p in SEED_PEOPLE if p not in names["person"]]
    problems += [f"organisation not found: {o}" for o in SEED_ORGS
                 if o not in names["organisation"]]
    places = {p.mentioned_as: p for e in enriched for p in e.places or ()}
    by_id = {p.geoname_id: p for p in places.values()}
    aliases = {f: by_id[pid] for e in enriched for x in e.entities or () if x.kind == "place"
               for f in (x.name, *x.aliases) for pid in [_place_id(e, x)] if pid in by_id}
    for name, (country, lat, lon) in SEED_PLACES.items():
        place = places.get(name) or aliases.get(name)
        if place is None or place.location is None:
            problems.append(f"place not resolved: {name}")
        elif place.country_code != country or abs(place.location.lat - lat) > 0.1 or \
                abs(place.location.lon - lon) > 0.1:
            problems.append(f"place misplaced: {name} -> {place.name} {place.country_code} "
                            f"{place.location}")
    for name in NOT_PLACES:
        if name in places or name in aliases:
            problems.append(f"not a place, but placed: {name}")
    return problems


def _place_id(enriched: EnrichedArticle, entity: object) -> int | None:
    forms = {getattr(entity, "name", ""), *getattr(entity, "aliases", ())}
    for place in enriched.places or ():
        if place.mentioned_as in forms:
            return place.geoname_id
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=PROJECT_ROOT.parent / "shared")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budgets", default="", help="NER token budgets to sweep, e.g. 0,80,160")
    parser.add_argument("--windows", default="", help="NER context widths to sweep, e.g. 2,3")
    parser.add_argument("--no-guess", action="store_true", help="guess_people=False")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    truth = json.loads((args.shared / "bench/extraction/ground-truth.json").read_text())
    seeds = sorted((args.shared / "seeds").glob("*.txt"))
    rss0 = rss_mb()
    started = time.perf_counter()
    models = load_models()
    print(f"load: {time.perf_counter() - started:.1f} s wall, RSS {rss_mb():.0f} MB "
          f"(+{rss_mb() - rss0:.0f} MB for models), peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    dev = [article(v["articleBody"], v["url"]) for v in truth.values()]
    strings = len(models.ner.vocab.strings) if models.ner is not None else 0
    dev_en = [a for a in dev if enrich_article(a, models, now=NOW).language == "en"]
    seed_docs = [article(p.read_text(), f"https://seeds.example/{p.stem}") for p in seeds]
    words = [len(a.text.split()) for a in dev_en]
    # The yardstick: 1,000-word English articles (longer dev bodies, cut there).
    thousand = [article(_first_words(a.text, 1000), a.url) for a, w in zip(dev_en, words,
                                                                        strict=True) if w >= 1000]
    print(f"dev split: {len(dev)} articles, {len(dev_en)} English, mean "
          f"{statistics.mean(words):.0f} words; {len(thousand)} cut to 1,000 words")
    defaults = EnrichOptions()
    budgets = [int(b) for b in args.budgets.split(",") if b] or [defaults.ner_budget_tokens]
    widths = [int(w) for w in args.windows.split(",") if w] or [defaults.ner_window_tokens]
    cpu_rate, wall_rate, _ = throughput(models, thousand, args.rounds)
    print(f"default options, 1,000-word articles: {cpu_rate:.0f} docs/CPU-s "
          f"({wall_rate:.0f} docs/wall-s); worker RSS {rss_mb():.0f} MB, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if models.ner is not None:
        grown = len(models.ner.vocab.strings) - strings
        print(f"spaCy string store: +{grown} strings over {len(dev)} new articles "
              f"(+{grown / max(len(dev), 1):.0f} per article; it never shrinks)")
    refs_dev = reference_entities(models, [a.text for a in dev_en])
    refs_seed = reference_entities(models, [a.text for a in seed_docs])
    failed = False
    base = models
    for budget, width in [(b, w) for w in widths for b in budgets]:
        # Same loaded models, other options: budget and width are read per article.
        models = dataclasses.replace(base, options=base.options.model_copy(
            update={"ner_budget_tokens": budget, "ner_window_tokens": width,
                    "guess_people": not args.no_guess}))
        cpu_rate, wall_rate, word_rate = throughput(models, dev_en, args.rounds)
        long_rate, long_wall, _ = throughput(models, thousand, args.rounds)
        ours_dev = [enrich_article(a, models, now=NOW) for a in dev_en]
        ours_seed = [enrich_article(a, models, now=NOW) for a in seed_docs]
        dev_scores = entity_scores(ours_dev, refs_dev)
        seed_scores = entity_scores(ours_seed, refs_seed)
        print(f"\nNER budget {budget} tokens/article (window ±{width}):")
        print(f"  throughput: 1,000-word articles {long_rate:.0f} docs/CPU-s ({long_wall:.0f} "
              f"docs/wall-s); all dev English {cpu_rate:.0f} docs/CPU-s ({wall_rate:.0f} "
              f"docs/wall-s), {word_rate:.0f} words/CPU-s")
        for label, scores in (("dev English", dev_scores), ("seeds", seed_scores)):
            print(f"  entities vs full-text NER, {label}: P={scores['precision']:.3f} "
                  f"R={scores['recall']:.3f} (untyped P={scores['precision_untyped']:.3f} "
                  f"R={scores['recall_untyped']:.3f}; {scores['reference']:.0f} reference names, "
                  f"{scores['ours']:.0f} entities)")
        problems = seed_report(ours_seed)
        print("  seeds: " + ("all expected people, organisations and places found"
                             if not problems else "; ".join(problems)))
        if (budget, width) == (defaults.ner_budget_tokens, defaults.ner_window_tokens):
            failed |= bool(problems) or dev_scores["recall"] < RECALL_FLOOR_TYPED \
                or dev_scores["precision"] < PRECISION_FLOOR_TYPED
    print(f"\nRSS after the runs: {rss_mb():.0f} MB, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    places = [(p.mentioned_as, p.name, p.country_code, p.location)
              for e in [enrich_article(a, models, now=NOW) for a in seed_docs]
              for p in e.places or () if p.mentioned_as in SEED_PLACES]
    for written, name, country, location in dict.fromkeys(places):
        print(f"  {written} -> {name} ({country}) {location}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

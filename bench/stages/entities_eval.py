"""Entity quality on CoNLL++ dev (shared/bench/enrichment/README.md has the definitions).

    OPENBLAS_NUM_THREADS=1 python -m bench.stages.entities_eval [--reference] [--set OPTION=VALUE]
    python -m bench.stages.entities_eval --inputs > conll.jsonl       # the same run in two steps:
    newsflow enrich --jsonl < conll.jsonl > enriched.jsonl
    python -m bench.stages.entities_eval --enriched enriched.jsonl

Per document, gold is the set of distinct (normalised name, type) pairs of PER, ORG and LOC
(MISC ignored). A gold pair is found when one of the document's entities has that name as its
name or an alias (typed: and its kind, person->PER, organisation->ORG, place->LOC); one of our
entities is correct when any of its forms is a gold name (typed: of its type). Micro P/R/F1 over
documents, typed and untyped. A document's text is its tokens joined by spaces, one sentence a
line; no title. `--reference` also scores the same spaCy model run over the full text.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.stages.eval_support import (
    common_arguments,
    cpu_line,
    enriched_documents,
    normalise,
    prf,
)
from pipeline.enrich.entities import load_ner
from pipeline.options import EnrichOptions
from pipeline.records import EnrichedArticle

TYPES = {"person": "PER", "organisation": "ORG", "place": "LOC"}
SPACY_TYPES = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


@dataclass
class Document:
    ident: str
    sentences: list[list[str]] = field(default_factory=list)
    gold: set[tuple[str, str]] = field(default_factory=set)
    raw: dict[tuple[str, str], str] = field(default_factory=dict)  # for printing misses

    @property
    def text(self) -> str:
        return "\n".join(" ".join(tokens) for tokens in self.sentences)


def read_conll(path: Path) -> list[Document]:
    docs: list[Document] = []
    sentence: list[str] = []
    entity: list[str] = []
    kind = ""

    def close_entity() -> None:
        nonlocal entity
        if entity and kind in ("PER", "ORG", "LOC"):
            name = " ".join(entity)
            key = (normalise(name), kind)
            if key[0]:
                docs[-1].gold.add(key)
                docs[-1].raw.setdefault(key, name)
        entity = []

    def close_sentence() -> None:
        nonlocal sentence
        close_entity()
        if sentence:
            docs[-1].sentences.append(sentence)
        sentence = []

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            if docs:
                close_sentence()
            docs.append(Document(f"conllpp-dev-{len(docs):03d}"))
            continue
        if not line.strip():
            close_sentence()
            continue
        token, *_, tag = line.split()
        sentence.append(token)
        if tag.startswith("B-") or tag == "O" or tag[2:] != kind:
            close_entity()
            kind = tag[2:] if tag != "O" else ""
        if tag != "O":
            entity.append(token)
    close_sentence()
    return [d for d in docs if d.sentences]


def ours(enriched: EnrichedArticle) -> list[tuple[str, set[str]]]:
    """(type, normalised forms) per entity."""
    out = []
    for entity in enriched.entities or ():
        forms = {normalise(f) for f in (entity.name, *entity.aliases)} - {""}
        out.append((TYPES[entity.kind], forms))
    return out


@dataclass
class Counts:
    gold: int = 0
    found: int = 0
    ours: int = 0
    correct: int = 0

    def add(self, gold: set[tuple[str, str]], entities: list[tuple[str, set[str]]],
            typed: bool) -> tuple[set[tuple[str, str]], list[tuple[str, set[str]]]]:
        """Counts one document; returns its misses and false hits."""
        if typed:
            mine = {(f, t) for t, forms in entities for f in forms}
            missed = {g for g in gold if g not in mine}
            wrong = [e for e in entities if not any((f, e[0]) in gold for f in e[1])]
            total = len(gold)
        else:
            names = {n for n, _ in gold}
            mine_u = {f for _, forms in entities for f in forms}
            missed = {(n, "") for n in names if n not in mine_u}
            wrong = [e for e in entities if not e[1] & names]
            total = len(names)
        self.gold += total
        self.found += total - len(missed)
        self.ours += len(entities)
        self.correct += len(entities) - len(wrong)
        return missed, wrong

    def line(self) -> str:
        return prf(self.found, self.gold, self.correct, self.ours)


def score(docs: list[Document], found: Iterable[list[tuple[str, set[str]]]], label: str,
          misses: int = 0) -> None:
    typed, untyped = Counts(), Counts()
    for n, (doc, entities) in enumerate(zip(docs, found, strict=True)):
        missed, wrong = typed.add(doc.gold, entities, typed=True)
        untyped.add(doc.gold, entities, typed=False)
        if n < misses:
            print(f"  {doc.ident}: missed {sorted(doc.raw[g] + '/' + g[1] for g in missed)}")
            print(f"  {doc.ident}: wrong  {sorted(t + ':' + '|'.join(sorted(f)) for t, f in wrong)}")
    print(f"{label}: typed {typed.line()}")
    print(f"{' ' * len(label)}  untyped {untyped.line()}")


def reference(docs: list[Document], options: EnrichOptions) -> list[list[tuple[str, set[str]]]]:
    """The same spaCy model over each full text: one entity per distinct (name, type)."""
    nlp = load_ner(options.spacy_model, numpy_blas=options.numpy_blas)
    out = []
    for doc in nlp.pipe([d.text for d in docs], batch_size=16):
        pairs = {(SPACY_TYPES[e.label_], normalise(e.text)) for e in doc.ents
                 if e.label_ in SPACY_TYPES}
        out.append([(t, {n}) for t, n in sorted(pairs) if n])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_arguments(parser)
    parser.add_argument("--reference", action="store_true",
                        help="also score spaCy NER over the full text")
    args = parser.parse_args()
    docs = read_conll(args.data / "conllpp_dev.txt")
    lines = [json.dumps({"id": d.ident, "title": None, "text": d.text}) for d in docs]
    if args.inputs:
        print("\n".join(lines))
        return 0
    enriched, cpu = enriched_documents(lines, args)
    print(f"CoNLL++ dev: {len(docs)} documents")
    score(docs, (ours(e) for e in enriched), "newsflow", args.misses)
    no_entities = sum(not e.entities for e in enriched)
    unknown = sum(e.language is None for e in enriched)
    print(f"  documents without entities: {no_entities}; language unknown: {unknown}")
    print("  " + cpu_line(cpu, [e.word_count for e in enriched]))
    if args.reference:
        score(docs, reference(docs, EnrichOptions()), "spaCy full text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

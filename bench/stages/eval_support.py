"""What bench/stages/entities_eval.py and bench/stages/places_eval.py share: running documents through the
batch path of `newsflow enrich --jsonl` (the same `batch_result`, in this process, CPU time per
document), reading that command's output instead, and printing P/R/F1.

Speed is CPU time (time.process_time) in one process with one BLAS thread, as
bench/stages/enrichment_bench.py measures it: set OPENBLAS_NUM_THREADS=1 before the command.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pipeline.cli.inspect.enrich import batch_result
from pipeline.enrich.enrichment import load_models
from pipeline.options import EnrichOptions
from pipeline.records import EnrichedArticle
from pipeline.settings import PROJECT_ROOT

DATA = PROJECT_ROOT.parent / "shared" / "bench" / "enrichment"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def normalise(name: str) -> str:
    """The README's name normalisation: NFKD, casefold, no leading "the", no trailing "'s",
    alphanumerics only."""
    text = unicodedata.normalize("NFKD", name).casefold().strip()
    if text.startswith("the "):
        text = text[4:]
    for suffix in ("'s", "\u2019s"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return "".join(c for c in text if c.isalnum())


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--inputs", action="store_true",
                        help="print the documents as `newsflow enrich --jsonl` lines and stop")
    parser.add_argument("--enriched", type=Path,
                        help="score this output of `newsflow enrich --jsonl` instead of running")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="an EnrichOptions field for this run, e.g. ner_budget_tokens=160")
    parser.add_argument("--misses", type=int, default=0,
                        help="print the misses and false hits of this many documents")


def options_from(pairs: Sequence[str]) -> EnrichOptions:
    update: dict[str, object] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        update[key] = json.loads(value) if value[:1] in "[{0123456789.-tfn\"" else value
    return EnrichOptions.model_validate(update)


def enriched_documents(lines: list[str], args: argparse.Namespace
                       ) -> tuple[list[EnrichedArticle], list[float]]:
    """Each line's EnrichedArticle (by input order) and its CPU seconds (empty when read from a
    file written by `newsflow enrich --jsonl`)."""
    if args.enriched:
        by_id = {}
        for line in args.enriched.read_text(encoding="utf-8").splitlines():
            item = EnrichedArticle.model_validate_json(line)
            by_id[item.article_id] = item
        ids = [json.loads(line)["id"] for line in lines]
        return [by_id[str(i)] for i in ids], []
    models = load_models(options_from(args.set))
    out, cpu = [], []
    for line in lines:
        started = time.process_time()
        result = batch_result(line, models, NOW)
        cpu.append(time.process_time() - started)
        out.append(EnrichedArticle.model_validate_json(result))
    return out, cpu


def prf(hits_recall: int, gold: int, hits_precision: int, ours: int) -> str:
    recall = hits_recall / max(gold, 1)
    precision = hits_precision / max(ours, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f"P={precision:.3f} R={recall:.3f} F1={f1:.3f} ({gold} gold, {ours} ours)"


def cpu_line(cpu: list[float], words: list[int]) -> str:
    if not cpu:
        return "CPU: not measured (scored from a file)"
    total = sum(cpu)
    return (f"CPU: {1000 * total / len(cpu):.2f} ms per document (median "
            f"{1000 * statistics.median(cpu):.2f} ms, {len(cpu)} documents, mean "
            f"{statistics.mean(words):.0f} words), {1000 * total / max(sum(words), 1) * 1000:.2f} "
            f"ms per 1,000 words")

"""Extraction benchmark over ../shared/bench/extraction and ../shared/bench/extraction-fundus
(results in bench/RESULTS.md).

  # in process, both sets (or --data DIR, repeatable): F1/P/R with the benchmark's own metric
  # (evaluate.py beside the Zyte set) and pages per CPU-second (one process, one core)
  python -m bench.stages.extraction_bench [--data DIR ...] [--runs 3] [--out-dir /tmp/preds] \
      [--set second_opinion=false --set clean.drop_tails=false ...]

  # the same harness timing trafilatura.extract() instead of ours, for the reference figures
  python -m bench.stages.extraction_bench --reference best     # include_comments=False, favor_precision=True
  python -m bench.stages.extraction_bench --reference defaults

  # ours and trafilatura best page by page in one process: the speed ratio a busy machine
  # does not move (the rates alone drift by up to a third between identical runs)
  python -m bench.stages.extraction_bench --versus best --runs 3

  # shim for evaluate.py --cmd: print the cleaned body of one HTML file (URL in XBENCH_URL)
  python -m bench.stages.extraction_bench PAGE.html

The --cmd shim starts Python per page, so its pages/s measures interpreter start-up; quote the
in-process figure for speed. The quality figures of both are identical.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from connectors.extract.extraction import extract_article
from pipeline.errors import ExtractionEmpty
from pipeline.options import CleanOptions, ExtractOptions
from pipeline.records import FetchedPage
from pipeline.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT.parent / "shared" / "bench"
DATA_SETS = (BENCH_DIR / "extraction", BENCH_DIR / "extraction-fundus")
# trafilatura.extract() as evaluate.py runs it (`-e trafilatura[:...]`)
REFERENCES: dict[str, dict[str, Any]] = {
    "defaults": {}, "best": {"include_comments": False, "favor_precision": True}}

BENCH_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)  # fixed, so runs are reproducible


def page_for(html: str, url: str, page_id: str = "bench") -> FetchedPage:
    return FetchedPage(article_id=page_id, url=url or "http://example.invalid/",
                       final_url=url or "http://example.invalid/", status=200,
                       content_type="text/html", fetched_at=BENCH_NOW,
                       byte_size=len(html.encode("utf-8", "replace")), html=html)


def body_for(html: str, url: str, opts: ExtractOptions, page_id: str = "bench") -> str:
    try:
        return extract_article(page_for(html, url, page_id), opts).text
    except ExtractionEmpty as err:
        print(f"{page_id}: {err.reason}: {err}", file=sys.stderr)
        return ""


def options_from(settings: list[str]) -> ExtractOptions:
    """`key=value` pairs (`clean.key=value` for the cleaner) over the defaults."""
    top: dict[str, object] = {}
    clean: dict[str, object] = {}
    for item in settings:
        key, _, raw = item.partition("=")
        value: object = {"true": True, "false": False}.get(raw.lower(), raw)
        if key.startswith("clean."):
            clean[key[6:]] = value
        else:
            top[key] = value
    if clean:
        top["clean"] = CleanOptions.model_validate(clean)
    return ExtractOptions.model_validate(top)


def evaluate_module(bench_dir: Path = BENCH_DIR / "extraction") -> ModuleType:
    """The benchmark's own metric (evaluate.py beside the Zyte set; both sets use it)."""
    spec = importlib.util.spec_from_file_location("xbench_evaluate", bench_dir / "evaluate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_pages(data_dir: Path, split: Path | None = None) -> dict[str, tuple[str, str, str]]:
    """{page id: (html, url, true body)} for a benchmark dir (ground-truth.json + html/)."""
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    if split:
        ids = [i for i in split.read_text(encoding="utf-8").split() if i in truth]
    return {i: (gzip.decompress((data_dir / "html" / f"{i}.html.gz").read_bytes())
                .decode("utf-8"), truth[i]["url"], truth[i]["articleBody"]) for i in ids}


def run_dataset(data_dir: Path, extract: Callable[[str, str, str], str], runs: int,
                out: Path | None, split: Path | None = None,
                versus: tuple[str, Callable[[str, str, str], str]] | None = None) -> str:
    """Extract every page `runs` times; return the summary line (quality from the last run).

    With `versus`, each page is also extracted by that reference right beside ours (which of
    the two goes first alternates), so both rates see the same moment of a shared machine:
    their ratio holds still when the rates themselves drift by a third between runs.
    """
    pages = load_pages(data_dir, split)
    first = next(iter(pages))
    extract(pages[first][0], pages[first][1], first)  # warm-up, as evaluate.py does
    if versus:
        versus[1](pages[first][0], pages[first][1], first)
    preds: dict[str, str] = {}
    cpu_rates, reference_rates = [], []
    for _ in range(max(1, runs)):
        cpu = reference_cpu = 0.0
        for n, (i, (html, url, _truth)) in enumerate(pages.items()):
            if versus and n % 2:
                reference_cpu += _cpu_seconds(versus[1], html, url, i)
            start_cpu = time.process_time()
            preds[i] = extract(html, url, i)
            cpu += time.process_time() - start_cpu
            if versus and not n % 2:
                reference_cpu += _cpu_seconds(versus[1], html, url, i)
        cpu_rates.append(len(pages) / cpu)
        if versus:
            reference_rates.append(len(pages) / reference_cpu)
    if out:
        out.write_text(json.dumps({i: {"articleBody": t} for i, t in preds.items()},
                                  ensure_ascii=False), encoding="utf-8")
    evaluate = evaluate_module()
    scores = evaluate.aggregate([evaluate.page_scores(truth, preds[i])
                                 for i, (_h, _u, truth) in pages.items()])
    # Per CPU-second is what one dedicated core would do; wall time counts other load too.
    line = (f"{data_dir.name}: pages={len(pages)} F1={scores['f1']:.3f} P={scores['p']:.3f} "
            f"R={scores['r']:.3f} pages_per_cpu_s={statistics.median(cpu_rates):.1f} "
            f"runs={','.join(f'{r:.1f}' for r in cpu_rates)}")
    if versus:
        ratios = [ours / ref for ours, ref in zip(cpu_rates, reference_rates)]
        line += (f" {versus[0]}_pages_per_cpu_s={statistics.median(reference_rates):.1f}"
                 f" speed_ratio={statistics.median(ratios):.2f}"
                 f" ratios={','.join(f'{r:.2f}' for r in ratios)}")
    return line


def _cpu_seconds(extract: Callable[[str, str, str], str], html: str, url: str,
                 page_id: str) -> float:
    start = time.process_time()
    extract(html, url, page_id)
    return time.process_time() - start


def reference_extractor(name: str) -> Callable[[str, str, str], str]:
    import trafilatura

    kwargs = REFERENCES[name]
    return lambda html, url, page_id: trafilatura.extract(html, **kwargs) or ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("page", nargs="?", type=Path, help="one HTML file: print its cleaned body")
    ap.add_argument("--data", type=Path, action="append",
                    help="benchmark dir (ground-truth.json, html/); default: both sets")
    ap.add_argument("--out-dir", type=Path, help="write <set>.json predictions here")
    ap.add_argument("--split", type=Path, help="file of page ids (default: all pages)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--reference", choices=sorted(REFERENCES),
                    help="time trafilatura.extract() with these settings instead of ours")
    ap.add_argument("--versus", choices=sorted(REFERENCES),
                    help="also time trafilatura.extract() with these settings, page by page "
                         "beside ours, and print the speed ratio")
    ap.add_argument("--set", dest="settings", action="append", default=[],
                    metavar="KEY=VALUE", help="ExtractOptions field (clean.KEY for the cleaner)")
    args = ap.parse_args(argv)
    opts = options_from(args.settings)
    if args.page:
        html = args.page.read_bytes().decode("utf-8", "replace")
        sys.stdout.write(body_for(html, os.environ.get("XBENCH_URL", ""), opts) + "\n")
        return 0
    extract = (reference_extractor(args.reference) if args.reference else
               lambda html, url, page_id: body_for(html, url, opts, page_id))
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    for data_dir in args.data or DATA_SETS:
        out = args.out_dir / f"{data_dir.name}.json" if args.out_dir else None
        versus = (args.versus, reference_extractor(args.versus)) if args.versus else None
        print(run_dataset(data_dir, extract, args.runs, out, args.split, versus), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

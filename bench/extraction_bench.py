"""Extraction benchmark driver for ../shared/bench/extraction (results in bench/RESULTS.md).

Two uses:

  # shim for evaluate.py --cmd: print the cleaned body of one HTML file (URL in XBENCH_URL)
  python -m bench.extraction_bench PAGE.html

  # in-process run over the data set: write predictions, print pages/s (one process, one core)
  python -m bench.extraction_bench --data ../shared/bench/extraction --out /tmp/preds.json \
      [--runs 3] [--set second_opinion=false --set clean.drop_tails=false ...]
  python3 ../shared/bench/extraction/evaluate.py ../shared/bench/extraction --predictions /tmp/preds.json

The --cmd shim starts Python per page, so its pages/s measures interpreter start-up; quote the
in-process figure for speed. The quality figures of both are identical.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from connectors.extract.extraction import extract_article
from pipeline.errors import ExtractionEmpty
from pipeline.options import CleanOptions, ExtractOptions
from pipeline.records import FetchedPage

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


def run_dataset(data_dir: Path, out: Path, opts: ExtractOptions, runs: int,
                split: Path | None) -> None:
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    if split:
        ids = [i for i in split.read_text(encoding="utf-8").split() if i in truth]
    pages = {i: gzip.decompress((data_dir / "html" / f"{i}.html.gz").read_bytes()).decode("utf-8")
             for i in ids}
    body_for(pages[ids[0]], truth[ids[0]]["url"], opts)  # warm-up, as evaluate.py does
    preds: dict[str, dict[str, str]] = {}
    rates, cpu_rates = [], []
    for _ in range(max(1, runs)):
        wall = cpu = 0.0
        for i in ids:
            start, start_cpu = time.perf_counter(), time.process_time()
            text = body_for(pages[i], truth[i]["url"], opts, i)
            wall += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            preds[i] = {"articleBody": text}
        rates.append(len(ids) / wall)
        cpu_rates.append(len(ids) / cpu)
    out.write_text(json.dumps(preds, ensure_ascii=False), encoding="utf-8")
    # Per CPU-second is what one dedicated core would do; wall time counts other load too.
    print(f"pages={len(ids)} pages_per_s={statistics.median(rates):.1f} "
          f"pages_per_cpu_s={statistics.median(cpu_rates):.1f} "
          f"runs={','.join(f'{r:.1f}' for r in rates)} out={out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("page", nargs="?", type=Path, help="one HTML file: print its cleaned body")
    ap.add_argument("--data", type=Path, help="benchmark dir (ground-truth.json, html/)")
    ap.add_argument("--out", type=Path, default=Path("extraction-preds.json"))
    ap.add_argument("--split", type=Path, help="file of page ids (default: all pages)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--set", dest="settings", action="append", default=[],
                    metavar="KEY=VALUE", help="ExtractOptions field (clean.KEY for the cleaner)")
    args = ap.parse_args(argv)
    opts = options_from(args.settings)
    if args.data:
        run_dataset(args.data, args.out, opts, args.runs, args.split)
        return 0
    if not args.page:
        ap.error("give an HTML file or --data DIR")
    html = args.page.read_bytes().decode("utf-8", "replace")
    sys.stdout.write(body_for(html, os.environ.get("XBENCH_URL", ""), opts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

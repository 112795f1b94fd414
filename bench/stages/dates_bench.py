"""Publication-date benchmark on ../shared/bench/dates (results in bench/RESULTS.md, Dates).

The product path, as the poller and the worker run it: `extract_article` on the page and its
URL (no feed entry), then `pipeline.enrich.dates.published_date` on what it returns. Scoring
is htmldate's protocol (the data set's README): the unit is the day, a prediction equal to
the gold day is a true positive, any other day a false positive, no date a false negative;
accuracy = tp / N. The day compared is `published_day`, the publisher's day (in the offset the
page gives), which is what the gold records; the UTC day of `published_at` differs from it on
late-evening stories west of Greenwich (`--utc-day` scores that instead).

    python -m bench.stages.dates_bench [--data ../shared/bench/dates] [--out /tmp/dates.json] [--runs 3]

CPU per page is `time.process_time()` of both calls (extraction is most of it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

from bench.stages.extraction_bench import BENCH_NOW, page_for
from connectors.extract.extraction import extract_article
from pipeline.enrich.dates import published_date
from pipeline.errors import ExtractionEmpty
from pipeline.options import ExtractOptions
from pipeline.settings import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "bench" / "dates"


def predicted_day(html: str, url: str, opts: ExtractOptions, page_id: str,
                  utc_day: bool = False) -> str | None:
    """The day the product says the page was published (YYYY-MM-DD), or None."""
    try:
        article = extract_article(page_for(html, url, page_id), opts)
    except ExtractionEmpty:
        return None  # no article, so no date: the worker never sees the page
    published = published_date(article.published_at, article.published_day,
                               article.date_source, article.text, BENCH_NOW)
    day = published.day
    if utc_day:
        day = published.at.date() if published.at is not None else None
    return day.isoformat() if day is not None else None


def run(data_dir: Path, opts: ExtractOptions, runs: int, out: Path | None,
        utc_day: bool = False) -> dict[str, float]:
    truth: dict[str, dict[str, object]] = json.loads(
        (data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {url: gzip.decompress((data_dir / "html" / str(item["file"])).read_bytes())
             .decode("utf-8", "replace") for url, item in truth.items()}
    preds: dict[str, str | None] = {}
    cpu_runs = []
    for _ in range(max(1, runs)):
        cpu = 0.0
        for url, html in pages.items():
            start = time.process_time()
            preds[url] = predicted_day(html, url, opts, str(truth[url]["file"]), utc_day)
            cpu += time.process_time() - start
        cpu_runs.append(cpu / len(pages))
    tp = fp = fn = 0
    for url, item in truth.items():
        gold = item["date"] if isinstance(item["date"], str) else None  # NaN: no gold date
        if preds[url] is None:
            fn += 1
        elif preds[url] == gold:
            tp += 1
        else:
            fp += 1
    if out:
        out.write_text(json.dumps(preds, indent=1), encoding="utf-8")
    n = len(truth)
    cpu_page = statistics.median(cpu_runs)
    return {"n": n, "tp": tp, "fp": fp, "fn": fn, "accuracy": tp / n,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "cpu_ms_per_page": 1000 * cpu_page, "pages_per_cpu_s": 1 / cpu_page}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="dir with ground-truth.json and html/")
    ap.add_argument("--out", type=Path, help="write {url: predicted day} here")
    ap.add_argument("--runs", type=int, default=1, help="timed passes (the median is printed)")
    ap.add_argument("--utc-day", action="store_true",
                    help="score the UTC day of published_at instead of published_day")
    args = ap.parse_args(argv)
    r = run(args.data, ExtractOptions(), args.runs, args.out, args.utc_day)
    print(f"accuracy={r['accuracy']:.3f} precision={r['precision']:.3f} "
          f"recall={r['recall']:.3f} tp={r['tp']} fp={r['fp']} fn={r['fn']} n={r['n']} "
          f"cpu_ms_per_page={r['cpu_ms_per_page']:.1f} pages_per_cpu_s={r['pages_per_cpu_s']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

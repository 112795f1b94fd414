"""Quality gates: extraction F1/precision on both extraction sets and date accuracy on the
dates set must not regress.

Each uses the benchmark's own metric (../shared/bench/extraction/evaluate.py; htmldate's day
protocol for dates, bench/stages/dates_bench.py). The floors sit a little under the measured figures
(bench/RESULTS.md: Zyte F1 0.982 P 0.986, fundus F1 0.965 P 0.967, dates 0.860) so
noise-free code changes pass and real regressions fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.stages import dates_bench
from bench.stages.extraction_bench import body_for, evaluate_module, load_pages
from pipeline.options import ExtractOptions

FLOORS = {  # set: (F1, precision)
    "extraction": (0.978, 0.980),
    "extraction-fundus": (0.958, 0.960),
}
DATE_ACCURACY_FLOOR = 0.85


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_extraction_f1_and_precision_floors(shared_dir: Path, name: str) -> None:
    bench_dir = shared_dir / "bench" / name
    if not (bench_dir / "ground-truth.json").is_file() or not (
            shared_dir / "bench" / "extraction" / "evaluate.py").is_file():
        pytest.skip(f"{bench_dir} has no ground truth or evaluate.py is absent")
    evaluate = evaluate_module(shared_dir / "bench" / "extraction")
    opts = ExtractOptions()
    rows = [evaluate.page_scores(truth, body_for(html, url, opts, page_id))
            for page_id, (html, url, truth) in load_pages(bench_dir).items()]
    scores = evaluate.aggregate(rows)
    f1_floor, precision_floor = FLOORS[name]
    assert scores["f1"] >= f1_floor, scores
    assert scores["p"] >= precision_floor, scores


def test_date_accuracy_floor(shared_dir: Path) -> None:
    bench_dir = shared_dir / "bench" / "dates"
    if not (bench_dir / "ground-truth.json").is_file():
        pytest.skip(f"{bench_dir} has no ground truth")
    result = dates_bench.run(bench_dir, ExtractOptions(), runs=1, out=None)
    assert result["accuracy"] >= DATE_ACCURACY_FLOOR, result

"""Quality gate: extraction F1 and precision on the dev split must not regress.

Uses the benchmark's own metric (../shared/bench/extraction/evaluate.py). The floors sit a
little under the measured figures (bench/RESULTS.md: F1 0.981, P 0.984) so noise-free code
changes pass and real regressions fail.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from bench.extraction_bench import body_for
from pipeline.options import ExtractOptions

F1_FLOOR = 0.975
PRECISION_FLOOR = 0.975


def _evaluate_module(bench_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("xbench_evaluate", bench_dir / "evaluate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_split_f1_and_precision_floors(shared_dir: Path) -> None:
    bench_dir = shared_dir / "bench" / "extraction"
    if not (bench_dir / "ground-truth.json").is_file():
        pytest.skip(f"{bench_dir} has no ground truth")
    evaluate = _evaluate_module(bench_dir)
    truth = json.loads((bench_dir / "ground-truth.json").read_text(encoding="utf-8"))
    opts = ExtractOptions()
    rows = []
    for page_id, item in sorted(truth.items()):
        html = gzip.decompress((bench_dir / "html" / f"{page_id}.html.gz").read_bytes())
        predicted = body_for(html.decode("utf-8", errors="replace"), item["url"], opts, page_id)
        rows.append(evaluate.page_scores(item["articleBody"], predicted))
    scores = evaluate.aggregate(rows)
    assert scores["f1"] >= F1_FLOOR, scores
    assert scores["p"] >= PRECISION_FLOOR, scores

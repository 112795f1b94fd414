"""`newsflow extract` runs the poller's extraction path on files and JSON lines."""

import json
import subprocess
import sys
from pathlib import Path

import httpx

from pipeline.demo.site.server import serve_demo_site


def newsflow(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def _sample_page(tmp_path: Path) -> tuple[Path, str]:
    with serve_demo_site(port=0) as site:
        url, _title, rare_word = site.articles[0]
        html = httpx.get(url).text
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path, str(rare_word)


def test_file_prints_clean_body_without_chrome(tmp_path: Path) -> None:
    path, rare_word = _sample_page(tmp_path)
    result = newsflow(str(path))
    assert result.returncode == 0, result.stderr
    assert rare_word in result.stdout
    assert "Zephyrine" not in result.stdout  # donation banner
    as_json = json.loads(newsflow(str(path), "--json", "--url", "https://courier.example/a").stdout)
    assert as_json["url"] == "https://courier.example/a" and as_json["extraction"]["quality"]


def test_jsonl_batch_one_line_out_per_line_in(tmp_path: Path) -> None:
    path, rare_word = _sample_page(tmp_path)
    lines = [json.dumps({"id": "a", "url": "https://courier.example/a", "html": path.read_text()}),
             "not json",
             json.dumps({"id": "c", "url": "https://courier.example/c", "html": ""})]
    result = newsflow("--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, "c"]
    assert rare_word in out[0]["text"] and out[0]["title"]
    assert out[1]["reason"] == "bad-input"
    assert out[2]["reason"] == "empty-document"

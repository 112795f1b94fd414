"""`newsflow trace` follows one page through every stage's core function, in-process."""

import json
import subprocess
import sys
from pathlib import Path

import httpx

from pipeline.demo.site.server import serve_demo_site
from pipeline.identity import article_id_for, canonical_url


def test_trace_prints_each_stage_of_one_article(tmp_path: Path) -> None:
    with serve_demo_site(port=0) as site:
        url, title, rare_word = site.articles[0]
        html = httpx.get(url).text
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "trace", str(page),
         "--url", "https://courier.example/news/a?utm_source=x"],
        capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    stages = {line["stage"]: line["record"] for line in lines}
    assert [line["stage"] for line in lines] == [
        "page", "extracted", "enriched", "verdict", "index"]
    assert "html" not in stages["page"]
    article_id = stages["page"]["article_id"]
    assert article_id == article_id_for(canonical_url("https://courier.example/news/a"))
    assert {stages[s]["article_id"] for s in ("extracted", "enriched", "verdict")} == {article_id}
    assert stages["extracted"]["title"] == title and rare_word in stages["extracted"]["text"]
    assert "Zephyrine" not in stages["extracted"]["text"]  # the donation banner is chrome
    assert stages["enriched"]["language"] == "en"
    assert stages["verdict"]["dup_kind"] == "none"  # against an empty state: a first copy
    assert stages["index"]["_id"] == article_id
    assert stages["index"]["_source"]["dup_kind"] == "none"


def test_trace_refuses_a_text_file_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just a line of text\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "trace", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "not an HTML page" in json.loads(result.stderr)["error"]

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from typer.testing import CliRunner

from pipeline.cli.inspect.enrich import enrich_command, read_article
from pipeline.cli.inspect.inputs import file_url, is_html
from pipeline.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TEXT = ("Turkey sends troops to Idlib\n\nTurkey sent reinforcements to Idlib on Tuesday, the "
        "Syrian Observatory for Human Rights said. President Recep Tayyip Erdogan warned of a "
        "humanitarian disaster.\n")
HTML = ("<html><head><title>Tram line approved</title></head><body><article><h1>Tram line "
        "approved</h1>" + "<p>The city council of Leeds voted on Tuesday to approve the new tram "
        "line through the harbour district, after a long debate about its cost.</p>" * 4
        + "</article></body></html>")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("enrich")(enrich_command)
    app.command("noop")(lambda: None)  # two commands, so "enrich" stays a subcommand
    return app


def test_plain_text_file_first_line_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(TEXT, encoding="utf-8")
    article = read_article(str(path), Settings(), NOW)
    assert article.title == "Turkey sends troops to Idlib"
    assert article.text.startswith("Turkey sent reinforcements")
    assert article.extraction.extractor == "plain-text"


def test_gzipped_html_goes_through_extraction(tmp_path: Path) -> None:
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(HTML.encode()))
    assert is_html(HTML) and not is_html(TEXT)
    article = read_article(str(path), Settings(), NOW)
    assert "Leeds" in article.text and article.url == file_url(path)


def test_enrich_command_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = CliRunner().invoke(_app(), ["enrich", str(path), "--json"])
    assert result.exit_code == 0, result.output
    enriched = json.loads(result.output)
    assert "Recep Tayyip Erdogan" in enriched["people"]
    assert "Idlib" in enriched["place_names"]


def test_enrich_command_reports_a_missing_target() -> None:
    result = CliRunner().invoke(_app(), ["enrich", "/no/such/file.txt"])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_a_file_has_one_identity_whichever_command_reads_it(tmp_path: Path) -> None:
    from pipeline.cli.inspect.inputs import read_input

    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    page = read_input(str(path), None, Settings().fetch, now=NOW)
    assert read_article(str(path), Settings(), NOW).article_id == page.article_id  # type: ignore[union-attr]


def test_jsonl_batch_one_enriched_article_per_line() -> None:
    from tests.unit.pipeline.test_records import make_article

    lines = [json.dumps({"id": "doc-1", "title": None, "text": TEXT}),
             "not json",
             make_article(text=TEXT).model_dump_json(),
             json.dumps({"id": "doc-4"})]
    result = CliRunner().invoke(_app(), ["enrich", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["article_id"] == "doc-1" and "Recep Tayyip Erdogan" in out[0]["people"]
    assert out[1] == {"id": None, "error": out[1]["error"], "reason": "bad-input"}
    assert out[2]["article_id"] == "a" * 32 and "Idlib" in out[2]["place_names"]
    assert out[3]["id"] == "doc-4" and out[3]["reason"] == "bad-input"


def test_jsonl_and_a_target_are_exclusive(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["enrich", str(tmp_path), "--jsonl"], input="")
    assert result.exit_code != 0

"""The subscriber side of the contract, on records that went through the real pipeline: the JSON
Schemas hold for every record of every public topic, `newsflow tail` shows and filters them, and
the example subscriber (examples/subscriber.py, kafka-python) keeps each article once, resumes
from its group's commits, and says clearly when the broker is down."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from bench.system.faults import PipelineRun
from bench.system.stack_runs import read_records
from pipeline.schemas import schema_path
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.stack.procs import free_port

SUBSCRIBER = PROJECT_ROOT / "examples" / "subscriber.py"
TOPICS = {"articles": "NEWSFLOW_TOPICS__ARTICLES", "enriched": "NEWSFLOW_TOPICS__ENRICHED",
          "unique": "NEWSFLOW_TOPICS__UNIQUE", "dead-letter": "NEWSFLOW_TOPICS__DEAD_LETTER"}
SCHEMAS = {"articles": "newsflow.articles.v1", "enriched": "newsflow.enriched.v1",
           "unique": "newsflow.unique.v1", "dead-letter": "newsflow.dead-letter.v1"}


@pytest.fixture(scope="module")
def flowed(stack: Settings, shared_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    """70 real pages through poller, worker and indexer; records left on the run's topics."""
    run = PipelineRun(70, 10, port=free_port(), settings=stack,
                      tmp=tmp_path_factory.mktemp("subscribers"))
    run.start()
    run.offer()
    assert run.wait_settled(70, timeout_s=300) is not None
    yield run
    run.stop()


def topic_records(run: PipelineRun, short: str) -> list[dict[str, object]]:
    bootstrap = run.base_settings.kafka.bootstrap_servers
    return [json.loads(v) for _, v in read_records(bootstrap, run.env[TOPICS[short]])]


@pytest.mark.parametrize("short", sorted(TOPICS))
def test_every_record_on_a_public_topic_matches_its_schema(flowed: PipelineRun,
                                                          short: str) -> None:
    schema = json.loads(schema_path(SCHEMAS[short]).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema,
                                                format_checker=jsonschema.FormatChecker())
    records = topic_records(flowed, short)
    if short != "dead-letter":
        assert records, f"nothing on the {short} topic"
    for record in records:
        validator.validate(record)


def test_tail_shows_and_filters_the_enriched_articles(flowed: PipelineRun) -> None:
    shown = flowed.group.run_cli("tail", "enriched", "--from-beginning", "--limit", "5",
                                 "--json").stdout.splitlines()
    assert len(shown) == 5 and all(json.loads(line)["article_id"] for line in shown)
    firsts = flowed.group.run_cli("tail", "enriched", "--from-beginning", "--json",
                                  "--filter", "dup_kind=none").stdout.splitlines()
    assert firsts and all(json.loads(line)["dup_kind"] == "none" for line in firsts)
    readable = flowed.group.run_cli("tail", "unique", "--limit", "3").stdout
    assert readable.count("\n") == 3 and "none" in readable


def subscribe(run: PipelineRun, group: str, out: Path, *extra: str,
              bootstrap: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SUBSCRIBER), "--bootstrap",
         bootstrap or run.base_settings.kafka.bootstrap_servers, "--topic",
         run.env[TOPICS["unique"]], "--group", group, "--out", str(out), *extra],
        capture_output=True, text=True, timeout=120, check=False)


def test_the_example_subscriber_keeps_each_article_once_and_resumes(
        flowed: PipelineRun, tmp_path: Path) -> None:
    out = tmp_path / "kept.jsonl"
    first = subscribe(flowed, "partner-service", out, "--stop-when-idle", "5")
    assert first.returncode == 0, first.stderr
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    unique = {r["article_id"] for r in topic_records(flowed, "unique")}
    assert {k["article_id"] for k in kept} == unique and len(kept) == len(unique)
    # Same group again: its commits say everything was handled; nothing is kept twice.
    again = subscribe(flowed, "partner-service", out, "--stop-when-idle", "5")
    assert again.returncode == 0 and "kept 0 article" in again.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(kept)


def test_the_example_subscriber_says_when_the_broker_is_down(flowed: PipelineRun,
                                                             tmp_path: Path) -> None:
    result = subscribe(flowed, "g", tmp_path / "x.jsonl", bootstrap="127.0.0.1:1")
    assert result.returncode == 1
    assert "Kafka is not reachable at 127.0.0.1:1" in result.stderr

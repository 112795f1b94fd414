"""The pipeline under load and under faults, on the real local stack (the short version of
bench/system/fault_bench.py): real news pages behind feeds on many loopback hosts, the three workers
as real processes at default settings (their own topics and index), and what the system
promises checked at the end: every offered article indexed exactly once, nothing dead-lettered
because the machine, the broker or Elasticsearch was busy or down. Counts, not times."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.system.faults import PipelineRun
from bench.system.stack_runs import read_records
from pipeline.records import EnrichedArticle
from pipeline.settings import Settings
from pipeline.stack.procs import free_port

SETTLE_S = 300  # generous: a bound on a hung run, not a speed target (bench/ measures those)


@pytest.fixture
def pipeline_run(stack: Settings, shared_dir: Path, tmp_path: Path,
                 request: pytest.FixtureRequest) -> Iterator[PipelineRun]:
    articles, feeds, overrides = request.param
    run = PipelineRun(articles, feeds, port=free_port(), settings=stack, overrides=overrides,
                      tmp=tmp_path)
    yield run
    run.stop()


def until_indexed(run: PipelineRun, count: int) -> None:
    waited = run.wait_settled(count, timeout_s=SETTLE_S)
    assert waited is not None, f"fewer than {count} articles indexed after {SETTLE_S}s"


def assert_whole(run: PipelineRun) -> None:
    """Every offered article indexed once; nothing dead-lettered; nothing lost."""
    until_indexed(run, len(run.site.articles))
    damage = run.damage()
    assert dict(damage.dead_letters) == {}
    assert (damage.indexed, damage.duplicates) == (damage.offered, 0)


@pytest.mark.parametrize("pipeline_run", [(300, 20, {})], indirect=True)
def test_a_cold_start_burst_at_default_settings_is_indexed_whole(
        pipeline_run: PipelineRun) -> None:
    pipeline_run.start()
    pipeline_run.offer()
    assert_whole(pipeline_run)
    # Every article is on the articles topic at least once, and the index can say how long
    # each stage held them.
    topic = pipeline_run.env["NEWSFLOW_TOPICS__ARTICLES"]
    on_topic = {k for k, _ in read_records(pipeline_run.base_settings.kafka.bootstrap_servers,
                                           topic)}
    assert len(on_topic) == 300
    report = json.loads(pipeline_run.group.run_cli("stats", "--json", "--since", "1h").stdout)
    assert report["indexed"] == 300 and report["dead_letters"] == []
    assert report["latency_ms"]["total"]["p99"] is not None


@pytest.mark.parametrize("pipeline_run", [(200, 20, {})], indirect=True)
def test_workers_killed_mid_flow_lose_and_repeat_nothing(pipeline_run: PipelineRun) -> None:
    pipeline_run.start()
    pipeline_run.offer()
    for victim, after in (("worker", 30), ("indexer", 80), ("poller", 120)):
        until_indexed(pipeline_run, after)
        pipeline_run.kill(victim)
    assert_whole(pipeline_run)
    # First copies reach the unique topic: nothing a subscriber relies on went missing.
    bootstrap = pipeline_run.base_settings.kafka.bootstrap_servers
    unique = {EnrichedArticle.model_validate_json(v).article_id for _, v in
              read_records(bootstrap, pipeline_run.env["NEWSFLOW_TOPICS__UNIQUE"])}
    firsts = {EnrichedArticle.model_validate_json(v).article_id for _, v in
              read_records(bootstrap, pipeline_run.env["NEWSFLOW_TOPICS__ENRICHED"])
              if EnrichedArticle.model_validate_json(v).dup_kind == "none"}
    assert firsts and unique == firsts


# Short request timeouts, so a stall makes requests time out and the retry paths run.
@pytest.mark.parametrize("pipeline_run", [(200, 20, {"kafka.request_timeout_s": 5})],
                         indirect=True)
def test_a_broker_stall_costs_no_article(pipeline_run: PipelineRun) -> None:
    pipeline_run.start()
    pipeline_run.offer()
    until_indexed(pipeline_run, 30)
    pipeline_run.stall("kafka", 20)
    assert_whole(pipeline_run)


@pytest.mark.parametrize("pipeline_run", [(200, 20, {"es.request_timeout_s": 3})],
                         indirect=True)
def test_elasticsearch_stalled_then_killed_and_restarted(pipeline_run: PipelineRun) -> None:
    pipeline_run.start()
    pipeline_run.offer()
    until_indexed(pipeline_run, 30)
    pipeline_run.stall("es", 12)  # bulk requests time out: the indexer waits, never exits
    until_indexed(pipeline_run, 100)
    pipeline_run.restart("es")
    assert_whole(pipeline_run)


@pytest.mark.parametrize("pipeline_run", [(60, 6, {"es.request_timeout_s": 3})], indirect=True)
def test_an_indexer_started_while_elasticsearch_is_frozen_waits_and_resumes(
        pipeline_run: PipelineRun) -> None:
    pipeline_run.start("poller", "worker")
    pipeline_run.offer()
    es = pipeline_run.service_pid("es")
    os.kill(es, signal.SIGSTOP)
    try:
        pipeline_run.group.start("indexer", "index")
        # It times out against the frozen node and says it waits, instead of exiting.
        pipeline_run.group.wait_for_log("indexer", "waiting_for_stack", timeout_s=60)
    finally:
        os.kill(es, signal.SIGCONT)
    pipeline_run.group.wait_for_log("indexer", "indexer_started", timeout_s=120)
    assert_whole(pipeline_run)

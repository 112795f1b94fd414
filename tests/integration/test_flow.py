"""Feed -> poller -> Kafka -> Faust worker -> indexer -> Elasticsearch -> `newsflow search`.

Everything is real: the local Kafka and Elasticsearch, the bundled sample site served over HTTP,
and the workers as the same `newsflow` processes the demo and docker-compose run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from elasticsearch import Elasticsearch

from pipeline.demo.site.server import DemoSite, serve_demo_site
from pipeline.enrich.enrichment import enrich_article, load_models
from pipeline.index.search import search_articles
from pipeline.records import DeadLetter, EnrichedArticle
from pipeline.stack.workers import WorkerGroup
from tests.conftest import Isolated
from tests.integration.kafka_util import consumer_lag, produce, read_topic, wait_for
from tests.unit.pipeline.test_records import make_article

CHROME_WORD = "Zephyrine"  # only in the sample site's donation banner


def newsflow(iso: Isolated, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env={**os.environ, **iso.env},
                          capture_output=True, text=True, timeout=timeout, check=False)


def es_count(iso: Isolated, **term: str) -> int:
    client = Elasticsearch(iso.settings.es.url)
    try:
        alias = iso.settings.es.index_alias
        if not client.indices.exists_alias(name=alias):
            return 0
        # 503: the alias exists but its new shard is not assigned yet, so nothing is in it
        guarded = client.options(ignore_status=503)
        guarded.indices.refresh(index=alias)
        query = {"term": term} if term else {"match_all": {}}
        return int(guarded.count(index=alias, query=query).get("count", 0))
    finally:
        client.close()


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with serve_demo_site(port=0) as demo:
        yield demo


@pytest.fixture
def workers(isolated: Isolated) -> Iterator[WorkerGroup]:
    group = WorkerGroup(env=isolated.env, log_dir=isolated.tmp / "logs")
    yield group
    group.stop_all()


def test_article_flows_from_feed_to_search_hit(isolated: Isolated, site: DemoSite,
                                               workers: WorkerGroup) -> None:
    subscribed = newsflow(isolated, "feeds", "add", site.feed_url)
    assert subscribed.returncode == 0, subscribed.stderr
    kafka = isolated.settings.kafka.bootstrap_servers
    topics = isolated.settings.topics

    workers.start("worker", "worker")
    workers.start("indexer", "index")
    first = newsflow(isolated, "poll", "--once")
    assert first.returncode == 0, first.stderr
    # A poison message between real articles: dead-lettered with its reason, the rest flows.
    produce(isolated.settings, topics.articles, [(b"poison", b"{not json")])

    expected = len(site.articles)
    wait_for(lambda: es_count(isolated) == expected, timeout_s=120,
             what=f"{expected} articles in Elasticsearch", check=workers.check_alive)

    url, _title, rare_word = site.articles[0]
    result = newsflow(isolated, "search", rare_word, "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert [h["url"] for h in hits] == [url]
    assert "<em>" in hits[0]["snippet"]
    for url, _title, rare_word in site.articles[1:]:
        assert [h.url for h in search_articles(isolated.settings.es, rare_word)] == [url]
    # Chrome was stripped before indexing: the donation banner's word finds nothing.
    assert search_articles(isolated.settings.es, CHROME_WORD) == []

    # The worker's liveness page: it has worked through its lag, so it is not stalled.
    health = httpx.get(f"http://127.0.0.1:{isolated.settings.worker.web_port}/health", timeout=10)
    assert (health.status_code, health.json()["status"]) == (200, "ok")

    letters = [DeadLetter.model_validate_json(v) for _, v in read_topic(kafka, topics.dead_letter)]
    assert [(d.stage, d.reason, d.payload) for d in letters] == [("enrich", "bad-record", "{not json")]

    # Polling again emits nothing: the poller remembers, across processes, what it sent.
    emitted = len(read_topic(kafka, topics.articles))
    again = newsflow(isolated, "poll", "--once")
    assert again.returncode == 0, again.stderr
    assert len(read_topic(kafka, topics.articles)) == emitted == expected + 1


def _enriched(n: int) -> list[tuple[bytes, bytes]]:
    models = load_models()
    now = datetime.now(UTC)
    records = []
    for i in range(n):
        article = make_article(article_id=f"{i:032x}", url=f"https://bulk.example/{i}",
                               final_url=f"https://bulk.example/{i}", source_domain="bulk.example",
                               text=f"Bulk article number {i} about the harbour tram.")
        enriched: EnrichedArticle = enrich_article(article, models, now=now)
        records.append((enriched.article_id.encode(), enriched.model_dump_json().encode()))
    return records


def test_indexer_killed_mid_stream_loses_and_duplicates_nothing(
        isolated: Isolated, workers: WorkerGroup) -> None:
    total = 3000
    isolated.env["NEWSFLOW_INDEXER__BATCH_SIZE"] = "10"
    kafka = isolated.settings.kafka.bootstrap_servers
    enriched_topic = isolated.settings.topics.enriched
    records = _enriched(total)
    poison = (b"poison", b'{"schema_version": 1}')
    produce(isolated.settings, enriched_topic, records[:300] + [poison] + records[300:])

    workers.start("indexer", "index")
    wait_for(lambda: es_count(isolated) >= 40, timeout_s=90, what="the first batches indexed",
             check=workers.check_alive)
    workers.stop("indexer", kill=True)  # SIGKILL: no chance to finish or commit
    assert es_count(isolated) < total, "indexer finished before it could be killed"

    workers.start("indexer", "index")
    wait_for(lambda: es_count(isolated) == total, timeout_s=120, what=f"{total} documents",
             check=workers.check_alive)
    # Redelivery of everything (as after a lost commit) overwrites, never duplicates.
    produce(isolated.settings, enriched_topic, records)
    group = isolated.settings.indexer.group_id
    wait_for(lambda: consumer_lag(kafka, group, enriched_topic) == 0, timeout_s=120,
             what="the indexer to commit everything", check=workers.check_alive)
    assert workers.stop("indexer") == 0  # SIGTERM: graceful, batch finished and committed
    assert es_count(isolated) == total
    assert es_count(isolated, source_domain="bulk.example") == total
    letters = [DeadLetter.model_validate_json(v)
               for _, v in read_topic(kafka, isolated.settings.topics.dead_letter)]
    assert {(d.stage, d.reason) for d in letters} == {("index", "bad-record")}

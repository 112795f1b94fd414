"""`newsflow stats [--since 1h] [--json]`: where articles wait, stage by stage.

Like Media Cloud's "pipeview", one screen for the whole flow:
- latency of each stage, from the stage timestamps every indexed document carries (fetched,
  extracted, enriched, deduplicated, indexed: `latency_ms` in the index), as p50/p95/p99/max
  over the documents indexed in the window, and fetch-to-index in all (searchable within the
  index's refresh interval after);
- the work waiting in front of each stage: the real consumer lag (end offset minus committed
  offset) of the worker's and the indexer's consumer groups, read from the broker;
- the dead letters of the window, by stage and reason (`newsflow dlq` for the letters).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

import typer
from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError
from rich.table import Table

from pipeline.cli.dlq import letters
from pipeline.cli.support import out, run_or_fail, settings_or_exit
from pipeline.cli.topics import consumer
from pipeline.errors import SinkUnavailable
from pipeline.index.documents import parse_since
from pipeline.index.search import index_stats
from pipeline.kafka import unreachable
from pipeline.settings import Settings


def group_lag(settings: Settings) -> dict[str, dict[str, int]]:
    """group -> topic -> records not yet committed, summed over partitions."""
    kafka = settings.kafka
    groups = {settings.worker.app_id: [settings.topics.articles, settings.topics.dedup],
              settings.indexer.group_id: [settings.topics.enriched]}
    try:
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers.split(","),
                                 client_id=f"{kafka.client_id}-stats",
                                 bootstrap_timeout_ms=int(kafka.request_timeout_s * 1000))
    except KafkaError as err:
        raise unreachable(kafka) from err
    lags: dict[str, dict[str, int]] = {}
    try:
        with consumer(kafka) as client:
            for group, topics in groups.items():
                committed = admin.list_group_offsets([group]).get(group, {})
                partitions = [TopicPartition(t, p) for t in topics
                              for p in client.partitions_for_topic(t) or ()]
                end = client.end_offsets(partitions) if partitions else {}
                per_topic: Counter[str] = Counter()
                for tp, end_offset in end.items():
                    done = committed.get(tp)
                    per_topic[tp.topic] += max(0, end_offset - (done.offset if done else 0))
                lags[group] = dict(per_topic)
    except KafkaError as err:
        raise SinkUnavailable(f"consumer lag unavailable: {err}", target=kafka.bootstrap_servers,
                              reason="kafka-error") from err
    finally:
        admin.close()
    return lags


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def stats_command(
    since: Annotated[str, typer.Option(help="The window: 90m, 12h, 7d, ...")] = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
    = False,
) -> None:
    """Latency per stage, consumer lag and dead letters of the pipeline."""
    settings = settings_or_exit(log_level="warning")
    start = parse_since(since, datetime.now(UTC))
    index = run_or_fail(lambda: index_stats(settings.es, start))
    lag = run_or_fail(lambda: group_lag(settings))
    failed = Counter((d.letter.stage, d.letter.reason) for d in
                     run_or_fail(lambda: letters(settings, since=since)))
    if as_json:
        out.print_json(json.dumps({
            "since": start.isoformat(), "indexed": index.documents, "by_kind": index.by_kind,
            "first_indexed": index.first_indexed, "last_indexed": index.last_indexed,
            "latency_ms": {s.stage: {"p50": s.p50_ms, "p95": s.p95_ms, "p99": s.p99_ms,
                                     "max": s.max_ms} for s in index.latency},
            "consumer_lag": lag,
            "dead_letters": [{"stage": st, "reason": r, "count": n}
                             for (st, r), n in failed.most_common()]}))
        return
    out.print(f"[bold]since {start:%Y-%m-%d %H:%M} UTC[/]: {index.documents} article(s) indexed"
              + (f" ({', '.join(f'{k} {v}' for k, v in index.by_kind.items())})"
                 if index.by_kind else ""))
    table = Table(title="time each stage held an article")
    for column in ("stage", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    labels = {"extract": "fetched -> extracted", "enrich": "extracted -> enriched",
              "dedup": "enriched -> deduplicated", "index": "deduplicated -> indexed",
              "total": "fetched -> indexed"}
    for s in index.latency:
        table.add_row(labels.get(s.stage, s.stage), _ms(s.p50_ms), _ms(s.p95_ms),
                      _ms(s.p99_ms), _ms(s.max_ms))
    out.print(table)
    waiting = Table(title="waiting (consumer lag: end offset minus committed)")
    for column in ("group", "topic", "records"):
        waiting.add_column(column, justify="right" if column == "records" else "left")
    for group, topics in lag.items():
        for topic, count in topics.items():
            waiting.add_row(group, topic, str(count))
    out.print(waiting)
    if failed:
        out.print("[bold]dead letters[/] (newsflow dlq list):")
        for (stage, reason), n in failed.most_common():
            out.print(f"  {n:>6}  {stage:<7} {reason}", highlight=False)
    else:
        out.print("no dead letters in the window")

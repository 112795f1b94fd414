"""What the benches that run `newsflow` processes on the local stack share."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.kafka import start_producer
from pipeline.settings import Settings
from pipeline.stack.workers import run_names, settings_env

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def tree_cpu_seconds(root: int) -> float:
    """CPU of a process and all its descendants so far, the reaped ones included (their time
    is in their parent's cutime/cstime)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # u/s time + children's
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def isolated_env(run_id: str, state_dir: Path, extra: dict[str, object]) -> dict[str, str]:
    """A bench run's settings as NEWSFLOW_* variables: its own names, defaults otherwise."""
    return settings_env({**run_names(run_id, state_dir), **extra})


async def _read_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        out: list[tuple[bytes | None, bytes]] = []
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                out.extend((r.key, r.value or b"") for r in records)
            remaining = {tp for tp in remaining if await consumer.position(tp) < end[tp]}
        return out
    finally:
        await consumer.stop()


def read_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every record of `topic` as it is now."""
    return asyncio.run(_read_records(bootstrap, topic))


async def produce(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """(key, value) records to `topic`, in order, flushed."""
    producer = await start_producer(settings.kafka)  # the pipeline's own producer settings
    try:
        for key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def cpu_yardstick_ms() -> float:
    """CPU milliseconds of a fixed pure-Python workload (tokens, shingles, JSON).

    On a shared machine the same code runs at different speeds from one hour to the next; this
    figure, printed before and after the runs, says how fast the machine was meanwhile."""
    text = " ".join(f"word{i % 997} Name{i % 89}." for i in range(20_000))
    started = time.process_time()
    for _ in range(5):
        tokens = re.findall(r"\w+", text.lower())
        json.loads(json.dumps(list(map(" ".join, zip(tokens, tokens[1:], tokens[2:])))))
    return 1000 * (time.process_time() - started)


def run_and_report(doc: str | None, unit: str, *, articles: int, runs: int, tmp: Path,
                   run: Callable[[int, Path], tuple[int, float, float]]) -> None:
    """The benches' command line: `run(articles, tmp)` -> (items, seconds, process CPU s),
    `--runs` times, one line of figures each."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=articles)
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--tmp", type=Path, default=tmp)
    args = ap.parse_args()
    print(f"machine yardstick before: {cpu_yardstick_ms():.0f} ms CPU (lower is faster)")
    print(f"{'run':>4} {unit:>10} {'seconds':>8} {unit + '/s':>12} {'CPU s':>7} "
          f"{unit + '/CPU-s':>16}")
    for i in range(args.runs):
        items, seconds, cpu = run(args.articles, args.tmp)
        print(f"{i + 1:>4} {items:>10} {seconds:>8.1f} {items / seconds:>12.0f} {cpu:>7.1f} "
              f"{items / cpu:>16.0f}", flush=True)
    print(f"machine yardstick after: {cpu_yardstick_ms():.0f} ms CPU; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")

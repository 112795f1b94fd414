"""What the benches that run `newsflow` processes on the local stack share."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.kafka import start_producer
from pipeline.settings import Settings

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


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

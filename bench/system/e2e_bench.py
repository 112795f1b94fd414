"""End to end on the local stack: a cold-start burst of real pages, from feeds to search hits.

    python -m bench.system.e2e_bench [--articles 1000] [--feeds 40] [--env KEY=VALUE ...]

1. A local news site (bench/system/news_site.py): the dev split's 58 real pages replicated into
   `--articles` distinct articles behind `--feeds` RSS feeds, one loopback host per feed.
2. The ceiling, in the same run on the same pages: trafilatura alone (`trafilatura.extract`,
   its defaults) fetching and extracting every page in as many processes as cores; no Kafka,
   no Elasticsearch.
3. The pipeline: `newsflow poll`, `newsflow worker` and `newsflow index` as real processes
   (`--pollers N`, `--workers N` for more of each) with default settings (only topic and index names are the run's own, and loopback is allowed to
   the fetcher: the news site lives there); once all three are up, the feeds are imported and
   the burst begins. Elasticsearch is polled every second for newly searchable articles.

The ceiling is measured before and after the pipeline's run (the machine's speed drifts) and
the ratio uses their mean. Printed: indexed/expected, dead letters by reason, articles/s (burst start to last article
searchable), its ratio to the ceiling, fetch-to-searchable p50/p99 (searchable = first seen by
a search), and CPU seconds per article of each process (with its children), Kafka and
Elasticsearch included. `--env` overrides a setting for the run (e.g.
`--env poller.extract_timeout_s=900`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.system import news_site
from bench.system.stack_runs import (
    cpu_seconds,
    cpu_yardstick_ms,
    isolated_env,
    read_records,
    tree_cpu_seconds,
)
from pipeline.records import DeadLetter
from pipeline.settings import load_settings
from pipeline.stack.install import stack_paths
from pipeline.stack.lifecycle import ensure_stack
from pipeline.stack.procs import free_port, read_pid
from pipeline.stack.workers import WorkerGroup

STALL_S = 180.0  # no new article searchable for this long: report what we have


def _ceiling_worker(urls: list[str], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import trafilatura

    started = time.process_time()
    extracted = 0
    with httpx.Client(timeout=30) as client:
        for url in urls:
            html = client.get(url).text
            if trafilatura.extract(html, url=url):
                extracted += 1
    out.put((extracted, time.process_time() - started))


def ceiling(urls: list[str], processes: int) -> tuple[float, float, int]:
    """(pages/s, CPU s per page, pages extracted) for trafilatura alone in N processes."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    shares = [urls[i::processes] for i in range(processes)]
    started = time.monotonic()
    procs = [ctx.Process(target=_ceiling_worker, args=(share, out)) for share in shares]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    wall = time.monotonic() - started
    for proc in procs:
        proc.join()
    cpu = sum(r[1] for r in results)
    return len(urls) / wall, cpu / len(urls), sum(r[0] for r in results)


class Searchable:
    """When each article first shows in a search (the ES refresh included)."""

    def __init__(self, es_url: str, alias: str) -> None:
        self._client = httpx.Client(base_url=es_url, timeout=30)
        self._alias = alias
        self.seen: dict[str, float] = {}  # article_id -> monotonic time first seen
        self.fetched: dict[str, float] = {}  # article_id -> fetched_at (epoch s)

    def poll(self) -> int:
        body = {"size": 10_000, "_source": ["fetched_at"],
                "query": {"bool": {"must_not": {"ids": {"values": list(self.seen)}}}}}
        answer = self._client.post(f"/{self._alias}/_search", json=body)
        now = time.monotonic()
        if answer.status_code == 200:
            for hit in answer.json()["hits"]["hits"]:
                self.seen[hit["_id"]] = now
                self.fetched[hit["_id"]] = datetime.fromisoformat(
                    hit["_source"]["fetched_at"]).timestamp()
        return len(self.seen)

    def drop(self) -> None:
        self._client.delete(f"/{self._alias}-*")
        self._client.close()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else (values[0] if values else float("nan"))


def _role(name: str) -> str:
    return name.rstrip("0123456789")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--pollers", type=int, default=1, help="poller processes")
    ap.add_argument("--workers", type=int, default=1, help="Faust worker processes")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="py-spy the workers during the burst (collapsed stacks in DIR)")
    args = ap.parse_args()

    settings = load_settings()
    ensure_stack(settings)
    site = news_site.build_site(args.articles, args.feeds, args.port)
    server = news_site.start(site)
    cores = len(os.sched_getaffinity(0))
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {cores} cores; yardstick "
          f"{cpu_yardstick_ms():.0f} ms CPU; {args.articles} articles behind {args.feeds} feeds; "
          f"{args.pollers} poller(s), {args.workers} worker(s), 1 indexer", flush=True)
    # The ceiling before and after the pipeline's run: the machine's speed drifts.
    ceilings = [ceiling(list(site.articles), cores)]
    print(f"ceiling before (trafilatura alone, {cores} processes): {ceilings[0][0]:.1f} pages/s, "
          f"{1000 * ceilings[0][1]:.1f} ms CPU per page", flush=True)

    run = f"e2e{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{run}-"))
    overrides = dict(kv.split("=", 1) for kv in args.env)
    env = isolated_env(run, tmp, {"fetch.allowed_networks": '["127.0.0.0/8"]', **overrides})
    group = WorkerGroup(env=env, log_dir=tmp / "logs")
    searchable = Searchable(settings.es.url, env["NEWSFLOW_ES__INDEX_ALIAS"])
    roles = [(f"poller{i}", "poll", "poller_started", {"NEWSFLOW_POLLER__WORKER_ID": f"p{i}"})
             for i in range(args.pollers)]
    roles += [(f"worker{i}", "worker", "worker_started", {
        "NEWSFLOW_WORKER__DATA_DIR": str(tmp / f"faust{i}"),
        "NEWSFLOW_WORKER__WEB_PORT": str(free_port())}) for i in range(args.workers)]
    roles += [("indexer", "index", "indexer_started", {})]
    try:
        for name, command, ready, extra in roles:
            group.env = {**env, **extra}
            group.start(name, command)
            group.wait_for_log(name, ready, timeout_s=180)
        group.env = env
        paths = stack_paths(settings.stack)
        pids = {name: w.popen.pid for name, w in group.workers.items()}
        pids |= {"kafka": read_pid(paths.kafka_pid) or 0,
                 "elasticsearch": read_pid(paths.es_pid) or 0}
        pollers = [pid for name, pid in pids.items() if name.startswith("poller")]
        cpu_before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
        main_before = sum(cpu_seconds(pid) for pid in pollers)
        spies = [] if args.profile is None else [subprocess.Popen(
            ["py-spy", "record", "--format", "raw", "--rate", "100", "--subprocesses",
             "--pid", str(w.popen.pid), "-o", str(args.profile / f"{name}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, w in group.workers.items()]
        feeds_file = news_site.feeds_yaml(site, tmp / "feeds.yaml")
        started = time.monotonic()
        group.run_cli("feeds", "import", str(feeds_file))
        last_count, last_change = 0, time.monotonic()
        while last_count < args.articles:
            group.check_alive()
            count = searchable.poll()
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
                print(f"  {now - started:6.1f} s: {count} searchable", flush=True)
            if now - last_change > STALL_S or now - started > args.timeout:
                print(f"  stopped waiting: no progress for {now - last_change:.0f} s", flush=True)
                break
            time.sleep(1.0)  # another process's progress: polled
        cpu_after = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
        main_cpu = sum(cpu_seconds(pid) for pid in pollers) - main_before
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        letters = [DeadLetter.model_validate_json(v) for _, v in read_records(
            settings.kafka.bootstrap_servers, env["NEWSFLOW_TOPICS__DEAD_LETTER"])]
        stats = json.loads(group.run_cli("stats", "--json", "--since", "1h").stdout)
    finally:
        group.stop_all()
        searchable.drop()
    ceilings.append(ceiling(list(site.articles), cores))
    server.terminate()
    rate_ceiling = sum(c[0] for c in ceilings) / 2
    cpu_ceiling = sum(c[1] for c in ceilings) / 2
    print(f"ceiling after: {ceilings[1][0]:.1f} pages/s, {1000 * ceilings[1][1]:.1f} ms CPU per "
          f"page; mean {rate_ceiling:.1f} pages/s")

    indexed = len(searchable.seen)
    done_at = max(searchable.seen.values(), default=started)
    rate = indexed / (done_at - started) if indexed else 0.0
    # fetch-to-searchable: wall clock of first sight minus fetched_at, both as epoch seconds
    offset = time.time() - time.monotonic()
    latencies = [searchable.seen[a] + offset - searchable.fetched[a] for a in searchable.seen]
    print(f"indexed {indexed}/{args.articles}; dead letters {len(letters)}"
          + (f" {dict(Counter(d.reason for d in letters))}" if letters else ""))
    print(f"rate {rate:.1f} articles/s = {rate / rate_ceiling:.2f} of the ceiling; "
          f"fetch-to-searchable p50 {_percentile(latencies, 50):.1f} s, "
          f"p99 {_percentile(latencies, 99):.1f} s")
    stages = stats["latency_ms"]
    print("  stage p50/p99 (s): " + ", ".join(
        f"{name} {(v['p50'] or 0) / 1000:.1f}/{(v['p99'] or 0) / 1000:.1f}"
        for name, v in stages.items()))
    used: Counter[str] = Counter()
    for name in pids:
        used[_role(name)] += cpu_after[name] - cpu_before[name]
    per = {name: round(1000 * cpu / max(1, indexed), 1) for name, cpu in used.items()}
    for name, ms in per.items():
        print(f"  CPU {name:<14} {used[name]:7.1f} s = {ms:6.1f} ms/article")
    print(f"  (pollers' own processes {1000 * main_cpu / max(1, indexed):.1f} ms/article, their "
          "extraction processes the rest)")
    total = sum(used.values())
    print(f"  CPU {'all':<14} {total:7.1f} s = {1000 * total / max(1, indexed):6.1f} ms/article "
          f"(ceiling {1000 * cpu_ceiling:.1f} ms/page)")
    print(json.dumps({"indexed": indexed, "expected": args.articles, "dead_letters": len(letters),
                      "rate": round(rate, 2), "ceiling": round(rate_ceiling, 2),
                      "ratio": round(rate / rate_ceiling, 3),
                      "p50_s": round(_percentile(latencies, 50), 2),
                      "p99_s": round(_percentile(latencies, 99), 2),
                      "cpu_ms_per_article": per}))


if __name__ == "__main__":
    main()

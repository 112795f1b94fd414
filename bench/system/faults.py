"""Faults on the real local stack, and how their damage is counted.

One `PipelineRun` is a news site (bench/system/news_site.py) behind feeds, the three workers as real
processes with their own topics and index, and the counting: articles offered, documents in
the index (one per article, and any article indexed under two ids), dead letters by reason,
seconds from the end of a fault until every offered article is searchable. The faults are what
happens to real deployments: a worker SIGKILLed, Kafka or Elasticsearch stalled (SIGSTOP,
SIGCONT) or killed and restarted, a full disk under the worker's state. Used by
bench/system/fault_bench.py (the full matrix) and tests/integration/test_faults.py (its short version).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.system import news_site
from bench.system.stack_runs import isolated_env, read_records
from pipeline.records import DeadLetter
from pipeline.settings import Settings, load_settings
from pipeline.stack.install import stack_paths
from pipeline.stack.lifecycle import ensure_stack
from pipeline.stack.procs import read_pid
from pipeline.stack.workers import WorkerGroup

WORKERS = {"poller": ("poll", "poller_started"), "worker": ("worker", "worker_started"),
           "indexer": ("index", "indexer_started")}


@dataclass
class Damage:
    """What a run lost, repeated or parked."""

    offered: int
    indexed: int  # distinct articles in the index
    duplicates: int  # articles (URLs) indexed under more than one document
    dead_letters: Counter[str] = field(default_factory=Counter)  # reason -> count
    recovery_s: float | None = None  # fault over -> every offered article searchable

    @property
    def lost(self) -> int:
        return self.offered - self.indexed - sum(self.dead_letters.values())


class PipelineRun:
    def __init__(self, articles: int, feeds: int, *, port: int, settings: Settings | None = None,
                 overrides: dict[str, object] | None = None,
                 extra_routes: news_site.Routes | None = None,
                 tmp: Path | None = None) -> None:
        self.base_settings = settings or load_settings()
        self.tmp = tmp or Path(tempfile.mkdtemp(prefix="faults-"))
        self.site = news_site.build_site(articles, feeds, port, extra=extra_routes)
        run = f"fault{uuid.uuid4().hex[:8]}"
        self.env = isolated_env(run, self.tmp, {"fetch.allowed_networks": '["127.0.0.0/8"]',
                                                **(overrides or {})})
        self.alias = self.env["NEWSFLOW_ES__INDEX_ALIAS"]
        self.group = WorkerGroup(env=self.env, log_dir=self.tmp / "logs")
        self._server: object = None
        self._es = httpx.Client(base_url=self.base_settings.es.url, timeout=30)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, *names: str) -> None:
        if self._server is None:
            self._server = news_site.start(self.site)
        for name in names or tuple(WORKERS):
            command, ready = WORKERS[name]
            self.group.start(name, command)
            self.group.wait_for_log(name, ready, timeout_s=180)

    def offer(self, feeds: list[str] | None = None) -> None:
        """Subscribe the feeds (all of the site's by default): the burst begins."""
        listing = self.tmp / f"feeds-{uuid.uuid4().hex[:6]}.yaml"
        listing.write_text("feeds:\n" + "".join(f"  - url: {u}\n"
                                                for u in feeds or self.site.feeds),
                           encoding="utf-8")
        self.group.run_cli("feeds", "import", str(listing))

    def stop(self) -> None:
        self.group.stop_all()
        if self._server is not None:
            self._server.terminate()  # type: ignore[attr-defined]
        self._es.delete(f"/{self.alias}-*")
        self._es.close()

    # -- faults --------------------------------------------------------------------------
    def kill(self, name: str) -> None:
        """SIGKILL a worker (no goodbye, nothing flushed) and start it again."""
        self.group.stop(name, kill=True)
        self.start(name)

    def service_pid(self, service: str) -> int:
        paths = stack_paths(self.base_settings.stack)
        pid = read_pid(paths.kafka_pid if service == "kafka" else paths.es_pid)
        if pid is None:
            raise RuntimeError(f"{service} is not running")
        return pid

    def stall(self, service: str, seconds: float) -> None:
        """Freeze Kafka or Elasticsearch (SIGSTOP), then let it go on (SIGCONT)."""
        pid = self.service_pid(service)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)  # the fault itself: a process that does nothing for a while
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart(self, service: str) -> None:
        """Kill Kafka or Elasticsearch (SIGKILL) and start it again, as a crash would."""
        os.kill(self.service_pid(service), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _alive(self.service_pid(service)) and time.monotonic() < deadline:
            time.sleep(0.2)  # the kernel reaping it: no event to wait on from here
        ensure_stack(self.base_settings)

    # -- counting ------------------------------------------------------------------------
    def indexed(self) -> Counter[str]:
        """URL -> documents holding it (1 each when nothing is duplicated)."""
        answer = self._es.post(f"/{self.alias}/_search", json={
            "size": 10_000, "_source": ["url"], "query": {"match_all": {}}})
        if answer.status_code != 200:
            return Counter()
        return Counter(h["_source"]["url"] for h in answer.json()["hits"]["hits"])

    def dead_letters(self) -> list[DeadLetter]:
        topic = self.env["NEWSFLOW_TOPICS__DEAD_LETTER"]
        return [DeadLetter.model_validate_json(v) for _, v in
                read_records(self.base_settings.kafka.bootstrap_servers, topic)]

    def wait_settled(self, expected: int, *, timeout_s: float) -> float | None:
        """Seconds until `expected` articles are indexed or dead-lettered (None: timed out)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            self.group.check_alive()
            done = len(self.indexed())
            if done >= expected or (done and done + len(self.dead_letters()) >= expected):
                return time.monotonic() - started
            time.sleep(1.0)  # another process's progress: polled, as a person would
        return None

    def damage(self, recovery_s: float | None = None) -> Damage:
        urls = self.indexed()
        return Damage(offered=len(self.site.articles), indexed=len(urls),
                      duplicates=sum(1 for n in urls.values() if n > 1),
                      dead_letters=Counter(d.reason for d in self.dead_letters()),
                      recovery_s=recovery_s)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text()


def tmpfs(path: Path, size_mb: int) -> None:
    """Mount a small tmpfs at `path` (root only): a disk that fills."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                   check=True)


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)

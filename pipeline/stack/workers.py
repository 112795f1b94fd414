"""Running the three workers as child processes: for the demo and the integration tests.

Each worker is the real `newsflow <command>` process, configured only through NEWSFLOW_*
environment variables, exactly as in docker-compose.yml.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import NewsflowError
from pipeline.stack.procs import free_port, tail

STOP_TIMEOUT_S = 30.0


def settings_env(overrides: Mapping[str, object]) -> dict[str, str]:
    """{"kafka.bootstrap_servers": x} -> {"NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS": "x"}."""
    return {"NEWSFLOW_" + key.replace(".", "__").upper(): str(value)
            for key, value in overrides.items()}


def run_names(run_id: str, state_dir: Path) -> dict[str, object]:
    """Settings that give one run (a test, a bench) topics, index, groups and state of its own."""
    return {
        "topics.articles": f"{run_id}.articles",
        "topics.enriched": f"{run_id}.enriched",
        "topics.dead_letter": f"{run_id}.dead-letter",
        "topics.feeds": f"{run_id}.feeds",
        "topics.feed_state": f"{run_id}.feed-state",
        "topics.dedup": f"{run_id}.dedup",
        "topics.unique": f"{run_id}.unique",
        "poller.group_id": f"{run_id}-poller",
        "es.index_alias": f"{run_id}-articles",
        "worker.app_id": f"{run_id}-worker",
        "worker.data_dir": state_dir / "faust",
        "worker.web_port": free_port(),
        "indexer.group_id": f"{run_id}-indexer",
        "poller.state_dir": state_dir / "poller",
    }


@dataclass
class WorkerProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class WorkerGroup:
    env: dict[str, str]
    log_dir: Path
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> WorkerProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        popen = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", *args],
            env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        worker = WorkerProcess(name, popen, log_path)
        self.workers[name] = worker
        return worker

    def check_alive(self) -> None:
        """Raise, with the log tail, if a worker that should be running has exited."""
        for worker in self.workers.values():
            code = worker.popen.poll()
            if code is not None:
                raise NewsflowError(
                    f"worker {worker.name!r} exited with code {code}; last log lines "
                    f"({worker.log_path}):\n{tail(worker.log_path) or '(no log)'}", reason="worker-exited")

    def wait_for_log(self, name: str, event: str, *, timeout_s: float) -> None:
        """Block until worker `name` has logged `event` (e.g. "poller_started")."""
        worker = self.workers[name]
        needle = f'"event": "{event}"'
        deadline = time.monotonic() + timeout_s
        while needle not in worker.log_path.read_text(encoding="utf-8", errors="replace"):
            self.check_alive()
            if time.monotonic() > deadline:
                raise NewsflowError(f"worker {name!r} did not log {event} within {timeout_s}s:\n"
                                    f"{tail(worker.log_path)}", reason="worker-not-ready")
            time.sleep(0.2)  # a log file written by another process: nothing to await

    def run_cli(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        """A one-shot `newsflow` command with this group's settings; raises if it fails."""
        result = subprocess.run([sys.executable, "-m", "pipeline.cli", *args],
                                env={**os.environ, **self.env}, capture_output=True, text=True,
                                timeout=timeout_s, check=False)
        if result.returncode != 0:
            raise NewsflowError(f"newsflow {' '.join(args)} failed: {result.stderr}",
                                reason="command-failed")
        return result

    def stop(self, name: str, *, kill: bool = False) -> int:
        """SIGTERM (graceful: the batch in hand is finished) or SIGKILL; returns the exit code."""
        worker = self.workers.pop(name)
        if worker.popen.poll() is None:
            worker.popen.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            return worker.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            worker.popen.kill()
            return worker.popen.wait()

    def stop_all(self) -> None:
        for name in list(self.workers):
            self.stop(name)

"""Without Kafka or Elasticsearch (no stack needed): commands fail fast and clearly; long-lived
workers wait for them, saying so, and still stop on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLOSED = "127.0.0.1:1"  # nothing listens on port 1


def newsflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_unreachable_kafka_names_address_and_remedy() -> None:
    result = newsflow("poll", "--once", NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS=CLOSED)
    assert result.returncode == 1
    assert f"Kafka is not reachable at {CLOSED}" in " ".join(result.stderr.split())
    assert "newsflow stack up" in result.stderr


@pytest.mark.parametrize(("command", "setting"), [
    ("poll", "NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS"), ("worker", "NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS"),
    ("index", "NEWSFLOW_ES__URL")])
def test_a_worker_started_before_the_stack_waits_for_it(command: str, setting: str,
                                                         tmp_path: Path) -> None:
    log_path = tmp_path / "worker.log"
    target = CLOSED if "KAFKA" in setting else f"http://{CLOSED}"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", command],
            env={**os.environ, setting: target, "NEWSFLOW_LOG_FORMAT": "json",
                 "NEWSFLOW_WORKER__DATA_DIR": str(tmp_path / "faust"),
                 "NEWSFLOW_POLLER__STATE_DIR": str(tmp_path / "poller")},
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        # Two waits logged: it retried after the first failure rather than exiting.
        while log_path.read_text().count('"event": "waiting_for_stack"') < 2:
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)  # another process's log file: nothing to await
        assert "not reachable at" in log_path.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    assert code == 0, log_path.read_text()


@pytest.mark.parametrize("command", [["search", "tram"]])
def test_unreachable_elasticsearch_names_address_and_remedy(command: list[str]) -> None:
    result = newsflow(*command, NEWSFLOW_ES__URL=f"http://{CLOSED}")
    assert result.returncode == 1
    assert f"Elasticsearch is not reachable at http://{CLOSED}" in " ".join(result.stderr.split())
    assert "newsflow stack up" in result.stderr


def test_invalid_setting_fails_at_start_up_naming_it() -> None:
    result = newsflow("poll", "--once", NEWSFLOW_TOPICS__PARTITIONS="many")
    assert result.returncode == 2
    assert "topics.partitions" in result.stderr and "'many'" in result.stderr

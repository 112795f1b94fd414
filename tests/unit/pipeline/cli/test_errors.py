"""Workers fail fast and clearly when Kafka or Elasticsearch is not there (no stack needed)."""

import os
import subprocess
import sys

import pytest

CLOSED = "127.0.0.1:1"  # nothing listens on port 1


def newsflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("command", [["poll", "--once"], ["worker"]])
def test_unreachable_kafka_names_address_and_remedy(command: list[str]) -> None:
    result = newsflow(*command, NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS=CLOSED)
    assert result.returncode == 1
    assert f"Kafka is not reachable at {CLOSED}" in " ".join(result.stderr.split())
    assert "newsflow stack up" in result.stderr


@pytest.mark.parametrize("command", [["index"], ["search", "tram"]])
def test_unreachable_elasticsearch_names_address_and_remedy(command: list[str]) -> None:
    result = newsflow(*command, NEWSFLOW_ES__URL=f"http://{CLOSED}")
    assert result.returncode == 1
    assert f"Elasticsearch is not reachable at http://{CLOSED}" in " ".join(result.stderr.split())
    assert "newsflow stack up" in result.stderr


def test_invalid_setting_fails_at_start_up_naming_it() -> None:
    result = newsflow("poll", "--once", NEWSFLOW_TOPICS__PARTITIONS="many")
    assert result.returncode == 2
    assert "topics.partitions" in result.stderr and "'many'" in result.stderr

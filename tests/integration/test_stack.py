"""The real local stack: `up` is idempotent and `status` reports both services healthy."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.stack.install import ensure_kafka_libs, java, render_server_properties, stack_paths
from pipeline.stack.lifecycle import ensure_stack, format_kafka_storage, kafka_jvm, stack_status


def test_up_again_reuses_the_running_stack(stack: Settings) -> None:
    before = stack_status(stack)
    assert before.healthy, before
    started = time.monotonic()
    again = ensure_stack(stack)
    assert time.monotonic() - started < 10  # no restart: only a status probe
    assert again.reused and again.healthy
    assert (again.kafka.pid, again.es.pid) == (before.kafka.pid, before.es.pid)


def test_status_reports_both_healthy(stack: Settings) -> None:
    status = stack_status(stack)
    for svc, port, version in ((status.kafka, stack.stack.kafka_port, stack.stack.kafka_version),
                               (status.es, stack.stack.es_port, stack.stack.es_version)):
        assert svc.healthy, svc
        assert svc.pid is not None and svc.port == port and svc.version == version
        assert svc.log_path.exists()


def test_status_command_json_and_exit_code(stack: Settings) -> None:
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli.stack", "status", "--json"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["healthy"] is True
    assert doc["kafka"]["healthy"] and doc["es"]["healthy"]


def test_storage_format_takes_a_cluster_id_that_starts_with_a_dash(
        stack: Settings, tmp_path: Path) -> None:
    # base64url ids start with "-" 1 time in 64; the tool once read such an id as an option.
    paths = stack_paths(stack.stack)
    jvm = kafka_jvm(java(), ensure_kafka_libs(stack.stack, paths))
    props = tmp_path / "server.properties"
    props.write_text(render_server_properties(stack.stack, tmp_path / "data"))
    format_kafka_storage(jvm, "-gHln-mwRVW16aVduGaGHg", props)
    meta = (tmp_path / "data" / "meta.properties").read_text()
    assert "cluster.id=-gHln-mwRVW16aVduGaGHg" in meta

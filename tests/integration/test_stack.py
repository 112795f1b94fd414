"""The real local stack: `up` is idempotent and `status` reports both services healthy."""

from __future__ import annotations

import subprocess
import sys
import time

from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.stack import ensure_stack, stack_status


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
    proc = subprocess.run([sys.executable, "-m", "pipeline.stack_cli", "status", "--json"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["healthy"] is True
    assert doc["kafka"]["healthy"] and doc["es"]["healthy"]

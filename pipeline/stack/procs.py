"""Which processes and ports of the local stack are ours, and whether the services answer.

Split from pipeline/stack/lifecycle.py so that `up`, `down` and `status` share one set of checks: free or
held ports (and by whom), pid files, and the cmdline markers that make a pid ours. Pids get
reused, so we only ever signal a pid from our pid file whose /proc cmdline still looks like what
we started; health means a real request answered (Kafka metadata, ES cluster health).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx

from pipeline.settings import StackSettings
from pipeline.stack.install import StackPaths

KAFKA, ES = "kafka", "es"
TAIL_LINES = 30
# Which setting owns each port, so a conflict message can say what to change.
PORT_SETTINGS = {KAFKA: ("kafka_port", "kafka_controller_port"),
                 ES: ("es_port", "es_transport_port")}


# ---------------------------------------------------------------- ports

def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick), for a worker's web server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_holder(port: int) -> str:
    """Best effort 'name (pid N)' of the listener, for the error message."""
    try:
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    found = re.search(r'\("([^"]+)",pid=(\d+)', out)
    return f"{found.group(1)} (pid {found.group(2)})" if found else ""


def port_conflicts(cfg: StackSettings, services: list[str],
                   is_free: Callable[[int], bool] = port_is_free,
                   holder: Callable[[int], str] = port_holder) -> list[str]:
    """One message per port of `services` that another process holds (or that settings repeat)."""
    problems: list[str] = []
    seen: dict[int, str] = {}
    for svc in (KAFKA, ES):
        for name in PORT_SETTINGS[svc]:
            port = getattr(cfg, name)
            if port in seen:
                problems.append(f"stack.{name} and stack.{seen[port]} are both {port}")
            seen[port] = name
    for svc in services:
        for name in PORT_SETTINGS[svc]:
            port = getattr(cfg, name)
            if not is_free(port):
                who = holder(port)
                problems.append(
                    f"port {port} (stack.{name}, env NEWSFLOW_STACK__{name.upper()}) is held by "
                    f"another process{' ' + who if who else ''}, not by our {svc}: stop it or "
                    f"choose another port")
    return problems


# ---------------------------------------------------------------- pid files

def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)  # atomic: a reader never sees a half-written pid


def pid_alive(pid: int, proc: Path = Path("/proc")) -> bool:
    """Exists and is not a zombie (our own exited children are reaped here)."""
    try:
        state = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        with suppress(ChildProcessError):  # not our child: its parent reaps it
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def pid_matches(pid: int, markers: tuple[str, ...], proc: Path = Path("/proc")) -> bool:
    """Alive and its cmdline contains every marker: pids get reused, so check before signalling."""
    try:
        cmdline = (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return False
    return pid_alive(pid, proc) and all(m in cmdline for m in markers)


def kafka_markers(paths: StackPaths) -> tuple[str, ...]:
    return ("kafka.Kafka", str(paths.kafka_props))


def es_markers(paths: StackPaths) -> tuple[str, ...]:
    return ("org.elasticsearch", f"-Djava.io.tmpdir={paths.es_tmp}")


def es_launcher_markers(paths: StackPaths) -> tuple[str, ...]:
    # `[runuser ... --] bin/elasticsearch -d -p <our pid file>`; it exits once the node runs.
    return ("elasticsearch", str(paths.es_pid))


def our_pid(pid_file: Path, markers: tuple[str, ...]) -> int | None:
    pid = read_pid(pid_file)
    return pid if pid is not None and pid_matches(pid, markers) else None


def tail(path: Path, n: int = TAIL_LINES) -> str:
    try:
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=n))
    except OSError:
        return ""


# ---------------------------------------------------------------- probes

def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class _QuietProbeThreads(logging.Filter):
    """Drops aiokafka's "Unable connect" errors raised by our own probes (they are expected
    while a broker starts), and only those: matched by the probing thread."""

    threads: set[int] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread not in self.threads


logging.getLogger("aiokafka").addFilter(_QuietProbeThreads())


async def _kafka_topics(port: int, timeout_s: float) -> list[str]:
    from aiokafka.admin import (
        AIOKafkaAdminClient,  # lazy: only the stack commands need it
    )

    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", client_id="newsflow-stack",
                                request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return await asyncio.wait_for(admin.list_topics(), timeout_s)
    finally:
        await admin.close()


def probe_kafka(port: int, timeout_s: float = 2.0) -> tuple[bool, str]:
    """A real metadata request, with short timeouts so a wedged broker cannot hang us.

    Blocking (runs its own event loop): from async code, call it in a thread.
    """
    if not _listening(port):  # cheap pre-check: no client at all while nothing listens
        return False, "not listening"
    _QuietProbeThreads.threads.add(threading.get_ident())
    try:
        topics = asyncio.run(_kafka_topics(port, timeout_s))
    except Exception as err:  # noqa: BLE001 - any failure only means "not ready"
        return False, f"metadata request failed: {type(err).__name__}: {err}"
    finally:
        _QuietProbeThreads.threads.discard(threading.get_ident())
    return True, f"metadata ok, {len(topics)} topics"


def probe_es(port: int, timeout_s: float = 2.0) -> tuple[bool, str]:
    try:  # trust_env=False: a proxy from the environment must not see 127.0.0.1 requests
        resp = httpx.get(f"http://127.0.0.1:{port}/_cluster/health", timeout=timeout_s,
                         trust_env=False)
        health = resp.json().get("status") if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as err:
        return False, f"not answering ({type(err).__name__})"
    if health in ("green", "yellow"):
        return True, f"cluster {health}"
    return False, f"HTTP {resp.status_code}, cluster status {health}"

"""The project-managed local stack: one KRaft Kafka broker and one Elasticsearch node, no Docker.

This module is the lifecycle behind `newsflow stack up|down|status`: start what is not running,
wait until both are healthy, stop only what we started, one `up`/`down` at a time (a file lock).
What is on disk (paths, downloads, configs) is in stack_install.py, and ports, pid files and
health probes are in stack_procs.py; StackError lives in stack_install and is re-exported here.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import structlog
from pydantic import BaseModel, computed_field

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.stack.install import (
    ES_FALLBACK_ROOT,
    STACK_CONFIG,
    StackError,
    StackPaths,
    ensure_es_dist,
    ensure_kafka_libs,
    java,
    new_cluster_id,
    render_elasticsearch_yml,
    render_heap_options,
    render_server_properties,
    run,
    stack_paths,
    world_traversable,
)
from pipeline.stack.procs import (
    ES,
    KAFKA,
    TAIL_LINES,
    es_launcher_markers,
    es_markers,
    kafka_markers,
    our_pid,
    pid_alive,
    pid_matches,
    port_conflicts,
    probe_es,
    probe_kafka,
    read_pid,
    tail,
    write_pid,
)

log = structlog.get_logger()

POLL_S = 0.25
# keep Popen objects alive: no "still running" warnings
_children: list[subprocess.Popen[bytes]] = []


class PortInUse(ConfigError):
    reason = "port-in-use"


class ServiceStatus(BaseModel):
    name: str
    version: str
    port: int
    pid: int | None  # from our pid file, only if that process is alive and still ours
    starting: bool = False  # ES only: our launcher is still bringing the node up
    healthy: bool
    detail: str
    log_path: Path
    data_path: Path


class StackStatus(BaseModel):
    kafka: ServiceStatus
    es: ServiceStatus
    home: Path
    cache_dir: Path
    seconds_to_healthy: float | None = None
    reused: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        return self.kafka.healthy and self.es.healthy


# ---------------------------------------------------------------- starting

Progress = Callable[[str, str], None]  # (service, phase)


def kafka_jvm(java_bin: Path, libs: Path) -> list[str]:
    """The JVM command line before the main class, for every Kafka tool we run."""
    return [str(java_bin), f"-Dlog4j2.configurationFile={STACK_CONFIG / 'log4j2.properties'}",
            "-cp", f"{libs}/*"]


def format_kafka_storage(jvm: list[str], cluster_id: str, server_properties: Path) -> None:
    """KRaft's one-time `kafka-storage format` of the data dir that `server_properties` names."""
    # One token with "=": a base64url id starts with "-" 1 time in 64, and the tool's argument
    # parser would read `-t -abc...` as two options.
    run([*jvm, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
         f"--config={server_properties}"], "formatting Kafka storage")


def _start_kafka(settings: Settings, paths: StackPaths,
                 progress: Progress) -> subprocess.Popen[bytes]:
    cfg = settings.stack
    java_bin = java()
    progress(KAFKA, "resolving jars")
    libs = ensure_kafka_libs(cfg, paths)
    for d in (paths.kafka_data, paths.kafka_log.parent, paths.kafka_pid.parent):
        d.mkdir(parents=True, exist_ok=True)
    paths.kafka_props.write_text(render_server_properties(cfg, paths.kafka_data))
    jvm = kafka_jvm(java_bin, libs)
    if not (paths.kafka_data / "meta.properties").exists():  # format exactly once per data dir
        if not paths.cluster_id_file.exists():
            paths.cluster_id_file.write_text(new_cluster_id() + "\n")
        progress(KAFKA, "formatting storage")
        format_kafka_storage(jvm, paths.cluster_id_file.read_text().strip(), paths.kafka_props)
    progress(KAFKA, "starting")
    heap = f"{cfg.kafka_heap_mb}m"
    with paths.kafka_log.open("ab") as out:
        out.write(f"==== newsflow stack up {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        out.flush()
        proc = subprocess.Popen([jvm[0], f"-Xms{heap}", f"-Xmx{heap}", *jvm[1:], "kafka.Kafka",
                                 str(paths.kafka_props)], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=paths.kafka_dir,
                                start_new_session=True)  # survives our exit and our Ctrl-C
    _children.append(proc)
    write_pid(paths.kafka_pid, proc.pid)
    return proc


def _ensure_user(user: str) -> None:
    if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
        log.info("es_user_create", user=user)
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
            f"creating system user {user} (stack.es_user)")


def _start_es(settings: Settings, paths: StackPaths,
              progress: Progress) -> subprocess.Popen[bytes]:
    cfg = settings.stack
    java_home = java().parent.parent
    progress(ES, "downloading")
    dist = ensure_es_dist(cfg, paths)
    progress(ES, "configuring")
    user = cfg.es_user if os.geteuid() == 0 else None  # ES refuses to run as root
    if user:
        _ensure_user(user)
        if not world_traversable(dist / "bin"):
            raise ConfigError(f"{user} (stack.es_user) cannot reach {dist}: set stack.cache_dir "
                              "(env NEWSFLOW_STACK__CACHE_DIR) to a directory outside /root")
    for d in (paths.es_data, paths.es_logs, paths.es_tmp, paths.es_pid.parent, paths.home / "logs"):
        d.mkdir(parents=True, exist_ok=True)
    shutil.copytree(dist / "config", paths.es_conf, dirs_exist_ok=True)
    jvm_options = paths.es_conf / "jvm.options"  # dist default keeps up to 2 GB of GC logs
    jvm_options.write_text(re.sub(r"filecount=\d+,filesize=\d+m", "filecount=2,filesize=16m",
                                  jvm_options.read_text()))
    (paths.es_conf / "jvm.options.d" / "newsflow-heap.options").write_text(
        render_heap_options(cfg.es_heap_mb))
    (paths.es_conf / "elasticsearch.yml").write_text(
        render_elasticsearch_yml(cfg, paths.es_data, paths.es_logs))
    paths.es_pid.unlink(missing_ok=True)
    cmd = [str(dist / "bin" / "elasticsearch"), "-d", "-p", str(paths.es_pid)]
    if user:
        run(["chown", "-R", f"{user}:", str(paths.es_root)], "chown of the ES directories")
        cmd = ["runuser", "-u", user, "--", *cmd]
    env = {**os.environ, "ES_PATH_CONF": str(paths.es_conf), "ES_TMPDIR": str(paths.es_tmp),
           "ES_JAVA_HOME": str(java_home)}
    progress(ES, "starting")
    with paths.es_launcher_log.open("wb") as out:  # per start: the node keeps its own log
        # -d: the launcher daemonizes the node, writes the pid file and exits 0 once it runs.
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=paths.es_root, start_new_session=True)
    _children.append(proc)
    write_pid(paths.es_launcher_pid, proc.pid)  # so a concurrent up/down sees "starting"
    return proc


# ---------------------------------------------------------------- API

@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise up/down across processes (e.g. parallel test sessions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def stack_status(settings: Settings, paths: StackPaths | None = None) -> StackStatus:
    cfg = settings.stack
    paths = paths or stack_paths(cfg)
    with ThreadPoolExecutor(2) as pool:
        kafka_probe = pool.submit(probe_kafka, cfg.kafka_port)
        es_probe = pool.submit(probe_es, cfg.es_port)
        services = []
        for name, version, port, pid_file, markers, probe, log_path, data in (
            (KAFKA, cfg.kafka_version, cfg.kafka_port, paths.kafka_pid, kafka_markers(paths),
             kafka_probe, paths.kafka_log, paths.kafka_data),
            (ES, cfg.es_version, cfg.es_port, paths.es_pid, es_markers(paths), es_probe,
             paths.es_log, paths.es_data),
        ):
            pid = our_pid(pid_file, markers)
            ok, detail = probe.result()
            starting = name == ES and pid is None and \
                our_pid(paths.es_launcher_pid, es_launcher_markers(paths)) is not None
            if starting:
                detail = f"starting ({detail})"
            elif ok and pid is None:  # answering, but not a process we started
                detail = f"port {port} answers, but not from our process ({detail})"
            services.append(ServiceStatus(name=name, version=version, port=port, pid=pid,
                                          starting=starting, healthy=ok and pid is not None,
                                          detail=detail,
                                          log_path=log_path, data_path=data))
    return StackStatus(kafka=services[0], es=services[1], home=paths.home, cache_dir=paths.cache)


def _warn_on_endpoint_mismatch(settings: Settings) -> None:
    # The stack serves 127.0.0.1:<stack ports>; clients read kafka.* / es.* settings.
    cfg = settings.stack
    if not settings.kafka.bootstrap_servers.endswith(f":{cfg.kafka_port}"):
        log.warning("stack_endpoint_mismatch", setting="kafka.bootstrap_servers",
                    value=settings.kafka.bootstrap_servers, stack_port=cfg.kafka_port)
    if not re.search(rf":{cfg.es_port}(/|$)", settings.es.url):
        log.warning("stack_endpoint_mismatch", setting="es.url", value=settings.es.url,
                    stack_port=cfg.es_port)


def _log_tails(svc: str, paths: StackPaths, launcher: bool = False) -> str:
    # The ES launcher's own output only matters if it failed before the node's log existed.
    if svc == KAFKA:
        files = [paths.kafka_log]
    else:
        files = [paths.es_launcher_log] if launcher or not paths.es_log.exists() else [paths.es_log]
    return "".join(f"--- {f} (last {TAIL_LINES} lines)\n{tail(f)}" for f in files if tail(f))


def ensure_stack(settings: Settings,
                 on_progress: Callable[[str], None] | None = None) -> StackStatus:
    """`stack up`: start what is not running, return once both services are healthy.

    Idempotent: a healthy stack of ours is reused as is. `on_progress` gets one-line summaries.
    Raises PortInUse (a ConfigError) or StackError (with log_tail) on failure.
    """
    started = time.monotonic()
    cfg = settings.stack
    paths = stack_paths(cfg)
    _warn_on_endpoint_mismatch(settings)
    with _locked(paths.lock):
        status = stack_status(settings, paths)
        if status.healthy:
            seconds = round(time.monotonic() - started, 2)
            log.info("stack_healthy", seconds=seconds, reused=True)
            return status.model_copy(update={"reused": True, "seconds_to_healthy": seconds})
        to_start = [s.name for s in (status.kafka, status.es) if s.pid is None and not s.starting]
        if problems := port_conflicts(cfg, to_start):
            raise PortInUse("cannot start the local stack:\n  " + "\n  ".join(problems))
        log.info("stack_starting", services=to_start, home=str(paths.home),
                 es_root=str(paths.es_root), cache=str(paths.cache))
        phases = {s: "queued" for s in to_start}
        starters = {KAFKA: _start_kafka, ES: _start_es}
        pool = ThreadPoolExecutor(2)  # ES is slower (download, JVM): start both at once
        try:
            launches = {s: pool.submit(starters[s], settings, paths,
                                       lambda svc, phase: phases.__setitem__(svc, phase))
                        for s in to_start}
            # The deadline starts once we hold the lock: waiting for another `up` is not ours.
            status = _wait_healthy(settings, paths, launches, phases,
                                   time.monotonic() + cfg.start_timeout_s, on_progress)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    seconds = round(time.monotonic() - started, 2)
    log.info("stack_healthy", seconds=seconds, reused=False, started=to_start)
    return status.model_copy(update={"seconds_to_healthy": seconds})


def _wait_healthy(settings: Settings, paths: StackPaths,
                  launches: dict[str, Future[subprocess.Popen[bytes]]], phases: dict[str, str],
                  deadline: float, on_progress: Callable[[str], None] | None) -> StackStatus:
    last_line = ""
    while True:
        exited = {}
        for svc, fut in launches.items():
            if fut.done():  # .result() re-raises a download/config failure from the thread
                exited[svc] = fut.result().poll()
        status = stack_status(settings, paths)
        for svc, code in exited.items():
            # Kafka must keep running; the ES launcher exits 0 once the node runs (pid file
            # written), so exit 0 without a live node means the node died right after.
            died = code == 0 and svc == ES and status.es.pid is None
            if code is not None and (svc == KAFKA or code != 0 or died):
                raise StackError(f"{svc} exited with code {code} while starting",
                                 log_tail=_log_tails(svc, paths, launcher=not died))
        line = " · ".join(
            f"{s.name}: " + ("healthy" if s.healthy else
                             phases[s.name] if s.name in launches and not launches[s.name].done()
                             else s.detail)
            for s in (status.kafka, status.es))
        if on_progress and line != last_line:
            on_progress(line)
            last_line = line
        if status.healthy:
            return status
        if time.monotonic() > deadline:
            bad = [s.name for s in (status.kafka, status.es) if not s.healthy]
            raise StackError(
                f"{' and '.join(bad)} not healthy within {settings.stack.start_timeout_s:.0f}s "
                f"(stack.start_timeout_s): {line}. Left running: `up` again keeps waiting, "
                "`down` stops it",
                log_tail="".join(_log_tails(s, paths) for s in bad))
        time.sleep(POLL_S)


def _wait_exit(running: dict[str, int], timeout_s: float) -> dict[str, int]:
    # Liveness only: an exiting process's cmdline is already empty while it still holds ports.
    until = time.monotonic() + timeout_s
    while running and time.monotonic() < until:
        time.sleep(POLL_S)
        running = {s: p for s, p in running.items() if pid_alive(p)}
    return running


def stop_stack(settings: Settings, wipe: bool = False, timeout_s: float = 60.0) -> list[str]:
    """`stack down`: SIGTERM our processes (pid file + matching cmdline), SIGKILL after timeout_s.

    Returns the services that were stopped. wipe=True also deletes data and logs (not the cache).
    """
    paths = stack_paths(settings.stack)
    targets = {KAFKA: (paths.kafka_pid, kafka_markers(paths)),
               ES: (paths.es_pid, es_markers(paths))}
    with _locked(paths.lock):
        # An ES launcher still starting the node: let it finish, then stop the node by pid file.
        launcher = our_pid(paths.es_launcher_pid, es_launcher_markers(paths))
        if launcher is not None and _wait_exit({ES: launcher}, timeout_s):
            log.warning("stack_kill", service="es-launcher", pid=launcher, after_s=timeout_s)
            os.kill(launcher, signal.SIGKILL)
        running: dict[str, int] = {}
        for svc, (pid_file, markers) in targets.items():
            pid = read_pid(pid_file)
            if pid is not None and pid_matches(pid, markers):
                log.info("stack_stopping", service=svc, pid=pid)
                os.kill(pid, signal.SIGTERM)
                running[svc] = pid
            elif pid is not None:
                log.warning("stack_stale_pid_file", service=svc, pid=pid, file=str(pid_file))
        stopped = list(running)
        running = _wait_exit(running, timeout_s)
        for svc, pid in running.items():  # ignored SIGTERM for timeout_s
            log.warning("stack_kill", service=svc, pid=pid, after_s=timeout_s)
            os.kill(pid, signal.SIGKILL)
        _wait_exit(running, 10.0)
        for pid_file in (paths.kafka_pid, paths.es_pid, paths.es_launcher_pid):
            pid_file.unlink(missing_ok=True)
        if wipe:
            es_root = paths.es_root.parent if paths.es_root.parent.parent == ES_FALLBACK_ROOT \
                else paths.es_root
            # Worker state (Faust tables, learned boilerplate, the demo's) describes what Kafka
            # held: with Kafka's data gone it would be stale, so it goes too.
            state = (settings.poller.state_dir, settings.worker.data_dir, paths.home / "demo")
            for d in (paths.kafka_dir, es_root, paths.home / "logs", *state):
                log.info("stack_wipe", path=str(d))
                shutil.rmtree(d, ignore_errors=True)
    return stopped

"""The project-managed local stack: one KRaft Kafka broker and one Elasticsearch node, no Docker.

Layout: downloads live in a cache shared across checkouts (Kafka's jars via Maven, the ES zip
from Maven Central); data, logs and pid files live under `stack.home` (default `.stack/`).
Elasticsearch refuses to run as root, so as root it runs as `stack.es_user`; if that user cannot
traverse `stack.home`, ES's own directories go under /var/lib/newsflow/<hash of home>/ instead.
We only ever signal pids from our pid files whose /proc cmdline still looks like what we started.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog
from pydantic import BaseModel, computed_field

from pipeline.errors import ConfigError, NewsflowError
from pipeline.settings import CONFIG_DIR, Settings, StackSettings

log = structlog.get_logger()

KAFKA, ES = "kafka", "es"
STACK_CONFIG = CONFIG_DIR / "stack"
ES_ZIP_URL = ("https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/"
              "elasticsearch/{v}/elasticsearch-{v}.zip")
ES_FALLBACK_ROOT = Path("/var/lib/newsflow")
POLL_S = 0.25
TAIL_LINES = 30
# Which setting owns each port, so a conflict message can say what to change.
PORT_SETTINGS = {KAFKA: ("kafka_port", "kafka_controller_port"),
                 ES: ("es_port", "es_transport_port")}
_children: list[subprocess.Popen] = []  # keep Popen objects alive: no "still running" warnings


class StackError(NewsflowError):
    reason = "stack-failed"

    def __init__(self, message: str, *, log_tail: str = "", reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.log_tail = log_tail


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


# ---------------------------------------------------------------- paths

def default_cache_dir(cfg: StackSettings, env: Mapping[str, str] = os.environ,
                      is_root: bool | None = None) -> Path:
    """Downloads cache. As root not under /root (mode 700): the ES user must read the dist."""
    if cfg.cache_dir is not None:
        return cfg.cache_dir
    if env.get("NEWSFLOW_CACHE_DIR"):
        return Path(env["NEWSFLOW_CACHE_DIR"]).resolve()
    if os.geteuid() == 0 if is_root is None else is_root:
        return Path("/var/cache/newsflow")
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "newsflow"


def world_traversable(path: Path) -> bool:
    """True if every existing ancestor of path (and path) has o+x: any user can reach it."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents] if p.exists())


@dataclass(frozen=True)
class StackPaths:
    home: Path
    cache: Path
    es_root: Path  # ES's own writable dirs (config, data, logs, tmp, pid)

    kafka_dir = property(lambda s: s.home / "kafka")
    kafka_props = property(lambda s: s.kafka_dir / "server.properties")
    kafka_data = property(lambda s: s.kafka_dir / "data")
    cluster_id_file = property(lambda s: s.kafka_dir / "cluster.id")
    kafka_log = property(lambda s: s.home / "logs" / "kafka.log")
    kafka_pid = property(lambda s: s.home / "run" / "kafka.pid")
    es_launcher_log = property(lambda s: s.home / "logs" / "es-launcher.log")
    es_launcher_pid = property(lambda s: s.home / "run" / "es-launcher.pid")
    es_conf = property(lambda s: s.es_root / "config")
    es_data = property(lambda s: s.es_root / "data")
    es_logs = property(lambda s: s.es_root / "logs")
    es_tmp = property(lambda s: s.es_root / "tmp")
    es_pid = property(lambda s: s.es_root / "run" / "elasticsearch.pid")
    es_log = property(lambda s: s.es_logs / "newsflow-local.log")  # <cluster.name>.log
    lock = property(lambda s: s.home / "run" / "stack.lock")


def stack_paths(cfg: StackSettings, is_root: bool | None = None) -> StackPaths:
    is_root = os.geteuid() == 0 if is_root is None else is_root
    home = cfg.home.resolve()
    es_root = home / "es"
    if is_root and not world_traversable(home):
        es_root = ES_FALLBACK_ROOT / hashlib.sha1(str(home).encode()).hexdigest()[:12] / "es"
    return StackPaths(home=home, cache=default_cache_dir(cfg, is_root=is_root), es_root=es_root)


def kafka_libs_dir(cfg: StackSettings, paths: StackPaths) -> Path:
    return paths.cache / f"kafka-{cfg.kafka_version}" / "libs"


def es_dist_dir(cfg: StackSettings, paths: StackPaths) -> Path:
    return paths.cache / f"elasticsearch-{cfg.es_version}"


# ---------------------------------------------------------------- rendering (pure)

def new_cluster_id() -> str:
    # KRaft wants a base64url UUID without padding: 22 characters.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def render_server_properties(cfg: StackSettings, data_dir: Path) -> str:
    host = "127.0.0.1"
    props = {
        "process.roles": "broker,controller",  # KRaft combined mode: one JVM, no ZooKeeper
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{cfg.kafka_controller_port}",
        "listeners": (f"PLAINTEXT://{host}:{cfg.kafka_port},"
                      f"CONTROLLER://{host}:{cfg.kafka_controller_port}"),
        "advertised.listeners": f"PLAINTEXT://{host}:{cfg.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        # Single broker: every internal topic must accept replication factor 1.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "group.initial.rebalance.delay.ms": "0",  # tests: consumers join without a 3 s pause
    }  # auto.create.topics.enable stays true: Faust relies on it for some internal topics.
    head = "# Generated by `newsflow stack up` from settings.stack; edits are overwritten.\n"
    return head + "".join(f"{k}={v}\n" for k, v in props.items())


def render_elasticsearch_yml(cfg: StackSettings, data_dir: Path, logs_dir: Path) -> str:
    lines = {
        "cluster.name": "newsflow-local",
        "node.name": "newsflow-local",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",  # loopback only: also keeps production bootstrap checks off
        "http.port": cfg.es_port,
        "transport.port": cfg.es_transport_port,
        "path.data": str(data_dir),
        "path.logs": str(logs_dir),
        "xpack.security.enabled": "false",
        # Dev disks are often >90% full; ES would then make indices read-only.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",  # tests delete indices by pattern
    }
    head = "# Generated by `newsflow stack up` from settings.stack; edits are overwritten.\n"
    return head + "".join(f"{k}: {v}\n" for k, v in lines.items())


def render_heap_options(heap_mb: int) -> str:
    return f"-Xms{heap_mb}m\n-Xmx{heap_mb}m\n"  # equal sizes: avoids ES's bootstrap warning


# ---------------------------------------------------------------- ports

def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


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
    problems, seen = [], {}
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


# ---------------------------------------------------------------- downloads

def _run(cmd: list[str], what: str, **kwargs: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True,  # type: ignore[call-overload]
                          **kwargs)
    if proc.returncode != 0:
        raise StackError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}",
                         log_tail=(proc.stdout + proc.stderr)[-4000:])
    return proc.stdout


def _java() -> Path:
    java = shutil.which("java")
    if java is None:
        raise ConfigError("java not found on PATH: the local stack needs a JDK 17+")
    return Path(java).resolve()


def ensure_kafka_libs(cfg: StackSettings, paths: StackPaths) -> Path:
    libs = kafka_libs_dir(cfg, paths)
    marker = libs.parent / ".complete"  # written last, so an interrupted copy is redone
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise ConfigError("mvn not found on PATH: Kafka's jars are resolved with Maven")
    shutil.rmtree(libs, ignore_errors=True)
    log.info("kafka_download", version=cfg.kafka_version, into=str(libs))
    _run(["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(STACK_CONFIG / "kafka-pom.xml"),
          f"-Dkafka.version={cfg.kafka_version}", "dependency:copy-dependencies",
          "-DincludeScope=runtime", f"-DoutputDirectory={libs}"],
         f"resolving Kafka {cfg.kafka_version} jars with Maven")
    marker.write_text(f"kafka {cfg.kafka_version}\n")
    return libs


def _published_digest(url: str) -> tuple[str, str]:
    for algo in ("sha512", "sha1"):  # Maven Central always has .sha1, newer uploads .sha512
        resp = httpx.get(f"{url}.{algo}", follow_redirects=True, timeout=30)
        if resp.status_code == 200:
            return algo, resp.text.split()[0].strip().lower()
    raise StackError(f"no published checksum next to {url}")


def ensure_es_dist(cfg: StackSettings, paths: StackPaths) -> Path:
    dist = es_dist_dir(cfg, paths)
    if (dist / "bin" / "elasticsearch").exists():  # the dir appears by rename, only when complete
        return dist
    url = ES_ZIP_URL.format(v=cfg.es_version)
    log.info("es_download", url=url, into=str(dist))
    paths.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.cache, prefix=".es-download-") as tmp:
        zip_path = Path(tmp) / "es.zip"
        try:
            algo, expected = _published_digest(url)
            digest = hashlib.new(algo)
            with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
                resp.raise_for_status()
                with zip_path.open("wb") as fh:
                    for chunk in resp.iter_bytes(1 << 20):
                        digest.update(chunk)
                        fh.write(chunk)
        except httpx.HTTPError as err:
            raise StackError(f"downloading Elasticsearch {cfg.es_version} failed: {err}") from err
        if digest.hexdigest() != expected:
            raise StackError(f"{algo} mismatch for {url}: got {digest.hexdigest()}, "
                             f"want {expected}")
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                target = zf.extract(info, tmp)
                if mode := (info.external_attr >> 16) & 0o777:  # zipfile drops the exec bits
                    os.chmod(target, mode)
        (Path(tmp) / f"elasticsearch-{cfg.es_version}").rename(dist)
    return dist


# ---------------------------------------------------------------- starting

Progress = Callable[[str, str], None]  # (service, phase)


def _start_kafka(settings: Settings, paths: StackPaths, progress: Progress) -> subprocess.Popen:
    cfg = settings.stack
    java = _java()
    progress(KAFKA, "resolving jars")
    libs = ensure_kafka_libs(cfg, paths)
    for d in (paths.kafka_data, paths.kafka_log.parent, paths.kafka_pid.parent):
        d.mkdir(parents=True, exist_ok=True)
    paths.kafka_props.write_text(render_server_properties(cfg, paths.kafka_data))
    jvm = [str(java), f"-Dlog4j2.configurationFile={STACK_CONFIG / 'log4j2.properties'}",
           "-cp", f"{libs}/*"]
    if not (paths.kafka_data / "meta.properties").exists():  # format exactly once per data dir
        if not paths.cluster_id_file.exists():
            paths.cluster_id_file.write_text(new_cluster_id() + "\n")
        progress(KAFKA, "formatting storage")
        _run([*jvm, "kafka.tools.StorageTool", "format", "-t",
              paths.cluster_id_file.read_text().strip(), "-c", str(paths.kafka_props)],
             "formatting Kafka storage")
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
        _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
             f"creating system user {user} (stack.es_user)")


def _start_es(settings: Settings, paths: StackPaths, progress: Progress) -> subprocess.Popen:
    cfg = settings.stack
    java_home = _java().parent.parent
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
        _run(["chown", "-R", f"{user}:", str(paths.es_root)], "chown of the ES directories")
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


def _wait_healthy(settings: Settings, paths: StackPaths, launches: dict, phases: dict[str, str],
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
            for d in (paths.kafka_dir, es_root, paths.home / "logs"):
                log.info("stack_wipe", path=str(d))
                shutil.rmtree(d, ignore_errors=True)
    return stopped

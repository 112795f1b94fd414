"""What the local stack needs on disk: cache and paths, downloads, rendered config files.

Split from pipeline/stack/lifecycle.py so that the lifecycle there only starts, waits and stops. Downloads
live in a cache shared across checkouts (Kafka's jars via Maven, the ES zip from Maven Central);
data, logs and pid files live under `stack.home` (default `.stack/`). Elasticsearch refuses to run
as root, so as root it runs as `stack.es_user`; if that user cannot traverse `stack.home`, ES's
own directories go under /var/lib/newsflow/<hash of home>/ instead.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from pipeline.errors import ConfigError, NewsflowError
from pipeline.settings import CONFIG_DIR, StackSettings

log = structlog.get_logger()

STACK_CONFIG = CONFIG_DIR / "stack"
ES_ZIP_URL = ("https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/"
              "elasticsearch/{v}/elasticsearch-{v}.zip")
ES_FALLBACK_ROOT = Path("/var/lib/newsflow")


class StackError(NewsflowError):
    reason = "stack-failed"

    def __init__(self, message: str, *, log_tail: str = "", reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.log_tail = log_tail


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


# ---------------------------------------------------------------- downloads

def run(cmd: list[str], what: str, **kwargs: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True,  # type: ignore[call-overload]
                          **kwargs)
    if proc.returncode != 0:
        raise StackError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}",
                         log_tail=(proc.stdout + proc.stderr)[-4000:])
    return str(proc.stdout)


def java() -> Path:
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
    run(["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(STACK_CONFIG / "kafka-pom.xml"),
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

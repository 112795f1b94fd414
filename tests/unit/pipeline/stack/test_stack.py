"""The pure parts of pipeline/stack/lifecycle.py: rendering, port conflicts, pid files, paths."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pipeline.settings import StackSettings
from pipeline.stack import install as stack_install
from pipeline.stack import procs as stack_procs


def props(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_server_properties_follow_the_port_settings(tmp_path: Path) -> None:
    cfg = StackSettings(kafka_port=19092, kafka_controller_port=19093)
    p = props(stack_install.render_server_properties(cfg, tmp_path / "data"))
    assert p["process.roles"] == "broker,controller"
    assert p["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert p["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert p["log.dirs"] == str(tmp_path / "data")
    # single broker: internal topics must accept replication factor 1
    assert p["offsets.topic.replication.factor"] == "1"
    assert p["share.coordinator.state.topic.replication.factor"] == "1"
    # Faust needs auto-created internal topics: never switch it off here
    assert "auto.create.topics.enable" not in p


def test_elasticsearch_yml_is_single_node_on_loopback(tmp_path: Path) -> None:
    import yaml

    cfg = StackSettings(es_port=19200, es_transport_port=19300)
    doc = yaml.safe_load(
        stack_install.render_elasticsearch_yml(cfg, tmp_path / "d", tmp_path / "l"))
    assert doc["http.port"] == 19200 and doc["transport.port"] == 19300
    assert doc["discovery.type"] == "single-node"
    assert doc["network.host"] == "127.0.0.1"
    assert doc["path.data"] == str(tmp_path / "d") and doc["path.logs"] == str(tmp_path / "l")
    assert doc["xpack.security.enabled"] is False
    assert doc["cluster.routing.allocation.disk.threshold_enabled"] is False


def test_heap_options_pin_min_and_max() -> None:
    assert stack_install.render_heap_options(768).split() == ["-Xms768m", "-Xmx768m"]


def test_cluster_id_is_22_chars_base64url() -> None:
    ids = {stack_install.new_cluster_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) == 22 and set(i) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)


def test_port_conflict_names_port_setting_env_and_holder() -> None:
    cfg = StackSettings()
    problems = stack_procs.port_conflicts(cfg, [stack_procs.ES],
                                          is_free=lambda port: port != 9200,
                                          holder=lambda port: "python3 (pid 42)")
    assert len(problems) == 1
    msg = problems[0]
    assert "port 9200" in msg and "stack.es_port" in msg and "NEWSFLOW_STACK__ES_PORT" in msg
    assert "another process python3 (pid 42)" in msg


def test_ports_of_services_already_running_are_not_checked() -> None:
    checked: list[int] = []
    stack_procs.port_conflicts(StackSettings(), [stack_procs.KAFKA],
                               is_free=lambda port: checked.append(port) or True)
    assert checked == [9092, 9093]


def test_duplicate_ports_in_settings_are_reported() -> None:
    cfg = StackSettings(es_port=9092)
    problems = stack_procs.port_conflicts(cfg, [], is_free=lambda port: True)
    assert problems == ["stack.es_port and stack.kafka_port are both 9092"]


def test_port_is_free_detects_a_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not stack_procs.port_is_free(port)
    assert stack_procs.port_is_free(port)


def test_pid_file_round_trip_and_garbage(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "x.pid"
    assert stack_procs.read_pid(pid_file) is None
    stack_procs.write_pid(pid_file, 1234)
    assert stack_procs.read_pid(pid_file) == 1234
    for junk in ("", "abc", "-5", "0"):
        pid_file.write_text(junk)
        assert stack_procs.read_pid(pid_file) is None


def _eventually(check, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_pid_matches_checks_the_cmdline_and_reaps_zombies() -> None:
    marker = f"newsflow-test-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:  # (right after fork the child still shows our cmdline until it execs)
        assert _eventually(lambda: stack_procs.pid_matches(proc.pid, ("-c", marker)))
        assert not stack_procs.pid_matches(proc.pid, ("kafka.Kafka",))  # a reused pid is not ours
    finally:
        proc.kill()
    # killed but not waited for: a zombie, which pid_alive reaps and reports as gone
    assert _eventually(lambda: not stack_procs.pid_alive(proc.pid))
    assert not stack_procs.pid_matches(proc.pid, (marker,))
    assert not Path(f"/proc/{proc.pid}").exists()
    proc.wait()


def test_our_pid_ignores_a_stale_pid_file(tmp_path: Path) -> None:
    pid_file = tmp_path / "kafka.pid"
    stack_procs.write_pid(pid_file, os.getpid())  # alive, but not a Kafka broker
    assert stack_procs.our_pid(pid_file, ("kafka.Kafka",)) is None
    # argv[0] as this process was started (relative or through a venv symlink alike)
    own_argv0 = Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()
    assert stack_procs.our_pid(pid_file, (own_argv0,)) == os.getpid()


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert stack_procs.tail(log, 3) == "line 97\nline 98\nline 99\n"
    assert stack_procs.tail(tmp_path / "missing.log") == ""


def test_default_cache_dir_avoids_root_home(tmp_path: Path) -> None:
    cfg = StackSettings()
    assert stack_install.default_cache_dir(cfg, env={}, is_root=True) == Path("/var/cache/newsflow")
    assert stack_install.default_cache_dir(cfg, env={"XDG_CACHE_HOME": "/x"}, is_root=False) == \
        Path("/x/newsflow")
    assert stack_install.default_cache_dir(cfg, env={"NEWSFLOW_CACHE_DIR": str(tmp_path)},
                                           is_root=True) == tmp_path
    explicit = StackSettings(cache_dir=tmp_path / "c")
    assert stack_install.default_cache_dir(explicit, env={}, is_root=True) == tmp_path / "c"


def test_es_dirs_move_out_of_a_home_the_es_user_cannot_reach(tmp_path: Path) -> None:
    private = tmp_path / "private"
    home = private / "proj" / ".stack"
    home.mkdir(parents=True)
    private.chmod(0o700)
    try:
        assert not stack_install.world_traversable(home)
        paths = stack_install.stack_paths(StackSettings(home=home), is_root=True)
        assert paths.es_root.parent.parent == stack_install.ES_FALLBACK_ROOT
        assert paths.es_data == paths.es_root / "data"
        assert paths.kafka_data == home / "kafka" / "data"  # Kafka runs as us: stays in home
        # not root: ES runs as us, everything stays under home
        assert stack_install.stack_paths(StackSettings(home=home),
                                         is_root=False).es_root == home / "es"
    finally:
        private.chmod(0o755)
    # (pytest's own tmp root is 0700, so check a reachable home outside it; missing dirs count
    # as reachable: we create them 0755)
    reachable = Path("/tmp/newsflow-test-does-not-exist/.stack")
    assert stack_install.world_traversable(reachable)
    paths = stack_install.stack_paths(StackSettings(home=reachable), is_root=True)
    assert paths.es_root == reachable / "es"

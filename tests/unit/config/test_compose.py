"""docker-compose.yml stays consistent with the settings model and with itself.

No Docker engine is needed: the file is read with PyYAML (which resolves the x-* anchors).
`docker compose config -q` is run too where a compose client is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from pipeline import settings as settings_module
from pipeline.settings import PROJECT_ROOT, Settings

ROOT = PROJECT_ROOT
COMPOSE_FILE = ROOT / "docker-compose.yml"
NEWSFLOW_SERVICES = {"poller": "poll", "worker": "worker", "indexer": "index"}
# Read directly by pipeline/settings.py (which file to load), not a Settings field.
NON_FIELD_VARS = {"NEWSFLOW_CONFIG"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _setting_for(var: str) -> tuple[str, ...] | None:
    """NEWSFLOW_A__B -> ("a", "b") if Settings has field a with subfield b, else None."""
    path = tuple(part.lower() for part in var.removeprefix("NEWSFLOW_").split("__"))
    model: type[BaseModel] = Settings
    for depth, name in enumerate(path):
        field = model.model_fields.get(name)
        if field is None:
            return None
        annotation = field.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if depth < len(path) - 1:
            if not is_model:
                return None
            model = annotation
        elif is_model:
            return None  # names a whole section, not a value
    return path


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().startswith("ENV "):
            found.update(re.findall(r"(\w+)=(\S+)", line))
    return found


def test_services_exist(compose) -> None:
    services = compose["services"]
    assert {"kafka", "elasticsearch", "kibana", *NEWSFLOW_SERVICES} <= set(services)
    for name, command in NEWSFLOW_SERVICES.items():
        service = services[name]
        assert service["build"]["context"] == "."
        assert service["command"] == [command]


def test_newsflow_services_point_at_the_compose_network(compose) -> None:
    for name in NEWSFLOW_SERVICES:
        env = _env(compose["services"][name])
        assert env["NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["NEWSFLOW_ES__URL"] == "http://elasticsearch:9200"
        assert env["NEWSFLOW_LOG_FORMAT"] == "json"


def test_every_newsflow_env_var_is_a_real_setting(compose) -> None:
    names = {var for svc in compose["services"].values() for var in _env(svc)}
    names |= set(_dockerfile_env())
    newsflow_vars = {n for n in names if n.startswith("NEWSFLOW_")}
    assert newsflow_vars, "expected NEWSFLOW_* variables in compose"
    unknown = sorted(v for v in newsflow_vars - NON_FIELD_VARS if _setting_for(v) is None)
    assert not unknown, f"not fields of pipeline.settings.Settings: {unknown}"
    for var in NON_FIELD_VARS & newsflow_vars:
        assert f'"{var}"' in Path(settings_module.__file__).read_text(encoding="utf-8")


def test_env_values_validate_against_settings(compose, monkeypatch) -> None:
    # The values, not only the names: e.g. a bootstrap server without a port would fail.
    monkeypatch.setenv("NEWSFLOW_CONFIG", str(settings_module.DEFAULT_CONFIG_FILE))
    for name in NEWSFLOW_SERVICES:
        overrides: dict = {}
        for var, value in _env(compose["services"][name]).items():
            path = _setting_for(var)
            if path is None:
                continue
            target = overrides
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        built = Settings(**overrides)
        assert built.kafka.bootstrap_servers == "kafka:9092"


def test_depends_on_targets_have_healthchecks(compose) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: use the long depends_on form with conditions"
        for target, spec in depends.items():
            assert target in services, f"{name} depends on unknown service {target}"
            if spec.get("condition") == "service_completed_successfully":
                # a one-shot set-up step: it must not restart, or it never "completes"
                assert services[target].get("restart") == "no", (name, target)
                continue
            assert spec.get("condition") == "service_healthy", (name, target)
            assert "healthcheck" in services[target], f"{target} has no healthcheck"
    assert set(services["indexer"]["depends_on"]) == {"kafka", "elasticsearch"}
    assert services["poller"]["depends_on"]["feeds-import"]["condition"] == (
        "service_completed_successfully")
    for infra in ("kafka", "elasticsearch", "kibana"):
        assert services[infra]["healthcheck"]["test"]


def test_elastic_images_share_one_8x_tag(compose) -> None:
    services = compose["services"]
    es_image, es_tag = services["elasticsearch"]["image"].rsplit(":", 1)
    kb_image, kb_tag = services["kibana"]["image"].rsplit(":", 1)
    assert es_image == "docker.elastic.co/elasticsearch/elasticsearch"
    assert kb_image == "docker.elastic.co/kibana/kibana"
    assert es_tag == kb_tag and re.fullmatch(r"8\.\d+\.\d+", es_tag)
    # The same versions `newsflow stack up` runs without Docker.
    assert es_tag == Settings.model_fields["stack"].default.es_version
    kafka_tag = services["kafka"]["image"].rsplit(":", 1)[1]
    assert kafka_tag == Settings.model_fields["stack"].default.kafka_version


def test_kafka_is_single_node_kraft(compose) -> None:
    env = _env(compose["services"]["kafka"])
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "localhost:29092" in env["KAFKA_ADVERTISED_LISTENERS"]
    listeners = {l.split("://")[0] for l in env["KAFKA_LISTENERS"].split(",")}
    protocol_map = {p.split(":")[0] for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")}
    assert listeners <= protocol_map
    for var, value in env.items():
        if var.endswith("REPLICATION_FACTOR") or var.endswith("MIN_ISR"):
            assert value == "1", var


def test_elasticsearch_single_node_and_volumes(compose) -> None:
    es_env = _env(compose["services"]["elasticsearch"])
    assert es_env["discovery.type"] == "single-node"
    assert es_env["xpack.security.enabled"] == "false"
    assert "-Xmx1g" in es_env["ES_JAVA_OPTS"]
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} not declared"
    poller_mounts = compose["services"]["poller"]["volumes"]
    import_mounts = compose["services"]["feeds-import"]["volumes"]
    assert any(m.startswith("./config/feeds.yaml:") for m in import_mounts)
    state_dir = _env(compose["services"]["poller"])["NEWSFLOW_POLLER__STATE_DIR"]
    assert any(m.split(":")[1] == state_dir for m in poller_mounts)
    data_dir = _env(compose["services"]["worker"])["NEWSFLOW_WORKER__DATA_DIR"]
    assert any(m.split(":")[1] == data_dir for m in compose["services"]["worker"]["volumes"])


def test_dockerfile_basics() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^USER (?!root)\w+", text, re.M), "must not run as root"
    assert 'ENTRYPOINT ["newsflow"]' in text
    assert "COPY config" in text
    env = _dockerfile_env()
    assert Path(env["NEWSFLOW_CONFIG"]).name == "newsflow.yaml"


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no compose client here (docker compose plugin / docker-compose absent)")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    if result.returncode != 0 and re.search(r"daemon|engine|docker\.sock", result.stderr, re.I):
        pytest.skip(f"compose needs a Docker engine here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr


def test_published_ports_are_on_loopback_only(compose) -> None:
    """Security is off in this file: nothing may listen on the host's other interfaces."""
    published = [(name, port) for name, svc in compose["services"].items()
                 for port in svc.get("ports", [])]
    assert published, "expected Kafka, Elasticsearch and Kibana on the host"
    assert all(str(port).startswith("127.0.0.1:") for _, port in published), published


def test_workers_get_time_to_stop_and_a_health_check(compose) -> None:
    for name in NEWSFLOW_SERVICES:
        service = compose["services"][name]
        grace = str(service["stop_grace_period"])
        assert grace.endswith("s") and int(grace[:-1]) > 30, name  # > the 30 s publish grace
        assert service["healthcheck"]["test"][0] == "CMD", name

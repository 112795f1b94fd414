from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import PROJECT_ROOT, load_settings


def test_defaults_come_from_the_yaml_file() -> None:
    settings = load_settings()
    assert settings.topics.articles == "newsflow.articles.v1"
    assert settings.topics.dead_letter == "newsflow.dead-letter.v1"
    # relative paths in the YAML are relative to the project, not to the cwd
    assert settings.poller.state_dir == PROJECT_ROOT / ".stack" / "state"


def test_environment_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS", "broker-a:19092,broker-b:19092")
    monkeypatch.setenv("NEWSFLOW_TOPICS__PARTITIONS", "6")
    monkeypatch.setenv("NEWSFLOW_ES__URL", "http://search.internal:9200/")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "broker-a:19092,broker-b:19092"
    assert settings.topics.partitions == 6
    assert settings.es.url == "http://search.internal:9200"


@pytest.mark.parametrize(("env", "value", "named"), [
    ("NEWSFLOW_TOPICS__PARTITIONS", "zero", "topics.partitions"),
    ("NEWSFLOW_TOPICS__PARTITIONS", "0", "topics.partitions"),
    ("NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS", "no-port-here", "kafka.bootstrap_servers"),
    ("NEWSFLOW_ES__URL", "search.internal:9200", "es.url"),
    ("NEWSFLOW_LOG_LEVEL", "loud", "log_level"),
    ("NEWSFLOW_FETCH__MAX_BYTES", "-1", "fetch.max_bytes"),
])
def test_invalid_setting_names_the_setting_and_the_value(
        monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert named in message
    assert env in message
    assert repr(value) in message


def test_unknown_key_in_config_file_is_refused(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    config = tmp_path / "newsflow.yaml"
    config.write_text("kafka:\n  bootstrap_server: typo:9092\n", encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_CONFIG", str(config))
    with pytest.raises(ConfigError, match="kafka.bootstrap_server"):
        load_settings()


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSFLOW_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings()

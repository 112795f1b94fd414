"""One Settings object: config/newsflow.yaml, overridden by NEWSFLOW_* environment variables.

Nested settings use a double underscore: NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS=host:9092,
NEWSFLOW_ES__URL=http://es:9200. Build it once with `load_settings()` and hand each
function the narrowest slice (`.kafka`, `.es`, `.fetch`, ...).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from pipeline.errors import ConfigError
from pipeline.options import BoilerplateOptions, DedupOptions, EnrichOptions, ExtractOptions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_CONFIG_FILE = CONFIG_DIR / "newsflow.yaml"


def _under_project(path: Path) -> Path:
    # Relative paths in config mean "relative to the project", not to the caller's cwd.
    return path if path.is_absolute() else PROJECT_ROOT / path


ProjectPath = Annotated[Path, AfterValidator(_under_project)]


class Slice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopicSettings(Slice):
    articles: str = "newsflow.articles.v1"
    enriched: str = "newsflow.enriched.v1"
    dead_letter: str = "newsflow.dead-letter.v1"
    # Compacted, keyed by feed: the registry (subscriptions) and each feed's polling state.
    # Same partition count, so a poller owning registry partition p owns state partition p.
    feeds: str = "newsflow.feeds.v1"
    feed_state: str = "newsflow.feed-state.v1"
    # Enriched articles on their way to dedup: ONE partition, so every LSH band of every
    # article meets the same table (pipeline/dedup/verdict.py explains the capacity of that choice).
    dedup: str = "newsflow.dedup.v1"
    unique: str = "newsflow.unique.v1"  # first copies only, for subscribers who want no dups
    partitions: int = Field(default=3, ge=1, le=1024)
    feed_partitions: int = Field(default=12, ge=1, le=1024)  # at most this many busy pollers
    replication_factor: int = Field(default=1, ge=1)

    def all_names(self) -> tuple[str, ...]:
        return (self.articles, self.enriched, self.dead_letter, self.feeds, self.feed_state,
                self.dedup, self.unique)

    def compacted_names(self) -> tuple[str, ...]:
        return (self.feeds, self.feed_state)


class KafkaSettings(Slice):
    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "newsflow"
    request_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("bootstrap_servers")
    @classmethod
    def _has_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value


class ElasticsearchSettings(Slice):
    url: str = "http://127.0.0.1:9200"
    index_alias: str = "newsflow-articles"  # readers and writers use the alias only
    template_file: ProjectPath = CONFIG_DIR / "elasticsearch" / "articles-template.json"
    request_timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @property
    def first_index(self) -> str:
        return f"{self.index_alias}-000001"

    @property
    def template_name(self) -> str:
        # One template per alias, so isolated test indices never share a template.
        return self.index_alias


class FetchSettings(Slice):
    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow/newsflow)"
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    total_timeout_s: float = Field(default=60.0, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=30)
    max_bytes: int = Field(default=10_000_000, gt=0)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_min_delay_s: float = Field(default=0.5, ge=0)
    respect_robots: bool = True
    # Private/loopback/link-local/multicast targets are refused unless listed here (CIDRs).
    allowed_networks: tuple[str, ...] = ()

    @field_validator("allowed_networks")
    @classmethod
    def _are_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            ipaddress.ip_network(net, strict=False)  # raises ValueError naming the bad one
        return value


class PollerSettings(Slice):
    feeds_file: ProjectPath = CONFIG_DIR / "feeds.yaml"  # default of `newsflow feeds import`
    interval_s: float = Field(default=300.0, gt=0)  # until a feed's publishing rate is known
    min_interval_s: float = Field(default=120.0, gt=0)  # adaptive interval bounds
    max_interval_s: float = Field(default=86400.0, gt=0)
    failure_ceiling_s: float = Field(default=21600.0, gt=0)  # backoff stops growing here
    jitter: float = Field(default=0.1, ge=0, lt=1)  # +- fraction of each interval
    unhealthy_after: int = Field(default=3, ge=1)  # consecutive failures
    validator_probe_every: int = Field(default=24, ge=1)  # polls between unconditional GETs
    seen_min_per_feed: int = Field(default=1000, ge=1)
    seen_max_per_feed: int = Field(default=50_000, ge=1)
    state_write_interval_s: float = Field(default=300.0, ge=0)  # for unchanged feeds
    concurrency: int = Field(default=50, ge=1)  # feeds polled at once
    group_id: str = "newsflow-poller"  # the pollers' consumer group on the feeds topic
    # A dead poller's feeds move after this; brokers refuse < 6 s by default.
    session_timeout_s: float = Field(default=10.0, ge=1)
    worker_id: str | None = None  # shown in `feeds status`; None: host-pid
    state_dir: ProjectPath = PROJECT_ROOT / ".stack" / "state"
    max_entries_per_poll: int = Field(default=500, ge=1)  # also the cap on entries in hand
    # Extraction runs in a pool of processes (None: one per core). A page's budget counts
    # from the moment a process starts on it; one over budget is dead-lettered as
    # extraction-timeout and its process replaced.
    extract_processes: int | None = Field(default=None, ge=1, le=256)
    extract_timeout_s: float = Field(default=20.0, gt=0)
    # Pages fetched but not yet published, at most: fetching waits while this many are in
    # hand, so a slow extraction pool or broker slows fetching instead of piling up pages.
    pages_in_hand: int = Field(default=32, ge=1)
    # A page whose fetch fails transiently (5xx, timeout, DNS) is retried on its own backoff,
    # then dead-lettered with its reason after `retry_attempts` tries or `retry_max_age_s`.
    retry_attempts: int = Field(default=8, ge=1)
    retry_base_s: float = Field(default=15.0, gt=0)
    retry_max_s: float = Field(default=1800.0, gt=0)
    retry_max_age_s: float = Field(default=6 * 3600.0, gt=0)
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: no metrics endpoint


class WorkerSettings(Slice):
    app_id: str = "newsflow"
    data_dir: ProjectPath = PROJECT_ROOT / ".stack" / "state" / "faust"
    web_port: int = Field(default=6066, ge=1, le=65535)  # Faust web: /metrics, /health
    # /health answers 503 once the worker has had lag and committed nothing for this long:
    # a liveness probe's cue to restart it. Faust commits every 2.8 s while it works.
    stall_after_s: float = Field(default=300.0, gt=0)


class IndexerSettings(Slice):
    group_id: str = "newsflow-indexer"
    batch_size: int = Field(default=500, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: no metrics endpoint


class StackSettings(Slice):
    home: ProjectPath = PROJECT_ROOT / ".stack"  # data, logs, pid files
    cache_dir: ProjectPath | None = None  # downloads; None: a per-user cache (see pipeline/stack/lifecycle.py)
    kafka_version: str = "4.1.1"
    es_version: str = "8.19.21"
    kafka_port: int = Field(default=9092, ge=1, le=65535)
    kafka_controller_port: int = Field(default=9093, ge=1, le=65535)
    es_port: int = Field(default=9200, ge=1, le=65535)
    es_transport_port: int = Field(default=9300, ge=1, le=65535)
    kafka_heap_mb: int = Field(default=512, ge=256)
    es_heap_mb: int = Field(default=768, ge=256)
    es_user: str = "newsflow-es"  # Elasticsearch refuses root; used when we are root
    start_timeout_s: float = Field(default=120.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    log_level: str = "info"
    log_format: str = "json"  # json | console
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    es: ElasticsearchSettings = ElasticsearchSettings()
    fetch: FetchSettings = FetchSettings()
    poller: PollerSettings = PollerSettings()
    extract: ExtractOptions = ExtractOptions()
    boilerplate: BoilerplateOptions = BoilerplateOptions()
    worker: WorkerSettings = WorkerSettings()
    indexer: IndexerSettings = IndexerSettings()
    enrich: EnrichOptions = EnrichOptions()
    dedup: DedupOptions = DedupOptions()
    stack: StackSettings = StackSettings()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError(f"expected debug|info|warning|error, got {value!r}")
        return value.lower()

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"json", "console"}:
            raise ValueError(f"expected json|console, got {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("NEWSFLOW_CONFIG", DEFAULT_CONFIG_FILE))
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file)
        # Precedence: explicit arguments, then environment, then the YAML file.
        return (init_settings, env_settings, yaml_source)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into a ConfigError naming setting and value."""
    config_file = Path(os.environ.get("NEWSFLOW_CONFIG", DEFAULT_CONFIG_FILE))
    if not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file} (set NEWSFLOW_CONFIG)")
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = []
        for item in err.errors():
            name = ".".join(str(p) for p in item["loc"])
            env_name = "NEWSFLOW_" + "__".join(str(p).upper() for p in item["loc"])
            problems.append(
                f"  {name} (env {env_name}) = {item.get('input')!r}: {item['msg']}"
            )
        raise ConfigError("invalid settings:\n" + "\n".join(problems)) from err

"""Shared fixtures: the real local stack (started once), and per-test isolated names."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.kafka import ensure_topics
from pipeline.settings import PROJECT_ROOT, Settings, load_settings
from pipeline.stack.workers import run_names, settings_env

SHARED = PROJECT_ROOT.parent / "shared"  # real pages and seeds, beside the project root
TEST_DATA = PROJECT_ROOT / "tests" / "data"  # our own fixtures (feeds)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared test data lives beside the project root")
    return SHARED


@pytest.fixture(scope="session")
def stack() -> Settings:
    """The real Kafka + Elasticsearch, brought up once (an already healthy stack is reused)."""
    from pipeline.stack.lifecycle import ensure_stack

    settings = load_settings()
    ensure_stack(settings)
    return settings


@dataclass
class Isolated:
    """Unique topics, index alias, consumer groups and state dirs for one test."""

    env: dict[str, str]
    settings: Settings
    tmp: Path


@pytest.fixture
def isolated(stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Isolated]:
    run = f"t{uuid.uuid4().hex[:10]}"
    env = settings_env({
        **run_names(run, tmp_path),
        "topics.partitions": 2,
        "topics.feed_partitions": 4,
        "poller.session_timeout_s": 6,  # the broker's minimum: dead pollers are noticed fast
        "log_format": "json",
        "fetch.allowed_networks": '["127.0.0.0/8"]',  # the suite's servers are on loopback
        "fetch.per_host_min_delay_s": 0,
    })
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    # Created up front with the configured partitions, never auto-created with broker defaults.
    asyncio.run(ensure_topics(settings.kafka, settings.topics))
    yield Isolated(env=env, settings=settings, tmp=tmp_path)
    _drop_index(settings)


def _drop_index(settings: Settings) -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(settings.es.url)
    try:
        client.indices.delete(index=f"{settings.es.index_alias}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=settings.es.template_name, ignore=[404])
    finally:
        client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)

"""What the poller's tests share: one extraction pool (spawning processes takes a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.poll.extract_pool import ExtractionPool
from pipeline.options import ExtractOptions


@pytest.fixture(scope="session")
def extraction_pool() -> Iterator[ExtractionPool]:
    pool = ExtractionPool(ExtractOptions(), processes=1, budget_s=20)
    yield pool
    pool.close()

"""Extraction in worker processes (adapter): every core busy, and a budget that can be enforced.

Python threads share one core under the GIL, and a thread over its budget cannot be stopped. So
pages go to a pebble `ProcessPool` of `poller.extract_processes` processes (one per core by
default). They are spawned, not forked (the poller runs Kafka and HTTP clients and pebble's own
threads), and each loads the extractor and opens the learned-boilerplate store once. A page's
budget, `poller.extract_timeout_s`, counts from the moment a process starts on it (pebble stamps
the task when a worker acknowledges it), never the time it waited for a free process; a process
that overruns is killed and replaced, and the page is rejected as `extraction-timeout`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from connectors.extract.boilerplate import strip_learned_boilerplate
from connectors.extract.extraction import extract_article
from connectors.poll.blocks import BlockStore
from pipeline.errors import PageRejected
from pipeline.options import BoilerplateOptions, ExtractOptions
from pipeline.records import ExtractedArticle, FetchedPage


@dataclass
class _Extractor:
    options: ExtractOptions
    blocks: BlockStore | None


_extractor: _Extractor | None = None  # per pool process, set once by its initializer


def _start_process(options: ExtractOptions, blocks_path: Path | None,
                   boilerplate: BoilerplateOptions) -> None:
    global _extractor  # noqa: PLW0603 - the pool process's one extractor
    blocks = BlockStore(blocks_path, boilerplate) if blocks_path is not None else None
    _extractor = _Extractor(options, blocks)


def extract_in_process(page: FetchedPage) -> ExtractedArticle:
    """In a pool process: the page's article, with the domain's learned boilerplate stripped
    (and what this page showed of the domain recorded)."""
    assert _extractor is not None, "pool process started without its extractor"
    article = extract_article(page, _extractor.options)
    if _extractor.blocks is not None:
        article, observed = strip_learned_boilerplate(article, _extractor.blocks,
                                                      _extractor.blocks.options)
        _extractor.blocks.record(article.source_domain, article.article_id, observed)
    return article


def pool_size(configured: int | None) -> int:
    return configured or len(os.sched_getaffinity(0))


class ExtractionPool:
    def __init__(self, options: ExtractOptions, *, processes: int | None, budget_s: float,
                 blocks_path: Path | None = None,
                 boilerplate: BoilerplateOptions = BoilerplateOptions()) -> None:
        self.processes = pool_size(processes)
        self._budget_s = budget_s
        self._pool = ProcessPool(max_workers=self.processes, initializer=_start_process,
                                 initargs=(options, blocks_path, boilerplate),
                                 context=multiprocessing.get_context("spawn"))

    async def extract(self, page: FetchedPage) -> ExtractedArticle:
        """The article, or PageRejected (over budget, or its process died) / ExtractionEmpty."""
        future = self._pool.schedule(extract_in_process, args=(page,), timeout=self._budget_s)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout as err:
            raise PageRejected(f"extraction took over {self._budget_s}s", url=page.url,
                               reason="extraction-timeout") from err
        except ProcessExpired as err:  # a segfault or an out-of-memory kill, on this page
            raise PageRejected(f"the extraction process died on this page: {err}",
                               url=page.url, reason="extraction-crashed") from err
        except asyncio.CancelledError:
            future.cancel()  # type: ignore[no-untyped-call]  # pebble kills its process if started
            raise

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join()

"""`newsflow trace FILE_OR_URL [--url URL]`: one article through every stage, in-process.

The worker's own core functions in the order an article meets them, with no Kafka and no
Elasticsearch: the page (fetched as the poller fetches, or an HTML file), its extraction, its
enrichment, its dedup verdict against an empty state, and the bulk action the indexer sends.
One JSON object per stage on stdout, `{"stage": ..., "record": {...}}`: for debugging one article
and for following it through the code (ARCHITECTURE.md lists the files in this order).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from connectors.extract.extraction import extract_article
from pipeline.cli.inspect.inputs import PlainText, read_input
from pipeline.cli.support import fail, settings_or_exit
from pipeline.dedup.state import EncodedStateView, MemoryBucketStore
from pipeline.dedup.verdict import dedup_input, dedup_verdict, with_verdict
from pipeline.errors import NewsflowError
from pipeline.index.documents import JsonDict, es_action
from pipeline.records import FetchedPage
from pipeline.settings import Settings

if TYPE_CHECKING:  # spaCy and the gazetteer load only when the command runs
    from pipeline.enrich.enrichment import EnrichmentModels


def trace_stages(page: FetchedPage, settings: Settings, models: EnrichmentModels, *,
                 now: datetime) -> Iterator[tuple[str, JsonDict]]:
    """(stage, record) for each stage of `page`'s way from the poller to the index."""
    from pipeline.enrich.enrichment import enrich_article

    yield "page", page.model_dump(mode="json", exclude={"html"})
    article = extract_article(page, settings.extract)
    yield "extracted", article.model_dump(mode="json")
    enriched = enrich_article(article, models, now=now)
    yield "enriched", enriched.model_dump(mode="json")
    verdict, _update = dedup_verdict(dedup_input(enriched), EncodedStateView(MemoryBucketStore()),
                                     settings.dedup, now=now)
    yield "verdict", verdict.model_dump(mode="json")
    yield "index", es_action(with_verdict(enriched, verdict), settings.es.index_alias,
                             indexed_at=now)


def trace_command(
    target: Annotated[str, typer.Argument(help="An article URL or an HTML file.")],
    url: Annotated[str | None, typer.Option(help="The page's URL, for a file.")] = None,
) -> None:
    """Follow one article through extraction, enrichment, dedup and indexing, in-process."""
    from pipeline.enrich.enrichment import load_models

    settings = settings_or_exit()
    now = datetime.now(UTC)
    try:
        page = read_input(target, url, settings.fetch, now=now)
        if isinstance(page, PlainText):
            raise ValueError(f"{target} is not an HTML page: trace starts from a page")
        models = load_models(settings.enrich)
        for stage, record in trace_stages(page, settings, models, now=now):
            typer.echo(json.dumps({"stage": stage, "record": record}, ensure_ascii=False))
    except (NewsflowError, ValueError, OSError) as error:
        raise fail(error, as_json=True) from error

"""`newsflow enrich FILE_OR_URL [--json]`: enrich one article in-process, for debugging.

The same `enrich_article` as the worker's agent, on: a URL (fetched as the poller fetches, HTML
run through `connectors.extract.extraction.extract_article`), an HTML file (.gz too), or a plain-text
file (its first line is taken as the title when it reads like one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from connectors.extract.extraction import extract_article
from pipeline.cli.inputs import PlainText, read_input
from pipeline.cli.support import fail, settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.identity import article_id_for, source_domain
from pipeline.records import EnrichedArticle, ExtractedArticle, ExtractionOutcome
from pipeline.settings import Settings


def article_from_text(read: PlainText, now: datetime) -> ExtractedArticle:
    """A plain-text article; a short first line without a full stop is its title."""
    first, _, rest = read.text.strip().partition("\n")
    title, text = None, read.text
    if rest.strip() and len(first) < 200 and not first.rstrip().endswith((".", "!", "?", ":")):
        title, text = first.strip(), rest
    body = "\n\n".join(" ".join(p.split()) for p in text.split("\n") if p.strip())
    return ExtractedArticle(
        article_id=article_id_for(read.url), url=read.url, final_url=read.url,
        source_domain=source_domain(read.url), title=title, text=body, http_status=200,
        byte_size=read.byte_size, fetched_at=now,
        extraction=ExtractionOutcome(extractor="plain-text", text_length=len(body), quality="ok"))


def read_article(target: str, settings: Settings, now: datetime,
                 url: str | None = None) -> ExtractedArticle:
    """The article at a URL or in a file, extracted as the poller extracts it."""
    read = read_input(target, url, settings.fetch, now=now)
    if isinstance(read, PlainText):
        return article_from_text(read, now)
    return extract_article(read, settings.extract)


def describe(enriched: EnrichedArticle) -> list[str]:
    """The enrichment a person reads first, one line per field."""
    places = ", ".join(
        f"{p.name} ({p.country_code or '-'}"
        + (f" {p.location.lat:.3f},{p.location.lon:.3f}" if p.location else "") + f") x{p.mentions}"
        for p in enriched.places or ())
    entities = enriched.entities or ()
    lines = [
        f"title:         {enriched.title or '-'}",
        f"language:      {enriched.language or '-'} ({enriched.language_confidence or 0:.2f})",
        f"published:     {enriched.published_at or '-'} (source: {enriched.date_source or '-'})"
        + (f", updated {enriched.updated_at}" if enriched.updated_at else ""),
        f"words:         {enriched.word_count} (~{enriched.reading_time_s // 60} min "
        f"{enriched.reading_time_s % 60} s)",
        f"section:       {enriched.section or '-'}; authors: {', '.join(enriched.authors) or '-'}",
        f"summary:       {enriched.summary or '-'}",
        f"keywords:      {', '.join(enriched.keywords or ()) or '-'}",
    ]
    for kind, label in (("person", "people"), ("organisation", "organisations")):
        found = [f"{e.name} x{e.mentions}" + (f" [{'; '.join(e.aliases)}]" if e.aliases else "")
                 for e in entities if e.kind == kind]
        lines.append(f"{label + ':':<15}{', '.join(found) or '-'}")
    lines.append(f"places:        {places or '-'}")
    lines.append(f"countries:     {', '.join(enriched.countries or ()) or '-'}")
    if enriched.enrichment_errors:
        lines.append(f"errors:        {'; '.join(enriched.enrichment_errors)}")
    return lines


def enrich_command(
    target: Annotated[str, typer.Argument(help="An article URL, or an HTML (.gz) or text file.")],
    url: Annotated[str | None, typer.Option(help="The page's URL, for a file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the EnrichedArticle as JSON.")]
    = False,
) -> None:
    """Enrich one article with the worker's own models and print the result."""
    from pipeline.enrich.enrichment import enrich_article, load_models  # spaCy: only when run

    settings = settings_or_exit()  # the worker's enrichment options
    now = datetime.now(UTC)
    try:
        article = read_article(target, settings, now, url)
        enriched = enrich_article(article, load_models(settings.enrich), now=now)
    except (ValueError, OSError, NewsflowError) as error:
        raise fail(error, as_json=as_json) from error
    if as_json:
        typer.echo(enriched.model_dump_json(indent=2))
    else:
        typer.echo("\n".join(describe(enriched)))

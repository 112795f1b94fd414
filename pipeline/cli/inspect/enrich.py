"""`newsflow enrich`: the worker's enrichment in-process, for a person or a batch job.

    newsflow enrich FILE_OR_URL [--url URL] [--json]    one article
    newsflow enrich --jsonl < in.jsonl > out.jsonl      one EnrichedArticle per line out

The same `enrich_article` as the worker's agent, on: a URL (fetched as the poller fetches, HTML
run through `connectors.extract.extraction.extract_article`), an HTML file (.gz too), or a plain-text
file (its first line is taken as the title when it reads like one). A batch line is an
ExtractedArticle as JSON, or `{"id", "title", "text"}` (`title` and `url` optional), whose `id`
becomes the `article_id`; a line that is neither gives `{"id", "error", "reason"}`. Models load
once; lines are enriched one by one in this process (bench/stages/entities_eval.py and places_eval.py
score these outputs).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

import typer
from pydantic import ValidationError
from rich.progress import Progress

from connectors.extract.extraction import extract_article
from pipeline.cli.inspect.inputs import PlainText, read_input
from pipeline.cli.support import err, fail, settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.identity import article_id_for, source_domain
from pipeline.records import EnrichedArticle, ExtractedArticle, ExtractionOutcome
from pipeline.settings import Settings

if TYPE_CHECKING:  # spaCy loads with the models, only when a command enriches
    from pipeline.enrich.enrichment import EnrichmentModels


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


def article_from_line(line: str, now: datetime) -> ExtractedArticle:
    """A batch input line as an article. Raises ValueError (pydantic's ValidationError is one)
    for a line that is not JSON, an ExtractedArticle, nor `{"id", "text"}`."""
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("a line must be a JSON object")
    if "article_id" in item:
        return ExtractedArticle.model_validate(item)
    ident, text, title = item.get("id"), item.get("text"), item.get("title")
    if not isinstance(ident, str | int) or isinstance(ident, bool) or not isinstance(text, str):
        raise ValueError('a line needs "id" (string or number) and "text" (string)')
    url = item.get("url") or f"http://localhost/batch/{quote(str(ident), safe='')}"
    return ExtractedArticle(
        article_id=str(ident), url=url, final_url=url, source_domain=source_domain(url),
        title=title if isinstance(title, str) and title.strip() else None, text=text,
        http_status=200, byte_size=len(text.encode()), fetched_at=now,
        extraction=ExtractionOutcome(extractor="batch", text_length=len(text), quality="ok"))


def batch_result(line: str, models: EnrichmentModels, now: datetime) -> str:
    """One batch line enriched, as one JSON line: the EnrichedArticle, or `{"id", "error",
    "reason": "bad-input"}` for a line that is not an article."""
    from pipeline.enrich.enrichment import enrich_article

    try:
        article = article_from_line(line, now)
    except ValueError as error:  # ValidationError included
        try:
            ident = json.loads(line).get("id")
        except (ValueError, AttributeError):
            ident = None
        detail = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return json.dumps({"id": ident, "error": f"bad input line: {detail}",
                           "reason": "bad-input"})
    return enrich_article(article, models, now=now).model_dump_json()


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
    target: Annotated[str | None, typer.Argument(
        help="An article URL, or an HTML (.gz) or text file.")] = None,
    url: Annotated[str | None, typer.Option(help="The page's URL, for a file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the EnrichedArticle as JSON.")]
    = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Batch: JSON lines on stdin.")] = False,
) -> None:
    """Enrich articles with the worker's own models: one, or a batch of JSON lines."""
    from pipeline.enrich.enrichment import enrich_article, load_models  # spaCy: only when run

    settings = settings_or_exit()  # the worker's enrichment options
    if jsonl:
        if target is not None:
            raise typer.BadParameter("give a FILE or URL, or --jsonl, not both")
        lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
        try:
            models = load_models(settings.enrich)
        except NewsflowError as error:
            raise fail(error) from error
        with Progress(console=err, disable=not sys.stderr.isatty()) as progress:
            for line in progress.track(lines, description="enriching"):
                sys.stdout.write(batch_result(line, models, datetime.now(UTC)) + "\n")
        return
    if target is None:
        raise typer.BadParameter("give a FILE or URL, or --jsonl")
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

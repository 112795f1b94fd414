"""`newsflow enrich FILE_OR_URL [--json]`: enrich one article in-process, for debugging.

The same `enrich_article` as the worker's agent, on: a URL (fetched as the poller fetches, HTML
run through `connectors.extract.extraction.extract_article`), an HTML file (.gz too), or a plain-text
file (its first line is taken as the title when it reads like one).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from connectors.extract.extraction import ExtractOptions, extract_article
from pipeline.cli.support import settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.cli.extract import fetch_url
from pipeline.records import EnrichedArticle, ExtractedArticle, ExtractionOutcome, FetchedPage

_HTML_RE = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|article|p)\b", re.IGNORECASE)


def _article_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def is_html(text: str) -> bool:
    return bool(_HTML_RE.search(text[:4000]))


def article_from_text(text: str, url: str, now: datetime) -> ExtractedArticle:
    """A plain-text article; a short first line without a full stop is its title."""
    first, _, rest = text.strip().partition("\n")
    title = None
    if rest.strip() and len(first) < 200 and not first.rstrip().endswith((".", "!", "?", ":")):
        title, text = first.strip(), rest
    body = "\n\n".join(" ".join(p.split()) for p in text.split("\n") if p.strip())
    return ExtractedArticle(
        article_id=_article_id(url), url=url, final_url=url,
        source_domain=(urlsplit(url).hostname or "").removeprefix("www."), title=title,
        text=body, http_status=200, byte_size=len(text.encode("utf-8")), fetched_at=now,
        extraction=ExtractionOutcome(extractor="plain-text", text_length=len(body), quality="ok"))


def article_from_html(html: str, url: str, now: datetime) -> ExtractedArticle:
    page = FetchedPage(article_id=_article_id(url), url=url, final_url=url, status=200,
                       content_type="text/html", fetched_at=now,
                       byte_size=len(html.encode("utf-8")), html=html)
    return extract_article(page, ExtractOptions())


def read_article(target: str, now: datetime) -> ExtractedArticle:
    """The article at a URL or in a file. Raises ValueError for an unreadable target."""
    if target.startswith(("http://", "https://")):
        # The poller's fetcher: SSRF guard, size and decompression caps, robots.txt.
        return extract_article(asyncio.run(fetch_url(target)), ExtractOptions())
    path = Path(target)
    if not path.is_file():
        raise ValueError(f"no such file, and not an http(s) URL: {target}")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    url = path.resolve().as_uri()
    return article_from_html(text, url, now) if is_html(text) else \
        article_from_text(text, url, now)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print the EnrichedArticle as JSON.")]
    = False,
) -> None:
    """Enrich one article with the worker's own models and print the result."""
    from pipeline.enrich.enrichment import enrich_article, load_models  # spaCy: only when run

    settings = settings_or_exit()  # the worker's enrichment options
    now = datetime.now(UTC)
    try:
        article = read_article(target, now)
        enriched = enrich_article(article, load_models(settings.enrich), now=now)
    except (ValueError, NewsflowError) as err:
        typer.echo(json.dumps({"error": str(err)}) if as_json else f"error: {err}", err=True)
        raise typer.Exit(1) from err
    if as_json:
        typer.echo(enriched.model_dump_json(indent=2))
    else:
        typer.echo("\n".join(describe(enriched)))

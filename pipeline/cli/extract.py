"""`newsflow extract`: the poller's extraction code path, for a person or a batch job.

    newsflow extract PAGE.html [--url URL] [--json]     one page (a file or an http(s) URL)
    newsflow extract --jsonl < pages.jsonl > out.jsonl  {"id","url","html"} per line in,
                                                        one JSON result per line out
Plain-text input (no markup) goes through the same second-stage cleaner only.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from connectors.extract.cleaning import clean_text
from connectors.extract.extraction import ExtractOptions, extract_article
from connectors.feeds.parsing import article_id_for, canonical_url
from connectors.fetch.fetching import Fetcher, decode_html, fetch_page, make_client
from pipeline.errors import NewsflowError
from pipeline.records import ExtractedArticle, FeedEntry, FetchedPage
from pipeline.settings import load_settings

LOCAL_BASE = "http://localhost/"  # identity for a file read without --url


def page_from_html(html: str, url: str, *, byte_size: int | None = None) -> FetchedPage:
    canonical = canonical_url(url)
    return FetchedPage(article_id=article_id_for(canonical), url=canonical, final_url=url,
                       status=200, content_type="text/html", fetched_at=datetime.now(UTC),
                       byte_size=byte_size if byte_size is not None else len(html.encode()),
                       html=html)


def looks_like_html(text: str) -> bool:
    head = text[:4096].lower()
    return "<html" in head or "<body" in head or "<p" in head or "<div" in head


async def fetch_url(url: str) -> FetchedPage:
    """The page at `url`, fetched as the poller fetches (guards and caps from settings.fetch)."""
    settings = load_settings()
    async with make_client(settings.fetch) as client:
        canonical = canonical_url(url)
        entry = FeedEntry(article_id=article_id_for(canonical), feed_url=url, link=canonical)
        return await fetch_page(Fetcher(client, settings.fetch), entry)


def read_page(target: str, url: str | None) -> FetchedPage | str:
    """The page at an http(s) URL or in an HTML file (`url`: its identity); a text file's text."""
    if target.startswith(("http://", "https://")):
        return asyncio.run(fetch_url(target))
    path = Path(target)
    raw = path.read_bytes()
    text = decode_html(raw, None)
    if not looks_like_html(text):
        return text
    return page_from_html(text, url or LOCAL_BASE + path.name, byte_size=len(raw))


def _one(target: str, url: str | None, opts: ExtractOptions) -> ExtractedArticle | str:
    page = read_page(target, url)
    return clean_text(page, opts.clean) if isinstance(page, str) else extract_article(page, opts)


def _batch_result(line: str, opts: ExtractOptions) -> dict[str, object]:
    try:
        item = json.loads(line)
        ident, url, html = item.get("id"), str(item["url"]), str(item["html"])
    except (ValueError, KeyError, TypeError) as err:
        return {"id": None, "error": f"bad input line: {err}", "reason": "bad-input"}
    try:
        article = extract_article(page_from_html(html, url), opts)
    except (NewsflowError, ValueError) as err:
        return {"id": ident, "url": url, "error": str(err),
                "reason": getattr(err, "reason", "bad-url")}
    return {"id": ident, "url": url, **article.model_dump(
        mode="json", include={"title", "text", "authors", "published_at", "date_source",
                              "site_name", "language_hint", "extraction"})}


def extract_command(
    target: Annotated[str | None, typer.Argument(help="HTML/text file or http(s) URL.")] = None,
    url: Annotated[str | None, typer.Option(help="The page's URL, for a file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole article as JSON.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Batch: JSON lines on stdin.")] = False,
) -> None:
    """Extract the clean article body (and metadata) from a page, as the poller does."""
    opts = ExtractOptions()
    if jsonl:
        lines = sys.stdin.read().splitlines()
        progress = Progress(console=Console(stderr=True), disable=not sys.stderr.isatty())
        with progress:
            for line in progress.track(lines, description="extracting"):
                if line.strip():
                    sys.stdout.write(json.dumps(_batch_result(line, opts)) + "\n")
        return
    if target is None:
        raise typer.BadParameter("give a FILE or URL, or --jsonl")
    try:
        result = _one(target, url, opts)
    except (NewsflowError, ValueError, OSError) as err:
        Console(stderr=True).print(f"[red]newsflow: {err}[/red]", markup=False)
        raise typer.Exit(1) from err
    if isinstance(result, str):
        sys.stdout.write(json.dumps({"text": result}) + "\n" if as_json else result + "\n")
    elif as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(result.text + "\n")

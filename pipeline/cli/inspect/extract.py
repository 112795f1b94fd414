"""`newsflow extract`: the poller's extraction code path, for a person or a batch job.

    newsflow extract PAGE.html [--url URL] [--json]     one page (a file or an http(s) URL)
    newsflow extract --jsonl < pages.jsonl > out.jsonl  {"id","url","html"} per line in,
                                                        one JSON result per line out
Plain-text input (no markup) goes through the same second-stage cleaner only.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import Progress

from connectors.extract.cleaning import clean_text
from connectors.extract.extraction import extract_article
from pipeline.cli.inspect.inputs import PlainText, page_from_html, read_input
from pipeline.cli.support import err, fail, settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.options import ExtractOptions


def _batch_result(line: str, opts: ExtractOptions) -> dict[str, object]:
    try:
        item = json.loads(line)
        ident, url, html = item.get("id"), str(item["url"]), str(item["html"])
    except (ValueError, KeyError, TypeError) as error:
        return {"id": None, "error": f"bad input line: {error}", "reason": "bad-input"}
    try:
        article = extract_article(page_from_html(html, url, now=datetime.now(UTC)), opts)
    except (NewsflowError, ValueError) as error:
        return {"id": ident, "url": url, "error": str(error),
                "reason": getattr(error, "reason", "bad-url")}
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
    settings = settings_or_exit()
    opts = settings.extract
    if jsonl:
        lines = sys.stdin.read().splitlines()
        with Progress(console=err, disable=not sys.stderr.isatty()) as progress:
            for line in progress.track(lines, description="extracting"):
                if line.strip():
                    sys.stdout.write(json.dumps(_batch_result(line, opts)) + "\n")
        return
    if target is None:
        raise typer.BadParameter("give a FILE or URL, or --jsonl")
    try:
        read = read_input(target, url, settings.fetch, now=datetime.now(UTC))
        if isinstance(read, PlainText):
            text = clean_text(read.text, opts.clean)
            sys.stdout.write(json.dumps({"text": text}) + "\n" if as_json else text + "\n")
            return
        article = extract_article(read, opts)
    except (NewsflowError, ValueError, OSError) as error:
        raise fail(error, as_json=as_json) from error
    sys.stdout.write(article.model_dump_json(indent=2) + "\n" if as_json else article.text + "\n")

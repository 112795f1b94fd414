"""What every `newsflow` command does the same way: load settings, report failures."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.errors import ConfigError, NewsflowError
from pipeline.telemetry import configure_logging
from pipeline.index.search import SearchHit
from pipeline.settings import Settings, load_settings

err_console = Console(stderr=True)


def settings_or_exit(*, log_level: str | None = None, log_format: str | None = None) -> Settings:
    """Settings, or exit 2 naming the bad setting; logging configured as asked."""
    try:
        settings = load_settings()
    except ConfigError as err:
        err_console.print(f"[red]newsflow: {escape(str(err))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from err
    configure_logging(log_level or settings.log_level, log_format or settings.log_format)
    return settings


def fail(err: NewsflowError) -> typer.Exit:
    """Print the error (and a service's log tail when it carries one); exit 2 or 1."""
    err_console.print(f"[red]newsflow: {escape(str(err))}[/red]", soft_wrap=True)
    if tail := getattr(err, "log_tail", ""):
        err_console.file.flush()
        sys.stderr.write(tail)  # raw: rich would re-wrap and re-colour log lines
    return typer.Exit(2 if isinstance(err, ConfigError) else 1)


def hits_table(title: str, hits: list[SearchHit]) -> Table:
    """Search hits for a person: score, title, source, date, highlighted snippet."""
    table = Table(title=title, show_lines=True)
    for column in ("score", "title", "source", "published", "snippet"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        snippet = escape(hit.snippet).replace("<em>", "[bold yellow]").replace(
            "</em>", "[/bold yellow]")
        table.add_row(f"{hit.score:.2f}", escape(hit.title or "(untitled)"), hit.source_domain,
                      (hit.published_at or "")[:16], snippet)
    return table

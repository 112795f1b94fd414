"""What every `newsflow` command does the same way: settings, consoles, and reporting failures.

One console for results (stdout) and one for progress and errors (stderr). A failure is reported
once, by `fail`: `newsflow: <message>` in red, or with `--json` a JSON object
`{"error", "reason"}`, on stderr; exit code 2 for a bad setting, 1 for anything else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.errors import ConfigError, NewsflowError
from pipeline.settings import Settings, load_settings
from pipeline.telemetry import configure_logging

out = Console()  # results, for a person
err = Console(stderr=True)  # progress and errors
T = TypeVar("T")


def settings_or_exit(*, log_level: str | None = None, log_format: str | None = None) -> Settings:
    """Settings, or exit 2 naming the bad setting; logging configured as asked."""
    try:
        settings = load_settings()
    except ConfigError as error:
        raise fail(error) from error
    configure_logging(log_level or settings.log_level, log_format or settings.log_format)
    return settings


def fail(error: Exception | str, *, as_json: bool = False) -> typer.Exit:
    """Report a failure (and a service's log tail when it carries one); the exit to raise."""
    message = str(error)
    if as_json:
        reason = getattr(error, "reason", "error" if isinstance(error, str) else "bad-input")
        sys.stderr.write(json.dumps({"error": message, "reason": reason}) + "\n")
    else:
        err.print(f"[red]newsflow: {escape(message)}[/red]", soft_wrap=True)
    if tail := getattr(error, "log_tail", ""):
        err.file.flush()
        sys.stderr.write(tail)  # raw: rich would re-wrap and re-colour log lines
    return typer.Exit(2 if isinstance(error, ConfigError) else 1)


def run_or_fail(work: Callable[[], T], *, as_json: bool = False) -> T:
    """`work()`, with a NewsflowError (Kafka or ES unreachable, ...) reported by `fail`."""
    try:
        return work()
    except NewsflowError as error:
        raise fail(error, as_json=as_json) from error

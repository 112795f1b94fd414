"""structlog set-up: JSON lines by default, one event name per disposition."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # The process's own stderr, not whatever sys.stderr is: Faust's worker redirects that
        # into stdlib logging (which would prefix every JSON line), and typer's CliRunner swaps
        # in a buffer that it closes after the command.
        logger_factory=structlog.PrintLoggerFactory(file=sys.__stderr__ or sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Third-party libraries (aiokafka, faust, elasticsearch) log through stdlib logging.
    logging.basicConfig(level=max(logging.WARNING, logging.getLevelName(level.upper())),
                        stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")

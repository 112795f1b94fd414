"""Telemetry shared by all workers: Prometheus metrics (each worker serves them on its own port)
and structlog set-up (JSON lines by default, one event name per disposition)."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge, Histogram, start_http_server

ARTICLES = Counter(
    "newsflow_articles_total",
    "Articles by stage and disposition (outcome = ok or the error's reason slug).",
    ["stage", "outcome"],
)
FEED_POLLS = Counter("newsflow_feed_polls_total", "Feed polls by outcome.", ["outcome"])
FEED_ISSUES = Counter("newsflow_feed_issues_total",
                      "Problems met in feeds (malformed, entries without links, bad dates...).",
                      ["reason"])
FEEDS_BY_HEALTH = Gauge("newsflow_feeds", "Feeds this poller owns, by health.", ["health"])
FEED_FAILURES = Gauge("newsflow_feed_consecutive_failures",
                      "Consecutive failed polls of each owned feed (0 = healthy).", ["feed"])
POLLER_ARTICLES = Gauge("newsflow_poller_articles",
                        "Articles the poller holds, by state: queued (in a host lane), in_hand "
                        "(fetching, extracting or publishing), waiting (for a retry).", ["state"])
BULK_SECONDS = Histogram("newsflow_bulk_seconds", "Elasticsearch bulk request latency.")
INDEXER_BATCH = Gauge("newsflow_indexer_batch_size", "Records in the last indexer batch.")
CONSUMER_LAG = Gauge("newsflow_consumer_lag",
                     "Records of a partition its consumer group has not committed yet "
                     "(end offset minus committed offset).", ["group", "topic", "partition"])
CONSUMER_STALLED = Gauge("newsflow_consumer_stalled_seconds",
                         "How long a partition with lag has kept its committed offset (the "
                         "longest of the group's; 0 while every lagging partition moves).",
                         ["group"])


def serve_metrics(port: int) -> None:
    """Expose /metrics on port (0 means disabled)."""
    if port:
        start_http_server(port, addr="127.0.0.1")


def count(stage: str, outcome: str) -> None:
    ARTICLES.labels(stage=stage, outcome=outcome).inc()

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

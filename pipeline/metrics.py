"""Prometheus metrics shared by all workers; each worker serves them on its own port."""

from __future__ import annotations

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
BULK_SECONDS = Histogram("newsflow_bulk_seconds", "Elasticsearch bulk request latency.")
CONSUMER_LAG = Gauge("newsflow_indexer_batch_size", "Records in the last indexer batch.")


def serve_metrics(port: int) -> None:
    """Expose /metrics on port (0 means disabled)."""
    if port:
        start_http_server(port, addr="127.0.0.1")


def count(stage: str, outcome: str) -> None:
    ARTICLES.labels(stage=stage, outcome=outcome).inc()

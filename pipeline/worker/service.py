"""`newsflow worker` (adapter): one Faust worker process (enrichment, then dedup), from Settings.

Faust runs its own event loop and handles SIGTERM/SIGINT itself (the event in hand is finished,
offsets committed); Prometheus metrics, Faust's and ours (consumer lag of the worker's group
included), are on `worker.web_port` at /metrics; /health is its liveness (503 when it has had
lag and committed nothing for `worker.stall_after_s`).
"""

from __future__ import annotations

import faust
import structlog
from faust.sensors.prometheus import setup_prometheus_sensors

from pipeline.kafka import LAG_INTERVAL_S, LagProbe, ensure_topics
from pipeline.service import run_when_up
from pipeline.settings import Settings
from pipeline.worker.agents import register_agents
from pipeline.worker.app import create_app

logger = structlog.get_logger("newsflow.worker")


def health_report(stalled_s: float, stall_after_s: float) -> tuple[dict[str, object], int]:
    """/health's answer: 503 once the worker has had work and done none of it for too long."""
    if stalled_s >= stall_after_s:
        return {"status": "stalled", "stalled_s": round(stalled_s, 1)}, 503
    return {"status": "ok", "stalled_s": round(stalled_s, 1)}, 200


def run(settings: Settings) -> None:
    async def topics_ready() -> bool:
        await ensure_topics(settings.kafka, settings.topics)
        return True

    if not run_when_up(topics_ready):
        return  # stopped before Kafka came up
    pipeline = create_app(settings)
    register_agents(pipeline, settings.enrich, settings.dedup, settings.worker.data_dir)
    setup_prometheus_sensors(pipeline.app)

    @pipeline.app.task  # type: ignore[untyped-decorator]
    async def announce() -> None:  # models are loaded by now: ready for events
        logger.info("worker_started", app_id=settings.worker.app_id,
                    topic=settings.topics.articles)

    lag = LagProbe(settings.kafka, settings.worker.app_id,
                   [settings.topics.articles, settings.topics.dedup])

    @pipeline.app.timer(LAG_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def report_lag() -> None:
        lag.paused = bool(pipeline.app.in_recovery or pipeline.app.rebalancing)
        await lag.measure()

    @pipeline.app.page("/health")
    async def health(view: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        body, status = health_report(lag.stalled_s, settings.worker.stall_after_s)
        return view.json(body, status=status)

    level = {"warning": "warn"}.get(settings.log_level, settings.log_level)
    worker = faust.Worker(pipeline.app, loglevel=level, quiet=True)
    # Faust's start-up spinner sets the root logger to DEBUG, so every debug call in faust and
    # aiokafka (several per record) builds a LogRecord that the handler then drops.
    worker.spinner = None
    worker.execute_from_commandline()

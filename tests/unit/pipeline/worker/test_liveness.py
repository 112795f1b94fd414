"""The worker's liveness: lag with no commits for too long reads as stalled (pure parts)."""

from __future__ import annotations

from aiokafka import TopicPartition

from pipeline.kafka import StallWatch
from pipeline.worker.service import health_report

A, B = TopicPartition("articles", 0), TopicPartition("articles", 1)


def test_a_partition_with_lag_and_the_same_commit_counts_as_stalled() -> None:
    watch = StallWatch()
    assert watch.observe({A: 10, B: 5}, {A: 3, B: 0}, now=100.0) == 0.0
    assert watch.observe({A: 10, B: 5}, {A: 3, B: 0}, now=160.0) == 60.0
    assert watch.observe({A: 10, B: 5}, {A: 9, B: 4}, now=400.0) == 300.0  # B lags only now


def test_progress_idleness_and_a_reset_clear_the_stall() -> None:
    watch = StallWatch()
    watch.observe({A: 10}, {A: 3}, now=0.0)
    assert watch.observe({A: 11}, {A: 40}, now=50.0) == 0.0  # a slow worker still commits
    assert watch.observe({A: 11}, {A: 0}, now=500.0) == 0.0  # nothing to do is not a stall
    assert watch.observe({A: 11}, {A: 2}, now=520.0) == 20.0  # stalled since it last had none
    watch.reset()  # the broker went away, or the tables are recovering
    assert watch.observe({A: 11}, {A: 2}, now=900.0) == 0.0


def test_health_turns_503_once_stalled_for_the_threshold() -> None:
    assert health_report(12.0, 300.0) == ({"status": "ok", "stalled_s": 12.0}, 200)
    assert health_report(300.0, 300.0) == ({"status": "stalled", "stalled_s": 300.0}, 503)

"""The RecordSink contract kept in memory (pipeline/kafka.py), for unit tests: not a Kafka mock,
the interface every stage outside Faust sends through."""

from __future__ import annotations

from collections import defaultdict

from connectors.feeds.state import FeedState
from pipeline.records import DeadLetter, ExtractedArticle
from pipeline.settings import TopicSettings

TOPICS = TopicSettings()


class MemorySink:
    def __init__(self, topics: TopicSettings = TOPICS) -> None:
        self.topics = topics
        self.records: defaultdict[str, list[tuple[str | None, bytes | None]]] = defaultdict(list)

    async def send(self, topic: str, key: str | None, value: bytes | None) -> None:
        self.records[topic].append((key, value))

    @property
    def articles(self) -> list[ExtractedArticle]:
        return [ExtractedArticle.model_validate_json(v) for _, v in
                self.records[self.topics.articles] if v is not None]

    @property
    def letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(v) for _, v in
                self.records[self.topics.dead_letter] if v is not None]

    @property
    def states(self) -> dict[str, FeedState]:
        """The latest feed state per key, as the compacted topic would keep it."""
        latest: dict[str, FeedState] = {}
        for key, value in self.records[self.topics.feed_state]:
            if key is not None and value is not None:
                latest[key] = FeedState.model_validate_json(value)
        return latest

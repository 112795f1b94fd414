"""Errors newsflow raises, in two branches so an adapter only asks "retry or dead-letter?".

    NewsflowError(reason)        reason: a stable slug, used as metric label and DLQ reason
    ├── ConfigError              bad setting: fail at start-up, naming setting and value
    ├── TransientError           retry with capped backoff
    │   ├── FetchUnavailable(url, retry_after)
    │   └── SinkUnavailable(target)
    └── RejectedRecord           dead-letter, keep going
        ├── FeedRejected(feed_url)
        ├── PageRejected(url, status)
        ├── ExtractionEmpty(url)
        └── BadRecord(topic, partition, offset)
"""

from __future__ import annotations


class NewsflowError(Exception):
    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields: pickle (across a process pool) rebuilds from the message and
        # restores the instance's attributes, instead of calling __init__(*args).
        return (_rebuild, (type(self), str(self), self.__dict__))


def _rebuild(cls: type[NewsflowError], message: str, attrs: dict[str, object]) -> NewsflowError:
    error = Exception.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(attrs)
    return error


class ConfigError(NewsflowError):
    reason = "config-invalid"


class TransientError(NewsflowError):
    reason = "transient"


class FetchUnavailable(TransientError):
    reason = "fetch-unavailable"

    def __init__(self, message: str, *, url: str, retry_after: float | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.url = url
        self.retry_after = retry_after


class SinkUnavailable(TransientError):
    reason = "sink-unavailable"

    def __init__(self, message: str, *, target: str, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.target = target


class RejectedRecord(NewsflowError):
    reason = "rejected"


class FeedRejected(RejectedRecord):
    reason = "feed-rejected"

    def __init__(self, message: str, *, feed_url: str, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.feed_url = feed_url


class PageRejected(RejectedRecord):
    reason = "page-rejected"

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.url = url
        self.status = status


class ExtractionEmpty(RejectedRecord):
    reason = "extraction-empty"

    def __init__(self, message: str, *, url: str, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.url = url


class BadRecord(RejectedRecord):
    reason = "bad-record"

    def __init__(self, message: str, *, topic: str, partition: int | None = None,
                 offset: int | None = None, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.topic = topic
        self.partition = partition
        self.offset = offset

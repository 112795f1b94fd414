"""Feed subscriptions (pure): the registry's records and the feed list file format."""

from __future__ import annotations

from datetime import datetime

import yaml

from pipeline.identity import canonical_url
from pipeline.records import Record


class FeedSubscription(Record):
    """A registry entry (value of the compacted feeds topic, keyed by `feed_key(url)`)."""

    url: str  # where to poll; moves with permanent redirects, the registry key does not
    interval_s: float | None = None  # pins the interval; None: learned from the feed
    tags: tuple[str, ...] = ()
    title: str | None = None
    added_at: datetime | None = None


def feed_key(url: str) -> str:
    """The registry key of a feed: its canonical URL when first subscribed."""
    return canonical_url(url)


class FeedList(Record):
    feeds: tuple[FeedSubscription, ...] = ()


def parse_feed_list(text: str) -> FeedList:
    """Parse config/feeds.yaml content (a `feeds:` list of {url, interval_s, tags})."""
    data = yaml.safe_load(text) or {}
    return FeedList.model_validate(data)

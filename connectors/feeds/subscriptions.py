"""Feed subscriptions (pure): registry keys and the feed list file format (the registry's
record, `FeedSubscription`, is a public payload: pipeline/records.py)."""

from __future__ import annotations

import yaml

from pipeline.identity import canonical_url
from pipeline.records import FeedSubscription, Record


def feed_key(url: str) -> str:
    """The registry key of a feed: its canonical URL when first subscribed."""
    return canonical_url(url)


class FeedList(Record):
    feeds: tuple[FeedSubscription, ...] = ()


def parse_feed_list(text: str) -> FeedList:
    """Parse config/feeds.yaml content (a `feeds:` list of {url, interval_s, tags})."""
    data = yaml.safe_load(text) or {}
    return FeedList.model_validate(data)

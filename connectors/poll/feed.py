"""A feed this poller owns, as the poll loop, the poller and the article flow share it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connectors.feeds.parsing import entry_identity
from connectors.feeds.state import FeedState, PendingEntry, SeenIds, seen_id
from pipeline.records import FeedEntry, FeedSubscription


def entry_seen_id(entry: FeedEntry) -> bytes:
    return seen_id(entry_identity(entry.link, entry.guid, entry.title, entry.published))



@dataclass
class LiveFeed:
    """A feed this worker owns: subscription, state as last saved, the live seen-set and the
    entries in hand."""

    key: str
    subscription: FeedSubscription
    state: FeedState
    seen: SeenIds
    pending: dict[bytes, PendingEntry] = field(default_factory=dict)  # by seen id, oldest first
    saved_at: datetime | None = None  # when `state` was last handed to the state sink
    saved_revision: int = -1  # state.revision then
    changed: bool = False  # entries settled or retried since the last save

    @classmethod
    def resume(cls, key: str, subscription: FeedSubscription,
               state: FeedState | None) -> LiveFeed:
        if state is None:
            state = FeedState(key=key, url=subscription.url)
        pending = {entry_seen_id(p.entry): p for p in state.pending}
        return cls(key, subscription, state, SeenIds.unpack(state.seen), pending)

    def snapshot(self) -> FeedState:
        """The state to persist: the live seen-set and the entries still in hand."""
        return self.state.model_copy(update={"seen": self.seen.pack(),
                                             "pending": tuple(self.pending.values())})

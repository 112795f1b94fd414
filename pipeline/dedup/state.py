"""Dedup state (pure): what `dedup_verdict` reads and the writes it returns, as bytes.

Every entry lives in a *time bucket* (`bucket_hours` wide, numbered from the epoch) and every
key starts with its bucket, so an entry is forgotten by dropping whole buckets, never by a TTL:

    {bucket}|u|{canonical url}  -> UrlEntry      article id, content hash, version, seen_at
    {bucket}|c|{content hash}   -> ContentEntry  first article seen with this body
    {bucket}|m|b{n}:{rows hex}  -> member ids    MinHash LSH bucket, newest last, capped
    {bucket}|m|t:{term}         -> member ids    story-term postings, newest last, capped
    {bucket}|d|{article id}     -> DocEntry      signature, root, cluster, event time
    {bucket}|v|{source}         -> DedupVerdict  JSON: the verdict the record at `source`
                                                 (topic:partition:offset) got, for its replays

Readers look in every live bucket, newest first; writers write the current bucket only. An
adapter provides a `BucketStore` (bytes in, bytes out) and applies `encoded_writes(update)`:
the Faust agent's `UpdateLogStore` (pipeline/worker/dedup_store.py) keeps one log record per verdict
in a Faust table and expires whole buckets by deleting their records (tombstones, so a
replayed changelog forgets too: a RocksDB TTL would not). `MemoryBucketStore` is the same
layout in dicts, one per bucket, for the CLI, tests and bench/.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

_U32 = "I"  # array typecode for MinHash values (rensa digests are u32)


@dataclass(frozen=True)
class UrlEntry:
    article_id: str
    content_hash: str
    version: int
    seen_at: float  # epoch seconds of the last sighting


@dataclass(frozen=True)
class ContentEntry:
    article_id: str
    seen_at: float


@dataclass(frozen=True)
class DocEntry:
    article_id: str
    root: str  # the first copy this article duplicates, or itself
    cluster_id: str
    event_at: float  # published_at (or first sighting) in epoch seconds
    seen_at: float
    term_count: int  # story terms indexed for it (for the Jaccard of term sets)
    signature: tuple[int, ...]  # empty when the article was too short to sign


class DedupStateView(Protocol):
    """Read-only lookups in one time bucket; `dedup_verdict` walks the live buckets."""

    def url(self, bucket: int, url: str) -> UrlEntry | None: ...

    def content(self, bucket: int, content_hash: str) -> ContentEntry | None: ...

    def members(self, bucket: int, key: str) -> tuple[str, ...]: ...  # band or term bucket

    def doc(self, bucket: int, article_id: str) -> DocEntry | None: ...

    def verdict(self, bucket: int, source: str) -> bytes | None: ...  # DedupVerdict JSON


@dataclass(frozen=True)
class DedupUpdate:
    """The writes one verdict implies, all in `bucket`; member lists are whole new values."""

    bucket: int
    urls: tuple[tuple[str, UrlEntry], ...] = ()
    contents: tuple[tuple[str, ContentEntry], ...] = ()
    members: tuple[tuple[str, tuple[str, ...]], ...] = ()
    docs: tuple[tuple[str, DocEntry], ...] = ()
    verdicts: tuple[tuple[str, bytes], ...] = ()  # source -> DedupVerdict JSON


# --- buckets -------------------------------------------------------------------


def bucket_of(epoch_s: float, bucket_hours: float) -> int:
    return math.floor(epoch_s / (bucket_hours * 3600))


def live_buckets(epoch_s: float, bucket_hours: float, expiry_hours: float) -> tuple[int, ...]:
    """Buckets that may hold unexpired entries, newest first."""
    newest = bucket_of(epoch_s, bucket_hours)
    oldest = bucket_of(epoch_s - expiry_hours * 3600, bucket_hours)
    return tuple(range(newest, oldest - 1, -1))


# --- codec: keys and values as bytes, the form Faust tables and the bench store ----------


def state_key(bucket: int, kind: bytes, key: str) -> bytes:
    return b"%d|%s|%s" % (bucket, kind, key.encode("utf-8"))


def _encode_url(e: UrlEntry) -> bytes:
    return f"{e.article_id}|{e.content_hash}|{e.version}|{e.seen_at!r}".encode()


def _decode_url(raw: bytes) -> UrlEntry:
    article_id, content_hash, version, seen_at = raw.decode().split("|")
    return UrlEntry(article_id, content_hash, int(version), float(seen_at))


def _encode_content(e: ContentEntry) -> bytes:
    return f"{e.article_id}|{e.seen_at!r}".encode()


def _decode_content(raw: bytes) -> ContentEntry:
    article_id, seen_at = raw.decode().split("|")
    return ContentEntry(article_id, float(seen_at))


_DOC_HEAD = struct.Struct("<ddHH")  # event_at, seen_at, term_count, len(ids blob)


def _encode_doc(e: DocEntry) -> bytes:
    ids = f"{e.article_id}|{e.root}|{e.cluster_id}".encode()
    head = _DOC_HEAD.pack(e.event_at, e.seen_at, e.term_count, len(ids))
    return head + ids + array(_U32, e.signature).tobytes()


def _decode_doc(raw: bytes) -> DocEntry:
    event_at, seen_at, term_count, n = _DOC_HEAD.unpack_from(raw)
    start = _DOC_HEAD.size
    article_id, root, cluster_id = raw[start:start + n].decode().split("|")
    sig = array(_U32)
    sig.frombytes(raw[start + n:])
    return DocEntry(article_id, root, cluster_id, event_at, seen_at, term_count, tuple(sig))


class BucketStore(Protocol):
    """Raw storage an adapter provides: one value per key, the key's bucket given for routing."""

    def get(self, bucket: int, key: bytes) -> bytes | None: ...


class EncodedStateView:
    """`DedupStateView` over any `BucketStore`: the one decoding path, agent and CLI alike."""

    def __init__(self, store: BucketStore) -> None:
        self._store = store

    def url(self, bucket: int, url: str) -> UrlEntry | None:
        raw = self._store.get(bucket, state_key(bucket, b"u", url))
        return None if raw is None else _decode_url(raw)

    def content(self, bucket: int, content_hash: str) -> ContentEntry | None:
        raw = self._store.get(bucket, state_key(bucket, b"c", content_hash))
        return None if raw is None else _decode_content(raw)

    def members(self, bucket: int, key: str) -> tuple[str, ...]:
        raw = self._store.get(bucket, state_key(bucket, b"m", key))
        return tuple(raw.decode().split(",")) if raw else ()

    def doc(self, bucket: int, article_id: str) -> DocEntry | None:
        raw = self._store.get(bucket, state_key(bucket, b"d", article_id))
        return None if raw is None else _decode_doc(raw)

    def verdict(self, bucket: int, source: str) -> bytes | None:
        return self._store.get(bucket, state_key(bucket, b"v", source))


def encoded_writes(update: DedupUpdate) -> Iterator[tuple[int, bytes, bytes]]:
    """(bucket, key, value) for each write of `update`, in the `EncodedStateView` layout."""
    b = update.bucket
    for url, entry in update.urls:
        yield b, state_key(b, b"u", url), _encode_url(entry)
    for content_hash, centry in update.contents:
        yield b, state_key(b, b"c", content_hash), _encode_content(centry)
    for key, ids in update.members:
        yield b, state_key(b, b"m", key), ",".join(ids).encode()
    for article_id, doc in update.docs:
        yield b, state_key(b, b"d", article_id), _encode_doc(doc)
    for source, verdict in update.verdicts:
        yield b, state_key(b, b"v", source), verdict


@dataclass
class MemoryBucketStore:
    """Plain dicts, one per bucket: the state of `newsflow dedupe`, the tests and the bench."""

    buckets: dict[int, dict[bytes, bytes]] = field(default_factory=dict)

    def get(self, bucket: int, key: bytes) -> bytes | None:
        data = self.buckets.get(bucket)
        return None if data is None else data.get(key)

    def apply(self, update: DedupUpdate) -> None:
        self.put_all(encoded_writes(update))

    def put_all(self, writes: Iterable[tuple[int, bytes, bytes]]) -> None:
        for bucket, key, value in writes:
            data = self.buckets.get(bucket)
            if data is None:
                data = self.buckets[bucket] = {}
            data[key] = value

    def drop_before(self, oldest_live: int) -> int:
        """Drop whole buckets older than `oldest_live`; returns how many keys went."""
        dropped = 0
        for bucket in [b for b in self.buckets if b < oldest_live]:
            dropped += len(self.buckets.pop(bucket))
        return dropped

    def key_count(self) -> int:
        return sum(len(d) for d in self.buckets.values())

    def byte_size(self) -> int:
        """Key plus value bytes: what RocksDB and the changelog hold before compression."""
        return sum(len(k) + len(v) for d in self.buckets.values() for k, v in d.items())

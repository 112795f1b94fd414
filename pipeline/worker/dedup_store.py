"""The dedup agent's state store (adapter): one changelog record per verdict.

Writing each of a verdict's ~17 state keys to a Faust table costs ~17 changelog messages, and
Faust's producer buffer, not the verdict, then sets the agent's pace (bench/RESULTS.md). So:

* the *log* is one Faust table, `dedup-log`: key `bucket|seq`, value = all of one verdict's
  writes, encoded. It is what Faust makes durable (RocksDB + changelog topic, restored on a
  restart or a rebalance): one changelog message per verdict.
* the *index* the verdicts read is a local RocksDB (rocksdict), the log applied in order.
  It is derived data, checked at the first event after the agent starts (Faust has restored
  the log by then). Each index write also records the sequence number of its log record, so an
  index that has applied exactly the log's newest record is reused as it is. Anything else
  (no index, an index behind the log because another worker appended to it, or ahead of it
  because the process died between the two writes) is rebuilt from the log. A rebuild takes
  ~4 s per 100,000 verdicts; checking an index reads only the log's keys.

Expiry drops whole buckets: log keys of expired buckets are deleted (tombstones, so a restore
forgets them too) a chunk per event, and the index drops the bucket's key range at once.
"""

from __future__ import annotations

import shutil
import struct
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Literal

import structlog
from rocksdict import Options, Rdict, WriteBatch

from pipeline.dedup.state import DedupUpdate, encoded_writes, live_buckets

logger = structlog.get_logger("newsflow.worker")
_LEN = struct.Struct("<II")
_SEQ = struct.Struct("<q")
# The sequence number of the last log record the index applied. State keys start with a digit
# (their bucket), so this key is in no bucket's range and expiry never drops it.
APPLIED_SEQ_KEY = b"~applied-seq"


def encode_writes(writes: list[tuple[bytes, bytes]]) -> bytes:
    parts = []
    for key, value in writes:
        parts.append(_LEN.pack(len(key), len(value)))
        parts.append(key)
        parts.append(value)
    return b"".join(parts)


def decode_writes(blob: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = 0
    while at < len(blob):
        klen, vlen = _LEN.unpack_from(blob, at)
        at += _LEN.size
        yield blob[at:at + klen], blob[at + klen:at + klen + vlen]
        at += klen + vlen


def log_key(bucket: int, seq: int) -> bytes:
    return b"%010d|%016d" % (bucket, seq)  # sorts by bucket, then in write order


def _bucket_range(bucket: int) -> tuple[bytes, bytes]:
    # state keys are b"<bucket>|<kind>|<key>" (dedup_state.state_key); "}" sorts after "|"
    return b"%d|" % bucket, b"%d}" % bucket


class UpdateLogStore:
    """A `BucketStore` (reads) that also applies `DedupUpdate`s (writes) and expires buckets."""

    def __init__(self, log: MutableMapping[bytes, bytes], index_dir: Path, *,
                 bucket_hours: float, expiry_hours: float) -> None:
        self._log = log
        self._index_dir = index_dir
        self._bucket_hours, self._expiry_hours = bucket_hours, expiry_hours
        self._index: Rdict | None = None
        self._next_seq = 0
        self._log_keys: dict[int, list[bytes]] = {}  # bucket -> its log keys, for expiry
        self.opened: Literal["reused", "rebuilt"] | None = None  # how the index was last opened

    def _ready(self) -> Rdict:
        if self._index is None:
            self._index = self._open()
        return self._index

    def _open(self) -> Rdict:
        started = time.monotonic()
        index = self._reuse_or_rebuild()
        logger.info("dedup_index_ready", how=self.opened, log_records=self._next_seq,
                    seconds=round(time.monotonic() - started, 2))
        return index

    def _reuse_or_rebuild(self) -> Rdict:
        keys = sorted(self._log.keys())  # bucket, then write order
        self._log_keys, newest = {}, -1
        for key in keys:
            bucket, seq = (int(part) for part in key.split(b"|"))
            self._log_keys.setdefault(bucket, []).append(key)
            newest = max(newest, seq)
        self._next_seq = newest + 1
        self._index_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._index_dir.exists():
            index = Rdict(str(self._index_dir), Options(raw_mode=True))
            applied = index.get(APPLIED_SEQ_KEY)
            if applied is not None and _SEQ.unpack(bytes(applied))[0] == newest:
                self.opened = "reused"
                return index
            index.close()
        shutil.rmtree(self._index_dir, ignore_errors=True)
        index = Rdict(str(self._index_dir), Options(raw_mode=True))
        for key in keys:
            batch = WriteBatch(raw_mode=True)
            for state_key, value in decode_writes(self._log[key]):
                batch.put(state_key, value)
            index.write(batch)
        # Last: an index whose rebuild was cut short carries no sequence number, so is rebuilt.
        index.put(APPLIED_SEQ_KEY, _SEQ.pack(newest))
        self.opened = "rebuilt"
        return index

    def get(self, bucket: int, key: bytes) -> bytes | None:
        value = self._ready().get(key)
        return None if value is None else bytes(value)

    def apply(self, update: DedupUpdate) -> None:
        index = self._ready()
        writes = [(key, value) for _, key, value in encoded_writes(update)]
        batch = WriteBatch(raw_mode=True)
        for key, value in writes:
            batch.put(key, value)
        batch.put(APPLIED_SEQ_KEY, _SEQ.pack(self._next_seq))
        index.write(batch)
        # the one durable record of this verdict: assigned, so the changelog sees it
        key = log_key(update.bucket, self._next_seq)
        self._log[key] = encode_writes(writes)
        self._next_seq += 1
        self._log_keys.setdefault(update.bucket, []).append(key)

    def expire(self, epoch_s: float, limit: int) -> int:
        """Forget buckets past the expiry window; at most `limit` log deletions per call."""
        index = self._ready()
        oldest_live = min(live_buckets(epoch_s, self._bucket_hours, self._expiry_hours))
        deleted = 0
        for bucket in sorted(b for b in self._log_keys if b < oldest_live):
            index.delete_range(*_bucket_range(bucket))
            keys = self._log_keys[bucket]
            while keys and deleted < limit:
                del self._log[keys.pop()]
                deleted += 1
            if keys:
                break  # the limit is reached: the rest of this bucket goes with later events
            del self._log_keys[bucket]
        return deleted

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

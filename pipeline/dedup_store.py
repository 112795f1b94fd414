"""The dedup agent's state store (adapter): one changelog record per verdict.

Writing each of a verdict's ~17 state keys to a Faust table costs ~17 changelog messages, and
Faust's producer buffer, not the verdict, then sets the agent's pace (bench/RESULTS.md). So:

* the *log* is one Faust table, `dedup-log`: key `bucket|seq`, value = all of one verdict's
  writes, encoded. It is what Faust makes durable (RocksDB + changelog topic, restored on a
  restart or a rebalance): one changelog message per verdict.
* the *index* the verdicts read is a local RocksDB (rocksdict), the log applied in order.
  It is derived data: at the first event after the agent starts (Faust has restored the log by
  then) it is rebuilt from the log, so it is always exactly what the log says.

Expiry drops whole buckets: log keys of expired buckets are deleted (tombstones, so a restore
forgets them too) a chunk per event, and the index drops the bucket's key range at once.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch

from pipeline.dedup_state import DedupUpdate, encoded_writes, live_buckets

_LEN = struct.Struct("<II")


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

    def _ready(self) -> Rdict:
        if self._index is None:
            self._index = self._rebuild()
        return self._index

    def _rebuild(self) -> Rdict:
        shutil.rmtree(self._index_dir, ignore_errors=True)
        self._index_dir.parent.mkdir(parents=True, exist_ok=True)
        index = Rdict(str(self._index_dir), Options(raw_mode=True))
        for key in sorted(self._log.keys()):  # bucket, then write order
            bucket, seq = (int(part) for part in key.split(b"|"))
            batch = WriteBatch(raw_mode=True)
            for state_key, value in decode_writes(self._log[key]):
                batch.put(state_key, value)
            index.write(batch)
            self._log_keys.setdefault(bucket, []).append(key)
            self._next_seq = max(self._next_seq, seq + 1)
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

"""How long the dedup agent's index takes to be ready after a start: rebuilt vs reused.

    python -m bench.stages.dedup_restart_bench [--records 100000]

Builds `--records` log records shaped like the agent's (17 writes per verdict: 15 LSH band
lists, the document with its signature, the URL entry; ~1.5 kB) in an in-memory log, then opens
`UpdateLogStore` on it twice: with no index (rebuilt) and with the index the first left
(reused). The agent's log is a Faust table on RocksDB, whose key scan is slower than a dict's.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.worker.dedup_store import UpdateLogStore, encode_writes, log_key

BUCKET = 20_000


def synthetic_log(n: int, rng: random.Random) -> dict[bytes, bytes]:
    log = {}
    for seq in range(n):
        writes = [(b"%d|m|b%d:%016x" % (BUCKET, band, rng.getrandbits(64)),
                   b"%032x,%032x" % (rng.getrandbits(128), rng.getrandbits(128)))
                  for band in range(15)]
        writes.append((b"%d|d|%032x" % (BUCKET, rng.getrandbits(128)), os.urandom(380)))
        writes.append((b"%d|u|https://wire.example/%d" % (BUCKET, seq), b"u" * 80))
        log[log_key(BUCKET, seq)] = encode_writes(writes)
    return log


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    args = ap.parse_args()
    log = synthetic_log(args.records, random.Random(1))
    index_dir = Path(tempfile.mkdtemp(prefix="dedup-restart-")) / "index"
    try:
        for _ in range(2):
            store = UpdateLogStore(log, index_dir, bucket_hours=56, expiry_hours=168)
            started = time.perf_counter()
            store.get(BUCKET, b"any key")  # the first read opens the index
            print(f"{store.opened}: {time.perf_counter() - started:.2f} s "
                  f"for {args.records:,} log records", flush=True)
            store.close()
    finally:
        shutil.rmtree(index_dir.parent)


if __name__ == "__main__":
    main()

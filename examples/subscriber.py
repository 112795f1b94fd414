"""A newsflow subscriber: read enriched articles from Kafka and keep each one once.

A plain script a partner team can copy: it needs kafka-python only (`pip install kafka-python`)
and nothing from newsflow. It shows what the topic contract asks of a consumer:

- one consumer group per service, so several copies share the partitions and resume where the
  group stopped;
- commits only after a record is handled (at least once: after a crash, records since the last
  commit come again), so handling must be idempotent: here, an article is kept once per
  (article_id, version); a newer version replaces it, a repeat is skipped;
- the payload's schema_version is checked (this script understands version 1), and fields it
  does not know are ignored;
- SIGTERM or Ctrl-C finishes the record in hand, commits and leaves the group;
- a broker that cannot be reached is said so clearly, with the address tried.

    python examples/subscriber.py --topic newsflow.unique.v1 --group my-service \\
        --out articles.jsonl [--bootstrap 127.0.0.1:9092] [--stop-when-idle 10]

It writes one JSON line per kept article version: id, version, url, title, language, countries.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from kafka import KafkaConsumer
from kafka.errors import KafkaError, KafkaTimeoutError

UNDERSTOOD_SCHEMA = 1
KEPT_FIELDS = ("article_id", "version", "url", "title", "language", "countries", "dup_kind")


def handle(record: dict, kept: dict[str, int], out) -> bool:
    """Keep the article if it is new or a newer version; True when written."""
    article_id, version = record.get("article_id"), int(record.get("version", 1))
    if not isinstance(article_id, str) or kept.get(article_id, 0) >= version:
        return False  # a repeat (at-least-once delivery) or an older version
    kept[article_id] = version
    out.write(json.dumps({k: record.get(k) for k in KEPT_FIELDS}, ensure_ascii=False) + "\n")
    out.flush()
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description="Keep newsflow's enriched articles, once each.")
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--topic", default="newsflow.unique.v1")
    ap.add_argument("--group", required=True, help="this service's consumer group")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--stop-when-idle", type=float, default=None, metavar="SECONDS",
                    help="exit once no record came for this long (batch runs, tests)")
    args = ap.parse_args()

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        consumer = KafkaConsumer(
            args.topic, bootstrap_servers=args.bootstrap.split(","), group_id=args.group,
            enable_auto_commit=False, auto_offset_reset="earliest",
            bootstrap_timeout_ms=10_000)
    except KafkaTimeoutError:
        print(f"subscriber: Kafka is not reachable at {args.bootstrap} "
              "(is the broker running? --bootstrap host:port)", file=sys.stderr)
        return 1

    kept: dict[str, int] = {}
    if args.out.exists():  # what an earlier run kept: a restart does not keep it twice
        for line in args.out.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            kept[item["article_id"]] = max(kept.get(item["article_id"], 0), item["version"])
    idle = 0.0
    written = skipped = 0
    with args.out.open("a", encoding="utf-8") as out:
        try:
            while not stopping:
                batch = consumer.poll(timeout_ms=1000)
                if not batch:
                    idle += 1.0
                    if args.stop_when_idle is not None and idle >= args.stop_when_idle:
                        break
                    continue
                idle = 0.0
                for records in batch.values():
                    for message in records:
                        try:
                            record = json.loads(message.value)
                        except ValueError:
                            skipped += 1  # not JSON: not a newsflow record
                            continue
                        if record.get("schema_version") != UNDERSTOOD_SCHEMA:
                            print(f"subscriber: skipping schema_version "
                                  f"{record.get('schema_version')!r} at {message.partition}:"
                                  f"{message.offset} (this script reads version 1)",
                                  file=sys.stderr)
                            skipped += 1
                            continue
                        written += handle(record, kept, out)
                consumer.commit()  # after the records are handled, never before
        except KafkaError as err:
            print(f"subscriber: Kafka failed: {err}", file=sys.stderr)
            return 1
        finally:
            consumer.close()  # commits nothing more; leaves the group at once
    print(f"subscriber: kept {written} article version(s), skipped {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

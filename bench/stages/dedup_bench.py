"""Dedup benchmark: quality on a synthetic variant set, speed and latency at 1M articles.

    python -m bench.stages.dedup_bench --data ../shared [--articles 1000000] [--out /tmp/dedup.md] \
        [--set bucket_hours=42 ...] [--rocksdb /tmp/dedup-rocks]

1. Quality: the dev-split originals, then their variants (bench/stages/dedup_corpus.py), then short
   briefs, through `dedup_verdict` in one stream. Precision and recall of "is a copy of its
   original"; the originals (same-site and same-topic pairs among them) and briefs are the
   negatives. Story clusters: the seeds, and the clusters formed among the dev-split originals
   (all published within 48 h), with the labelled same-story pairs.
2. State: `--articles` synthetic articles (random signatures, Zipf-distributed story terms)
   written straight into a MemoryBucketStore over the 7-day window; bytes per article.
3. Latency: all reads of one verdict (`verdict_for_features`, text already signed) with that
   state behind, p50/p99 per article and the mean per read.
4. Throughput: the whole verdict (signing + lookups + writes applied) on unique 1,000- and
   1,500-word articles, per core (process CPU time of this single-threaded process).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import sys
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stages.dedup_corpus import BASE_TIME, Doc, load_pages, make_corpus
from pipeline.dedup.state import (
    ContentEntry,
    DedupUpdate,
    DocEntry,
    EncodedStateView,
    MemoryBucketStore,
    UrlEntry,
    bucket_of,
    encoded_writes,
    live_buckets,
)
from pipeline.dedup.text import band_keys, text_features
from pipeline.dedup.verdict import DedupInput, DedupOptions, dedup_verdict, verdict_for_features
from pipeline.settings import PROJECT_ROOT

NOW = BASE_TIME + timedelta(days=3)
# Same-story pairs among the dev-split pages (read by hand): URL fragments.
STORY_PAIRS = [("471031-new-york-man-pleads-guilty", "threatening-kill-rep-ilhan-omar"),
               ("world-europe-50473792", "sweden-drops-its-investigation"),
               ("471033-south-dakota-governor", "south-dakota-hold-my-beer-meth")]
SEED_DATES = [datetime(2018, 9, 25, tzinfo=UTC), datetime(2018, 9, 24, tzinfo=UTC),
              datetime(2020, 2, 24, tzinfo=UTC), datetime(2020, 2, 25, tzinfo=UTC),
              datetime(2018, 9, 27, tzinfo=UTC)]


class RocksBucketStore:
    """The same layout in one RocksDB opened as Faust opens a table's (rocksdict, its options:
    bloom filters, block cache); Faust's own per-get Python overhead is not included."""

    def __init__(self, path: Path, bloom_bits: int) -> None:
        import rocksdict
        from faust.stores.rocksdb import RocksDBOptions

        self._rocksdict = rocksdict
        self.db = RocksDBOptions(use_rocksdict=True, bloom_filter_size=bloom_bits).open(path)

    def get(self, bucket: int, key: bytes) -> bytes | None:
        value: bytes | None = self.db.get(key)
        return value

    def apply(self, update: DedupUpdate) -> None:
        self.put_all(encoded_writes(update))

    def put_all(self, writes: Iterable[tuple[int, bytes, bytes]]) -> None:
        batch = self._rocksdict.WriteBatch(raw_mode=True)
        for _, key, value in writes:
            batch.put(key, value)
        self.db.write(batch)

    def key_count(self) -> int:
        return int(self.db.property_int_value("rocksdb.estimate-num-keys") or 0)

    def byte_size(self) -> int:
        return sum(f.stat().st_size for f in Path(self.db.path()).glob("*.sst"))


Store = MemoryBucketStore | RocksBucketStore


class CountingStore:
    def __init__(self, inner: Store) -> None:
        self.inner, self.reads = inner, 0

    def get(self, bucket: int, key: bytes) -> bytes | None:
        self.reads += 1
        return self.inner.get(bucket, key)


def as_input(doc: Doc) -> DedupInput:
    return DedupInput(doc.id, doc.url, doc.title, doc.body, doc.published_at)


def quality(pages: list[tuple[str, str, str]], opts: DedupOptions) -> list[str]:
    originals, variants, briefs = make_corpus(pages, min_words=opts.min_words)
    rng = random.Random(11)
    rng.shuffle(variants)
    store = MemoryBucketStore()
    view = EncodedStateView(store)
    verdicts = {}
    for doc in [*originals, *variants, *briefs]:
        verdict, update = dedup_verdict(as_input(doc), view, opts, now=NOW)
        store.apply(update)
        verdicts[doc.id] = verdict
    tp: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    total: Counter[str] = Counter()
    eligible: Counter[str] = Counter()
    for doc in variants:
        v = verdicts[doc.id]
        total[doc.kind] += 1
        signed = text_features(doc.title, doc.body, opts).signature
        eligible[doc.kind] += bool(signed)
        if v.dup_kind in ("near_duplicate", "same_content"):
            (tp if v.duplicate_of == doc.original else wrong)[doc.kind] += 1
    fp_orig = [d.url for d in originals if verdicts[d.id].dup_kind != "none"]
    fp_brief = sum(verdicts[d.id].dup_kind != "none" for d in briefs)
    flagged = sum(tp.values()) + sum(wrong.values()) + len(fp_orig) + fp_brief
    hosts = Counter(d.url.split("/")[2] for d in originals)
    lines = [
        (f"Variants: {len(variants)} of {sum(1 for d in originals if variants and any(v.original == d.id for v in variants))} "
        f"originals ({len(originals)} dev-split pages; {sum(n for n in hosts.values() if n > 1) // 2} "
        f"same-site pairs in the same chrome), {len(briefs)} short briefs with a shared line."),
        (f"- precision {sum(tp.values()) / max(1, flagged):.3f}, recall "
        f"{sum(tp.values()) / max(1, sum(eligible.values())):.3f} of the {sum(eligible.values())} "
        f"variants long enough to sign ({sum(tp.values()) / max(1, sum(total.values())):.3f} of all "
        f"{sum(total.values())}); wrong first copy: {sum(wrong.values())}"),
        f"- false positives: originals {len(fp_orig)} {fp_orig[:3]}, briefs {fp_brief}/{len(briefs)}",
        "- recall by kind: " + ", ".join(
            f"{k} {tp[k] / max(1, eligible[k]):.3f}" for k in total),
    ]
    clusters = defaultdict(list)
    for d in originals:
        clusters[verdicts[d.id].cluster_id].append(d.url)
    merged = [urls for urls in clusters.values() if len(urls) > 1]
    pairs = {tuple(sorted(p)) for urls in merged for p in itertools.combinations(urls, 2)}
    labelled = {p for p in pairs if any((a in p[0] and b in p[1]) or (a in p[1] and b in p[0])
                                        for a, b in STORY_PAIRS)}
    lines.append(f"- story clusters among the {len(originals)} originals: {len(merged)} with more "
                 f"than one article, {len(pairs)} pairs, {len(labelled)} of the "
                 f"{len(STORY_PAIRS)} labelled same-story pairs found; merged:")
    lines += [f"  - {' + '.join(u.split('/', 3)[-1][:60] for u in urls)}" for urls in merged]
    return lines


def seed_clusters(shared: Path, opts: DedupOptions) -> list[str]:
    files = sorted((shared / "seeds").glob("*.txt"))[:5]
    if len(files) < 5:
        return ["- seeds absent"]
    store = MemoryBucketStore()
    view = EncodedStateView(store)
    out = []
    for i, path in enumerate(files):
        art = DedupInput(f"seed{i}", f"https://s{i}.example/", None, path.read_text(), SEED_DATES[i])
        verdict, update = dedup_verdict(art, view, opts, now=NOW)
        store.apply(update)
        out.append(f"seed{i} {SEED_DATES[i]:%Y-%m-%d} {verdict.dup_kind} -> {verdict.cluster_id}")
    return ["- seeds (five articles on one topic): " + "; ".join(out)]


def fill(store: Store, n: int, opts: DedupOptions, rng: random.Random) -> None:
    """n synthetic articles spread over the live buckets, written through the real codec."""
    now_s = NOW.timestamp()
    span = opts.expiry_hours * 3600 * 0.98
    names = [f"name{i}" for i in range(200_000)]
    weights = list(itertools.accumulate(1 / (i + 1) for i in range(len(names))))
    postings: dict[tuple[int, str], list[str]] = defaultdict(list)
    for i in range(n):
        aid = f"{i:032x}"
        seen = now_s - span * (n - i) / n
        bucket = bucket_of(seen, opts.bucket_hours)
        sig = array("I")
        sig.frombytes(os.urandom(4 * opts.num_perm))
        terms = {f"t:{t}" for t in rng.choices(names, cum_weights=weights, k=10)}
        members: list[tuple[str, tuple[str, ...]]] = [(k, (aid,)) for k in band_keys(sig, opts)]
        for key in terms:
            lst = postings[(bucket, key)]
            lst.append(aid)
            del lst[:-opts.term_cap]
            members.append((key, tuple(lst)))
        content = f"{rng.getrandbits(128):032x}"
        store.put_all(encoded_writes(DedupUpdate(
            bucket, urls=((f"https://site{i % 5000}.example/{i}", UrlEntry(aid, content, 1, seen)),),
            contents=((content, ContentEntry(aid, seen)),), members=tuple(members),
            docs=((aid, DocEntry(aid, aid, aid, seen, seen, len(terms), tuple(sig))),))))


def latency(store: Store, queries: list[DedupInput], opts: DedupOptions) -> list[str]:
    counting = CountingStore(store)
    view = EncodedStateView(counting)
    feats = [text_features(q.title, q.text, opts) for q in queries]
    times = []
    for q, f in zip(queries, feats, strict=True):
        t0 = time.perf_counter()
        verdict_for_features(q, f, view, opts, now=NOW)
        times.append(time.perf_counter() - t0)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e6
    return [(f"- all reads of one verdict ({counting.reads / len(queries):.0f} reads/article over "
            f"{len(live_buckets(NOW.timestamp(), opts.bucket_hours, opts.expiry_hours))} day "
            f"buckets): p50 {p(0.5):.0f} µs, p99 {p(0.99):.0f} µs, max {times[-1] * 1e6:.0f} µs; "
            f"mean per read {sum(times) / counting.reads * 1e6:.2f} µs ({len(queries)} queries)")]


def synthetic_articles(pages: list[tuple[str, str, str]], words: int, n: int,
                       rng: random.Random) -> list[DedupInput]:
    """Unique texts with real word statistics: dev-split sentences, every 4th word replaced
    (so no 5-shingle repeats across articles, as in a stream of different stories)."""
    sentences = [s for _, _, b in pages for s in b.replace("\n", " ").split(". ") if len(s) > 40]
    vocabulary = sorted({w for s in sentences for w in s.split() if w.isalpha()})
    out = []
    for i in range(n):
        text, count = [], 0
        while count < words:
            ws = (rng.choice(sentences) + ".").split()
            for k in range(rng.randrange(4), len(ws), 4):
                ws[k] = rng.choice(vocabulary)
            text.append(" ".join(ws))
            count += len(ws)
        paras = [" ".join(text[k:k + 4]) for k in range(0, len(text), 4)]
        out.append(DedupInput(f"syn{words}-{i:020d}", f"https://gen.example/{words}/{i}",
                              f"Generated story {i}", "\n".join(paras),
                              NOW - timedelta(hours=rng.uniform(0, 48))))
    return out


def throughput(store: Store, docs: list[DedupInput], opts: DedupOptions) -> float:
    view = EncodedStateView(store)
    gc.collect()
    t0 = time.process_time()
    for doc in docs:
        _verdict, update = dedup_verdict(doc, view, opts, now=NOW)
        store.apply(update)
    return len(docs) / (time.process_time() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared")
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rocksdb", type=Path, metavar="DIR",
                    help="keep the big state in a RocksDB under DIR instead of dicts")
    ap.add_argument("--bloom-bits", type=int, default=3,
                    help="RocksDB bloom filter bits per key (Faust's default: 3)")
    ap.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                    help="override a DedupOptions field, e.g. --set bucket_hours=42")
    args = ap.parse_args(argv)
    opts = DedupOptions(**dict(item.split("=", 1) for item in args.set))
    pages = load_pages(args.data / "bench" / "extraction" / "ground-truth.json")
    rng = random.Random(5)
    started = time.time()
    lines = [f"Options: {opts.model_dump()}", "", "## Quality"]
    lines += quality(pages, opts)
    lines += seed_clusters(args.data, opts)
    print("\n".join(lines), flush=True)

    store: Store = MemoryBucketStore() if args.rocksdb is None else RocksBucketStore(args.rocksdb, args.bloom_bits)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.time()
    fill(store, args.articles, opts, rng)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    where = "Python dicts" if args.rocksdb is None else (f"RocksDB (Faust's table options, "
                                                     f"{args.bloom_bits}-bit bloom filter)")
    state = [(f"## State: {args.articles:,} synthetic articles over {opts.expiry_hours / 24:g} "
              f"days in {where}"), f"- filled in {time.time() - t0:.0f} s; {store.key_count():,} keys"]
    if isinstance(store, MemoryBucketStore):
        state[-1] += (f", {store.byte_size() / args.articles:,.0f} bytes of keys+values per "
                      f"article (the RocksDB/changelog payload before compression); the dicts "
                      f"take {(rss1 - rss0) * 1024 / args.articles:,.0f} bytes of RSS per article")
    else:
        store.db.flush()
        state[-1] += f", {store.byte_size() / args.articles:,.0f} bytes of SST files per article"
    originals, variants, _ = make_corpus(pages, min_words=opts.min_words)
    view = EncodedStateView(store)
    for doc in originals:  # real texts in the big state, so queries find real candidates
        store.apply(dedup_verdict(as_input(doc), view, opts, now=NOW)[1])
    queries = [as_input(d) for d in variants[::2]] + synthetic_articles(pages, 1000, 500, rng)
    state += latency(store, queries, opts)
    print("\n".join(["", *state]), flush=True)

    speed = ["## Throughput (whole verdict: signing + lookups + writes, state as above)"]
    for words in (1000, 1500):
        docs = synthetic_articles(pages, words, 1500, rng)
        speed.append(f"- {words}-word unique articles: {throughput(store, docs, opts):,.0f} "
                     f"articles/s per core (CPU time)")
    docs = [as_input(d) for d in variants[1::2]]
    speed.append(f"- dev-split variants (mixed lengths, mostly near-duplicates): "
                 f"{throughput(store, docs, opts):,.0f} articles/s per core")
    print("\n".join(["", *speed]), flush=True)
    footer = [(f"Bench wall time {time.time() - started:.0f} s; load average at the end "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared with other agents).")]
    print(footer[0])
    if args.out:
        command = "python -m bench.stages.dedup_bench " + " ".join(argv if argv is not None else sys.argv[1:])
        header = ["# Dedup benchmark", "",
                  (f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores shared with other agents' "
                  f"benchmarks and tests, `{command.strip()}`"), ""]
        args.out.write_text("\n".join([*header, *lines, "", *state, "", *speed, "", *footer])
                            + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Step 6, dedup (pure): one `DedupVerdict` per article, plus the state writes it implies.

`dedup_verdict(article, state, opts, now=...)` reads a `DedupStateView` and returns
`(DedupVerdict, DedupUpdate)`; the caller applies the update (the Faust agent to its tables,
`newsflow dedupe` and bench/ to a `MemoryBucketStore`, through the same byte codec).

Verdicts, in the order they are tried:
  * same canonical URL already seen: identical body -> `same_url`; changed body -> an update
    (`dup_kind="none"`, `updated=True`, `version` + 1), re-indexed under the same id;
  * identical body hash under another URL -> `same_content`;
  * MinHash of word 5-shingles of the body (headline and short chrome lines excluded, see
    `dedup_text`), LSH with 32 bands x 2 rows: the candidates sharing a band are compared and
    the best estimated Jaccard >= `threshold` (0.3) -> `near_duplicate`;
  * else `none`. Bodies under `min_words` (50) words match by URL only: a brief must not match
    another on boilerplate alone (nor on an identical paywall stub).
`duplicate_of` is the *root*, the first copy of the text seen (a near-duplicate of a
near-duplicate points at the original); for `same_url` it is the URL's own article.
`similarity` is the estimated Jaccard with the closest earlier copy found (1.0 for exact).

Story clusters (`cluster_id`): duplicates join their root's cluster. Other articles join the
cluster of the earlier article sharing the most *story terms* (names in headline + lead:
capitalised words never written in lower case there), when they share >= 3 terms, the term
sets' Jaccard is >= 0.2, and their `published_at` lie within 72 h; else they open their own
cluster (id = their article id). Limits: single link (a chain of overlapping stories can
merge), English-like capitalisation only (no names found in scripts without case), and terms
as common as "Trump" + "White House" + "Senate" link different stories of the same beat.

State and scaling. LSH needs every band of a document in one place, so dedup runs as ONE
partition: the enrich agent sends to the dedup topic (1 partition) with one constant key, the
dedup agent runs with concurrency=1, and its state (`UpdateLogStore`, pipeline/worker/dedup_store.py:
one Faust table record per verdict, a local index rebuilt from it) has one partition. Measured capacity of that partition on one core
(bench/RESULTS.md (Dedup), 2 shared cores): with 1M articles in memory, 1,250 verdicts/s for
1,000-word articles (1,030/s at 1,500 words), p99 of all reads of one verdict 0.26 ms; on
RocksDB opened as Faust opens tables (Faust's own per-get overhead not included),
650-860/s and p50 0.3-0.7 ms under load. State: 2.6 kB
of keys+values per article, 1.3 kB of SST on disk; a week of 1M articles (~140k/day) is
~1.3 GB of RocksDB. So one partition carries ~50M articles/day, far beyond a news crawl;
further workers are standbys (`table_standby_replicas`) that take the partition over with its
state on a rebalance. Past that, shard by a key no duplicate crosses, e.g. the detected
language (shingles of two languages never match): one dedup partition per language group,
same code. Re-keying band messages to band-partitioned tables would scale further but needs a
scatter/gather round trip per article and loses the atomic read-then-write of one partition.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from pipeline.dedup.state import (
    ContentEntry,
    DedupStateView,
    DedupUpdate,
    DocEntry,
    UrlEntry,
    bucket_of,
    live_buckets,
)
from pipeline.dedup.text import (
    TextFeatures,
    band_keys,
    estimated_jaccard,
    text_features,
)
from pipeline.identity import canonical_url
from pipeline.options import DedupOptions
from pipeline.records import DedupVerdict, DupKind, EnrichedArticle, ExtractedArticle

# The Kafka key of every message to the dedup topic: one key, one partition, all bands together.
DEDUP_PARTITION_KEY = b"dedup"

__all__ = ["DEDUP_PARTITION_KEY", "DedupInput", "DedupOptions", "dedup_input", "dedup_verdict", "is_first_copy",
           "verdict_for_features", "with_verdict"]


@dataclass(frozen=True)
class DedupInput:
    article_id: str
    url: str
    title: str | None
    text: str
    published_at: datetime | None


def dedup_input(article: ExtractedArticle) -> DedupInput:
    return DedupInput(article.article_id, article.url, article.title, article.text,
                      article.published_at)


def with_verdict(article: EnrichedArticle, verdict: DedupVerdict) -> EnrichedArticle:
    """The enriched article carrying its verdict: what the enriched topic and the index get."""
    return article.model_copy(update={
        "dup_kind": verdict.dup_kind, "duplicate_of": verdict.duplicate_of,
        "similarity": verdict.similarity, "cluster_id": verdict.cluster_id,
        "version": verdict.version, "updated": verdict.updated,
        "deduplicated_at": verdict.deduplicated_at,
    })


def is_first_copy(verdict: DedupVerdict) -> bool:
    """Whether the unique-articles topic gets it: originals and their updates."""
    return verdict.dup_kind == "none"


class _Lookup:
    """Newest-first reads over the live buckets, skipping entries older than the expiry."""

    def __init__(self, state: DedupStateView, opts: DedupOptions, now_s: float) -> None:
        self.state = state
        self.buckets = live_buckets(now_s, opts.bucket_hours, opts.expiry_hours)
        self.now_s = now_s
        self.current: dict[str, tuple[str, ...]] = {}  # member lists of the newest bucket, read
        self.oldest = now_s - opts.expiry_hours * 3600

    def url(self, url: str) -> UrlEntry | None:
        for bucket in self.buckets:
            entry = self.state.url(bucket, url)
            if entry is not None:
                return entry if entry.seen_at > self.oldest else None
        return None

    def content(self, content_hash: str) -> ContentEntry | None:
        for bucket in self.buckets:
            entry = self.state.content(bucket, content_hash)
            if entry is not None:
                return entry if entry.seen_at > self.oldest else None
        return None

    def doc(self, article_id: str) -> DocEntry | None:
        for bucket in self.buckets:
            entry = self.state.doc(bucket, article_id)
            if entry is not None:
                return entry if entry.seen_at > self.oldest else None
        return None

    def member_counts(self, keys: list[str], exclude: str,
                      buckets: tuple[int, ...] | None = None) -> Counter[str]:
        """How many of `keys` each other article shares (over the live buckets)."""
        counts: Counter[str] = Counter()
        for key in keys:
            found: set[str] = set()
            for bucket in buckets or self.buckets:
                members = self.state.members(bucket, key)
                if bucket == self.buckets[0]:
                    self.current[key] = members
                found.update(members)
            found.discard(exclude)
            counts.update(found)
        return counts


def _url_key(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url.strip()  # not http(s): its own identity


def dedup_verdict(article: DedupInput, state: DedupStateView, opts: DedupOptions, *,
                  now: datetime, source: str | None = None) -> tuple[DedupVerdict, DedupUpdate]:
    """The verdict on `article` given what `state` remembers, and the writes it implies.

    `source` names the record being judged (topic:partition:offset). Its verdict is stored
    with the other writes, and a replay of that record (a worker killed after writing its
    state, before its output was acknowledged) gets the same verdict back and writes nothing:
    judged again, it would find its own state and call itself a `same_url` repeat, which is
    neither indexed nor sent to the unique topic.
    """
    if source is not None:
        stored = _stored_verdict(state, opts, now, source, article.article_id)
        if stored is not None:
            return stored, DedupUpdate(bucket_of(now.timestamp(), opts.bucket_hours))
    feats = text_features(article.title, article.text, opts)
    verdict, update = verdict_for_features(article, feats, state, opts, now=now)
    verdict = verdict.model_copy(update={"deduplicated_at": now})
    if source is not None:
        update = replace(update, verdicts=((source, verdict.model_dump_json().encode()),))
    return verdict, update


def _stored_verdict(state: DedupStateView, opts: DedupOptions, now: datetime, source: str,
                    article_id: str) -> DedupVerdict | None:
    for bucket in live_buckets(now.timestamp(), opts.bucket_hours, opts.expiry_hours):
        raw = state.verdict(bucket, source)
        if raw is not None:
            verdict = DedupVerdict.model_validate_json(raw)
            # The same record, not another one at that offset of a recreated topic.
            return verdict if verdict.article_id == article_id else None
    return None


def verdict_for_features(article: DedupInput, feats: TextFeatures, state: DedupStateView,
                         opts: DedupOptions, *, now: datetime) -> tuple[DedupVerdict, DedupUpdate]:
    """`dedup_verdict` with the text already signed (bench/ times the lookups alone)."""
    now_s = now.timestamp()
    look = _Lookup(state, opts, now_s)
    bucket = bucket_of(now_s, opts.bucket_hours)
    url = _url_key(article.url)
    aid = article.article_id
    event_at = article.published_at.timestamp() if article.published_at else now_s
    content_hash = feats.content_hash

    prior = look.url(url)
    if prior is not None and prior.content_hash == content_hash:
        # Redelivery of the same text: refresh the URL so a live article never expires.
        doc = look.doc(prior.article_id)
        verdict = DedupVerdict(article_id=aid, dup_kind="same_url",
                               duplicate_of=prior.article_id, similarity=1.0,
                               cluster_id=doc.cluster_id if doc else prior.article_id,
                               version=prior.version)
        refreshed = UrlEntry(prior.article_id, content_hash, prior.version, now_s)
        return verdict, DedupUpdate(bucket, urls=((url, refreshed),))

    version, updated = 1, False
    root, cluster_id = aid, ""
    kind: DupKind = "none"
    similarity: float | None = None
    # A short body is compared by URL only (a paywall stub is identical everywhere).
    owner = look.content(content_hash) if feats.signature else None
    if prior is not None:  # same URL, changed text: a new version of the same article
        version, updated = prior.version + 1, True
        previous = look.doc(prior.article_id)
        cluster_id = previous.cluster_id if previous else prior.article_id
    elif owner is not None and owner.article_id != aid:
        kind, similarity = "same_content", 1.0
        root, cluster_id = _root_and_cluster(look, owner.article_id)
    elif feats.signature:
        match = _near_duplicate(look, feats, aid, opts)
        if match is not None:
            kind, similarity = "near_duplicate", round(match[1], 3)
            root, cluster_id = match[0].root, match[0].cluster_id
    if not cluster_id:
        cluster_id = _story_cluster(look, feats, aid, event_at, opts) or aid

    verdict = DedupVerdict(article_id=aid, dup_kind=kind,
                           duplicate_of=None if kind == "none" else root,
                           similarity=similarity, cluster_id=cluster_id,
                           version=version, updated=updated)
    return verdict, _writes(look, bucket, article, url, feats, verdict, root, event_at, now_s, opts)


def _root_and_cluster(look: _Lookup, article_id: str) -> tuple[str, str]:
    doc = look.doc(article_id)
    return (doc.root, doc.cluster_id) if doc else (article_id, article_id)


def _near_duplicate(look: _Lookup, feats: TextFeatures, aid: str,
                    opts: DedupOptions) -> tuple[DocEntry, float] | None:
    counts = look.member_counts(band_keys(feats.signature, opts), exclude=aid)
    best: tuple[DocEntry, float] | None = None
    # Most shared bands first: the likeliest matches are compared before the cap bites.
    for candidate, _ in counts.most_common(opts.max_candidates):
        doc = look.doc(candidate)
        if doc is None or not doc.signature:
            continue
        score = estimated_jaccard(feats.signature, doc.signature)
        if score >= opts.threshold and (best is None or score > best[1]):
            best = (doc, score)
    return best


def _story_cluster(look: _Lookup, feats: TextFeatures, aid: str, event_at: float,
                   opts: DedupOptions) -> str | None:
    if len(feats.terms) < opts.cluster_min_shared:
        return None
    window = opts.cluster_window_hours * 3600
    # Postings are read back one window (plus a bucket) only: a story's articles are seen
    # close together, and older buckets would cost reads for nothing.
    recent = tuple(b for b in look.buckets
                   if b >= bucket_of(look.now_s - window, opts.bucket_hours) - 1)
    counts = look.member_counts([f"t:{t}" for t in feats.terms], exclude=aid, buckets=recent)
    best: tuple[float, str] | None = None
    for candidate, shared in counts.most_common(opts.max_candidates):
        if shared < opts.cluster_min_shared:
            break
        doc = look.doc(candidate)
        if doc is None or abs(doc.event_at - event_at) > window:
            continue
        jaccard = shared / (len(feats.terms) + doc.term_count - shared)
        if jaccard >= opts.cluster_threshold and (best is None or jaccard > best[0]):
            best = (jaccard, doc.cluster_id)
    return best[1] if best else None


def _appended(look: _Lookup, bucket: int, key: str, aid: str, cap: int) -> tuple[str, ...]:
    # Read-modify-write of the current bucket's list: safe because one partition, one actor.
    known = look.current.get(key)
    current = [m for m in (look.state.members(bucket, key) if known is None else known) if m != aid]
    current.append(aid)
    return tuple(current[-cap:])  # hot buckets (boilerplate, big stories) keep the newest


def _writes(look: _Lookup, bucket: int, article: DedupInput, url: str, feats: TextFeatures,
            verdict: DedupVerdict, root: str, event_at: float, now_s: float,
            opts: DedupOptions) -> DedupUpdate:
    aid = article.article_id
    urls = ((url, UrlEntry(aid, feats.content_hash, verdict.version, now_s)),)
    contents: tuple[tuple[str, ContentEntry], ...] = ()
    members: list[tuple[str, tuple[str, ...]]] = []
    exact_copy = verdict.dup_kind == "same_content"
    if feats.signature and not exact_copy:  # an exact copy's hash and bands are its owner's
        contents = ((feats.content_hash, ContentEntry(aid, now_s)),)
        members += [(k, _appended(look, bucket, k, aid, opts.bucket_cap))
                    for k in band_keys(feats.signature, opts)]
    # Only cluster openers and members found by terms are indexed by terms: duplicates would
    # fill the postings with copies of one story.
    terms = feats.terms if verdict.dup_kind == "none" else ()
    members += [(f"t:{t}", _appended(look, bucket, f"t:{t}", aid, opts.term_cap)) for t in terms]
    doc = DocEntry(aid, root, verdict.cluster_id, event_at, now_s, len(terms),
                   () if exact_copy else feats.signature)
    return DedupUpdate(bucket, urls=urls, contents=contents, members=tuple(members),
                       docs=((aid, doc),))

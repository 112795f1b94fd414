"""The agent's dedup store: one log record per verdict, an index rebuilt from the log."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.dedup.state import EncodedStateView, MemoryBucketStore
from pipeline.dedup.verdict import DedupInput, DedupOptions, dedup_verdict
from pipeline.worker.dedup_store import UpdateLogStore, decode_writes, encode_writes

OPTS = DedupOptions()
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WORDS = ("harbour council tram ferry market bridge library museum river quay budget plan vote "
         "residents parking festival lantern parade boats crews pattern village office").split()


def text(seed: int, n: int = 120) -> str:
    return " ".join(WORDS[(seed * 7 + i * (seed % 5 + 1)) % len(WORDS)] + str(i % 3) for i in range(n))


def article(i: int, body: str, url: str | None = None) -> DedupInput:
    return DedupInput(f"id{i}", url or f"https://wire.example/{i}", f"Title {i}", body, NOW)


def see(store: UpdateLogStore, item: DedupInput, now: datetime = NOW) -> str:
    verdict, update = dedup_verdict(item, EncodedStateView(store), OPTS, now=now)
    store.apply(update)
    return verdict.dup_kind


def test_codec_round_trip() -> None:
    writes = [(b"k1", b"v1"), (b"", b"\x00" * 5), (b"long" * 100, b"")]
    assert list(decode_writes(encode_writes(writes))) == writes


def test_one_log_record_per_verdict_and_same_verdicts_as_dicts(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    store = UpdateLogStore(log, tmp_path / "index", bucket_hours=OPTS.bucket_hours,
                           expiry_hours=OPTS.expiry_hours)
    reference = MemoryBucketStore()
    items = [article(i, text(i)) for i in range(6)] + [article(99, text(2))]
    kinds = []
    for item in items:
        kinds.append(see(store, item))
        v, u = dedup_verdict(item, EncodedStateView(reference), OPTS, now=NOW)
        reference.apply(u)
        assert kinds[-1] == v.dup_kind
    assert len(log) == len(items)
    assert kinds[-1] == "same_content"


def test_index_is_rebuilt_from_the_log_after_a_restart(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    first = UpdateLogStore(log, tmp_path / "index", bucket_hours=OPTS.bucket_hours,
                           expiry_hours=OPTS.expiry_hours)
    see(first, article(1, text(1)))
    first.close()
    # a new worker: no local index at all, only the (restored) log
    second = UpdateLogStore(log, tmp_path / "elsewhere", bucket_hours=OPTS.bucket_hours,
                            expiry_hours=OPTS.expiry_hours)
    assert see(second, article(2, text(1), url="https://mirror.example/1")) == "same_content"
    assert see(second, article(1, text(1))) == "same_url"


def test_expired_buckets_leave_the_log_and_the_index(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    store = UpdateLogStore(log, tmp_path / "index", bucket_hours=OPTS.bucket_hours,
                           expiry_hours=OPTS.expiry_hours)
    for i in range(5):
        see(store, article(i, text(i)))
    later = NOW + timedelta(hours=OPTS.expiry_hours + 2 * OPTS.bucket_hours)
    assert store.expire(later.timestamp(), limit=2) == 2  # chunked
    assert store.expire(later.timestamp(), limit=100) == 3
    assert log == {}
    assert see(store, article(0, text(0)), now=later) == "none"  # forgotten


def _store(log: dict[bytes, bytes], index: Path) -> UpdateLogStore:
    return UpdateLogStore(log, index, bucket_hours=OPTS.bucket_hours,
                          expiry_hours=OPTS.expiry_hours)


def _worker_run(log: dict[bytes, bytes], index: Path, *items: DedupInput) -> None:
    """One run of a worker: open the store, judge `items`, stop."""
    store = _store(log, index)
    for item in items:
        see(store, item)
    store.close()


def test_an_index_that_applied_the_whole_log_is_reused_after_a_restart(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    _worker_run(log, tmp_path / "index", article(1, text(1)), article(2, text(2)))
    again = _store(log, tmp_path / "index")
    assert see(again, article(3, text(1), url="https://mirror.example/1")) == "same_content"
    assert again.opened == "reused"
    assert len(log) == 3  # the log goes on from where it was: no sequence number reused


def test_an_index_behind_the_log_is_rebuilt(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    _worker_run(log, tmp_path / "here", article(1, text(1)))
    # meanwhile another worker owned the partition and appended to the log
    _worker_run(log, tmp_path / "there", article(2, text(2)))
    back = _store(log, tmp_path / "here")
    assert see(back, article(3, text(2), url="https://mirror.example/2")) == "same_content"
    assert back.opened == "rebuilt"


def test_an_index_ahead_of_the_log_is_rebuilt(tmp_path: Path) -> None:
    log: dict[bytes, bytes] = {}
    _worker_run(log, tmp_path / "index", article(1, text(1)), article(2, text(2)))
    # the process died after the index write and before the log write of the second verdict
    del log[max(log)]
    again = _store(log, tmp_path / "index")
    assert see(again, article(2, text(2))) == "none"  # forgotten, as the log says
    assert again.opened == "rebuilt"

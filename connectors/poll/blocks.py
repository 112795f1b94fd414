"""The poller's memory of each domain's repeated blocks (adapter): SQLite, survives restarts.

It answers `connectors.extract.boilerplate.BlockMemory` for `strip_learned_boilerplate`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from pathlib import Path

from pipeline.options import BoilerplateOptions

SQL_PARAMS = 500  # fingerprints per query, under SQLite's bound on parameters


class BlockStore:
    """SQLite-backed BlockMemory (adapter): survives restarts, bounded per domain.

    Shared by the poller's extraction processes (and pollers on one machine): WAL, a busy
    timeout, and no fsync per page (synchronous=NORMAL) - it is learned data, and losing the
    last pages of it in a power cut only delays what is learned.
    """

    def __init__(self, path: Path, opts: BoilerplateOptions) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.options = opts
        self._opts = opts
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blocks (domain TEXT, fp TEXT, article_id TEXT, "
            "seen INTEGER, PRIMARY KEY (domain, fp, article_id))")
        self._db.commit()
        self._rows: dict[str, int] = {}  # per domain: rows at our last count + ours since

    def pages_with(self, domain: str, fingerprints: Collection[str], *,
                   excluding: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        wanted = list(dict.fromkeys(fingerprints))
        for at in range(0, len(wanted), SQL_PARAMS):
            chunk = wanted[at:at + SQL_PARAMS]
            marks = ",".join("?" * len(chunk))
            counts.update(self._db.execute(
                f"SELECT fp, COUNT(*) FROM blocks WHERE domain = ? AND article_id != ? "  # noqa: S608
                f"AND fp IN ({marks}) GROUP BY fp", (domain, excluding, *chunk)).fetchall())
        return counts

    def record(self, domain: str, article_id: str, fingerprints: list[str]) -> None:
        cap = self._opts.min_pages + 1  # past the threshold, more page ids add nothing
        counts = self.pages_with(domain, fingerprints, excluding=article_id)
        now = time.time_ns()
        rows = [(domain, fp, article_id, now) for fp in set(fingerprints)
                if counts.get(fp, 0) < cap]
        self._db.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)", rows)
        if domain not in self._rows:
            self._rows[domain] = self._count(domain)
        self._rows[domain] += len(rows)
        if self._rows[domain] > self._opts.max_blocks_per_domain:
            self._prune(domain)
        self._db.commit()

    def _count(self, domain: str) -> int:
        (rows,) = self._db.execute("SELECT COUNT(*) FROM blocks WHERE domain = ?",
                                   (domain,)).fetchone()
        return int(rows)

    def _prune(self, domain: str) -> None:
        rows = self._count(domain)  # other processes may have added some too
        excess = rows - self._opts.max_blocks_per_domain
        if excess > 0:  # forget the least recently seen blocks of this domain
            self._db.execute(
                "DELETE FROM blocks WHERE rowid IN (SELECT rowid FROM blocks WHERE domain = ? "
                "ORDER BY seen LIMIT ?)", (domain, excess))
        self._rows[domain] = min(rows, self._opts.max_blocks_per_domain)

    def close(self) -> None:
        self._db.close()

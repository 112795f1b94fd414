"""The poller's memory of each domain's repeated blocks (adapter): SQLite, survives restarts.

It answers `connectors.extract.boilerplate.BlockMemory` for `strip_learned_boilerplate`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.options import BoilerplateOptions


class BlockStore:
    """SQLite-backed BlockMemory (adapter): survives restarts, bounded per domain."""

    def __init__(self, path: Path, opts: BoilerplateOptions) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.options = opts
        self._opts = opts
        # WAL and a busy timeout: pollers on one machine may share the file.
        self._db = sqlite3.connect(path, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blocks (domain TEXT, fp TEXT, article_id TEXT, "
            "seen INTEGER, PRIMARY KEY (domain, fp, article_id))")
        self._db.commit()
        self._tick = 0

    def pages_with(self, domain: str, fingerprint: str, *, excluding: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM blocks WHERE domain = ? AND fp = ? AND article_id != ?",
            (domain, fingerprint, excluding)).fetchone()
        return int(row[0])

    def record(self, domain: str, article_id: str, fingerprints: list[str]) -> None:
        self._tick += 1
        cap = self._opts.min_pages + 1  # past the threshold, more page ids add nothing
        for fp in set(fingerprints):
            count = self.pages_with(domain, fp, excluding=article_id)
            if count < cap:
                self._db.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)",
                                 (domain, fp, article_id, self._tick))
        self._prune(domain)
        self._db.commit()

    def _prune(self, domain: str) -> None:
        (rows,) = self._db.execute("SELECT COUNT(*) FROM blocks WHERE domain = ?",
                                   (domain,)).fetchone()
        excess = int(rows) - self._opts.max_blocks_per_domain
        if excess > 0:  # forget the least recently seen blocks of this domain
            self._db.execute(
                "DELETE FROM blocks WHERE rowid IN (SELECT rowid FROM blocks WHERE domain = ? "
                "ORDER BY seen LIMIT ?)", (domain, excess))

    def close(self) -> None:
        self._db.close()

"""The delivery agent's journal: one SQLite file per agent key, chain and contract (datalicense/services/agent.py).

What it keeps, and why each piece is there (exactly once, through crashes and reorganisations):
- `cursor`: the last block scanned and its hash; a reorganisation under it is seen on the next step.
- `jobs`: one row per delivery the agent owes. A delivery is owed to a purchase *event*, not to a licence id: a
  reorganisation can give licence id L to another buyer (another purchase, in another block), whose delivery is
  owed although the first purchase's row is done. So a delivery's row is keyed by its purchase event (block hash
  and log index, with the licensee and the delivery key's address); a re-delivery of a new version by the licence
  and the version's key commitment (the holder's key is read when it is signed).
- every transaction the agent signed, with its raw bytes and nonce, recorded before it is sent; once mined, the
  block it was mined in and that block's hash, so a delivery whose block leaves the chain is opened again and the
  same bytes are sent again if it is still owed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalicense.errors import ConfigError
from datalicense.infra.home import private_dir

JOBS = """
CREATE TABLE IF NOT EXISTS jobs (
    kind TEXT NOT NULL,              -- deliver | redeliver
    licence_id INTEGER NOT NULL,
    key_hash TEXT NOT NULL,          -- version the job is for ('' for deliver)
    event TEXT NOT NULL DEFAULT '',  -- deliver: BLOCKHASH:LOGINDEX:LICENSEE:KEYADDRESS of its purchase; redeliver: ''
    dataset_id INTEGER NOT NULL,
    key_x BLOB,                      -- the licence's delivery key, from its purchase event
    key_y BLOB,
    state TEXT NOT NULL,             -- todo | signed | done | skipped | failed
    raw_tx BLOB,
    tx_hash TEXT,
    note TEXT,
    updated REAL NOT NULL,
    block INTEGER,                   -- block of the event that made the job, and its hash (reorg check)
    block_hash TEXT,
    nonce INTEGER,                   -- nonce of the signed transaction (kept when re-signing: exactly once)
    signed_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,   -- mined transactions that reverted (the key rotated in front, ...)
    mined_block INTEGER,             -- where the transaction was mined, and that block's hash (reorg check)
    mined_hash TEXT,
    PRIMARY KEY (kind, licence_id, key_hash, event)
)"""
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, block INTEGER NOT NULL, hash TEXT)",
    JOBS,
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)",
    "CREATE INDEX IF NOT EXISTS jobs_mined ON jobs (mined_block)",
]
JOURNAL_VERSION = "3"
_V2_COLUMNS = ("kind, licence_id, key_hash, dataset_id, key_x, key_y, state, raw_tx, tx_hash, note, updated, block, "
               "block_hash, nonce, signed_at, attempts")


@dataclass(frozen=True)
class Job:
    """A delivery still to sign (state todo)."""

    id: int
    kind: str
    licence_id: int
    key_hash: str
    dataset_id: int
    key_x: bytes | None
    key_y: bytes | None
    block: int | None
    block_hash: str | None
    nonce: int | None


@dataclass(frozen=True)
class SignedJob:
    """A delivery signed and recorded, not known to be mined (state signed)."""

    id: int
    kind: str
    licence_id: int
    raw_tx: bytes
    tx_hash: str
    signed_at: float | None
    block: int | None
    block_hash: str | None


class Journal:
    """The journal at `path` for one agent: `identity` (version, chain id, genesis, contract, agent) is written on
    first use and must match afterwards. A journal of the previous version is upgraded in place."""

    def __init__(self, path: Path, identity: dict[str, str]):
        private_dir(path.parent)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA synchronous=FULL")
        self._upgrade()
        for statement in SCHEMA:
            self.db.execute(statement)
        self._check(identity)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _upgrade(self) -> None:
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)").fetchall()}
        if not columns or "event" in columns:
            return
        if not {"block", "block_hash", "nonce", "signed_at", "attempts"} <= columns:
            raise ConfigError(
                f"the agent journal {self.path} was written by an older version of the agent (for the v1 "
                "marketplace): move it aside and start a new one (--db)"
            )
        with self.transaction():  # version 2 keyed deliveries by licence id alone: add the event to the key
            self.db.execute("ALTER TABLE jobs RENAME TO jobs_v2")
            self.db.execute(JOBS)
            self.db.execute(f"INSERT INTO jobs ({_V2_COLUMNS}) SELECT {_V2_COLUMNS} FROM jobs_v2")
            self.db.execute("DROP TABLE jobs_v2")
            self.db.execute("UPDATE meta SET value=? WHERE name='version'", (JOURNAL_VERSION,))

    def _check(self, mine: dict[str, str]) -> None:
        have = dict(self.db.execute("SELECT name, value FROM meta").fetchall())
        if not have:
            self.db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", list(mine.items()))
            return
        wrong = [f"{k} {have.get(k)} (here: {v})" for k, v in mine.items() if have.get(k) != v]
        if wrong:
            raise ConfigError(
                f"the agent journal {self.path} belongs to another " + ", ".join(wrong)
                + ": give this agent its own --db"
            )

    # ------------------------------------------------------------------------------------------ cursor

    def cursor(self) -> tuple[int, str | None] | None:
        row = self.db.execute("SELECT block, hash FROM cursor WHERE name='events'").fetchone()
        return None if row is None else (int(row[0]), row[1])

    def rewind(self, back: int) -> None:
        """Scan again after block `back`: jobs not signed yet whose event came later are made again by the scan."""
        with self.transaction():
            self.db.execute("DELETE FROM jobs WHERE state='todo' AND block > ?", (back,))
            self.db.execute("UPDATE cursor SET block=?, hash=NULL WHERE name='events'", (back,))

    def record(self, rows: Sequence[tuple[Any, ...]], end: int, end_hash: str) -> None:
        """New jobs (kind, licence_id, key_hash, event, dataset_id, key_x, key_y, state, updated, block, block_hash)
        and the cursor that covers them, in one transaction: no purchase is missed, none is recorded twice."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO jobs (kind, licence_id, key_hash, event, dataset_id, key_x, key_y, state, "
                "updated, block, block_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            self.db.execute("INSERT OR REPLACE INTO cursor (name, block, hash) VALUES ('events', ?, ?)",
                            (end, end_hash))

    # -------------------------------------------------------------------------------------------- jobs

    def todo(self) -> list[Job]:
        return [Job(*row) for row in self.db.execute(
            "SELECT rowid, kind, licence_id, key_hash, dataset_id, key_x, key_y, block, block_hash, nonce FROM jobs "
            "WHERE state='todo' ORDER BY licence_id, rowid").fetchall()]

    def signed(self) -> list[SignedJob]:
        return [SignedJob(*row) for row in self.db.execute(
            "SELECT rowid, kind, licence_id, raw_tx, tx_hash, signed_at, block, block_hash FROM jobs "
            "WHERE state='signed'").fetchall()]

    def mark(self, job: int, state: str, raw: bytes | None = None, tx_hash: str | None = None,
             note: str | None = None, nonce: int | None = None) -> None:
        now = time.time()
        self.db.execute(
            "UPDATE jobs SET state=?, raw_tx=COALESCE(?, raw_tx), tx_hash=COALESCE(?, tx_hash), note=?, updated=?, "
            "nonce=COALESCE(?, nonce), signed_at=CASE WHEN ?='signed' THEN ? ELSE signed_at END WHERE rowid=?",
            (state, raw, tx_hash, note, now, nonce, state, now, job))

    def mined(self, job: int, block: int, block_hash: str) -> None:
        self.db.execute("UPDATE jobs SET state='done', note=NULL, updated=?, mined_block=?, mined_hash=? "
                        "WHERE rowid=?", (time.time(), block, block_hash, job))

    def reverted(self, job: int) -> int:
        """Count a mined transaction of the job that reverted; free its nonce. Returns the attempts so far."""
        self.db.execute("UPDATE jobs SET attempts=attempts+1, nonce=NULL WHERE rowid=?", (job,))
        return int(self.db.execute("SELECT attempts FROM jobs WHERE rowid=?", (job,)).fetchone()[0])

    def drop(self, job: int) -> None:
        self.db.execute("DELETE FROM jobs WHERE rowid=?", (job,))

    def delivered_licences(self, dataset_id: int) -> list[int]:
        return [int(r[0]) for r in self.db.execute(
            "SELECT DISTINCT licence_id FROM jobs WHERE kind='deliver' AND dataset_id=? AND state='done'",
            (dataset_id,)).fetchall()]

    # ------------------------------------------------------------------------------- reorganisations

    def last_mined(self) -> tuple[int, str] | None:
        row = self.db.execute("SELECT mined_block, mined_hash FROM jobs WHERE mined_block IS NOT NULL "
                              "ORDER BY mined_block DESC LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def mined_blocks(self) -> Iterator[tuple[int, str]]:
        """The blocks done transactions were mined in, newest first."""
        yield from self.db.execute("SELECT DISTINCT mined_block, mined_hash FROM jobs WHERE mined_block IS NOT NULL "
                                   "ORDER BY mined_block DESC")

    def reopen(self, blocks: Sequence[int]) -> int:
        """Transactions mined in `blocks`, which left the chain, are signed-not-mined again (their bytes kept)."""
        count = 0
        with self.transaction():
            for block in blocks:
                count += self.db.execute(
                    "UPDATE jobs SET state='signed', signed_at=?, mined_block=NULL, mined_hash=NULL, "
                    "note='its block left the chain' WHERE mined_block=? AND state='done'",
                    (time.time(), block)).rowcount
        return count

    def counts(self) -> dict[str, int]:
        return {f"{k}:{s}": n for k, s, n in self.db.execute(
            "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state").fetchall()}

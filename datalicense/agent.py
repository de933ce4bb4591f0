"""The seller's delivery agent: follows purchases and delivers keys, exactly once per licence.

State lives in SQLite (the cursor, every licence seen, every transaction it signed). A delivery is signed,
recorded with its raw bytes and hash, committed, and only then broadcast; after a crash (SIGKILL at any
moment) the agent finds the recorded transaction, checks whether it was mined, and re-broadcasts the *same*
signed bytes if not, so it never sends a second, different delivery. The cursor moves only in the same
database transaction that records the purchases it covers, so no purchase is missed.

It also delivers new dataset versions to the settled licences they cover, always to the licence's current
delivery key. Nothing needs it after a delivery: a buyer who receives a wrong key proves it alone.

Whatever strangers publish, one job's failure (a dataset naming this agent whose key it does not hold, a licence
whose state changed) marks that job failed with its reason, and the agent goes on with the others.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from web3.exceptions import TransactionNotFound, Web3RPCError

from . import keywrap, replicas
from .chain import local_time
from .client import Client
from .errors import ChainError, ConfigError, DataLicenseError
from .market import State

log = logging.getLogger("datalicense.agent")
_TRANSPORT = (ConnectionError, TimeoutError, requests.RequestException)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, block INTEGER NOT NULL, hash TEXT);
CREATE TABLE IF NOT EXISTS jobs (
    kind TEXT NOT NULL,              -- deliver | redeliver
    licence_id INTEGER NOT NULL,
    key_hash TEXT NOT NULL,          -- version the job is for ('' for deliver)
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
    PRIMARY KEY (kind, licence_id, key_hash)
);
"""
JOURNAL_VERSION = "2"

DELIVERY_GAS = 120_000
#: Blocks to wait before acting on an event, by chain id: Rootstock mainnet and testnet reorganise a few blocks
#: at times (30 s blocks: 12 is six minutes); a local chain does not.
DEFAULT_CONFIRMATIONS = {30: 12, 31: 12}
DEADLINE_MARGIN = 300  # seconds before the delivery deadline after which a delivery is no longer sent
MAX_ATTEMPTS = 5  # reverted deliveries of one licence before the job is given up
REORG_REWIND = 256  # blocks scanned again after the chain under the cursor changed
RESIGN_AFTER = 120.0  # seconds a signed transaction may wait unmined before it is re-signed at the current price
DONE = {"deliver": "delivered", "redeliver": "redelivered"}  # job kind -> AgentStats field


@dataclass
class AgentStats:
    delivered: int = 0
    redelivered: int = 0
    skipped: int = 0
    failed: int = 0

    def __str__(self) -> str:  # the agent's last log line: a summary, not a repr
        return (f"delivered {self.delivered}, re-delivered {self.redelivered}, skipped {self.skipped}, "
                f"failed {self.failed}")


class Agent:
    def __init__(
        self,
        client: Client,
        db_path: Path,
        confirmations: int | None = None,
        poll_interval: float = 2.0,
        max_backoff: float = 60.0,
        chunk_blocks: int = 2000,
        resign_after: float = RESIGN_AFTER,
    ):
        if client.conn.account is None:
            raise ConfigError("the agent needs its own account (--account): the hot key named as the dataset agent")
        self.client = client
        self.c = client.conn
        self.keys, self.reader, self.seller = client.keys, client.reader, client.seller
        self.me = client.conn.account.address
        self.db_path = db_path
        from .home import private_dir

        private_dir(db_path.parent)
        self.db = sqlite3.connect(str(db_path), isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._check_journal()
        self.confirmations = DEFAULT_CONFIRMATIONS.get(self.c.chain_id, 0) if confirmations is None else confirmations
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.chunk_blocks = chunk_blocks
        self.resign_after = resign_after
        self.stopping = False
        self.stats = AgentStats()
        self._served: dict[int, bool] = {}
        self._why: dict[int, str] = {}
        self._key_hashes: dict[tuple[int, int], bytes] = {}

    def _check_journal(self) -> None:
        """A journal belongs to one chain (id and genesis), one contract and one agent key: refuse any other."""
        genesis = self.c.w3.eth.get_block(0)["hash"].to_0x_hex()
        mine = {"version": JOURNAL_VERSION, "chainId": str(self.c.chain_id), "genesis": genesis,
                "contract": self.c.address, "agent": self.me}
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)").fetchall()}
        if not {"block", "block_hash", "nonce", "signed_at", "attempts"} <= columns:
            raise ConfigError(
                f"the agent journal {self.db_path} was written by an older version of the agent (for the v1 "
                "marketplace): move it aside and start a new one (--db)"
            )
        have = dict(self.db.execute("SELECT name, value FROM meta").fetchall())
        if not have:
            self.db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", list(mine.items()))
            return
        wrong = [f"{k} {have.get(k)} (here: {v})" for k, v in mine.items() if have.get(k) != v]
        if wrong:
            raise ConfigError(
                f"the agent journal {self.db_path} belongs to another " + ", ".join(wrong)
                + ": give this agent its own --db"
            )

    # ---------------------------------------------------------------------------------------- control

    def stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self, once: bool = False) -> AgentStats:
        """Follow the chain until SIGTERM (or, with once, until nothing is left to do)."""
        import threading

        if not once and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("agent %s watching %s on chain %s", self.me, self.c.address, self.c.chain_id)
        backoff = self.poll_interval
        while not self.stopping:
            try:
                self.step()
                replicas.check_on_schedule(self)  # logs replication gaps of served datasets, every 15 min
                backoff = self.poll_interval
                if once:
                    break
            except (DataLicenseError, Web3RPCError, OSError, ConnectionError) as exc:
                if isinstance(exc, ConfigError):
                    raise
                log.warning("error, retrying in %.1fs: %s", backoff, exc)
                if once:
                    raise
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._sleep(self.poll_interval)
        log.info("agent stopped: %s", self.stats)
        return self.stats

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.2, end - time.monotonic()))

    def step(self) -> None:
        self.resume_signed()
        self.scan()
        self.work()

    # ------------------------------------------------------------------------------------------- scan

    def _cursor(self) -> int:
        row = self.db.execute("SELECT block, hash FROM cursor WHERE name='events'").fetchone()
        if row is None:
            return self.c.deploy_block - 1
        block, block_hash = row
        if block_hash:
            seen = self.c.w3.eth.get_block(block) if block <= self.c.w3.eth.block_number else None
            if seen is None or seen["hash"].to_0x_hex() != block_hash:
                back = max(self.c.deploy_block - 1, block - REORG_REWIND)
                log.warning("the chain changed under block %d (reorganisation): scanning again from block %d",
                            block, back + 1)
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("DELETE FROM jobs WHERE state='todo' AND block > ?", (back,))
                self.db.execute("UPDATE cursor SET block=?, hash=NULL WHERE name='events'", (back,))
                self.db.execute("COMMIT")
                return back
        return block

    def serves(self, dataset_id: int) -> bool:
        """Whether this agent delivers for a dataset: it is the owner or the named agent, and it holds the
        dataset's content keys (a stranger can name any agent; only datasets published from this home are ours)."""
        if dataset_id not in self._served:
            owner = self.c.market.dataset(dataset_id).owner
            agent = self.c.market.agent_of(dataset_id)
            reason = ""
            if self.me not in (owner, agent):
                reason = "this agent is neither its owner nor its agent"
            elif not self.keys.holds_keys_for(dataset_id):
                reason = f"no content key for it in {self.c.home} (published elsewhere, or by a stranger naming this agent)"
            if reason:
                log.info("not serving dataset %d: %s", dataset_id, reason)
            self._why[dataset_id] = reason
            self._served[dataset_id] = not reason
        return self._served[dataset_id]

    def scan(self) -> None:
        """Record purchases, new versions and settlements up to head - confirmations, then move the cursor."""
        head = self.c.w3.eth.block_number - self.confirmations
        start = self._cursor() + 1
        ev = self.c.contract.events
        while start <= head and not self.stopping:
            end = min(head, start + self.chunk_blocks - 1)
            purchases = ev.LicencePurchased().get_logs(from_block=start, to_block=end)
            versions = ev.VersionPublished().get_logs(from_block=start, to_block=end)
            settled = ev.LicenceSettled().get_logs(from_block=start, to_block=end)
            agents = ev.AgentSet().get_logs(from_block=start, to_block=end)
            owners = ev.DatasetTransferred().get_logs(from_block=start, to_block=end)
            for a in agents + owners:
                self._served.pop(int(a["args"]["datasetId"]), None)
            now = time.time()
            rows: list[tuple[Any, ...]] = []
            for p in purchases:
                ds, lid = int(p["args"]["datasetId"]), int(p["args"]["licenceId"])
                if self.serves(ds):
                    rows.append(("deliver", lid, "", ds, bytes(p["args"]["keyX"]), bytes(p["args"]["keyY"]), "todo",
                                 now, p["blockNumber"], p["blockHash"].to_0x_hex()))
                else:
                    log.info("purchase of licence %d (dataset %d) not served: %s", lid, ds, self._why.get(ds, ""))
            for v in versions:
                if int(v["args"]["version"]) > 1 and self.serves(int(v["args"]["datasetId"])):
                    rows += [(*r, v["blockNumber"], v["blockHash"].to_0x_hex()) for r in self._redelivery_jobs(
                        int(v["args"]["datasetId"]), "0x" + bytes(v["args"]["keyHash"]).hex(), now)]
            for st in settled:  # a licence settled after a newer version appeared gets that version now
                lid = int(st["args"]["licenceId"])
                ds = self.c.market.dataset_of(lid)
                if self.serves(ds):
                    rows += [(*r, st["blockNumber"], st["blockHash"].to_0x_hex())
                             for r in self._catch_up_job(lid, ds, now)]
            end_hash = self.c.w3.eth.get_block(end)["hash"].to_0x_hex()
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT OR IGNORE INTO jobs (kind, licence_id, key_hash, dataset_id, key_x, key_y, state, updated, "
                "block, block_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            self.db.execute("INSERT OR REPLACE INTO cursor (name, block, hash) VALUES ('events', ?, ?)",
                            (end, end_hash))
            self.db.execute("COMMIT")
            start = end + 1

    def _redelivery_jobs(self, dataset_id: int, key_hash: str, now: float) -> list[tuple[Any, ...]]:
        """Settled licences of a dataset that are valid now and so cover its new version (licences still in
        escrow get it when they settle: see `_catch_up_job`)."""
        jobs = []
        for (lid,) in self.db.execute(
            "SELECT licence_id FROM jobs WHERE kind='deliver' AND dataset_id=? AND state='done'", (dataset_id,)
        ).fetchall():
            if self.c.market.licence(lid).state == State.SETTLED and self.c.market.is_valid(lid):
                jobs.append(("redeliver", lid, key_hash, dataset_id, None, None, "todo", now))
        return jobs

    def _catch_up_job(self, lid: int, dataset_id: int, now: float) -> list[tuple[Any, ...]]:
        escrowed = [d for d in self.reader.deliveries(lid) if d["escrowed"]]
        current = self.c.market.key_hash(dataset_id)
        if not escrowed or escrowed[0]["keyHash"] == current or not self.c.market.is_valid(lid):
            return []
        return [("redeliver", lid, "0x" + current.hex(), dataset_id, None, None, "todo", now)]

    # ------------------------------------------------------------------------------------------- work

    def resume_signed(self) -> None:
        """Transactions signed before a crash or left unmined: done if mined, else the same bytes are sent again.
        A transaction the node will not take back (already known is fine; nonce used, underpriced after the
        minimum price rose, signed for another chain) or one left unmined too long is signed again at the current
        price, with the same nonce where it is still free, so at most one of them is ever mined."""
        for kind, lid, key_hash, raw, tx_hash, signed_at in self.db.execute(
            "SELECT kind, licence_id, key_hash, raw_tx, tx_hash, signed_at FROM jobs WHERE state='signed'"
        ).fetchall():
            try:
                rcpt = self.c.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                rcpt = None
            if rcpt is not None:
                self._finish(kind, lid, key_hash, tx_hash, rcpt)
                continue
            if not self._still_needed(kind, lid):
                self._mark(kind, lid, key_hash, "skipped", note="no longer needed after restart")
                continue
            if signed_at is not None and time.time() - signed_at > self.resign_after:
                self._mark(kind, lid, key_hash, "todo", note="unmined too long: re-sign at the current price")
                continue
            problem = self._broadcast(raw)
            if problem:
                log.warning("licence %d: %s %s cannot be sent again (%s): signing it anew", lid, kind, tx_hash, problem)
                self._mark(kind, lid, key_hash, "todo", note=f"re-sign: {problem}")
            else:
                log.info("re-broadcast %s for licence %d: %s", kind, lid, tx_hash)
        self._await_signed()

    def _broadcast(self, raw: bytes) -> str:
        """Send signed bytes; '' when the node has them (now or already), else the node's reason."""
        try:
            self.c.tx.broadcast(raw)
        except (Web3RPCError, ValueError) as exc:
            text = str(exc)
            if any(k in text.lower() for k in ("already known", "known transaction", "already imported",
                                               "already in the pool", "already exists",
                                               # Ganache answers so for a transaction it mined and that reverted
                                               "vm exception while processing transaction")):
                return ""
            return text[:200]
        return ""

    def _await_signed(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        mined = []
        for kind, lid, key_hash, tx_hash in self.db.execute(
            "SELECT kind, licence_id, key_hash, tx_hash FROM jobs WHERE state='signed'"
        ).fetchall():
            try:
                rcpt = self.c.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=max(1.0, end - time.monotonic()),
                                                                  poll_latency=0.05)
            except Exception as exc:  # noqa: BLE001 - left 'signed'; the next step retries
                log.warning("licence %d: %s %s not mined yet (%s)", lid, kind, tx_hash, type(exc).__name__)
                continue
            mined.append((kind, lid, key_hash, tx_hash, rcpt))
        if mined:
            self.db.execute("BEGIN IMMEDIATE")
            for m in mined:
                self._finish(*m)
            self.db.execute("COMMIT")

    def _finish(self, kind: str, lid: int, key_hash: str, tx_hash: str, rcpt: Any) -> None:
        if rcpt["status"] == 1:
            self._mark(kind, lid, key_hash, "done")
            counter = DONE[kind]
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            log.info("%s licence %d: tx %s gas %s", counter, lid, tx_hash, rcpt["gasUsed"])
        else:
            attempts = self.db.execute("SELECT attempts FROM jobs WHERE kind=? AND licence_id=? AND key_hash=?",
                                       (kind, lid, key_hash)).fetchone()[0] + 1
            self.db.execute("UPDATE jobs SET attempts=?, nonce=NULL WHERE kind=? AND licence_id=? AND key_hash=?",
                            (attempts, kind, lid, key_hash))
            if attempts < MAX_ATTEMPTS and self._still_needed(kind, lid):
                # e.g. the holder rotated its key in front of the delivery: build it again for the key on chain
                self._mark(kind, lid, key_hash, "todo", note=f"reverted ({tx_hash}): built again")
                log.warning("%s licence %d: tx %s reverted; building it again", kind, lid, tx_hash)
                return
            self._mark(kind, lid, key_hash, "skipped", note=f"reverted: {tx_hash}")
            self.stats.skipped += 1
            log.warning("%s licence %d: tx %s reverted", kind, lid, tx_hash)

    def _still_needed(self, kind: str, lid: int) -> bool:
        state = self.c.market.licence(lid).state
        if kind == "deliver":
            return state == State.PENDING
        return state == State.SETTLED and self.c.market.is_valid(lid)

    def _mark(self, kind: str, lid: int, key_hash: str, state: str, raw: bytes | None = None,
              tx_hash: str | None = None, note: str | None = None, nonce: int | None = None) -> None:
        now = time.time()
        self.db.execute(
            "UPDATE jobs SET state=?, raw_tx=COALESCE(?, raw_tx), tx_hash=COALESCE(?, tx_hash), note=?, updated=?, "
            "nonce=COALESCE(?, nonce), signed_at=CASE WHEN ?='signed' THEN ? ELSE signed_at END "
            "WHERE kind=? AND licence_id=? AND key_hash=?",
            (state, raw, tx_hash, note, now, nonce, state, now, kind, lid, key_hash),
        )

    def work(self, batch_size: int = 50) -> None:
        """Sign every job still to do, record a batch of signed transactions in one commit, then broadcast it."""
        todo = self.db.execute(
            "SELECT kind, licence_id, key_hash, dataset_id, key_x, key_y, block, block_hash, nonce FROM jobs "
            "WHERE state='todo' ORDER BY licence_id"
        ).fetchall()
        if not todo:
            return
        w3 = self.c.w3
        mined_nonce = w3.eth.get_transaction_count(self.me, "latest")
        nonce = max(mined_nonce, w3.eth.get_transaction_count(self.me, "pending"))
        tx = self.c.tx
        self._key_hashes: dict[tuple[int, int], bytes] = {}  # key commitment per dataset version, for this run
        canonical: dict[int, str | None] = {}
        for start in range(0, len(todo), batch_size):
            if self.stopping:
                break
            signed: list[tuple[str, int, str, bytes, str, int]] = []
            for kind, lid, key_hash, ds, kx, ky, block, block_hash, old_nonce in todo[start:start + batch_size]:
                try:
                    if block is not None:  # the event that made this job must still be on the chain
                        if block not in canonical:
                            b = w3.eth.get_block(block) if block <= w3.eth.block_number else None
                            canonical[block] = None if b is None else b["hash"].to_0x_hex()
                        if canonical[block] != block_hash:
                            self._mark(kind, lid, key_hash, "skipped", note="its event was reorganised away")
                            self.stats.skipped += 1
                            continue
                    if not self._still_needed(kind, lid):
                        self._mark(kind, lid, key_hash, "skipped", note="not needed (state changed)")
                        self.stats.skipped += 1
                        continue
                    fn = self._call_for(kind, lid, ds, kx, ky)
                    # a transaction signed before keeps its nonce while it is unused: at most one is ever mined
                    use = old_nonce if old_nonce is not None and old_nonce >= mined_nonce else nonce
                    # deliveries have a known cost (about 45k gas): a fixed limit saves the estimate round trip
                    raw, tx_hash = tx.sign(fn, what=f"{kind} licence {lid}", nonce=use, gas=DELIVERY_GAS)
                except _TRANSPORT:
                    raise  # the node is unreachable: the whole step is retried
                except Exception as exc:  # noqa: BLE001 - one job's failure never stops the others
                    log.warning("licence %d: cannot %s: %s", lid, kind, exc)
                    self._mark(kind, lid, key_hash, "failed", note=str(exc))
                    self.stats.failed += 1
                    continue
                signed.append((kind, lid, key_hash, raw, tx_hash, use))
                if use == nonce:
                    nonce += 1
            # recorded (one commit) before any of them is sent: a crash after this point re-sends the same bytes
            self.db.execute("BEGIN IMMEDIATE")
            for kind, lid, key_hash, raw, tx_hash, use in signed:
                self._mark(kind, lid, key_hash, "signed", raw=raw, tx_hash=tx_hash, nonce=use)
            self.db.execute("COMMIT")
            for kind, lid, _k, raw, tx_hash, _n in signed:
                problem = self._broadcast(raw)
                if problem:  # signed anew next step, with the same nonce: at most one of them is mined
                    log.warning("licence %d: %s %s not accepted: %s", lid, kind, tx_hash, problem)
                    self._mark(kind, lid, _k, "todo", note=f"re-sign: {problem}")
        self._await_signed()

    def _call_for(self, kind: str, lid: int, dataset_id: int, kx: bytes | None, ky: bytes | None) -> Any:
        """The delivery, wrapped to the key the licence names on chain now (checked before signing), carrying
        the key of the version bought (a delivery) or of the current version (a redelivery)."""
        key = (kx, ky) if kx is not None and ky is not None else None
        if kind == "deliver":
            pending = self.c.market.pending_delivery(lid)
            if pending is None:
                raise ChainError(f"licence {lid} is no longer pending")
            named, version = pending
            if key is None or named.lower() != "0x" + keywrap.point_address(*key).hex():
                raise ChainError(f"licence {lid}: the delivery key on chain is {named}, not the purchase's")
            deadline = self.c.market.clock(lid).deliver_by or 0
            now = int(self.c.w3.eth.get_block("latest")["timestamp"])
            if now + DEADLINE_MARGIN > deadline:
                # a delivery mined after the deadline reverts, yet its calldata shows the wrapped key to the
                # buyer, who is then refunded anyway: never send one that may land late
                raise ChainError(f"licence {lid}: too close to its delivery deadline ({local_time(deadline)}): not sent")
        else:
            latest = self.reader.delivery_keys(lid)[-1]  # after a transfer or a rotation: the key named last
            key = (latest["x"], latest["y"])
            version = self.c.market.dataset(dataset_id).version
        if (dataset_id, version) not in self._key_hashes:  # one look-up per dataset version and run
            self._key_hashes[(dataset_id, version)] = self.c.market.key_hash(dataset_id, version)
        return self.seller.delivery_call(lid, kind == "redeliver", dataset_id, key, self._key_hashes[(dataset_id, version)])

    def counts(self) -> dict[str, int]:
        return {f"{k}:{s}": n for k, s, n in self.db.execute(
            "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state").fetchall()}

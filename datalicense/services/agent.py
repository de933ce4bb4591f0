"""The seller's delivery agent: follows purchases and delivers keys, exactly once per licence.

State lives in SQLite (datalicense/services/agentjournal.py: the cursor, every purchase event seen, every transaction it
signed). A delivery is signed, recorded with its raw bytes and hash, committed, and only then broadcast; after a
crash (SIGKILL at any moment) the agent finds the recorded transaction, checks whether it was mined, and
re-broadcasts the *same* signed bytes if not, so it never sends a second, different delivery. The cursor moves only
in the same database transaction that records the purchases it covers, so no purchase is missed.

A reorganisation is followed, not trusted away: a delivery is owed to a purchase event, so when licence id L goes
to another buyer in the new chain, that purchase is delivered although the first one's was done; a delivery whose
block left the chain is opened again and its same bytes sent again while the licence still waits for it.

It also delivers new dataset versions to the settled licences they cover, always to the licence's current
delivery key. Nothing needs it after a delivery: a buyer who receives a wrong key proves it alone.

Whatever strangers publish, one job's failure (a dataset naming this agent whose key it does not hold, a licence
whose state changed) marks that job failed with its reason, and the agent goes on with the others.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
import threading

import requests
from web3.exceptions import TransactionNotFound, Web3RPCError

from datalicense.protocol import keywrap
from datalicense.roles import replicas
from datalicense.services.agentjournal import JOURNAL_VERSION, Job, Journal, SignedJob
from datalicense.services.agentscan import Scanner
from datalicense.infra.chain import local_time
from datalicense.client import Client
from datalicense.errors import ChainError, ConfigError, DataLicenseError
from datalicense.protocol.records import State

log = logging.getLogger("datalicense.services.agent")
_TRANSPORT = (ConnectionError, TimeoutError, requests.RequestException)

DELIVERY_GAS = 120_000
#: Blocks to wait before acting on an event, by chain id: Rootstock mainnet and testnet reorganise a few blocks
#: at times (30 s blocks: 12 is six minutes); a local chain does not.
DEFAULT_CONFIRMATIONS = {30: 12, 31: 12}
DEADLINE_MARGIN = 300  # seconds before the delivery deadline after which a delivery is no longer sent
MAX_ATTEMPTS = 5  # reverted deliveries of one licence before the job is given up
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
        # a journal belongs to one chain (id and genesis), one contract and one agent key: any other is refused
        genesis = self.c.w3.eth.get_block(0)["hash"].to_0x_hex()
        self.journal = Journal(db_path, {"version": JOURNAL_VERSION, "chainId": str(self.c.chain_id),
                                         "genesis": genesis, "contract": self.c.address, "agent": self.me})
        self.db = self.journal.db
        if confirmations is None:  # a rehearsal's fork mines a block per transaction and never reorganises
            confirmations = 0 if self.c.rehearsal else DEFAULT_CONFIRMATIONS.get(self.c.chain_id, 0)
        self.confirmations = confirmations
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.resign_after = resign_after
        self.stopping = False
        self.stats = AgentStats()
        self.scanner = Scanner(self.c, self.keys, self.reader, self.journal, self.me, self.confirmations, chunk_blocks,
                               self._on_chain, lambda: self.stopping)
        self._key_hashes: dict[tuple[int, int], bytes] = {}
        self._hashes: dict[int, str | None] = {}  # block -> its hash on the chain now, for one step

    # ---------------------------------------------------------------------------------------- control

    def stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self, once: bool = False) -> AgentStats:
        """Follow the chain until SIGTERM (or, with once, until nothing is left to do)."""
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
        self._hashes = {}
        self.recheck_mined()
        self.resume_signed()
        self.scan()
        self.work()

    def scan(self) -> None:
        """Record what is owed from the events since the cursor (datalicense/services/agentscan.py)."""
        self.scanner.scan()

    def serves(self, dataset_id: int) -> bool:
        """Whether this agent delivers for the dataset (its owner or agent, holding its content keys)."""
        return self.scanner.serves(dataset_id)

    # ---------------------------------------------------------------------------------- the chain now

    def _on_chain(self, block: int | None, block_hash: str | None) -> bool:
        """Whether `block` still has the hash `block_hash` (no block: nothing to check)."""
        if block is None:
            return True
        if block not in self._hashes:
            b = self.c.w3.eth.get_block(block) if block <= self.c.w3.eth.block_number else None
            self._hashes[block] = None if b is None else b["hash"].to_0x_hex()
        return self._hashes[block] == block_hash

    def recheck_mined(self) -> None:
        """Deliveries mined in blocks that left the chain (a reorganisation) are opened again: `resume_signed` then
        finds the same transaction in the new chain, or sends its same bytes again while they are still owed. One
        block is read when nothing changed (the newest a delivery was mined in: if it stands, all before it do)."""
        last = self.journal.last_mined()
        if last is None or self._on_chain(*last):
            return
        gone = []
        for block, block_hash in self.journal.mined_blocks():
            if self._on_chain(block, block_hash):
                break
            gone.append(block)
        n = self.journal.reopen(gone)
        log.warning("%d deliveries were mined in blocks that left the chain (reorganisation): checking them again", n)

    def _gone(self, job: Job | SignedJob) -> None:
        """The event that made the job is no longer on the chain. A delivery's row stays, skipped (it was owed to
        that purchase; the scan records the purchase the chain has now); a re-delivery's row is removed, so the
        same version seen again in another block makes it again."""
        if job.kind == "deliver":
            self.journal.mark(job.id, "skipped", note="its event was reorganised away")
        else:
            self.journal.drop(job.id)
        self.stats.skipped += 1

    # ------------------------------------------------------------------------------------------- work

    def resume_signed(self) -> None:
        """Transactions signed before a crash, left unmined, or whose block left the chain: done if mined, else the
        same bytes are sent again while the event that made them stands. A transaction the node will not take back
        (already known is fine; nonce used, underpriced after the minimum price rose, signed for another chain) or
        one left unmined too long is signed again at the current price, with the same nonce where it is still free,
        so at most one of them is ever mined."""
        for job in self.journal.signed():
            try:
                rcpt = self.c.w3.eth.get_transaction_receipt(job.tx_hash)
            except TransactionNotFound:
                rcpt = None
            if rcpt is not None:
                self._finish(job.id, job.kind, job.licence_id, job.tx_hash, rcpt)
                continue
            if not self._on_chain(job.block, job.block_hash):
                self._gone(job)
                continue
            if not self._still_needed(job.kind, job.licence_id):
                self.journal.mark(job.id, "skipped", note="no longer needed after restart")
                continue
            if job.signed_at is not None and time.time() - job.signed_at > self.resign_after:
                self.journal.mark(job.id, "todo", note="unmined too long: re-sign at the current price")
                continue
            problem = self._broadcast(job.raw_tx)
            if problem:
                log.warning("licence %d: %s %s cannot be sent again (%s): signing it anew", job.licence_id, job.kind,
                            job.tx_hash, problem)
                self.journal.mark(job.id, "todo", note=f"re-sign: {problem}")
            else:
                log.info("re-broadcast %s for licence %d: %s", job.kind, job.licence_id, job.tx_hash)
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
        for job in self.journal.signed():
            try:
                rcpt = self.c.w3.eth.wait_for_transaction_receipt(job.tx_hash, timeout=max(1.0, end - time.monotonic()),
                                                                  poll_latency=0.05)
            except Exception as exc:  # noqa: BLE001 - left 'signed'; the next step retries
                log.warning("licence %d: %s %s not mined yet (%s)", job.licence_id, job.kind, job.tx_hash,
                            type(exc).__name__)
                continue
            mined.append((job.id, job.kind, job.licence_id, job.tx_hash, rcpt))
        if mined:
            with self.journal.transaction():
                for m in mined:
                    self._finish(*m)

    def _finish(self, job: int, kind: str, lid: int, tx_hash: str, rcpt: Any) -> None:
        if rcpt["status"] == 1:
            self.journal.mined(job, int(rcpt["blockNumber"]), rcpt["blockHash"].to_0x_hex())
            counter = DONE[kind]
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            log.info("%s licence %d: tx %s gas %s", counter, lid, tx_hash, rcpt["gasUsed"])
            return
        attempts = self.journal.reverted(job)
        if attempts < MAX_ATTEMPTS and self._still_needed(kind, lid):
            # e.g. the holder rotated its key in front of the delivery: build it again for the key on chain
            self.journal.mark(job, "todo", note=f"reverted ({tx_hash}): built again")
            log.warning("%s licence %d: tx %s reverted; building it again", kind, lid, tx_hash)
            return
        self.journal.mark(job, "skipped", note=f"reverted: {tx_hash}")
        self.stats.skipped += 1
        log.warning("%s licence %d: tx %s reverted", kind, lid, tx_hash)

    def _still_needed(self, kind: str, lid: int) -> bool:
        state = self.c.market.licence(lid).state
        if kind == "deliver":
            return state == State.PENDING
        return state == State.SETTLED and self.c.market.is_valid(lid)

    def work(self, batch_size: int = 50) -> None:
        """Sign every job still to do, record a batch of signed transactions in one commit, then broadcast it."""
        todo = self.journal.todo()
        if not todo:
            return
        w3 = self.c.w3
        mined_nonce = w3.eth.get_transaction_count(self.me, "latest")
        nonce = max(mined_nonce, w3.eth.get_transaction_count(self.me, "pending"))
        tx = self.c.tx
        self._key_hashes = {}  # key commitment per dataset version, for this run
        for start in range(0, len(todo), batch_size):
            if self.stopping:
                break
            signed: list[tuple[Job, bytes, str, int]] = []
            for job in todo[start:start + batch_size]:
                kind, lid = job.kind, job.licence_id
                try:
                    if not self._on_chain(job.block, job.block_hash):  # the event that made it must still stand
                        self._gone(job)
                        continue
                    if not self._still_needed(kind, lid):
                        self.journal.mark(job.id, "skipped", note="not needed (state changed)")
                        self.stats.skipped += 1
                        continue
                    fn = self._call_for(kind, lid, job.dataset_id, job.key_x, job.key_y)
                    # a transaction signed before keeps its nonce while it is unused: at most one is ever mined
                    use = job.nonce if job.nonce is not None and job.nonce >= mined_nonce else nonce
                    # deliveries have a known cost (about 45k gas): a fixed limit saves the estimate round trip
                    raw, tx_hash = tx.sign(fn, what=f"{kind} licence {lid}", nonce=use, gas=DELIVERY_GAS)
                except _TRANSPORT:
                    raise  # the node is unreachable: the whole step is retried
                except Exception as exc:  # noqa: BLE001 - one job's failure never stops the others
                    log.warning("licence %d: cannot %s: %s", lid, kind, exc)
                    self.journal.mark(job.id, "failed", note=str(exc))
                    self.stats.failed += 1
                    continue
                signed.append((job, raw, tx_hash, use))
                if use == nonce:
                    nonce += 1
            # recorded (one commit) before any of them is sent: a crash after this point re-sends the same bytes
            with self.journal.transaction():
                for job, raw, tx_hash, use in signed:
                    self.journal.mark(job.id, "signed", raw=raw, tx_hash=tx_hash, nonce=use)
            for job, raw, tx_hash, _n in signed:
                problem = self._broadcast(raw)
                if problem:  # signed anew next step, with the same nonce: at most one of them is mined
                    log.warning("licence %d: %s %s not accepted: %s", job.licence_id, job.kind, tx_hash, problem)
                    self.journal.mark(job.id, "todo", note=f"re-sign: {problem}")
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
        return self.journal.counts()

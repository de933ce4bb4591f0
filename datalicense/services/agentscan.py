"""What the delivery agent owes, read from the chain (datalicense/services/agent.py does the deliveries).

The scanner follows the marketplace's events from the journal's cursor up to head - confirmations: each purchase of
a dataset the agent serves is a delivery owed to that purchase event, each new version a re-delivery owed to the
settled licences it covers, each settlement after a newer version a catch-up. A reorganisation under the cursor
sends it back REORG_REWIND blocks; the purchases of the new chain are recorded as new events.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from datalicense.protocol import keywrap
from datalicense.protocol.records import State

if TYPE_CHECKING:
    from datalicense.services.agentjournal import Journal
    from datalicense.infra.connection import Connection
    from datalicense.roles.keys import KeyStore
    from datalicense.roles.reader import MarketReader

log = logging.getLogger("datalicense.services.agent")
REORG_REWIND = 256  # blocks scanned again after the chain under the cursor changed


class Scanner:
    """Records the jobs of agent `me` in `journal`; `on_chain(block, hash)` says whether a block still stands,
    `stopping()` whether the agent is asked to stop."""

    def __init__(self, conn: "Connection", keys: "KeyStore", reader: "MarketReader", journal: "Journal", me: str,
                 confirmations: int, chunk_blocks: int, on_chain: Callable[[int | None, str | None], bool],
                 stopping: Callable[[], bool]):
        self.c, self.keys, self.reader, self.journal, self.me = conn, keys, reader, journal, me
        self.confirmations, self.chunk_blocks = confirmations, chunk_blocks
        self.on_chain, self.stopping = on_chain, stopping
        self._served: dict[int, bool] = {}
        self._why: dict[int, str] = {}

    def _cursor(self) -> int:
        cursor = self.journal.cursor()
        if cursor is None:
            return self.c.deploy_block - 1
        block, block_hash = cursor
        if block_hash and not self.on_chain(block, block_hash):
            back = max(self.c.deploy_block - 1, block - REORG_REWIND)
            log.warning("the chain changed under block %d (reorganisation): scanning again from block %d",
                        block, back + 1)
            self.journal.rewind(back)
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
        """Record purchases, new versions and settlements up to head - confirmations, then move the cursor (in
        the same transaction: no purchase is missed)."""
        head = self.c.w3.eth.block_number - self.confirmations
        start = self._cursor() + 1
        ev = self.c.contract.events
        while start <= head and not self.stopping():
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
                    kx, ky, block_hash = bytes(p["args"]["keyX"]), bytes(p["args"]["keyY"]), p["blockHash"].to_0x_hex()
                    event = (f"{block_hash}:{p['logIndex']}:{str(p['args']['licensee']).lower()}:"
                             f"0x{keywrap.point_address(kx, ky).hex()}")
                    rows.append(("deliver", lid, "", event, ds, kx, ky, "todo", now, p["blockNumber"], block_hash))
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
            self.journal.record(rows, end, self.c.w3.eth.get_block(end)["hash"].to_0x_hex())
            start = end + 1

    def _redelivery_jobs(self, dataset_id: int, key_hash: str, now: float) -> list[tuple[Any, ...]]:
        """Settled licences of a dataset that are valid now and so cover its new version (licences still in
        escrow get it when they settle: see `_catch_up_job`)."""
        jobs = []
        for lid in self.journal.delivered_licences(dataset_id):
            if self.c.market.licence(lid).state == State.SETTLED and self.c.market.is_valid(lid):
                jobs.append(("redeliver", lid, key_hash, "", dataset_id, None, None, "todo", now))
        return jobs

    def _catch_up_job(self, lid: int, dataset_id: int, now: float) -> list[tuple[Any, ...]]:
        escrowed = [d for d in self.reader.deliveries(lid) if d.escrowed]
        current = self.c.market.key_hash(dataset_id)
        if not escrowed or escrowed[0].key_hash == current or not self.c.market.is_valid(lid):
            return []
        return [("redeliver", lid, "0x" + current.hex(), "", dataset_id, None, None, "todo", now)]

"""The pools an account contributes to, for the page's "My pools" (`/api/contributors/{address}`).

Pools are found by their PoolCreated logs, but only logs a contract emitted about itself, from a contract whose
code is a clone (EIP-1167) of a pools' factory of this marketplace (RevenuePool in the deployments file, or the
factories the server was given): any stranger's contract can emit a look-alike log naming anything. Each pool is
read on its own, and one that cannot be read is skipped with a note; it never fails the page. Contributor trees are
read from IPFS outside the page's lock, in parallel, with a short deadline, and their results kept
(datalicense.infra.ipfsreads): a tree nobody holds costs one deadline now and then, not one per visit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import event_abi_to_log_topic

from datalicense.infra.chain import normalize_address
from datalicense.errors import DataLicenseError, StorageError
from datalicense.infra.ipfsreads import CachedReads
from datalicense.protocol.poolshare import epoch_of_version, sale_share
from datalicense.protocol.addresses import ZERO
from datalicense.infra.market import pool_epoch, pool_epoch_sales, pool_record
from datalicense.roles.pool import Proof, fetch_proof
from datalicense.infra.ipfs import Storage

if TYPE_CHECKING:
    from datalicense.infra.connection import Connection

#: EIP-1167 minimal proxy runtime code around the implementation's address (OpenZeppelin Clones).
CLONE_HEAD = bytes.fromhex("363d3d373d3d3d363d73")
CLONE_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
#: Deadline of one read from a contributor tree (seconds), and how long a tree that could not be reached is not
#: asked again for any account.
TREE_TIMEOUT = 5.0
TREE_DOWN = 30.0


def clone_of(code: bytes) -> str | None:
    """The implementation address an EIP-1167 clone's runtime code delegates to, lower case (None: not a clone)."""
    code = bytes(code)
    if len(code) == len(CLONE_HEAD) + 20 + len(CLONE_TAIL) and code.startswith(CLONE_HEAD) \
            and code.endswith(CLONE_TAIL):
        return "0x" + code[len(CLONE_HEAD):len(CLONE_HEAD) + 20].hex()
    return None


@dataclass(frozen=True)
class TreeKey:
    """One account's shard of one epoch's tree (verified against the epoch's root on chain)."""

    cid: str
    account: str
    root: bytes


@dataclass(frozen=True)
class TreeRead:
    proof: Proof | None = None  # None without error: the account is not in the tree
    error: str = ""
    retry: bool = False


@dataclass(frozen=True)
class PoolPlan:
    """A pool of ours and the tree shards to read for one account: (epoch, key) each."""

    address: str
    trees: tuple[tuple[int, TreeKey], ...]


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return text


class PoolsView:
    """The pools of `conn`'s marketplace made by `factories()` (addresses), as one account sees them."""

    def __init__(self, conn: "Connection", factories: Callable[[], list[str]], workers: int = 8):
        self.conn = conn
        self.factories = factories
        self.storage = Storage(conn.storage.api, timeout=TREE_TIMEOUT, retries=1)
        self.reads: CachedReads[TreeKey, TreeRead] = CachedReads(
            self._read, retry=lambda r: r.retry, workers=workers,
            on_error=lambda key, exc: TreeRead(error=f"its contributor tree could not be read ({_short(exc)})",
                                               retry=True))
        self._clone_target: dict[str, str | None] = {}  # code never changes: each address is looked at once
        self._factory_ok: set[str] = set()
        self._down: dict[str, float] = {}  # tree CID -> until when it is taken as unreachable
        abi = {e["name"]: e for e in conn.pool_contract(ZERO).abi if e.get("type") == "event"}
        self._created = "0x" + event_abi_to_log_topic(abi["PoolCreated"]).hex()
        self._epoch = "0x" + event_abi_to_log_topic(abi["EpochStarted"]).hex()

    # ------------------------------------------------------------------------------ chain (under the page's lock)

    def _ours(self) -> set[str]:
        """The factories (lower case) whose pools belong to this marketplace."""
        out = set()
        for factory in self.factories():
            key = factory.lower()
            if key not in self._factory_ok:
                try:
                    market = str(self.conn.pool_contract(factory).functions.market().call())
                except Exception:  # noqa: BLE001 - whatever is at that address, it is not a factory of ours
                    continue
                if market.lower() != self.conn.address.lower():
                    continue
                self._factory_ok.add(key)
            out.add(key)
        return out

    def pools(self) -> list[str]:
        """Addresses of every pool a factory of ours made."""
        factories = self._ours()
        if not factories:
            return []
        logs = self.conn.w3.eth.get_logs({"fromBlock": self.conn.deploy_block, "toBlock": "latest",
                                          "topics": [self._created]})
        found = set()
        for lg in logs:
            address = str(lg["address"])
            topics = lg.get("topics") or []
            if len(topics) < 2 or bytes(topics[1])[-20:].hex() != address[2:].lower():
                continue  # a pool announces itself; a log about another address is not a pool's
            if address.lower() not in self._clone_target:
                self._clone_target[address.lower()] = clone_of(self.conn.w3.eth.get_code(address))
            if self._clone_target[address.lower()] in factories:
                found.add(normalize_address(address))
        return sorted(found)

    def plans(self, who: str) -> tuple[list[PoolPlan], list[dict[str, str]]]:
        """What to read for `who` in each pool, and the pools skipped (with the reason)."""
        pools = self.pools()
        plans, skipped = [], []
        started: dict[str, dict[int, str]] = {p: {} for p in pools}
        if pools:
            events = self.conn.pool_contract(ZERO).events
            decoders = {self._created: events.PoolCreated(), self._epoch: events.EpochStarted()}
            for lg in self.conn.w3.eth.get_logs({"fromBlock": self.conn.deploy_block, "toBlock": "latest",
                                                 "address": pools, "topics": [list(decoders)]}):
                address = normalize_address(str(lg["address"]))
                topic = "0x" + bytes(lg["topics"][0]).hex()
                args = decoders[topic].process_log(lg)["args"]
                epoch = 1 if topic == self._created else int(args["epoch"])
                started[address][epoch] = bytes(args["treeCid"]).decode("ascii", "replace")
        for address in pools:
            try:
                contract = self.conn.pool_contract(address)
                trees = tuple((epoch, TreeKey(cid, who.lower(), pool_epoch(contract, epoch).root))
                              for epoch, cid in sorted(started[address].items()))
                plans.append(PoolPlan(address, trees))
            except Exception as exc:  # noqa: BLE001 - one pool that cannot be read is skipped, never the page
                skipped.append({"address": address, "reason": f"the pool could not be read: {_short(exc)}"})
        return plans, skipped

    def rows(self, who: str, plans: list[PoolPlan], trees: dict[TreeKey, TreeRead | None],
             sales_of: Callable[[int], list[dict[str, Any]]], title_of: Callable[[int], str]
             ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """The page's record of each pool `who` is in (chain reads), and the pools skipped."""
        pools, skipped = [], []
        for plan in plans:
            got = [(epoch, trees.get(key)) for epoch, key in plan.trees]
            if any(read is None for _, read in got):
                skipped.append({"address": plan.address,
                                "reason": "its contributor tree is still being read from IPFS: reload in a moment"})
                continue
            failed = next((read.error for _, read in got if read is not None and read.error), "")
            if failed:
                skipped.append({"address": plan.address, "reason": failed})
                continue
            leaves = [(epoch, read.proof) for epoch, read in got if read is not None and read.proof is not None]
            if not leaves:
                continue
            try:
                pools.append(self._pool(plan, who, leaves, sales_of, title_of))
            except Exception as exc:  # noqa: BLE001 - one pool that cannot be read is skipped, never the page
                skipped.append({"address": plan.address, "reason": f"the pool could not be read: {_short(exc)}"})
        return pools, skipped

    def _pool(self, plan: PoolPlan, who: str, leaves: list[tuple[int, Proof]],
              sales_of: Callable[[int], list[dict[str, Any]]], title_of: Callable[[int], str]) -> dict[str, Any]:
        address = plan.address
        contract = self.conn.pool_contract(address)
        f = contract.functions
        asset = str(f.asset().call())
        assets = [asset] if int(asset, 16) == 0 else [asset, ZERO]
        rows = []
        for epoch, proof in leaves:
            for a in assets:
                rec = pool_record(contract, epoch, a, who)
                rows.append({"epoch": epoch, "asset": a, "weight": proof.weight, "totalWeight": proof.total_weight,
                             "claimed": str(rec.claimed),
                             "claimable": str(f.claimable(epoch, a, who, proof.weight).call()),
                             "revoked": rec.revoked, "proof": ["0x" + bytes(x).hex() for x in proof.proof]})
        dataset_id = int(f.datasetId().call())
        sales = sales_of(dataset_id) if dataset_id else []
        settled = {int(lg["args"]["licenceId"]): int(lg["args"]["sellerAmount"])
                   for lg in self.conn.contract.events.LicenceSettled().get_logs(from_block=self.conn.deploy_block)}
        weights = {epoch: (p.weight, p.total_weight) for epoch, p in leaves}
        paid_by = {epoch: pool_epoch_sales(contract, epoch).version for epoch, _ in plan.trees}
        for sale in sales:
            # a sale pays the epoch published with its version (datalicense.protocol.poolshare)
            to_pool = settled.get(sale["licenceId"], 0)
            epoch_sold = epoch_of_version(paid_by, int(sale["version"]))
            w, total = weights.get(epoch_sold, (0, 1)) if epoch_sold is not None else (0, 1)
            sale.update({"toPool": str(to_pool), "epoch": epoch_sold, "yourShare": str(sale_share(to_pool, w, total))})
        return {"address": address, "datasetId": dataset_id, "epoch": int(f.epoch().call()),
                "revocationDigest": "0x" + bytes(f.revocationDigest(who).call()).hex(),
                "title": title_of(dataset_id) if dataset_id else "", "rows": rows, "sales": sales}

    # ------------------------------------------------------------------------------ IPFS (no lock held)

    def _read(self, key: TreeKey) -> TreeRead:
        if self._down.get(key.cid, 0.0) > time.monotonic():
            return TreeRead(error="its contributor tree could not be read from IPFS just now: tried again later",
                            retry=True)
        try:
            return TreeRead(fetch_proof(self.storage, key.cid, key.account, key.root))
        except StorageError as exc:
            if len(self._down) > 4096:
                self._down.clear()
            self._down[key.cid] = time.monotonic() + TREE_DOWN
            return TreeRead(error=f"its contributor tree could not be read from IPFS ({_short(exc)})", retry=True)
        except DataLicenseError as exc:
            return TreeRead(error=f"its contributor tree is not valid: {_short(exc)}")

"""A client for RevenuePool (`Client.pool(address)`): the curator creates the pool from a contributor tree, starts
new epochs (a new dataset version with a new tree); contributors see their standing, claim, and revoke consent.

The tree itself (built from a CSV, on IPFS, a contributor's proof) is datalicense.roles.pooltree; its hashing rules
are datalicense.protocol.sumtree. Their names stay importable from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any

from eth_utils import event_abi_to_log_topic
from web3.logs import DISCARD

from datalicense.errors import ConfigError
from datalicense.infra import deployments
from datalicense.infra.chain import normalize_address
from datalicense.infra.ipfs import cid_to_bytes
from datalicense.protocol.addresses import ZERO
from datalicense.infra.market import pool_epoch, pool_record
from datalicense.protocol.sumtree import (FORMAT, MAX_SHARD_BYTES, MAX_TOTAL_WEIGHT, SHARD_TARGET, ZERO32, Node,
                                          climb, flat_proof, keccak, leaf_hash, node_hash, prefix_length)
from datalicense.roles.upload import publishable_size
from datalicense.roles.pooltree import PoolTree, Proof, TreeInfo, _parse_rows, add_dir, build_dir, fetch_proof

if TYPE_CHECKING:  # annotations only
    from datalicense.infra.connection import Connection
    from datalicense.roles.seller import Seller

__all__ = [
    "FORMAT", "MAX_SHARD_BYTES", "MAX_TOTAL_WEIGHT", "SHARD_TARGET", "ZERO32", "Node", "PoolClient", "PoolStanding",
    "PoolTree", "Proof", "TreeInfo", "_parse_rows", "add_dir", "build_dir", "climb", "fetch_proof", "flat_proof",
    "keccak", "leaf_hash", "node_hash", "prefix_length", "require_pool",
]


@dataclass
class PoolStanding:
    epoch: int
    asset: str
    weight: int
    claimed: int
    claimable: int
    revoked: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_pool(contract: Any, market: str) -> None:
    """Refuse, in one line, an address that is not a RevenuePool of this marketplace (an account, another contract,
    a pool of another marketplace), before anything is read from it or sent to it."""
    address = contract.address
    if not contract.w3.eth.get_code(address):
        raise ConfigError(f"{address} is not a pool: no contract there on this chain (the address `datalicense pool "
                          "build --create` printed?)")
    try:
        its_market = normalize_address(str(contract.functions.market().call()))
        curator = str(contract.functions.curator().call())
        int(contract.functions.epoch().call())
    except Exception as exc:  # noqa: BLE001 - whatever a foreign contract does, it is not a pool
        raise ConfigError(f"{address} is not a pool: the contract there does not answer as a RevenuePool") from exc
    if its_market != normalize_address(market):
        raise ConfigError(f"{address} is a pool of another marketplace ({its_market}), not of {market}")
    if int(curator, 16) == 0:
        raise ConfigError(f"{address} is not a pool: it is the pools' implementation, or a pool never set up")


class PoolClient:
    """A contributor's or curator's view of one RevenuePool over a connection (`Client.pool(address)`); the
    curator's new epochs publish through `seller`."""

    def __init__(self, conn: "Connection", address: str, seller: "Seller | None" = None):
        self.c = conn
        self.seller = seller
        self.address = normalize_address(address)
        self.contract = conn.pool_contract(self.address)
        require_pool(self.contract, conn.address)
        self._proofs: dict[tuple[int, str], Proof | None] = {}

    @staticmethod
    def build_and_store(storage: Any, csv_path: str | Path) -> TreeInfo:
        """Build the tree directory from a CSV (streaming) and add it to IPFS."""
        src = Path(csv_path)
        if not src.is_file():
            raise ConfigError(f"{src} is not a readable file")
        with tempfile.TemporaryDirectory(prefix="pool-tree-") as tmp:
            info = build_dir(src, Path(tmp) / "tree")
            info.cid = add_dir(storage, Path(tmp) / "tree")
        return info

    @staticmethod
    def create(conn: "Connection", info: TreeInfo, asset: str = ZERO) -> str:
        impl = conn.pool_contract(deployments.address_of(conn.chain_id, "RevenuePool"))
        rcpt = conn.tx.send(impl.functions.create(conn.tx.account.address, normalize_address(asset),
                                                  info.top, info.cid.encode()), what="create pool")
        logs = impl.events.PoolCreated().process_receipt(rcpt.raw, errors=DISCARD)
        return str(logs[0]["args"]["pool"])

    @staticmethod
    def created_from(conn: "Connection", info: TreeInfo) -> list[str]:
        """Pools of this marketplace this account already created from the same contributor tree (same root)."""
        impl = conn.pool_contract(deployments.address_of(conn.chain_id, "RevenuePool"))
        event = impl.events.PoolCreated()
        me = conn.tx.account.address
        topics = ["0x" + event_abi_to_log_topic(event.abi).hex(), None, "0x" + "00" * 12 + me[2:].lower()]
        found = []
        for log in conn.w3.eth.get_logs({"fromBlock": conn.deploy_block, "toBlock": "latest", "topics": topics}):
            try:
                args = event.process_log(log)["args"]
                if bytes(args["root"]) == info.root:
                    require_pool(conn.pool_contract(log["address"]), conn.address)
                    found.append(normalize_address(log["address"]))
            except Exception:  # noqa: BLE001 - a look-alike event from another contract is not our pool
                continue
        return found

    def assets(self) -> list[str]:
        asset = str(self.contract.functions.asset().call())
        return [asset] if int(asset, 16) == 0 else [asset, ZERO]

    def tree_cids(self) -> dict[int, str]:
        """The tree CID of every epoch, from the pool's events (nothing is downloaded)."""
        out = {}
        ev = self.contract.events
        for lg in ev.PoolCreated().get_logs(from_block=self.c.deploy_block):
            if lg["address"] == self.address:
                out[1] = lg["args"]["treeCid"].decode()
        for lg in ev.EpochStarted().get_logs(from_block=self.c.deploy_block):
            if lg["address"] == self.address:
                out[int(lg["args"]["epoch"])] = lg["args"]["treeCid"].decode()
        return out

    def proof(self, epoch: int, cid: str, who: str) -> Proof | None:
        key = (epoch, who.lower())
        if key not in self._proofs:
            root = pool_epoch(self.contract, epoch).root
            self._proofs[key] = fetch_proof(self.c.storage, cid, who, root)
        return self._proofs[key]

    def _leaves(self, who: str) -> list[tuple[int, Proof]]:
        out = []
        for epoch, cid in sorted(self.tree_cids().items()):
            p = self.proof(epoch, cid, who)
            if p is not None:
                out.append((epoch, p))
        return out

    def standing(self, account: str | None = None) -> list[PoolStanding]:
        who = normalize_address(account, self.c.chain_id) if account else self.c.tx.account.address
        f = self.contract.functions
        rows = []
        for epoch, p in self._leaves(who):
            for asset in self.assets():
                rec = pool_record(self.contract, epoch, asset, who)
                rows.append(PoolStanding(epoch, asset, p.weight, rec.claimed,
                                         int(f.claimable(epoch, asset, who, p.weight).call()), rec.revoked))
        return rows

    def claim(self) -> list[tuple[int, str, int, str]]:
        """Claim every epoch and asset with something claimable: [(epoch, asset, amount, tx hash)]."""
        who = self.c.tx.account.address
        f = self.contract.functions
        done = []
        for epoch, p in self._leaves(who):
            for asset in self.assets():
                amount = int(f.claimable(epoch, asset, who, p.weight).call())
                if amount:
                    rcpt = self.c.tx.send(f.claim(epoch, asset, p.weight, p.proof), what="claim")
                    done.append((epoch, asset, amount, rcpt.tx_hash))
        if not done:
            raise ConfigError(f"nothing to claim for {who} in pool {self.address}")
        return done

    def revoke(self) -> str:
        who = self.c.tx.account.address
        epoch = int(self.contract.functions.epoch().call())
        cid = self.tree_cids().get(epoch)
        p = self.proof(epoch, cid, who) if cid else None
        if p is None:
            raise ConfigError(f"{who} is not a contributor of pool {self.address} in its current epoch {epoch}")
        # A contributor who claimed in this epoch is known to the pool by its weight: no proof needed (less gas).
        known = int(self.contract.functions.knownWeight(epoch, who).call()) == p.weight
        proof = [] if known else p.proof
        return self.c.tx.send(self.contract.functions.revokeConsent(p.weight, proof), what="revoke consent").tx_hash

    def revoked(self) -> list[str]:
        """Contributors who revoked consent in the current epoch: the next version must drop their records."""
        epoch = int(self.contract.functions.epoch().call())
        logs = self.contract.events.ConsentRevoked().get_logs(from_block=self.c.deploy_block)
        return [lg["args"]["account"] for lg in logs if lg["address"] == self.address and lg["args"]["epoch"] == epoch]

    def new_tree(self, info: TreeInfo) -> tuple[int, str]:
        """Start a new epoch with a new tree (already on IPFS) and no new dataset version: only for a retired dataset
        (or one not published yet; the sales of a version pay the epoch published with it). Returns (epoch, tx
        hash)."""
        rcpt = self.c.tx.send(self.contract.functions.newEpoch(info.top, info.cid.encode()), what="start a new epoch")
        return int(self.contract.functions.epoch().call()), rcpt.tx_hash

    def new_epoch(self, path: str | Path, info: TreeInfo, title: str, description: str = "") -> tuple[int, str]:
        """Publish a new version of the pool's dataset with a new tree (already on IPFS): a new epoch.
        Returns (epoch, tx hash)."""
        src = Path(path)
        size = publishable_size(src)
        dataset_id = int(self.contract.functions.datasetId().call())
        if dataset_id == 0:
            raise ConfigError(f"pool {self.address} has no dataset yet: publish it with --pool first")
        if self.seller is None:
            raise ConfigError("a new epoch publishes a version: open the pool with Client.pool(address)")
        ds = self.seller.reader.dataset(dataset_id, with_manifest=False)
        upload = self.seller.upload(src, size, title, description, None,
                                    bytes.fromhex(ds.terms_ref[2:]), self.c.tx.account.address)
        content_key = upload.content_key
        self.seller.check_fresh_key(dataset_id, content_key)
        rcpt = self.c.tx.send(self.contract.functions.publishVersion(
            cid_to_bytes(upload.manifest_cid), bytes.fromhex(upload.sha256), keccak(content_key), info.top,
            info.cid.encode()), what="publish version")
        self.seller.keys.save_content_key(dataset_id, content_key)
        return int(self.contract.functions.epoch().call()), rcpt.tx_hash

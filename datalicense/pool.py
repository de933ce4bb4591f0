"""Data pools off-chain: the contributors' Merkle tree, and a client for RevenuePool.

The tree is OpenZeppelin's StandardMerkleTree for leaves (address account, uint256 weight): leaf =
keccak256(keccak256(abi.encode(account, weight))), pairs hashed in sorted order, stored on IPFS as JSON in
the same dump format ("standard-v1"), so any StandardMerkleTree implementation can read it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD

from .chain import normalize_address
from .errors import ConfigError

FORMAT = "standard-v1"
ENCODING = ["address", "uint256"]


def leaf_hash(account: str, weight: int) -> bytes:
    return keccak(keccak(encode(ENCODING, [normalize_address(account), weight])))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass
class PoolTree:
    tree: list[bytes]
    values: list[tuple[str, int, int]]  # (account, weight, tree index)

    @classmethod
    def build(cls, contributors: list[tuple[str, int]]) -> "PoolTree":
        if not contributors:
            raise ConfigError("a pool needs at least one contributor")
        seen = set()
        for account, weight in contributors:
            if weight <= 0:
                raise ConfigError(f"contributor {account} has weight {weight}: weights are positive integers")
            key = normalize_address(account)
            if key in seen:
                raise ConfigError(f"contributor {account} appears twice: merge its rows")
            seen.add(key)
        hashed = sorted(((leaf_hash(a, w), i) for i, (a, w) in enumerate(contributors)), key=lambda t: t[0])
        n = len(hashed)
        tree: list[bytes] = [b""] * (2 * n - 1)
        index_of = {}
        for i, (h, original) in enumerate(hashed):
            tree[len(tree) - 1 - i] = h
            index_of[original] = len(tree) - 1 - i
        for i in range(len(tree) - 1 - n, -1, -1):
            tree[i] = _pair(tree[2 * i + 1], tree[2 * i + 2])
        values = [(normalize_address(a), w, index_of[i]) for i, (a, w) in enumerate(contributors)]
        return cls(tree, values)

    @classmethod
    def from_csv(cls, path: str | Path) -> "PoolTree":
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{p} is not a readable file")
        rows = []
        with open(p, newline="") as f:
            for n, row in enumerate(csv.reader(f), start=1):
                if not row or row[0].strip().lower() in ("account", "address", ""):
                    continue
                if len(row) < 2:
                    raise ConfigError(f"{p}:{n}: expected account,weight")
                try:
                    rows.append((row[0].strip(), int(row[1].strip())))
                except ValueError as exc:
                    raise ConfigError(f"{p}:{n}: weight {row[1]!r} is not an integer") from exc
        return cls.build(rows)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    @property
    def total_weight(self) -> int:
        return sum(w for _, w, _ in self.values)

    def proof(self, account: str) -> tuple[int, list[bytes]]:
        """(weight, proof) of an account."""
        a = normalize_address(account)
        for acct, weight, index in self.values:
            if acct == a:
                path = []
                i = index
                while i > 0:
                    sibling = i - 1 if i % 2 == 0 else i + 1
                    path.append(self.tree[sibling])
                    i = (i - 1) // 2
                return weight, path
        raise ConfigError(f"{account} is not a contributor of this pool")

    def dump(self) -> bytes:
        return json.dumps({
            "format": FORMAT,
            "leafEncoding": ENCODING,
            "tree": ["0x" + h.hex() for h in self.tree],
            "values": [{"value": [a, str(w)], "treeIndex": i} for a, w, i in self.values],
        }).encode()

    @classmethod
    def load(cls, raw: bytes) -> "PoolTree":
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT or doc.get("leafEncoding") != ENCODING:
                raise ValueError("not a standard-v1 (address, uint256) tree")
            tree = [bytes.fromhex(h[2:]) for h in doc["tree"]]
            values = [(normalize_address(v["value"][0]), int(v["value"][1]), int(v["treeIndex"])) for v in doc["values"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"the pool tree is malformed: {exc}") from exc
        return cls(tree, values)


@dataclass
class PoolStanding:
    epoch: int
    weight: int
    claimed: int
    claimable: int
    revoked: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PoolClient:
    """A contributor's or curator's view of one RevenuePool, through a datalicense Client."""

    def __init__(self, client: Any, address: str):
        self.c = client
        self.address = normalize_address(address)
        self.contract = client.pool_contract(self.address)

    @staticmethod
    def build_and_store(client: Any, csv_path: str | Path) -> tuple["PoolTree", str]:
        tree = PoolTree.from_csv(csv_path)
        return tree, client.storage.add_bytes(tree.dump())

    @staticmethod
    def create(client: Any, tree: "PoolTree", tree_cid: str) -> str:
        from . import deployments

        impl = client.pool_contract(deployments.address_of(client.chain_id, "RevenuePool"))
        rcpt = client.tx.send(impl.functions.create(client.tx.account.address, tree.root, tree.total_weight,
                                                    tree_cid.encode()), what="create pool")
        logs = impl.events.PoolCreated().process_receipt(rcpt.raw, errors=DISCARD)
        return str(logs[0]["args"]["pool"])

    def trees(self) -> dict[int, "PoolTree"]:
        """The contributor tree of every epoch, from the pool's events and IPFS."""
        out = {}
        ev = self.contract.events
        created = ev.PoolCreated().get_logs(from_block=self.c.deploy_block)
        created = [lg for lg in created if lg["address"] == self.address]
        if created:
            out[1] = PoolTree.load(self.c.storage.cat_bytes(created[0]["args"]["treeCid"].decode(), 1 << 30))
        for lg in ev.EpochStarted().get_logs(from_block=self.c.deploy_block):
            out[int(lg["args"]["epoch"])] = PoolTree.load(
                self.c.storage.cat_bytes(lg["args"]["treeCid"].decode(), 1 << 30))
        return out

    def _leaves(self, who: str) -> list[tuple[int, int, list[bytes]]]:
        """(epoch, weight, proof) for every epoch whose tree holds `who`."""
        out = []
        for epoch, tree in sorted(self.trees().items()):
            try:
                weight, proof = tree.proof(who)
            except ConfigError:
                continue
            out.append((epoch, weight, proof))
        return out

    def standing(self, account: str | None = None) -> list[PoolStanding]:
        who = normalize_address(account or self.c.tx.account.address)
        f = self.contract.functions
        return [
            PoolStanding(
                epoch=epoch, weight=weight, claimed=int(f.claimed(epoch, who).call()),
                claimable=int(f.claimable(epoch, who, weight).call()),
                revoked=int(f.frozenEntitlement(epoch, who).call()) != 0,
            )
            for epoch, weight, _ in self._leaves(who)
        ]

    def claim(self) -> list[tuple[int, int, str]]:
        """Claim every epoch with something claimable: [(epoch, amount, tx hash)]."""
        who = self.c.tx.account.address
        done = []
        for epoch, weight, proof in self._leaves(who):
            amount = int(self.contract.functions.claimable(epoch, who, weight).call())
            if amount:
                rcpt = self.c.tx.send(self.contract.functions.claim(epoch, weight, proof), what="claim")
                done.append((epoch, amount, rcpt.tx_hash))
        if not done:
            raise ConfigError(f"nothing to claim for {who} in pool {self.address}")
        return done

    def revoke(self) -> str:
        who = self.c.tx.account.address
        epoch = int(self.contract.functions.epoch().call())
        weight, proof = self.trees()[epoch].proof(who)
        return self.c.tx.send(self.contract.functions.revokeConsent(weight, proof), what="revoke consent").tx_hash

    def revoked(self) -> list[str]:
        """Contributors who revoked consent in the current epoch: the next version must drop their records."""
        epoch = int(self.contract.functions.epoch().call())
        logs = self.contract.events.ConsentRevoked().get_logs(from_block=self.c.deploy_block)
        return [lg["args"]["account"] for lg in logs if lg["address"] == self.address and lg["args"]["epoch"] == epoch]

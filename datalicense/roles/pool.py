"""Data pools off-chain: the contributors' Merkle sum tree, published as an address-sharded IPFS directory, and a
client for RevenuePool.

The tree (format ``datalicense-sumtree-v1``) is a Merkle *sum* tree: leaf = keccak256(keccak256(abi.encode(account,
weight))) with sum = weight; an inner node = keccak256(abi.encode(a, sumA, b, sumB)) over its two children in sorted
order, with sum = sumA + sumB; a missing sibling is (0x00..00, 0). The contract gets the root's two children
("top") and reads the root and the total weight from them; a claim's proof is the list of (hash, sum) siblings.

The tree is shaped for a million contributors: contributors are sorted by address and grouped into shards by the
first ``prefixLength`` hex digits of their address (about 256 a shard); each shard is a subtree, and a top tree is
built over the shard roots. On IPFS it is a directory::

    meta.json       {"format", "prefixLength", "root", "totalWeight", "contributors", "shards", "top"}
    <prefix>.json   {"format", "prefix", "top": [[hash, sum], ...] (the shard root's proof), "leaves": [[account,
                     weight], ...]}

so a contributor downloads meta.json and its own shard (kilobytes at any size), rebuilds its shard's subtree,
and verifies the root against the one on chain. `build_dir` writes the directory from a CSV in a streaming way
(external bucket sort by address: memory does not grow with the number of contributors).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from web3.logs import DISCARD

from datalicense.infra.chain import normalize_address
from datalicense.protocol.records import pool_epoch, pool_record
from datalicense.errors import ConfigError, IntegrityError

if TYPE_CHECKING:
    from datalicense.infra.connection import Connection
    from datalicense.roles.seller import Seller

try:  # C keccak (safe-pysha3), about 6x faster than the pure-Python fallbacks on a million leaves
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()
except ImportError:  # pragma: no cover
    from eth_utils import keccak as _eth_keccak

    def keccak(data: bytes) -> bytes:
        return bytes(_eth_keccak(data))

FORMAT = "datalicense-sumtree-v1"
ZERO32 = b"\x00" * 32
MAX_TOTAL_WEIGHT = 2**96 - 1
# A shard holds the leaves of one address prefix: about 20 KiB at any pool size (`pool build` picks the prefix
# length); a contributor reads one shard and meta.json, so a claim downloads well under 1 MiB.
MAX_SHARD_BYTES = 1 << 20
SHARD_TARGET = 256  # contributors a shard, about
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

Node = tuple[bytes, int]  # (hash, sum)


# ----------------------------------------------------------------------------------------------- hashing


def leaf_hash(account: str, weight: int) -> bytes:
    """keccak256(keccak256(abi.encode(account, weight))) for a 0x-address."""
    return keccak(keccak(b"\x00" * 12 + bytes.fromhex(account[2:]) + weight.to_bytes(32, "big")))


def node_hash(a: bytes, sa: int, b: bytes, sb: int) -> bytes:
    if a < b:
        return keccak(a + sa.to_bytes(32, "big") + b + sb.to_bytes(32, "big"))
    return keccak(b + sb.to_bytes(32, "big") + a + sa.to_bytes(32, "big"))


def _levels(nodes: list[Node], force_pair: bool = False) -> list[list[Node]]:
    """Levels of a sum tree over `nodes`, bottom first; odd nodes are paired with (0, 0). With `force_pair` a single
    node is still paired once (the root must be an inner node: the contract reads its two children)."""
    levels = [nodes]
    while len(levels[-1]) > 1 or (force_pair and len(levels) == 1):
        cur = levels[-1]
        nxt = []
        for i in range(0, len(cur), 2):
            (a, sa), (b, sb) = cur[i], cur[i + 1] if i + 1 < len(cur) else (ZERO32, 0)
            nxt.append((node_hash(a, sa, b, sb), sa + sb))
        levels.append(nxt)
    return levels


def _path(levels: list[list[Node]], index: int) -> list[Node]:
    """Siblings of node `index` of the bottom level, bottom-up."""
    out = []
    for level in levels[:-1]:
        j = index ^ 1
        out.append(level[j] if j < len(level) else (ZERO32, 0))
        index //= 2
    return out


def climb(h: bytes, s: int, proof: Iterable[Node]) -> Node:
    """Hash up from (h, s) through (hash, sum) siblings, as the contract does."""
    for sh, ss in proof:
        h, s = node_hash(h, s, sh, ss), s + ss
    return h, s


def flat_proof(proof: Iterable[Node]) -> list[bytes]:
    """The proof as the contract takes it: [hash, sum, hash, sum, ...] as bytes32 words."""
    out: list[bytes] = []
    for h, s in proof:
        out += [h, s.to_bytes(32, "big")]
    return out


def prefix_length(n: int) -> int:
    """Hex digits of the address prefix that name a shard: about SHARD_TARGET contributors a shard."""
    length = 1
    while SHARD_TARGET * 16**length < n:
        length += 1
    return length


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


# ------------------------------------------------------------------------------------------ the tree


@dataclass
class TreeInfo:
    """What the chain needs of a tree, and where it is."""

    root: bytes
    total_weight: int
    top: tuple[bytes, int, bytes, int]  # the root's children, as the contract's Top
    contributors: int
    shards: int
    prefix_length: int
    cid: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"root": _hex(self.root), "total_weight": self.total_weight, "contributors": self.contributors,
                "shards": self.shards, "prefix_length": self.prefix_length, "tree_cid": self.cid}


def _parse_rows(path: Path) -> Iterator[tuple[str, int]]:
    """(lower-case address, weight) rows of an account,weight CSV; one-line errors naming the line."""
    if not path.is_file():
        raise ConfigError(f"{path} is not a readable file")
    with open(path, newline="") as f:
        for n, row in enumerate(csv.reader(f), start=1):
            if not row or not row[0].strip() or row[0].strip().lower() in ("account", "address"):
                continue
            if len(row) < 2:
                raise ConfigError(f"{path}:{n}: expected account,weight")
            account = row[0].strip()
            if not _ADDRESS.match(account):
                raise ConfigError(f"{path}:{n}: {account!r} is not an address (0x followed by 40 hex characters)")
            try:
                normalize_address(account)  # mixed case: a checksum (of any network's casing: no chain here)
            except ConfigError as exc:
                raise ConfigError(f"{path}:{n}: {exc}") from exc
            low = account.lower()
            try:
                weight = int(row[1].strip())
            except ValueError as exc:
                raise ConfigError(f"{path}:{n}: weight {row[1]!r} is not an integer") from exc
            if weight <= 0:
                raise ConfigError(f"{path}:{n}: contributor {account} has weight {weight}: weights are positive")
            yield low, weight


def _shards(rows: Iterable[tuple[str, int]], length: int) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Group address-sorted rows by prefix; refuses duplicates."""
    prefix, group, last = None, [], None
    for account, weight in rows:
        if account == last:
            raise ConfigError(f"contributor {account} appears twice: merge its rows")
        last = account
        p = account[2:2 + length]
        if p != prefix:
            if group:
                yield prefix, group
            prefix, group = p, []
        group.append((account, weight))
    if group:
        yield prefix, group


def _shard_levels(leaves: list[tuple[str, int]]) -> list[list[Node]]:
    return _levels([(leaf_hash(a, w), w) for a, w in leaves])


def _check_total(total: int) -> None:
    if total > MAX_TOTAL_WEIGHT:
        raise ConfigError(f"total weight {total} is above the pool's limit 2^96-1: scale the weights down")


def _finish(out: Path, shard_roots: list[tuple[str, bytes, int]], length: int, count: int,
            leaves_json: Any) -> TreeInfo:
    """Top tree over the shard roots; write the shard files and meta.json."""
    top_levels = _levels([(h, s) for _, h, s in shard_roots], force_pair=True)
    (root, total), = top_levels[-1]
    _check_total(total)
    (l_h, l_s), (r_h, r_s) = top_levels[-2][0], (top_levels[-2][1] if len(top_levels[-2]) > 1 else (ZERO32, 0))
    for i, (prefix, _, _) in enumerate(shard_roots):
        top = [[_hex(h), s] for h, s in _path(top_levels, i)]
        head = json.dumps({"format": FORMAT, "prefix": prefix, "top": top}, separators=(",", ":"))[:-1]
        with open(out / f"{prefix}.json", "w") as f:
            f.write(head + ',"leaves":')
            f.write(leaves_json(prefix))
            f.write("}")
    info = TreeInfo(root, total, (l_h, l_s, r_h, r_s), count, len(shard_roots), length)
    (out / "meta.json").write_text(json.dumps({
        "format": FORMAT, "prefixLength": length, "root": _hex(root), "totalWeight": total, "contributors": count,
        "shards": len(shard_roots), "top": [_hex(l_h), l_s, _hex(r_h), r_s]}, separators=(",", ":")))
    return info


def build_dir(csv_path: str | Path, out_dir: str | Path) -> TreeInfo:
    """Write the tree directory for an account,weight CSV, streaming: rows are bucketed on disk by address, then
    each bucket is sorted and hashed on its own, so memory stays flat at any number of contributors."""
    src, out = Path(csv_path), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pool-build-", dir=out.parent) as tmp:
        work = Path(tmp)
        buckets: dict[str, list[str]] = {}
        files: dict[str, Any] = {}
        count = 0
        try:
            for account, weight in _parse_rows(src):
                b = account[2:4]
                buf = buckets.setdefault(b, [])
                buf.append(f"{account},{weight}\n")
                count += 1
                if len(buf) >= 4096:
                    if b not in files:
                        files[b] = open(work / b, "w")
                    files[b].write("".join(buf))
                    buf.clear()
            for b, buf in buckets.items():
                if buf:
                    if b not in files:
                        files[b] = open(work / b, "w")
                    files[b].write("".join(buf))
        finally:
            for f in files.values():
                f.close()
        if count == 0:
            raise ConfigError(f"{src}: a pool needs at least one contributor")
        length = prefix_length(count)

        def sorted_rows() -> Iterator[tuple[str, int]]:
            for b in sorted(files):
                with open(work / b) as f:
                    rows = [line.rstrip("\n").split(",") for line in f]
                rows.sort()
                for account, weight in rows:
                    yield account, int(weight)

        shard_roots = []
        for prefix, leaves in _shards(sorted_rows(), length):
            (h, s), = _shard_levels(leaves)[-1]
            shard_roots.append((prefix, h, s))
            with open(work / f"{prefix}.part", "w") as f:
                json.dump([[a, w] for a, w in leaves], f, separators=(",", ":"))

        def leaves_json(prefix: str) -> str:
            return (work / f"{prefix}.part").read_text()

        return _finish(out, shard_roots, length, count, leaves_json)


@dataclass
class PoolTree:
    """A tree held in memory (small pools, tests, the demo); the same layout as `build_dir`."""

    info: TreeInfo
    weights: dict[str, int]
    shards: dict[str, list[tuple[str, int]]]
    shard_index: dict[str, int]
    top_levels: list[list[Node]] = field(repr=False)

    @classmethod
    def build(cls, contributors: list[tuple[str, int]]) -> "PoolTree":
        if not contributors:
            raise ConfigError("a pool needs at least one contributor")
        rows = []
        for account, weight in contributors:
            if weight <= 0:
                raise ConfigError(f"contributor {account} has weight {weight}: weights are positive integers")
            rows.append((normalize_address(account).lower(), int(weight)))
        rows.sort()
        length = prefix_length(len(rows))
        shards = dict(_shards(rows, length))
        roots = []
        for prefix, leaves in shards.items():
            (h, s), = _shard_levels(leaves)[-1]
            roots.append((prefix, h, s))
        top_levels = _levels([(h, s) for _, h, s in roots], force_pair=True)
        (root, total), = top_levels[-1]
        _check_total(total)
        lvl = top_levels[-2]
        top = (lvl[0][0], lvl[0][1], *(lvl[1] if len(lvl) > 1 else (ZERO32, 0)))
        info = TreeInfo(root, total, top, len(rows), len(roots), length)
        return cls(info, dict(rows), shards, {p: i for i, (p, _, _) in enumerate(roots)}, top_levels)

    @classmethod
    def from_csv(cls, path: str | Path) -> "PoolTree":
        return cls.build(list(_parse_rows(Path(path))))

    @property
    def root(self) -> bytes:
        return self.info.root

    @property
    def total_weight(self) -> int:
        return self.info.total_weight

    @property
    def top(self) -> tuple[bytes, int, bytes, int]:
        return self.info.top

    def proof(self, account: str) -> tuple[int, list[bytes]]:
        """(weight, flat proof) of an account."""
        a = normalize_address(account).lower()
        if a not in self.weights:
            raise ConfigError(f"{account} is not a contributor of this pool")
        prefix = a[2:2 + self.info.prefix_length]
        leaves = self.shards[prefix]
        index = next(i for i, (x, _) in enumerate(leaves) if x == a)
        inner = _path(_shard_levels(leaves), index)
        return self.weights[a], flat_proof(inner + _path(self.top_levels, self.shard_index[prefix]))

    def write_dir(self, out_dir: str | Path) -> TreeInfo:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        roots = []
        for prefix, leaves in self.shards.items():
            (h, s), = _shard_levels(leaves)[-1]
            roots.append((prefix, h, s))
        return _finish(out, roots, self.info.prefix_length, self.info.contributors,
                       lambda p: json.dumps([[a, w] for a, w in self.shards[p]], separators=(",", ":")))

    def store(self, storage: Any) -> str:
        with tempfile.TemporaryDirectory(prefix="pool-tree-") as tmp:
            self.write_dir(Path(tmp) / "tree")
            self.info.cid = add_dir(storage, Path(tmp) / "tree")
        return self.info.cid


# ------------------------------------------------------------------------------------------- IPFS


def add_dir(storage: Any, path: Path) -> str:
    """Add a tree directory to IPFS (CIDv1, raw leaves); Kubo shards a large directory (HAMT) by itself."""
    def add() -> Any:
        return storage.client.add(str(path), recursive=True, cid_version=1, raw_leaves=True, pin=True)

    result = storage._call(f"add the tree directory {path}", add)
    entries = result if isinstance(result, list) else [result]
    name = path.name
    for e in entries:
        if e.get("Name") == name:
            return str(e["Hash"])
    return str(entries[-1]["Hash"])


@dataclass
class Proof:
    """A contributor's leaf and proof, verified against a root."""

    account: str
    weight: int
    proof: list[bytes]
    root: bytes
    total_weight: int
    downloaded: int  # bytes read from IPFS


def fetch_proof(storage: Any, cid: str, account: str, expected_root: bytes | None = None) -> Proof | None:
    """Fetch only `account`'s shard of the tree at `cid` and verify its proof (against `expected_root`, the one on
    chain, when given). None if the account is not in the tree."""
    from datalicense.errors import StorageError

    a = normalize_address(account).lower()
    raw_meta = _cat_path(storage, cid, "meta.json", 1 << 16)
    try:
        meta = json.loads(raw_meta)
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        length = _number(meta["prefixLength"], 0, 40)
        root = _word(meta["root"])
        total = _number(meta["totalWeight"], 1, MAX_TOTAL_WEIGHT)
        t = meta["top"]
        top = (_word(t[0]), _number(t[1]), _word(t[2]), _number(t[3]))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise IntegrityError(f"the pool tree {cid} is malformed: {exc}") from exc
    if node_hash(*top) != root or top[1] + top[3] != total:
        raise IntegrityError(f"the pool tree {cid}: meta.json's root does not follow from its top")
    if expected_root is not None and root != expected_root:
        raise IntegrityError(f"the pool tree {cid} has root {_hex(root)}, the pool on chain {_hex(expected_root)}")
    prefix = a[2:2 + length]
    try:
        raw = _cat_path(storage, cid, f"{prefix}.json", MAX_SHARD_BYTES)
    except StorageError as exc:
        if "no link named" in str(exc) or "not found" in str(exc).lower():
            return None
        raise
    try:
        shard = json.loads(raw)
        leaves = []
        for x, w in shard["leaves"]:
            if not isinstance(x, str) or not _LOWER_ADDRESS.fullmatch(x.lower()):
                raise ValueError(f"{str(x)[:50]!r} is not an address")
            leaves.append((x.lower(), _number(w, 1, MAX_TOTAL_WEIGHT)))
        top_proof = [(_word(h), _number(s)) for h, s in shard["top"]]
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        raise IntegrityError(f"the pool tree {cid}: shard {prefix} is malformed: {exc}") from exc
    index = next((i for i, (x, _) in enumerate(leaves) if x == a), None)
    if index is None:
        return None
    levels = _shard_levels(leaves)
    proof = _path(levels, index) + top_proof
    weight = leaves[index][1]
    h, _ = climb(leaf_hash(a, weight), weight, proof)
    if h != root:
        raise IntegrityError(f"the pool tree {cid}: the proof of {account} does not lead to the root")
    return Proof(normalize_address(a), weight, flat_proof(proof), root, total, len(raw_meta) + len(raw))


def _cat_path(storage: Any, cid: str, name: str, max_size: int) -> bytes:
    """One file of the tree directory: bounded in size and in time (a hostile tree cannot exhaust memory)."""
    return storage.cat_bytes(cid, max_size=max_size, path=name)


_LOWER_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def _number(value: Any, low: int = 0, high: int = MAX_TOTAL_WEIGHT) -> int:
    """A whole number of the tree (a weight or a sum) within [low, high]; JSON floats and huge numbers refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{str(value)[:50]!r} is not a whole number")
    n = int(value)
    if not low <= n <= high:
        raise ValueError(f"{n if abs(n) < 10**30 else 'a number'} is outside {low}..{high}")
    return n


def _word(value: Any) -> bytes:
    """A 32-byte hash written 0x + 64 hex digits."""
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise ValueError(f"{str(value)[:70]!r} is not a 32-byte hash")
    return bytes.fromhex(value[2:])


# ------------------------------------------------------------------------------------------ client


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


ZERO = "0x" + "00" * 20


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
        from datalicense.infra import deployments

        impl = conn.pool_contract(deployments.address_of(conn.chain_id, "RevenuePool"))
        rcpt = conn.tx.send(impl.functions.create(conn.tx.account.address, normalize_address(asset),
                                                  info.top, info.cid.encode()), what="create pool")
        logs = impl.events.PoolCreated().process_receipt(rcpt.raw, errors=DISCARD)
        return str(logs[0]["args"]["pool"])

    @staticmethod
    def created_from(conn: "Connection", info: TreeInfo) -> list[str]:
        """Pools of this marketplace this account already created from the same contributor tree (same root)."""
        from eth_utils import event_abi_to_log_topic

        from datalicense.infra import deployments

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
        from datalicense.infra.ipfs import cid_to_bytes

        src = Path(path)
        if not src.is_file():
            raise ConfigError(f"{src} is not a readable file")
        dataset_id = int(self.contract.functions.datasetId().call())
        if dataset_id == 0:
            raise ConfigError(f"pool {self.address} has no dataset yet: publish it with --pool first")
        if self.seller is None:
            raise ConfigError("a new epoch publishes a version: open the pool with Client.pool(address)")
        ds = self.seller.reader.dataset(dataset_id, with_manifest=False)
        upload = self.seller.upload(src, src.stat().st_size, title, description, None,
                                    bytes.fromhex(ds.terms_ref[2:]), self.c.tx.account.address)
        from datalicense.protocol import age as agecrypt

        content_key = agecrypt.content_key_from_identity(upload["identity"])
        self.seller.check_fresh_key(dataset_id, content_key)
        rcpt = self.c.tx.send(self.contract.functions.publishVersion(
            cid_to_bytes(upload["manifestCid"]), bytes.fromhex(upload["sha256"]), keccak(content_key), info.top,
            info.cid.encode()), what="publish version")
        self.seller.keys.save_content_key(dataset_id, content_key)
        return int(self.contract.functions.epoch().call()), rcpt.tx_hash

"""A pool's contributor tree off chain: built from an account,weight CSV (streaming, at any size), published as an
address-sharded IPFS directory, and one contributor's proof fetched and verified from it (a few kilobytes).

The tree is shaped for a million contributors: contributors are sorted by address and grouped into shards by the
first ``prefixLength`` hex digits of their address (about 256 a shard); each shard is a subtree, and a top tree is
built over the shard roots. On IPFS it is a directory::

    meta.json       {"format", "prefixLength", "root", "totalWeight", "contributors", "shards", "top"}
    <prefix>.json   {"format", "prefix", "top": [[hash, sum], ...] (the shard root's proof), "leaves": [[account,
                     weight], ...]}

so a contributor downloads meta.json and its own shard (kilobytes at any size), rebuilds its shard's subtree,
and verifies the root against the one on chain. `build_dir` writes the directory from a CSV in a streaming way
(external bucket sort by address: memory does not grow with the number of contributors). The hashing rules are
datalicense.protocol.sumtree.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from datalicense.errors import ConfigError, IntegrityError, StorageError
from datalicense.infra.chain import normalize_address
from datalicense.protocol.sumtree import (FORMAT, MAX_SHARD_BYTES, MAX_TOTAL_WEIGHT, ZERO32, Node,
                                          climb, flat_proof, hex_word, leaf_hash, node_hash, prefix_length,
                                          shard_levels, sibling_path, tree_levels, tree_number, tree_word)

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_LOWER_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


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
        return {"root": hex_word(self.root), "total_weight": self.total_weight, "contributors": self.contributors,
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


def _check_total(total: int) -> None:
    if total > MAX_TOTAL_WEIGHT:
        raise ConfigError(f"total weight {total} is above the pool's limit 2^96-1: scale the weights down")


def _finish(out: Path, shard_roots: list[tuple[str, bytes, int]], length: int, count: int,
            leaves_json: Any) -> TreeInfo:
    """Top tree over the shard roots; write the shard files and meta.json."""
    top_levels = tree_levels([(h, s) for _, h, s in shard_roots], force_pair=True)
    (root, total), = top_levels[-1]
    _check_total(total)
    (l_h, l_s), (r_h, r_s) = top_levels[-2][0], (top_levels[-2][1] if len(top_levels[-2]) > 1 else (ZERO32, 0))
    for i, (prefix, _, _) in enumerate(shard_roots):
        top = [[hex_word(h), s] for h, s in sibling_path(top_levels, i)]
        head = json.dumps({"format": FORMAT, "prefix": prefix, "top": top}, separators=(",", ":"))[:-1]
        with open(out / f"{prefix}.json", "w") as f:
            f.write(head + ',"leaves":')
            f.write(leaves_json(prefix))
            f.write("}")
    info = TreeInfo(root, total, (l_h, l_s, r_h, r_s), count, len(shard_roots), length)
    (out / "meta.json").write_text(json.dumps({
        "format": FORMAT, "prefixLength": length, "root": hex_word(root), "totalWeight": total, "contributors": count,
        "shards": len(shard_roots), "top": [hex_word(l_h), l_s, hex_word(r_h), r_s]}, separators=(",", ":")))
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
            (h, s), = shard_levels(leaves)[-1]
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
            (h, s), = shard_levels(leaves)[-1]
            roots.append((prefix, h, s))
        top_levels = tree_levels([(h, s) for _, h, s in roots], force_pair=True)
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
        inner = sibling_path(shard_levels(leaves), index)
        return self.weights[a], flat_proof(inner + sibling_path(self.top_levels, self.shard_index[prefix]))

    def write_dir(self, out_dir: str | Path) -> TreeInfo:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        roots = []
        for prefix, leaves in self.shards.items():
            (h, s), = shard_levels(leaves)[-1]
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
    a = normalize_address(account).lower()
    raw_meta = _cat_path(storage, cid, "meta.json", 1 << 16)
    try:
        meta = json.loads(raw_meta)
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        length = tree_number(meta["prefixLength"], 0, 40)
        root = tree_word(meta["root"])
        total = tree_number(meta["totalWeight"], 1, MAX_TOTAL_WEIGHT)
        t = meta["top"]
        top = (tree_word(t[0]), tree_number(t[1]), tree_word(t[2]), tree_number(t[3]))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise IntegrityError(f"the pool tree {cid} is malformed: {exc}") from exc
    if node_hash(*top) != root or top[1] + top[3] != total:
        raise IntegrityError(f"the pool tree {cid}: meta.json's root does not follow from its top")
    if expected_root is not None and root != expected_root:
        raise IntegrityError(f"the pool tree {cid} has root {hex_word(root)}, the pool on chain {hex_word(expected_root)}")
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
            leaves.append((x.lower(), tree_number(w, 1, MAX_TOTAL_WEIGHT)))
        top_proof = [(tree_word(h), tree_number(s)) for h, s in shard["top"]]
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        raise IntegrityError(f"the pool tree {cid}: shard {prefix} is malformed: {exc}") from exc
    index = next((i for i, (x, _) in enumerate(leaves) if x == a), None)
    if index is None:
        return None
    levels = shard_levels(leaves)
    proof = sibling_path(levels, index) + top_proof
    weight = leaves[index][1]
    h, _ = climb(leaf_hash(a, weight), weight, proof)
    if h != root:
        raise IntegrityError(f"the pool tree {cid}: the proof of {account} does not lead to the root")
    return Proof(normalize_address(a), weight, flat_proof(proof), root, total, len(raw_meta) + len(raw))


def _cat_path(storage: Any, cid: str, name: str, max_size: int) -> bytes:
    """One file of the tree directory: bounded in size and in time (a hostile tree cannot exhaust memory)."""
    return storage.cat_bytes(cid, max_size=max_size, path=name)

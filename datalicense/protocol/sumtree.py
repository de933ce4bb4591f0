"""The contributors' Merkle sum tree of a data pool, as the RevenuePool contract checks it (format
``datalicense-sumtree-v1``): pure hashing and parsing, no I/O. Building a tree from a CSV, its IPFS directory and a
contributor's proof are in datalicense.roles.pooltree; the pool's client in datalicense.roles.pool.

A leaf = keccak256(keccak256(abi.encode(account, weight))) with sum = weight; an inner node =
keccak256(abi.encode(a, sumA, b, sumB)) over its two children in sorted order, with sum = sumA + sumB; a missing
sibling is (0x00..00, 0).
"""

from __future__ import annotations

from typing import Any, Iterable

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
Node = tuple[bytes, int]  # (hash, sum)


# ----------------------------------------------------------------------------------------------- hashing


def leaf_hash(account: str, weight: int) -> bytes:
    """keccak256(keccak256(abi.encode(account, weight))) for a 0x-address."""
    return keccak(keccak(b"\x00" * 12 + bytes.fromhex(account[2:]) + weight.to_bytes(32, "big")))


def node_hash(a: bytes, sa: int, b: bytes, sb: int) -> bytes:
    if a < b:
        return keccak(a + sa.to_bytes(32, "big") + b + sb.to_bytes(32, "big"))
    return keccak(b + sb.to_bytes(32, "big") + a + sa.to_bytes(32, "big"))


def tree_levels(nodes: list[Node], force_pair: bool = False) -> list[list[Node]]:
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


def sibling_path(levels: list[list[Node]], index: int) -> list[Node]:
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


def hex_word(b: bytes) -> str:
    return "0x" + b.hex()


def shard_levels(leaves: list[tuple[str, int]]) -> list[list[Node]]:
    """The levels of one shard's subtree over its (lower-case address, weight) leaves."""
    return tree_levels([(leaf_hash(a, w), w) for a, w in leaves])


def tree_number(value: Any, low: int = 0, high: int = MAX_TOTAL_WEIGHT) -> int:
    """A whole number of the tree (a weight or a sum) within [low, high]; JSON floats and huge numbers refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{str(value)[:50]!r} is not a whole number")
    n = int(value)
    if not low <= n <= high:
        raise ValueError(f"{n if abs(n) < 10**30 else 'a number'} is outside {low}..{high}")
    return n


def tree_word(value: Any) -> bytes:
    """A 32-byte hash written 0x + 64 hex digits."""
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise ValueError(f"{str(value)[:70]!r} is not a 32-byte hash")
    return bytes.fromhex(value[2:])

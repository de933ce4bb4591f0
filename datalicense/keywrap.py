"""Provable key delivery over secp256k1: the wrap the contract can check.

The content key K (32 bytes) of a dataset version is committed on-chain as keccak256(K). To deliver it to a
buyer whose delivery key is the point P, the seller picks a fresh secret scalar r (one per licence), posts

    R = r*G                       (the point, as two 32-byte coordinates)
    W = K xor keccak256(s || id)  (s: the 20-byte Ethereum-style address of the point r*P; id: uint256 licence id)

The buyer, holding p with P = p*G, computes p*R = r*P, hence s, hence K, and checks keccak256(K).
If the check fails the buyer disputes; the seller reveals r and the contract recomputes s with the
`ecrecover` precompile (see contracts/KeyProof.sol). One implementation, used by the seller's agent, the
buyer's client and the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from eth_utils import keccak

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
P_FIELD = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F


class KeyWrapError(ValueError):
    """A key, scalar or wrap is malformed."""


@dataclass(frozen=True)
class Wrap:
    """A delivery (R, W) as posted on-chain."""

    r_x: bytes
    r_y: bytes
    wrapped_key: bytes

    def as_args(self) -> tuple[bytes, bytes, bytes]:
        return (self.r_x, self.r_y, self.wrapped_key)


def _point(x: bytes, y: bytes) -> PublicKey:
    if len(x) != 32 or len(y) != 32:
        raise KeyWrapError("a curve point needs two 32-byte coordinates")
    try:
        return PublicKey(b"\x04" + x + y)
    except ValueError as exc:
        raise KeyWrapError("not a point on secp256k1") from exc


def point_address(x: bytes, y: bytes) -> bytes:
    """The 20-byte Ethereum-style address of a point: last 20 bytes of keccak256(x || y)."""
    return keccak(x + y)[12:]


def is_usable_key(x: bytes, y: bytes) -> bool:
    """What the contract accepts as a delivery key: a curve point with 0 < x < n."""
    xi, yi = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    if not (0 < xi < N and yi < P_FIELD):
        return False
    return (yi * yi - (xi * xi * xi + 7)) % P_FIELD == 0


def public_key(private_key: bytes) -> tuple[bytes, bytes]:
    """Uncompressed public key (x, y) of a 32-byte secp256k1 private key."""
    if len(private_key) != 32:
        raise KeyWrapError("a private key is 32 bytes")
    raw = PrivateKey(private_key).public_key.format(compressed=False)
    return raw[1:33], raw[33:65]


def _scalar_bytes(k: int) -> bytes:
    if not 0 < k < N:
        raise KeyWrapError("scalar must be in 1..n-1")
    return k.to_bytes(32, "big")


def shared_address(scalar: int, x: bytes, y: bytes) -> bytes:
    """Address of scalar*(x, y)."""
    point = _point(x, y).multiply(_scalar_bytes(scalar))
    raw = point.format(compressed=False)
    return point_address(raw[1:33], raw[33:65])


def _mask(s: bytes, licence_id: int) -> bytes:
    return keccak(s + licence_id.to_bytes(32, "big"))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(i ^ j for i, j in zip(a, b, strict=True))


def derive_r(seller_secret: bytes, chain_id: int, contract: str, licence_id: int, key_hash: bytes) -> int:
    """Deterministic per-licence scalar: HMAC-SHA256(seller secret, chain | contract | licence | key hash).

    A restarted agent recomputes the same r, so it can always answer a dispute; distinct licences and
    distinct key versions get independent scalars.
    """
    if len(seller_secret) < 32:
        raise KeyWrapError("the seller secret must be at least 32 bytes")
    msg = b"datalicense/r/v1" + chain_id.to_bytes(32, "big") + bytes.fromhex(contract.removeprefix("0x").lower())
    msg += licence_id.to_bytes(32, "big") + key_hash
    counter = 0
    while True:
        digest = hmac.new(seller_secret, msg + bytes([counter]), hashlib.sha256).digest()
        k = int.from_bytes(digest, "big")
        if 0 < k < N:
            return k
        counter += 1


def wrap_key(content_key: bytes, licence_id: int, key_x: bytes, key_y: bytes, r: int) -> Wrap:
    """Wrap K to the delivery key P with scalar r: returns (R, W)."""
    if len(content_key) != 32:
        raise KeyWrapError("the content key is 32 bytes")
    if not is_usable_key(key_x, key_y):
        raise KeyWrapError("the delivery key is not a usable secp256k1 point")
    r_raw = PrivateKey(_scalar_bytes(r)).public_key.format(compressed=False)
    s = shared_address(r, key_x, key_y)
    return Wrap(r_raw[1:33], r_raw[33:65], _xor(content_key, _mask(s, licence_id)))


def unwrap_key(wrap: Wrap, licence_id: int, private_key: bytes) -> bytes:
    """Recover K from (R, W) with the delivery key's private key."""
    p = int.from_bytes(private_key, "big")
    s = shared_address(p, wrap.r_x, wrap.r_y)
    return _xor(wrap.wrapped_key, _mask(s, licence_id))


def key_commitment(content_key: bytes) -> bytes:
    """keccak256(K), the on-chain commitment to a content key."""
    return keccak(content_key)

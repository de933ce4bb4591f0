"""Provable key delivery over secp256k1: the wrap the contract can check.

The content key K (32 bytes) of a dataset version is committed on-chain as keccak256(K). To deliver it to a
buyer whose delivery key is the point P, the seller picks a fresh secret scalar r (one per licence), posts

    R = r*G                       (the point, as two 32-byte coordinates)
    W = K xor keccak256(s || id)  (s: the 20-byte Ethereum-style address of the point r*P; id: uint256 licence id)

The buyer, holding p with P = p*G, computes p*R = r*P, hence s, hence K, and checks keccak256(K).
If the check fails the buyer proves it alone: it reveals the one-time p, and the contract recomputes p*G (the
delivery key's address), s = address(p*R) and K' with the `ecrecover` precompile (see contracts/KeyProof.sol)
and refunds it when keccak256(K') is not the commitment. P is therefore never an account key: it is derived
per purchase from the wallet (`delivery_seed`, `delivery_key`), the same way in the Python client and in the
browser, and recoverable from the wallet and the chain alone. One implementation, used by the seller's agent,
the buyer's client and the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from eth_utils import keccak

from datalicense.errors import CryptoError

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
P_FIELD = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F


class KeyWrapError(CryptoError):
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
        if 0 < k < N and is_usable_key(*public_key(digest)):
            return k
        counter += 1


def wrap_key(content_key: bytes, licence_id: int, key_x: bytes, key_y: bytes, r: int) -> Wrap:
    """Wrap K to the delivery key P with scalar r: returns (R, W)."""
    if len(content_key) != 32:
        raise KeyWrapError("the content key is 32 bytes")
    if not is_usable_key(key_x, key_y):
        raise KeyWrapError("the delivery key is not a usable secp256k1 point")
    r_raw = PrivateKey(_scalar_bytes(r)).public_key.format(compressed=False)
    if not is_usable_key(r_raw[1:33], r_raw[33:65]):
        raise KeyWrapError("R = r*G has x >= n, which the contract refuses: derive another r")
    s = shared_address(r, key_x, key_y)
    return Wrap(r_raw[1:33], r_raw[33:65], _xor(content_key, _mask(s, licence_id)))


def unwrap_key(wrap: Wrap, licence_id: int, private_key: bytes) -> bytes:
    """Recover K from (R, W) with the delivery key's private key."""
    p = int.from_bytes(private_key, "big")
    s = shared_address(p, wrap.r_x, wrap.r_y)
    return _xor(wrap.wrapped_key, _mask(s, licence_id))


DELIVERY_KEY_MESSAGE = (
    "DataLicense delivery keys\n"
    "chain: {chain_id}\n"
    "contract: {contract}\n"
    "Signing this derives the one-time keys your data licences are delivered to. "
    "Sign it only in DataLicense software you trust."
)
#: Indices at or above this are keys handed to someone else's purchase (`datalicense delivery-key`); below it, the
#: index is the nonce of the buyer's own transaction that named the key (the purchase or a rotation).
GIFT_INDEX_BASE = 1 << 64


def delivery_key_message(chain_id: int, contract: str) -> str:
    """The fixed message a wallet signs (EIP-191 personal_sign) to derive its delivery keys on one marketplace."""
    return DELIVERY_KEY_MESSAGE.format(chain_id=int(chain_id), contract=contract.lower())


def delivery_seed(signature: bytes) -> bytes:
    """The seed of all delivery keys of a wallet on one marketplace: keccak256 of its 65-byte signature of
    `delivery_key_message` (deterministic RFC 6979 signatures make it the same in every wallet)."""
    if len(signature) != 65:
        raise KeyWrapError("a wallet signature is 65 bytes")
    return keccak(b"datalicense/delivery-seed/v1" + signature)


def delivery_key(seed: bytes, index: int) -> tuple[int, bytes, bytes]:
    """The one-time delivery key number `index`: (p, Px, Py). p = keccak256(tag | seed | index | counter) for the
    first counter giving a scalar in 1..n-1 whose point the contract accepts (counter 0 but for odds of 2^-127)."""
    if len(seed) != 32:
        raise KeyWrapError("a delivery seed is 32 bytes")
    if not 0 <= index < 2**256:
        raise KeyWrapError("a delivery key index is a uint256")
    counter = 0
    while True:
        digest = keccak(b"datalicense/delivery-key/v1" + seed + index.to_bytes(32, "big") + bytes([counter]))
        p = int.from_bytes(digest, "big")
        if 0 < p < N:
            x, y = public_key(digest)
            if is_usable_key(x, y):
                return p, x, y
        counter += 1


def key_commitment(content_key: bytes) -> bytes:
    """keccak256(K), the on-chain commitment to a content key."""
    return keccak(content_key)

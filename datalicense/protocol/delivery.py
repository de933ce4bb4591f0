"""Verifying a delivery: which delivery opens which version of which dataset, and the checks a content key, a
manifest and the decrypted data must pass before anything is written or confirmed.

One rule for every surface: `Buyer.fetch`, `get` (the HTTP 402 client), the page's API and, through the shared
vectors in tests/vectors/delivery.json, the page's JavaScript (web/src/fetch.js) decide here. Pure: no I/O; the
callers read the chain and IPFS and hand the records in.

The binding (what the contract guarantees, restated for clients):
- the escrowed delivery (`KeyDelivered`) carries the key of the version the purchase named (`bought`); its
  commitment must be that version's, of the licence's own dataset;
- a redelivery (`KeyRedelivered`, to a settled licence) carries the key of the version current when it was made:
  the newest version of the licence's dataset published at or before its block, and its commitment must be that
  version's. A commitment alone never picks a version: a seller may reuse one (the same content key) for another
  version, and a stranger may copy it into another dataset;
- while the sale is in escrow only the bought version is opened, and only it is confirmed (`may_confirm`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from eth_utils import keccak

from datalicense.errors import DeliveryError

#: States in which newer versions than the one bought may be opened (the sale is settled).
SETTLED = "Settled"
#: The only state in which a verified delivery is confirmed.
DELIVERED = "Delivered"


@dataclass(frozen=True)
class Version:
    """A published version of a dataset, as the chain recorded it (VersionPublished)."""

    dataset_id: int
    number: int
    manifest_cid: str
    plaintext_hash: str  # 0x + 64 hex
    key_hash: str  # 0x + 64 hex
    block: int

    @classmethod
    def from_record(cls, dataset_id: int, number: int | str, rec: Mapping[str, Any]) -> "Version":
        """From the event index's record ({"manifestCid", "plaintextHash", "keyHash", "block"})."""
        return cls(int(dataset_id), int(number), str(rec["manifestCid"]), _hex32(rec["plaintextHash"]),
                   _hex32(rec["keyHash"]), int(rec.get("block", 0)))


@dataclass(frozen=True)
class Delivery:
    """A key delivery of one licence: escrowed (KeyDelivered) or of a newer version (KeyRedelivered)."""

    escrowed: bool
    block: int
    log_index: int
    key_hash: str  # 0x + 64 hex


@dataclass(frozen=True)
class Target:
    """A delivery and the version it opens (`index`: the delivery's position in the list given)."""

    index: int
    delivery: Delivery
    version: Version


def _hex32(value: Any) -> str:
    text = "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value).lower()
    return text if text.startswith("0x") else "0x" + text


def versions_of(dataset_id: int, records: Mapping[str, Mapping[str, Any]]) -> list[Version]:
    """The Versions of one dataset from the index's {"N": record}."""
    return [Version.from_record(dataset_id, n, r) for n, r in records.items()]


def _own(dataset_id: int, versions: Iterable[Version]) -> dict[int, Version]:
    return {v.number: v for v in versions if v.dataset_id == dataset_id}


def bound_version(delivery: Delivery, dataset_id: int, bought: int, versions: Iterable[Version]) -> Version | None:
    """The version of dataset `dataset_id` this delivery opens, or None when its commitment is not that version's
    (a junk delivery). Versions of other datasets are never considered."""
    own = _own(dataset_id, versions)
    if delivery.escrowed:
        v = own.get(bought)
    else:
        at = [n for n, v in own.items() if v.block <= delivery.block]
        v = own.get(max(at)) if at else None
    return v if v is not None and v.key_hash == _hex32(delivery.key_hash) else None


def targets(state: str, dataset_id: int, bought: int, versions: Iterable[Version],
            deliveries: Iterable[Delivery]) -> list[Target]:
    """The deliveries to try, best first, each with the version it opens. In escrow (any state but Settled): the
    escrowed delivery of the version bought, alone. Settled: deliveries of newer versions, newest first, then the
    escrowed one. DeliveryError when there is no escrowed delivery, or it is not for the version bought."""
    listed, own = list(deliveries), list(versions)
    escrowed = [i for i, d in enumerate(listed) if d.escrowed]
    if not escrowed:
        raise DeliveryError("no-delivery", "the licence has no key delivery yet: wait for the seller's agent, or claim "
                                           "a refund after the delivery deadline")
    first = escrowed[0]
    v = bound_version(listed[first], dataset_id, bought, own)
    if v is None:
        raise DeliveryError("escrow-not-bought", f"the escrowed delivery is not for version {bought} of dataset "
                                                 f"{dataset_id}, the version bought: nothing was written or confirmed")
    out = [Target(first, listed[first], v)]
    if state != SETTLED:
        return out
    newer = []
    for i, d in enumerate(listed):
        nv = None if d.escrowed else bound_version(d, dataset_id, bought, own)
        if nv is not None and nv.number > bought:
            newer.append(Target(i, d, nv))
    newer.sort(key=lambda t: (t.version.number, t.delivery.block, t.delivery.log_index), reverse=True)
    return newer + out


def may_confirm(state: str, target: Target, bought: int) -> bool:
    """Confirming pays the seller: only a Delivered licence, after its escrowed delivery of the version bought
    verified."""
    return state == DELIVERED and target.delivery.escrowed and target.version.number == bought


# ------------------------------------------------------------------------------------------------ the checks


def check_key(content_key: bytes, version: Version) -> None:
    """The unwrapped content key opens the version's commitment (keccak256(K) == keyHash)."""
    if "0x" + keccak(content_key).hex() != version.key_hash:
        raise DeliveryError("wrong-key", f"the key delivered for version {version.number} does not open its "
                                         "commitment: prove it with a key dispute (you are refunded at once)")


def check_manifest(version: Version, plaintext_sha256: str, recipient: str, key_recipient: str) -> None:
    """The manifest read for the version commits to the version's plaintext hash and names the recipient the
    content key opens (`key_recipient`: the age recipient of the key)."""
    if "0x" + plaintext_sha256.lower().removeprefix("0x") != version.plaintext_hash:
        raise DeliveryError("manifest-hash", f"the manifest of dataset {version.dataset_id} version {version.number} "
                                             "differs from the on-chain plaintext hash: nothing was written")
    if recipient != key_recipient:
        raise DeliveryError("manifest-recipient", f"the manifest of dataset {version.dataset_id} version "
                                                  f"{version.number} names a recipient the delivered key does not "
                                                  "open: nothing was written")


def check_plaintext(version: Version, sha256_hex: str, size: int, manifest_size: int) -> None:
    """The decrypted data is the version's: its SHA-256 is the on-chain commitment and its size the manifest's."""
    if "0x" + sha256_hex.lower() != version.plaintext_hash or size != manifest_size:
        raise DeliveryError("plaintext", f"the decrypted data does not match the on-chain plaintext hash of version "
                                         f"{version.number} (got {sha256_hex[:16]}…): nothing was written")


def manifest_digest(cid: str) -> bytes | None:
    """The SHA-256 a CIDv1 of raw bytes commits to (how manifests are added: `--cid-version 1 --raw-leaves`), or
    None for another kind of CID (then the manifest can only be checked by reading it from IPFS)."""
    if not cid.startswith("b"):
        return None
    body = cid[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        return None
    return raw[4:] if len(raw) == 36 and raw[:4] == b"\x01\x55\x12\x20" else None


def check_manifest_bytes(version: Version, manifest: bytes) -> None:
    """Manifest bytes handed over by a server (not read from IPFS by CID) are the version's manifest."""
    digest = manifest_digest(version.manifest_cid)
    if digest is not None and hashlib.sha256(manifest).digest() != digest:
        raise DeliveryError("manifest-cid", f"the manifest sent for dataset {version.dataset_id} version "
                                            f"{version.number} is not the one the chain records: nothing was written")


# --------------------------------------------------------------------------------------- reused commitments


def reused_commitments(dataset_id: int, versions: Iterable[Version]) -> dict[int, tuple[int, ...]]:
    """{version: the other versions of the dataset with its key commitment}, for the versions that share one (the
    same content key opens them all: a buyer of one could be shown another). Other datasets' versions never count."""
    by_hash: dict[str, list[int]] = {}
    for n, v in sorted(_own(dataset_id, versions).items()):
        by_hash.setdefault(v.key_hash, []).append(n)
    return {n: tuple(m for m in same if m != n) for same in by_hash.values() if len(same) > 1 for n in same}


def check_fresh_commitment(dataset_id: int, key_hash: str | bytes, versions: Iterable[Version]) -> None:
    """A new version must carry a key commitment no other version of the dataset uses (publishing refuses)."""
    wanted = _hex32(key_hash)
    used = sorted(n for n, v in _own(dataset_id, versions).items() if v.key_hash == wanted)
    if used:
        raise DeliveryError("reused-commitment", f"version {used[0]} of dataset {dataset_id} already uses this key "
                                                 "commitment (the same file and title were published as that "
                                                 "version): publish a changed file, or keep that version")


__all__ = ["Version", "Delivery", "Target", "versions_of", "bound_version", "targets",
           "may_confirm", "check_key", "check_manifest", "check_plaintext", "manifest_digest", "check_manifest_bytes",
           "reused_commitments", "check_fresh_commitment"]

"""What the Python API returns: a publish, a purchase, a fetch, a licence and a dataset as the chain has them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

from datalicense.protocol.addresses import ZERO


class _Record:
    """A result dataclass: `as_dict()` for JSON output."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(cast(Any, self))


@dataclass
class PublishResult(_Record):
    dataset_id: int
    version: int
    manifest_cid: str
    ciphertext_cid: str
    plaintext_sha256: str
    plaintext_size: int
    key_hash: str
    tx_hash: str | None
    gas_used: int | None
    reused: bool = False
    #: per configured replica node: {"endpoint", "status": pinned | fetching | failed, "reason", "cids"}
    replicas: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BuyResult(_Record):
    licence_id: int
    dataset_id: int
    price: int
    price_text: str
    tx_hash: str
    gas_used: int
    terms_id: int = 0
    version: int = 0
    delivery_key: str = ""


@dataclass
class FetchResult(_Record):
    licence_id: int
    path: str
    size: int
    sha256: str
    confirmed_tx: str | None
    #: other versions of the dataset carrying this version's key commitment (the same key opens them)
    shares_commitment_with: list[int] = field(default_factory=list)
    version: int = 0  # the version written


@dataclass
class LicenceInfo(_Record):
    licence_id: int
    dataset_id: int
    holder: str
    state: str
    price: int
    price_text: str
    purchased_block: int
    expires_at: int
    valid: bool
    key_x: str = ""
    key_y: str = ""
    terms_id: int = 0
    version: int = 0


@dataclass
class DatasetInfo(_Record):
    dataset_id: int
    owner: str
    version: int
    manifest_cid: str
    plaintext_sha256: str
    key_hash: str
    terms_id: int
    price: int
    price_text: str
    asset: str
    duration: int
    supply_cap: int
    sold: int
    delivery_window: int
    dispute_window: int
    transferable: bool
    status: str
    terms_ref: str
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_error: str = ""  # why the manifest could not be used (unreachable, too large, not JSON, schema)
    agent: str = ZERO
    title: str = ""
    media_type: str = ""
    size: int | None = None  # plaintext bytes, from the manifest
    owner_is_pool: bool | None = None  # a contract (RevenuePool) owns it (None: not read, in listings)
    fee_bps: int | None = None  # platform fee and data-dispute bond of a purchase now (None: not read)
    dispute_bond: int | None = None


__all__ = ["PublishResult", "BuyResult", "FetchResult", "LicenceInfo", "DatasetInfo"]

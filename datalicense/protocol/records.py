"""The one boundary to the marketplace contract: its enums and its records, pure (the reads are
`datalicense.infra.market`).

The contract keeps its bytes for what moves money and exposes its storage through `extsload` (as Uniswap v4's
PoolManager does); this module decodes the words with the codecs of `datalicense.protocol.slots` (the mirror of
`contracts/types/`, which the lens uses), with the lens's slot numbers (`tests/test_lens.py` checks both against the
compiler's storage layout). Nothing else in the package indexes a contract result by position or compares a state
with a bare number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from datalicense.protocol.addresses import ZERO  # noqa: F401 - re-exported for older imports
from datalicense.protocol.lifecycle import State  # noqa: F401 - re-exported
from datalicense.protocol.slots import DatasetWord, DeliveryRecordWord, LicenceWord, TermsWord


class TermsFlag(IntFlag):
    TRANSFERABLE = 1
    PAUSED = 2
    RETIRED = 4
    BY_VERSION = 8


# DataLicense storage layout (append-only in the contract; checked by tests/test_lens.py).
SLOT_LICENCES = 0
SLOT_OWNER = 4
SLOT_COUNTERS = 7
SLOT_FEE_RECIPIENT = 8
SLOT_ARBITER = 9
SLOT_DATASETS = 11
SLOT_TERMS = 12
SLOT_ROYALTY = 13
SLOT_KEY_HASH = 14
SLOT_AGENTS = 15
SLOT_PENDING_OWNERS = 16
SLOT_SETTINGS = 17
SLOT_DELIVERY = 18
SLOT_DISPUTES = 19
SLOT_ASSET_ADDRESS = 20
SLOT_ASSET_SLOT = 21
SLOT_OWED = 22
SLOT_FEES = 23
SLOT_HELD = 24


def _address(word: int) -> str:
    return to_checksum_address((word & ((1 << 160) - 1)).to_bytes(20, "big"))


@dataclass(frozen=True)
class Licence:
    holder: str
    terms_id: int
    stamp: int
    state: State
    settings_id: int

    @classmethod
    def decode(cls, w: int) -> "Licence":
        x = LicenceWord.decode(w)
        return cls(_address(x.holder), x.terms_id, x.stamp, State(x.state), x.settings_id)


@dataclass(frozen=True)
class Dataset:
    owner: str
    terms_id: int
    sold: int
    version: int

    @classmethod
    def decode(cls, w: int) -> "Dataset":
        x = DatasetWord.decode(w)
        return cls(_address(x.owner), x.terms_id, x.sold, x.version)

    @property
    def exists(self) -> bool:
        return int(self.owner, 16) != 0


@dataclass(frozen=True)
class Terms:
    price: int
    dataset_id: int
    asset_id: int
    duration: int
    delivery_window: int
    dispute_window: int
    flags: TermsFlag
    supply_cap: int

    @classmethod
    def decode(cls, w: int) -> "Terms":
        x = TermsWord.decode(w)
        return cls(x.price, x.dataset_id, x.asset_id, x.duration, x.delivery_window, x.dispute_window,
                   TermsFlag(x.flags), x.supply_cap)

    @property
    def status(self) -> str:
        if self.flags & TermsFlag.RETIRED:
            return "retired"
        return "paused" if self.flags & TermsFlag.PAUSED else "on sale"


@dataclass(frozen=True)
class Settings:
    fee_bps: int
    dispute_bond: int


@dataclass(frozen=True)
class Offer:
    """What a buyer names to buy a dataset now."""

    dataset_id: int
    terms_id: int
    version: int
    price: int
    asset: str
    terms: Terms
    dataset: Dataset
    settings_id: int = 0  # the platform settings (fee, dispute bond) a purchase now is made under


def purchase_args(dataset_id: int, terms_id: int, version: int, settings_id: int, licensee: str, key_x: bytes,
                  key_y: bytes) -> tuple[Any, ...]:
    """The `Purchase` struct in ABI order (for buy, buyWithToken and the ERC-677 data): what the buyer accepts
    (terms, version, platform settings: the purchase reverts if one changed in front of it) and its delivery key."""
    return (dataset_id, terms_id, version, settings_id, licensee, key_x, key_y)


PURCHASE_TYPE = "(uint256,uint256,uint256,uint256,address,bytes32,bytes32)"


def purchase_data(*args: Any) -> bytes:
    """ERC-677 `transferAndCall` data: the ABI encoding of a Purchase (224 bytes)."""
    return encode(["uint256", "uint256", "uint256", "uint256", "address", "bytes32", "bytes32"],
                  list(purchase_args(*args)))


def escrowed_delivery_record(r_x: bytes, r_y: bytes, wrapped_key: bytes, key_hash: bytes, key_address: str,
                             version: int) -> bytes:
    """The word DataLicense keeps for an escrowed delivery (Delivered, DataDisputed): the version bought in the top
    32 bits over the low 224 bits of keccak256(abi.encode(R, W, keyHash, delivery key address))."""
    digest = keccak(encode(["bytes32"] * 4 + ["address"], [r_x, r_y, wrapped_key, key_hash, key_address]))
    return DeliveryRecordWord(body=int.from_bytes(digest, "big") & ((1 << 224) - 1), version=version).to_bytes()


def version_account(owner: str, dataset_id: int, version: int) -> str:
    """The ledger key under which the marketplace owes the owner of a dataset paid by version (a pool) what the
    sales of one version earned: `contracts/VersionAccount.sol`, the last 20 bytes of
    keccak256(abi.encode(owner, datasetId, version))."""
    digest = keccak(encode(["address", "uint256", "uint256"], [owner, dataset_id, version]))
    return to_checksum_address(digest[12:])


# ------------------------------------------------------------------------------------------ pools


@dataclass(frozen=True)
class PoolEpoch:
    """RevenuePool.Epoch: one epoch's tree."""

    root: bytes
    total_weight: int
    active_weight: int


@dataclass(frozen=True)
class PoolRecord:
    """RevenuePool.record: what one account did in one epoch and asset."""

    claimed: int
    frozen: int
    revoked: bool
    settled: bool


@dataclass(frozen=True)
class PoolEpochSales:
    """RevenuePool.epochSales: the dataset version whose sales pay an epoch (0: none) and when the next epoch started
    (0 while current)."""

    version: int
    closed_at: int

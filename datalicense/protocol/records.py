"""The one boundary to the marketplace contract: its enums, its records, and how to read them.

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
from web3 import Web3

from datalicense.protocol.abi import abi
from datalicense.protocol.addresses import ZERO  # noqa: F401 - re-exported for older imports
from datalicense.protocol.lifecycle import LicenceClock, State, Windows  # noqa: F401 - State is re-exported
from datalicense.protocol.slots import (
    CountersWord, DatasetWord, DeliveryRecordWord, DisputeRecordWord, LicenceWord, SettingsWord, TermsWord,
)



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


class Market:
    """Typed reads of one DataLicense deployment (and its contract object for transactions)."""

    def __init__(self, w3: Web3, address: str):
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=abi("DataLicense"))
        self._windows: Windows | None = None

    # raw storage
    def word(self, slot: int) -> int:
        return int.from_bytes(bytes(self.contract.functions.extsload(slot.to_bytes(32, "big")).call()), "big")

    @staticmethod
    def at(base: int, key: int | str) -> int:
        kind = "address" if isinstance(key, str) else "uint256"
        return int.from_bytes(keccak(encode([kind, "uint256"], [key, base])), "big")

    # records
    def licence(self, licence_id: int) -> Licence:
        return Licence.decode(self.word(self.at(SLOT_LICENCES, licence_id)))

    def dataset(self, dataset_id: int) -> Dataset:
        return Dataset.decode(self.word(self.at(SLOT_DATASETS, dataset_id)))

    def terms(self, terms_id: int) -> Terms:
        return Terms.decode(self.word(self.at(SLOT_TERMS, terms_id)))

    def settings(self, settings_id: int) -> Settings:
        x = SettingsWord.decode(self.word(self.at(SLOT_SETTINGS, settings_id)))
        return Settings(x.fee_bps, x.dispute_bond)

    def current_settings_id(self) -> int:
        return CountersWord.decode(self.word(SLOT_COUNTERS)).settings_id

    def current_settings(self) -> Settings:
        return self.settings(self.current_settings_id())

    def asset_address(self, asset_id: int) -> str:
        return ZERO if asset_id == 0 else _address(self.word(self.at(SLOT_ASSET_ADDRESS, asset_id)))

    def key_hash(self, dataset_id: int, version: int | None = None) -> bytes:
        """Key commitment of a version of a dataset (default: its current version)."""
        if version is None:
            version = self.dataset(dataset_id).version
        return self.word(self.at(self.at(SLOT_KEY_HASH, dataset_id), version)).to_bytes(32, "big")

    def agent_of(self, dataset_id: int) -> str:
        return _address(self.word(self.at(SLOT_AGENTS, dataset_id)))

    def delivery_record(self, licence_id: int) -> bytes:
        return self.word(self.at(SLOT_DELIVERY, licence_id)).to_bytes(32, "big")

    def pending_delivery(self, licence_id: int) -> tuple[str, int] | None:
        """(address of the key, version bought) a pending licence's delivery must be made to; None unless Pending."""
        if self.licence(licence_id).state != State.PENDING:
            return None
        x = DeliveryRecordWord.decode(self.word(self.at(SLOT_DELIVERY, licence_id)))
        return _address(x.key), x.version

    def pending_delivery_key(self, licence_id: int) -> str | None:
        """Address of the key a pending licence's delivery must be made to (None unless Pending)."""
        pending = self.pending_delivery(licence_id)
        return None if pending is None else pending[0]

    def dispute(self, licence_id: int) -> tuple[int, int]:
        """(bond, opened at) of an open data dispute; (0, 0) if none."""
        x = DisputeRecordWord.decode(self.word(self.at(SLOT_DISPUTES, licence_id)))
        return x.bond, x.opened_at

    def dataset_of(self, licence_id: int) -> int:
        return self.terms(self.licence(licence_id).terms_id).dataset_id

    def offer(self, dataset_id: int) -> Offer:
        d = self.dataset(dataset_id)
        t = self.terms(d.terms_id)
        return Offer(dataset_id, d.terms_id, d.version, t.price, self.asset_address(t.asset_id), t, d,
                     self.current_settings_id())

    def windows(self) -> Windows:
        """The contract's own windows (constants of the deployed code: read once)."""
        if self._windows is None:
            self._windows = Windows(arbiter_window=int(self.contract.functions.ARBITER_WINDOW().call()))
        return self._windows

    def now(self) -> int:
        """The chain's time: the latest block's timestamp (what the contract's deadlines are compared with)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def clock(self, licence_id: int, lic: Licence | None = None) -> LicenceClock:
        """The licence clock of a licence (datalicense.protocol.lifecycle): its deadlines and allowed actions."""
        lic = lic or self.licence(licence_id)
        t = self.terms(lic.terms_id)
        opened = self.dispute(licence_id)[1] if lic.state == State.DATA_DISPUTED else 0
        return LicenceClock(state=lic.state, stamp=lic.stamp, delivery_window=t.delivery_window,
                            dispute_window=t.dispute_window, duration=t.duration, dispute_opened=opened,
                            windows=self.windows(), transferable=bool(t.flags & TermsFlag.TRANSFERABLE))

    def expires_at(self, licence_id: int) -> int:
        """When a licence stops being valid (0: perpetual, or not valid in its state)."""
        return self.clock(licence_id).expires_at or 0

    def is_valid(self, licence_id: int) -> bool:
        return bool(self.contract.functions.isValid(licence_id).call())

    def balance_owed(self, asset: str, account: str) -> int:
        return int(self.contract.functions.balanceOwed(asset, account).call())

    def fees_accrued(self, asset_id: int) -> int:
        return self.word(self.at(SLOT_FEES, asset_id))


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


def pool_epoch(pool: Any, epoch: int) -> PoolEpoch:
    """The epoch record of the RevenuePool contract object `pool` (web3)."""
    root, total, active = pool.functions.epochInfo(epoch).call()
    return PoolEpoch(bytes(root), int(total), int(active))


@dataclass(frozen=True)
class PoolEpochSales:
    """RevenuePool.epochSales: the dataset version whose sales pay an epoch (0: none) and when the next epoch started
    (0 while current)."""

    version: int
    closed_at: int


def pool_epoch_sales(pool: Any, epoch: int) -> PoolEpochSales:
    """Which version's sales pay `epoch` of the RevenuePool contract object `pool` (web3)."""
    version, closed_at = pool.functions.epochSales(epoch).call()
    return PoolEpochSales(int(version), int(closed_at))


def pool_record(pool: Any, epoch: int, asset: str, account: str) -> PoolRecord:
    """The (epoch, asset) record of `account` in the RevenuePool contract object `pool` (web3)."""
    claimed, frozen, revoked, settled = pool.functions.record(epoch, asset, account).call()
    return PoolRecord(int(claimed), int(frozen), bool(revoked), bool(settled))


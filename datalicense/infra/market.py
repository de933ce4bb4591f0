"""Typed reads of a marketplace deployment and of its pools: the I/O half of `datalicense.protocol.records`.

`Market` reads DataLicense's storage through `extsload` (as Uniswap v4's PoolManager is read) and decodes each word
with the pure records and codecs of `datalicense.protocol` (the lens's slot numbers; `tests/test_lens.py` checks them
against the compiler's storage layout). The pool readers turn RevenuePool's getters into their frozen records.
"""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from datalicense.protocol.abi import abi
from datalicense.protocol.lifecycle import LicenceClock, Windows
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.records import (
    SLOT_AGENTS, SLOT_ASSET_ADDRESS, SLOT_COUNTERS, SLOT_DATASETS, SLOT_DELIVERY, SLOT_DISPUTES, SLOT_FEES,
    SLOT_KEY_HASH, SLOT_LICENCES, SLOT_SETTINGS, SLOT_TERMS, Dataset, Licence, Offer, PoolEpoch, PoolEpochSales,
    PoolRecord, Settings, State, Terms, TermsFlag, _address,
)
from datalicense.protocol.slots import CountersWord, DeliveryRecordWord, DisputeRecordWord, SettingsWord


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


def pool_epoch(pool: Any, epoch: int) -> PoolEpoch:
    """The epoch record of the RevenuePool contract object `pool` (web3)."""
    root, total, active = pool.functions.epochInfo(epoch).call()
    return PoolEpoch(bytes(root), int(total), int(active))


def pool_epoch_sales(pool: Any, epoch: int) -> PoolEpochSales:
    """Which version's sales pay `epoch` of the RevenuePool contract object `pool` (web3)."""
    version, closed_at = pool.functions.epochSales(epoch).call()
    return PoolEpochSales(int(version), int(closed_at))


def pool_record(pool: Any, epoch: int, asset: str, account: str) -> PoolRecord:
    """The (epoch, asset) record of `account` in the RevenuePool contract object `pool` (web3)."""
    claimed, frozen, revoked, settled = pool.functions.record(epoch, asset, account).call()
    return PoolRecord(int(claimed), int(frozen), bool(revoked), bool(settled))

"""Typed codecs of the contracts' packed storage words, mirroring `contracts/types/` one class per word.

Each class is a frozen record of one 256-bit word and names its layout once (`LAYOUT`: field, first bit, width):
`decode` reads a word into the record, `encode` writes the record back. The Solidity codecs beside the contracts
are the other half; `tests/vectors/slots.json` holds words and their fields that both must agree on (checked
against the Python codecs in `tests/test_slots.py`, and against the Solidity codecs and the compiler's own struct
encoding on a real chain in `tests/test_slot_codecs.py`). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

from datalicense.errors import IntegrityError

W = TypeVar("W", bound="PackedWord")

#: (field, first bit, width in bits) of one field of a word.
Field = tuple[str, int, int]


class PackedWord:
    """A record that is one packed storage word. Subclasses are frozen dataclasses of int/bool fields."""

    LAYOUT: ClassVar[tuple[Field, ...]] = ()

    @classmethod
    def decode(cls: type[W], word: int) -> W:
        """The record a word holds (bits outside the layout are ignored, as the contracts ignore them)."""
        if not 0 <= word < 1 << 256:
            raise IntegrityError(f"{cls.__name__}: {word} is not a 256-bit storage word")
        kinds = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
        values: dict[str, int | bool] = {}
        for name, shift, width in cls.LAYOUT:
            raw = (word >> shift) & ((1 << width) - 1)
            values[name] = bool(raw) if kinds[name] in (bool, "bool") else raw
        return cls(**values)

    def encode(self) -> int:
        """The word of this record; a field that does not fit its bits is refused, never truncated."""
        word = 0
        for name, shift, width in self.LAYOUT:
            value = int(getattr(self, name))
            if not 0 <= value < 1 << width:
                raise IntegrityError(f"{type(self).__name__}.{name} = {value} does not fit its {width} bits")
            word |= value << shift
        return word

    def to_bytes(self) -> bytes:
        return self.encode().to_bytes(32, "big")


# ------------------------------------------------------------------------------ DataLicense (compiler-packed)


@dataclass(frozen=True)
class LicenceWord(PackedWord):
    """`_licences[licenceId]` (struct IDataLicense.Licence; contracts/types/LicenceWord.sol)."""

    holder: int
    terms_id: int
    stamp: int
    state: int
    settings_id: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("holder", 0, 160), ("terms_id", 160, 32), ("stamp", 192, 40), ("state", 232, 8), ("settings_id", 240, 16))


@dataclass(frozen=True)
class DatasetWord(PackedWord):
    """`_datasets[datasetId]` (struct IDataLicense.Dataset; contracts/types/DatasetWord.sol)."""

    owner: int
    terms_id: int
    sold: int
    version: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("owner", 0, 160), ("terms_id", 160, 32), ("sold", 192, 32),
                                           ("version", 224, 32))


@dataclass(frozen=True)
class TermsWord(PackedWord):
    """`_terms[termsId]` (struct IDataLicense.Terms; contracts/types/TermsWord.sol)."""

    price: int
    dataset_id: int
    asset_id: int
    duration: int
    delivery_window: int
    dispute_window: int
    flags: int
    supply_cap: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("price", 0, 96), ("dataset_id", 96, 32), ("asset_id", 128, 16), ("duration", 144, 32),
        ("delivery_window", 176, 24), ("dispute_window", 200, 24), ("flags", 224, 8), ("supply_cap", 232, 24))


@dataclass(frozen=True)
class SettingsWord(PackedWord):
    """`_settings[settingsId]` (struct IDataLicense.Settings; contracts/types/SettingsWord.sol)."""

    fee_bps: int
    dispute_bond: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("fee_bps", 0, 16), ("dispute_bond", 16, 96))


@dataclass(frozen=True)
class CountersWord(PackedWord):
    """The slot of `_lastLicenceId` ... `_emergencyPaused` (contracts/types/CountersWord.sol)."""

    last_licence_id: int
    last_dataset_id: int
    last_terms_id: int
    settings_id: int
    emergency_paused: bool
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("last_licence_id", 0, 64), ("last_dataset_id", 64, 32), ("last_terms_id", 96, 32), ("settings_id", 128, 16),
        ("emergency_paused", 144, 8))


@dataclass(frozen=True)
class ArbiterWord(PackedWord):
    """The slot of `_arbiter` and `_assetCount` (contracts/types/ArbiterWord.sol)."""

    arbiter: int
    asset_count: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("arbiter", 0, 160), ("asset_count", 160, 16))


# ---------------------------------------------------------------------------- DataLicense (packed by codecs)


@dataclass(frozen=True)
class DeliveryRecordWord(PackedWord):
    """`_delivery[licenceId]` (contracts/types/DeliveryRecord.sol): the version bought in the top 32 bits over the
    delivery key's address while Pending, over the low 224 bits of the escrowed delivery's commitment while
    Delivered or DataDisputed; zero in every other state."""

    body: int
    version: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("body", 0, 224), ("version", 224, 32))

    @property
    def key(self) -> int:
        """The delivery key's address as a number (meaningful while Pending)."""
        return self.body & ((1 << 160) - 1)


@dataclass(frozen=True)
class DisputeRecordWord(PackedWord):
    """`_disputes[licenceId]` (contracts/types/DisputeRecord.sol): the bond posted and when the dispute opened."""

    bond: int
    opened_at: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("bond", 0, 96), ("opened_at", 96, 160))


@dataclass(frozen=True)
class AssetSlotWord(PackedWord):
    """`_assetSlot[token]` (contracts/types/AssetSlot.sol): the token's asset id and whether new sales may use it."""

    allowed: bool
    asset_id: int
    LAYOUT: ClassVar[tuple[Field, ...]] = (("allowed", 0, 1), ("asset_id", 1, 255))


# ------------------------------------------------------------------------------------------------- RevenuePool


@dataclass(frozen=True)
class ClaimRecordWord(PackedWord):
    """`_records[epoch][asset][account]` of a RevenuePool (contracts/types/ClaimRecord.sol): what was claimed, the
    weight a claim proved (or once revoked the frozen entitlement), revoked, paid in full in a closed epoch."""

    claimed: int
    share: int
    revoked: bool
    settled: bool
    LAYOUT: ClassVar[tuple[Field, ...]] = (("claimed", 0, 128), ("share", 128, 126), ("revoked", 254, 1),
                                           ("settled", 255, 1))


#: Every codec by its Solidity name (the keys of tests/vectors/slots.json).
CODECS: dict[str, type[PackedWord]] = {
    "LicenceWord": LicenceWord,
    "DatasetWord": DatasetWord,
    "TermsWord": TermsWord,
    "SettingsWord": SettingsWord,
    "CountersWord": CountersWord,
    "ArbiterWord": ArbiterWord,
    "DeliveryRecord": DeliveryRecordWord,
    "DisputeRecord": DisputeRecordWord,
    "AssetSlot": AssetSlotWord,
    "ClaimRecord": ClaimRecordWord,
}

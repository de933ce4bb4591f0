"""Revert data made readable: the project's custom errors (DataLicense, RevenuePool, a standard ERC-20's ERC-6093
errors) decoded by their selector, with a hint of what to do for each, and their arguments shown as a reader wants
them (dates in the reader's time zone, windows in hours, basis points as percent, RBTC amounts in RBTC, the zero
asset as RBTC). The one decoding every transaction and every simulated call goes through
(datalicense.infra.chain.Transactor, the page's API). Pure: no I/O.
"""

from __future__ import annotations

import time
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from datalicense.protocol.abi import abi
from datalicense.protocol.amounts import format_amount
from datalicense.protocol.records import State

__all__ = ["HINTS", "decode_error", "decode_revert", "hours_text", "local_time"]

HINTS: dict[str, str] = {
    "UnknownDataset": "dataset {0} does not exist on this network: check the id with `datalicense list`",
    "UnknownLicence": "licence {0} does not exist on this network: check it with `datalicense licences`",
    "NotDatasetOwner": "dataset {0} is not owned by {1}: use the owner's account (--account)",
    "NotDeliverer": "{1} may not deliver keys for dataset {0}: use the owner's or the agent's account",
    "NotLicenceHolder": "licence {0} is not held by {1}: use the account that holds it (--account)",
    "NotArbiter": "{0} is not the arbiter",
    "EmergencyStopped": "the marketplace is paused by its operator: new publishes and purchases are stopped",
    "SalesClosed": "dataset {0} is not for sale now (paused or retired)",
    "DatasetIsRetired": "dataset {0} is retired",
    "SoldOut": "dataset {0} sold all {1} licences it offers",
    "TermsChanged": "the terms of dataset {0} changed (now terms {1}, you accepted {2}): look again with "
                    "`datalicense show {0}` and buy if you agree",
    "VersionChanged": "dataset {0} has a new version {1} (you accepted {2}): look again with `datalicense show {0}`",
    "SettingsChanged": "the platform's fee or dispute bond changed (now settings {0}, you accepted {1}): look again "
                       "with `datalicense show` and buy if you agree",
    "DeliveryKeyIsAccount": "the delivery key {0} is an account key: delivery keys are one-time keys "
                            "(let the client derive one)",
    "InvalidPoint": "the delivered point R is not a usable secp256k1 point",
    "KeyCommitmentChanged": "licence {0}: the dataset's key commitment is now {1}, not {2}: rebuild the delivery",
    "DeliveryKeyChanged": "licence {0}: the holder's delivery key is now {1}, not {2}: rebuild the delivery",
    "InvalidScalar": "the revealed key is not a secp256k1 scalar (1 .. n-1)",
    "WrongPayment": "the price is {0} but {1} was sent",
    "WrongAsset": "the dataset is sold in {0}, not {1}",
    "AssetNotAllowed": "{0} is not an accepted payment token",
    "InvalidDeliveryKey": "the delivery key is not a usable secp256k1 public key",
    "WrongState": "licence {0} is {1}: this needs it {2}",
    "Expired": "licence {0} has expired",
    "TooLate": "too late for licence {0}: the deadline was {1}",
    "TooEarly": "too early for licence {0}: possible from {1}",
    "WrongBond": "the dispute bond is {0}, {1} was sent",
    "ProofMismatch": "licence {0}: the revealed key or delivery is not the one the escrowed delivery was made to",
    "NothingToWithdraw": "nothing to withdraw in {0} for {1}",
    "Soulbound": "licence {0} is soulbound: it cannot be transferred",
    "PriceTooHigh": "price {0} (smallest units) is above the largest allowed, {1}",
    "DeliveryWindowOutOfRange": "delivery window {0} is outside {1} .. {2} (--delivery-hours)",
    "DisputeWindowOutOfRange": "dispute window {0} is outside {1} .. {2} (--dispute-hours)",
    "DurationTooLong": "licence duration {0} is above the longest allowed, {1} (--duration-days)",
    "TokenNotReceived": "token {0} did not transfer the {1} (smallest units) it claimed",
    # DataLicense: terms, settings, ownership and payments
    "BadTokenData": "the token payment carried {0} bytes of purchase data, not a purchase: use `datalicense buy`",
    "BondTooHigh": "dispute bond {0} is above the largest allowed, {1}",
    "CapBelowSold": "a supply cap of {0} is below the {1} licences already sold",
    "EmptyKeyCommitment": "the content-key commitment is empty",
    "EmptyManifest": "the manifest reference is empty",
    "FeeTooHigh": "platform fee {0} is above the largest allowed, {1}",
    "InvalidSplit": "a ruling of {0} is above 100% (--buyer-bps 0 .. 10000)",
    "NotPendingOwner": "dataset {0} was not offered to {1}: the owner offers it with `datalicense transfer`",
    "NotSoldInToken": "dataset {0} is not sold in a token: buy it with RBTC (without --erc677)",
    "NotTransferableNow": "licence {0} is {1}: only a settled, valid licence can be transferred",
    "RegistryFull": "the marketplace's registry is full: no more datasets or terms can be added",
    "RenounceRefused": "the marketplace's admin role cannot be renounced: hand it over with transferOwnership",
    "RoyaltyOnSoulbound": "a royalty needs transferable licences (--transferable): soulbound ones are never resold",
    "RoyaltyTooHigh": "royalty {0} is above the largest allowed, {1} (--royalty-bps)",
    "SupplyCapTooHigh": "supply cap {0} is above the largest allowed, {1}",
    "TransferFailed": "paying {1} to {0} failed: that address does not accept RBTC (withdraw with --to ANOTHER)",
    "ZeroAddress": "an address given is the zero address",
    # RevenuePool
    "AlreadyInitialized": "this pool is already initialised",
    "AlreadyRevoked": "{0} already revoked consent in this pool's current epoch: nothing more to do",
    "AssetChange": "the pool is priced in {0}, not {1}: a pool's asset is fixed when it is created",
    "BadSignature": "the signed revocation is not signed by the contributor it names",
    "BadTotalWeight": "the contributor tree's total weight {0} is zero or too large",
    "BalanceShort": "the pool holds {1} of {0} but accounts for {2}: report this to the curator",
    "DatasetExists": "this pool already has dataset {0}: publish a new version with `datalicense pool version`",
    "EpochOpen": "epoch {0} is still open: its dust can be swept after the next version",
    "DustNotFinal": "sales of epoch {0}'s version may still settle: its dust can be swept from {1}",
    "SalesOpen": "dataset {0} is on sale: a new tree comes with a new version (`datalicense pool version`); "
                 "retire the dataset first to start one without",
    "EpochOverdrawn": "epoch {0} would pay out more {1} than it was credited",
    "NoDataset": "this pool has no dataset yet: its curator publishes one with `datalicense publish FILE --pool ...`",
    "NotCurator": "{0} is not this pool's curator: use the curator's account (--account)",
    "NotInTree": "{0} with weight {1} is not in this epoch's contributor tree",
    "NotPoolAsset": "{0} is not an asset this pool pays out",
    "NothingToClaim": "nothing to claim for {0} in this pool",
    "PaymentFailed": "paying {1} to {0} failed: that address does not accept RBTC",
    "UnknownEpoch": "this pool has no epoch {0}",
    # OpenZeppelin library errors the contracts can raise
    "AddressEmptyCode": "{0} has no contract code",
    "AddressInsufficientBalance": "{0} has too little balance for this call",
    "ECDSAInvalidSignature": "the signature is not valid",
    "ECDSAInvalidSignatureLength": "the signature is {0} bytes, not 65",
    "ECDSAInvalidSignatureS": "the signature's s value {0} is not canonical",
    "ERC1167FailedCreateClone": "creating the pool (a clone) failed",
    "ERC721IncorrectOwner": "{0} is not the holder of licence {1} (held by {2})",
    "ERC721InsufficientApproval": "{0} may not move licence {1}: the holder must approve it",
    "ERC721InvalidApprover": "{0} may not approve transfers of this licence",
    "ERC721InvalidOperator": "{0} cannot be an operator",
    "ERC721InvalidOwner": "{0} cannot own a licence",
    "ERC721InvalidReceiver": "{0} cannot receive a licence (a contract without onERC721Received, or the zero address)",
    "ERC721InvalidSender": "{0} cannot send a licence",
    "ERC721NonexistentToken": "licence {0} does not exist",
    "FailedInnerCall": "a call the contract made failed",
    "MathOverflowedMulDiv": "an amount overflowed",
    "OwnableInvalidOwner": "{0} cannot be the owner",
    "OwnableUnauthorizedAccount": "{0} is not the marketplace's operator",
    "ReentrancyGuardReentrantCall": "re-entrant call refused",
    "SafeCastOverflowedUintDowncast": "{1} does not fit in {0} bits",
    "SafeERC20FailedOperation": "the token {0} refused the transfer (balance or allowance too low?)",
}
STATE_NAMES = [s.label for s in State]
#: How an error argument is shown, by its name in the ABI (per error where a name means different things): dates
#: in the reader's time zone, windows in hours and terms in days (as the options take them), basis points as
#: percent, RBTC amounts in RBTC, addresses checksummed and the zero address of an asset as RBTC.
_TIME_ARGS = {"notBefore", "deadline"}
_HOUR_ARGS = {("DeliveryWindowOutOfRange", n) for n in ("window", "min", "max")} | {
    ("DisputeWindowOutOfRange", n) for n in ("window", "min", "max")}
_DAY_ARGS = {("DurationTooLong", "duration"), ("DurationTooLong", "max")}
_BPS_ARGS = {("RoyaltyTooHigh", "royaltyBps"), ("RoyaltyTooHigh", "max"), ("FeeTooHigh", "feeBps"),
             ("FeeTooHigh", "maxBps"), ("InvalidSplit", "buyerBps")}
_RBTC_ARGS = {("WrongPayment", "expected"), ("WrongPayment", "sent"), ("WrongBond", "expected"), ("WrongBond", "sent"),
              ("BondTooHigh", "bond"), ("BondTooHigh", "max"), ("TransferFailed", "amount"), ("PaymentFailed", "amount")}
_ASSET_ARGS = {"asset", "poolAsset", "termsAsset"} | {("WrongAsset", "expected"), ("WrongAsset", "given")}


def _error_inputs() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in abi("DataLicense") + abi("ERC20") + abi("RevenuePool"):
        if item["type"] == "error":
            out[item["name"]] = [i["name"] for i in item["inputs"]]
    return out


_ERROR_INPUTS = _error_inputs()


def local_time(ts: int) -> str:
    """A unix time as a date and time in the reader's time zone, e.g. 2026-11-29 19:13 CET."""
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(int(ts))).strip()


def hours_text(seconds: int) -> str:
    return f"{seconds / 3600:g} h"


def _shown(error: str, arg: str, value: Any) -> Any:
    """One decoded error argument as a reader wants it (see _TIME_ARGS and the sets beside it)."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        if int(value, 16) == 0 and (arg in _ASSET_ARGS or (error, arg) in _ASSET_ARGS):
            return "RBTC"
        return to_checksum_address(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if error in ("WrongState", "NotTransferableNow") and arg == "state":
        return STATE_NAMES[value] if value < len(STATE_NAMES) else value
    if error == "WrongState" and arg == "allowed":  # a set of states, bit i for State(i)
        return " or ".join(n for i, n in enumerate(STATE_NAMES) if value >> i & 1)
    if arg in _TIME_ARGS:
        return local_time(value)
    if (error, arg) in _HOUR_ARGS:
        return hours_text(value)
    if (error, arg) in _DAY_ARGS:
        return f"{value / 86400:g} days"
    if (error, arg) in _BPS_ARGS:
        return f"{value / 100:g}%"
    if (error, arg) in _RBTC_ARGS:
        return format_amount(value)
    return value


def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    table = {}
    for item in abi("DataLicense") + abi("ERC20") + abi("RevenuePool"):
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            table[keccak(text=f"{item['name']}({','.join(types)})")[:4]] = (item["name"], types)
    return table


def decode_error(data: Any) -> tuple[str | None, tuple[Any, ...], str]:
    """(custom error name, its arguments, readable text) for revert data of the project's contracts."""
    if isinstance(data, dict):  # Ganache puts the revert data under "result" or "data"
        data = data.get("result") or data.get("data") or ""
    if isinstance(data, str):
        try:
            raw = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            return None, (), data
    else:
        raw = bytes(data or b"")
    if len(raw) < 4:
        return None, (), "the transaction reverted without a reason"
    if raw[:4] == bytes.fromhex("08c379a0"):
        return None, (), str(decode(["string"], raw[4:])[0])
    entry = _error_table().get(raw[:4])
    if entry is None:
        return None, (), f"the transaction reverted (error data 0x{raw.hex()})"
    name, types = entry
    try:
        args = list(decode(types, raw[4:])) if types else []
    except Exception:  # noqa: BLE001 - malformed data from a foreign contract
        return name, (), f"{name} (undecodable arguments)"
    names = _ERROR_INPUTS.get(name, [])
    shown = [_shown(name, names[i] if i < len(names) else "", a) for i, a in enumerate(args)]
    hint = HINTS.get(name)
    return name, tuple(args), f"{name}: " + (hint.format(*shown) if hint else ", ".join(str(a) for a in shown))


def decode_revert(data: Any) -> str:
    """Readable text for revert data of the project's custom errors."""
    return decode_error(data)[2]

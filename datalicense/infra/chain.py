"""Chain access: networks, accounts, legacy-priced transactions, readable revert reasons.

Rootstock takes legacy (type-0) transactions only, priced from the block's minimum gas price and never
above its relay cap; addresses may come with EIP-1191 (chain-specific) checksums.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
from eth_abi import decode

from datalicense.protocol.abi import abi
from datalicense.errors import ChainError, ConfigError
from datalicense.protocol.records import State
from datalicense.protocol.addresses import display, parse_address
from datalicense.protocol.amounts import MAX_PRICE_UNITS, format_amount, parse_amount  # noqa: F401 - re-exported
from datalicense.protocol.rehearsal import real_chain_id

# name -> (RPC URL, chain id)
NETWORKS: dict[str, tuple[str, int]] = {
    "local": ("http://127.0.0.1:8560", 33),  # the stack of `datalicense up` (datalicense/services/stack.py)
    "rsk-regtest": ("http://127.0.0.1:4444", 33),
    "rsk-testnet": ("https://public-node.testnet.rsk.co", 31),
    "rsk-mainnet": ("https://public-node.rsk.co", 30),
}
CURRENCY = {30: "RBTC", 31: "tRBTC", 33: "RBTC"}
DEV_MNEMONIC = "test test test test test test test test test test test junk"
RELAY_CAP = 80  # Rootstock does not relay a transaction priced above 80x the block minimum (RSKIP252)


def connect(network: str, timeout: float = 30.0, expected_chain_id: int | None = None) -> Web3:
    """Connect to a named network or an RPC URL; refuse a node whose chain id is not the network's (or, for a
    URL, the one pinned with `expected_chain_id`)."""
    url, expected = NETWORKS.get(network, (network, None))
    if expected_chain_id is not None:
        if expected is not None and expected != expected_chain_id:
            raise ConfigError(f"{network} is chain id {expected}, not {expected_chain_id}: drop --chain-id or fix it")
        expected = expected_chain_id
    if network == "local":  # the local stack's port is set where the stack was started
        url = os.environ.get("DATALICENSE_LOCAL_RPC", url)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"unknown network {network!r}: use one of {', '.join(NETWORKS)} or an http(s):// RPC URL"
        )
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    try:
        chain_id = real_chain_id(int(w3.eth.chain_id))  # a rehearsal fork stands for the chain it rehearses
    except Exception as exc:  # noqa: BLE001 - any transport failure means the same to the user
        raise ConfigError(f"cannot reach the {network} node at {url} ({type(exc).__name__}): is it running?") from exc
    if expected is not None and chain_id != expected:
        raise ConfigError(
            f"the node at {url} is chain id {chain_id}, but {network} is chain id {expected}: wrong node or "
            "wrong --network"
        )
    return w3


def normalize_address(address: str, chain_id: int | None = None) -> str:
    """The address a user or a file gave, in EIP-55 casing for web3: lower or upper case as is, mixed case only
    with a checksum valid on `chain_id` (EIP-55, or EIP-1191 of that chain); AddressError otherwise (one line:
    "checksum does not match: mistyped?"). The rule lives in datalicense.protocol.addresses."""
    return parse_address(address, chain_id)


def display_address(address: str, chain_id: int) -> str:
    """The network's own casing: EIP-1191 on Rootstock mainnet and testnet, EIP-55 elsewhere."""
    return display(address, chain_id)


def gas_price(w3: Web3) -> int:
    """Legacy gas price: the node's price, at least the block's minimum, at most the relay cap."""
    price = int(w3.eth.gas_price)
    minimum = w3.eth.get_block("latest").get("minimumGasPrice")
    if minimum:
        minimum = int(minimum, 16) if isinstance(minimum, str) else int(minimum)
        price = min(max(price, minimum), minimum * RELAY_CAP)
    return price


# ---------------------------------------------------------------------------------------------- accounts


def _password(prompt_for: str) -> str:
    env = os.environ.get("DATALICENSE_PASSWORD")
    if env is not None:
        return env
    if not os.isatty(0):
        raise ConfigError(f"{prompt_for} needs a password: set DATALICENSE_PASSWORD or run in a terminal")
    return getpass.getpass(f"password for {prompt_for}: ")


def load_account(spec: str, w3: Web3 | None = None, password: Callable[[str], str] = _password) -> LocalAccount:
    """An account from `dev:N` (local chain only), a keystore file, or a brownie keystore id."""
    spec = spec.strip()
    if spec.lower().startswith("0x") and len(spec) == 42:
        raise ConfigError(
            f"{spec} is an address, not an account: give dev:N on the local chain, a keystore file, or a brownie "
            "keystore id (`brownie accounts list`)"
        )
    if spec.startswith("dev:"):
        if w3 is not None and "ganache" not in w3.client_version.lower():
            raise ConfigError("dev:N accounts exist only on the local chain or a --fork; use a keystore here")
        try:
            index = int(spec[4:])
        except ValueError as exc:
            raise ConfigError(f"{spec!r}: dev accounts are dev:0 .. dev:9") from exc
        if not 0 <= index <= 9:
            raise ConfigError(f"{spec!r}: the local chain has ten funded accounts, dev:0 .. dev:9")
        Account.enable_unaudited_hdwallet_features()
        return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    path = Path(spec).expanduser()
    if not path.exists():
        brownie_path = Path.home() / ".brownie" / "accounts" / f"{spec}.json"
        if not brownie_path.exists():
            raise ConfigError(
                f"no account {spec!r}: give dev:N (local chain), a keystore file, or a brownie keystore id "
                f"(brownie accounts new {spec})"
            )
        path = brownie_path
    try:
        keystore = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the keystore {path}: {exc}") from exc
    try:
        key = Account.decrypt(keystore, password(str(path)))
    except ValueError as exc:
        raise ConfigError(f"wrong password for {path}") from exc
    return Account.from_key(key)


# ---------------------------------------------------------------------------------------- transactions

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
    for item in abi("DataLicense") + abi("TestToken") + abi("RevenuePool"):
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
    for item in abi("DataLicense") + abi("TestToken") + abi("RevenuePool"):
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


@dataclass
class Receipt:
    """A mined transaction: its hash, gas and block (the logs and the node's raw receipt are kept, not shown)."""

    tx_hash: str
    gas_used: int
    block: int
    logs: list[Any] = field(repr=False)
    raw: Any = field(repr=False)


class Transactor:
    """Signs and sends legacy transactions from a local account."""

    def __init__(self, w3: Web3, account: LocalAccount, timeout: float = 180.0):
        self.w3 = w3
        self.account = account
        self.timeout = timeout
        self._chain_id: int | None = None
        self._price: tuple[float, int] | None = None

    @property
    def chain_id(self) -> int:
        """The node's chain id, which transactions are signed for (a rehearsal fork's own: the real chain refuses
        them, datalicense.protocol.rehearsal)."""
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def gas_price(self) -> int:
        """The node's legacy gas price, re-read at most every 10 seconds."""
        now = time.monotonic()
        if self._price is None or now - self._price[0] > 10:
            self._price = (now, gas_price(self.w3))
        return self._price[1]

    def sign(self, fn: Any, value: int = 0, what: str = "transaction", nonce: int | None = None,
             gas: int | None = None) -> tuple[bytes, str]:
        """Build and sign a transaction without sending it: (raw transaction, transaction hash).

        With `gas` the limit is fixed and the node is not asked to estimate (one round trip less)."""
        signed = self.account.sign_transaction(self._build(fn, value, what, nonce, gas))
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def broadcast(self, raw: bytes) -> str:
        return "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()

    def _build(self, fn: Any, value: int, what: str, nonce: int | None = None, gas: int | None = None) -> dict[str, Any]:
        sender = self.account.address
        fields: dict[str, Any] = {
            "from": sender,
            "value": value,
            "gasPrice": self.gas_price(),
            "nonce": self.w3.eth.get_transaction_count(sender, "pending") if nonce is None else nonce,
            "chainId": self.chain_id,
        }
        if gas is not None:
            fields["gas"] = gas
            return dict(fn.build_transaction(fields))
        try:
            tx = fn.build_transaction(fields)
        except (ContractCustomError, ContractLogicError) as exc:
            if exc.data:
                name, args, text = decode_error(exc.data)
                raise ChainError(f"{what} would fail: {text}", name, args) from exc
            raise ChainError(f"{what} would fail: {exc.message}") from exc
        except Web3RPCError as exc:
            raise ChainError(self._rpc_message(what, exc)) from exc
        tx["gas"] = int(tx["gas"] * 1.2) + 10_000
        return tx

    def send(self, fn: Any, value: int = 0, what: str = "transaction", nonce: int | None = None) -> Receipt:
        sender = self.account.address
        tx = self._build(fn, value, what, nonce)
        balance = self.w3.eth.get_balance(sender)
        cost = tx["gas"] * tx["gasPrice"] + value
        if balance < cost:
            real = real_chain_id(self.chain_id)  # a rehearsal shows the rehearsed chain's casing and currency
            symbol = CURRENCY.get(real, "RBTC")
            raise ChainError(
                f"{what}: account {display_address(sender, real)} has {format_amount(balance, symbol=symbol)}, "
                f"needs up to {format_amount(cost, symbol=symbol)} (value + gas): fund it first"
            )
        signed = self.account.sign_transaction(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            rcpt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout)
        except Web3RPCError as exc:
            raise ChainError(self._rpc_message(what, exc)) from exc
        except TimeExhausted as exc:
            raise ChainError(f"{what} {tx_hash.hex()} not mined within {self.timeout:.0f}s: check it later") from exc
        if rcpt["status"] != 1:
            raise ChainError(f"{what} {tx_hash.to_0x_hex()} reverted on-chain")
        return Receipt(rcpt["transactionHash"].to_0x_hex(), rcpt["gasUsed"], rcpt["blockNumber"], rcpt["logs"], rcpt)

    def _rpc_message(self, what: str, exc: Web3RPCError) -> str:
        text = str(exc)
        if "insufficient funds" in text.lower():
            real = real_chain_id(self.chain_id)
            return (f"{what}: account {display_address(self.account.address, real)} does not have enough "
                    f"{CURRENCY.get(real, 'RBTC')} for value + gas: fund it first")
        return f"{what} was refused by the node: {text}"


# ------------------------------------------------------------------------------------------------ units


# the amounts rule (datalicense/protocol/amounts.py), kept importable from here

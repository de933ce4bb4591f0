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
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError

from datalicense.errors import ChainError, ConfigError
from datalicense.protocol.addresses import display, parse_address
from datalicense.protocol.amounts import MAX_PRICE_UNITS, format_amount, parse_amount  # noqa: F401 - re-exported
from datalicense.protocol.rehearsal import real_chain_id
# the revert decoding and time texts (datalicense/protocol/reverts.py), kept importable from here
from datalicense.protocol.reverts import HINTS, decode_error, decode_revert, hours_text, local_time  # noqa: F401

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


def account_address(spec: str) -> str:
    """The address of the account `spec` names (as load_account), read without its key: a server that holds no key
    (the gateway) learns whose datasets are its operator's."""
    spec = spec.strip()
    if spec.startswith("dev:"):
        return str(load_account(spec).address)
    path = Path(spec).expanduser()
    if not path.exists() and not spec.lower().startswith("0x"):
        path = Path.home() / ".brownie" / "accounts" / f"{spec}.json"
    try:
        address = str(json.loads(path.read_text())["address"])
        return Web3.to_checksum_address(address if address.startswith("0x") else "0x" + address)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the address of the account {spec!r} ({exc}): give dev:N (local chain), a "
                          "keystore file or a brownie keystore id") from exc


# ---------------------------------------------------------------------------------------- transactions


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
            tx = fn.build_transaction(fields)  # the node estimates the gas by running it: a revert shows here
        except (ContractLogicError, Web3RPCError) as exc:
            raise self.refusal(what, exc) from exc
        tx["gas"] = int(tx["gas"] * 1.2) + 10_000
        return tx

    def simulate(self, fn: Any, value: int = 0, what: str = "transaction") -> None:
        """Run `fn` as this account would send it, without sending anything (eth_call): a ChainError naming the
        contract's custom error if it would revert. Every dry run of the package goes through here, and `send`
        through the same decoding (`refusal`)."""
        try:
            fn.call({"from": self.account.address, "value": value})
        except Exception as exc:  # noqa: BLE001 - whatever the node says becomes the project's one-line error
            raise self.refusal(what, exc) from exc

    def refusal(self, what: str, exc: Exception) -> ChainError:
        """The one decoding of a transaction or call the node refused: the custom error with its hint when the
        revert carries data, else the node's reason."""
        data = getattr(exc, "data", None)
        if isinstance(exc, ContractLogicError) or (data and not isinstance(exc, Web3RPCError)):
            if data:
                name, args, text = decode_error(data)
                return ChainError(f"{what} would fail: {text}", name, args)
            return ChainError(f"{what} would fail: {getattr(exc, 'message', None) or exc}")
        if isinstance(exc, Web3RPCError):
            return ChainError(self._rpc_message(what, exc))
        return ChainError(f"{what} would fail: {exc}")

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

"""Click parameter types of the `datalicense` commands: addresses (0x..., or dev:N on the local chain, RBTC for an
asset, none for no agent) and one-time delivery keys. A module of its own so that every command group can use them.
The parsing itself is the package's one parser (datalicense.protocol.addresses, through datalicense.infra.chain)."""

from __future__ import annotations

from typing import Any

import click

from datalicense.errors import ConfigError
from datalicense.protocol.addresses import ZERO  # noqa: F401 - the one ZERO, for the CLI's modules


DEV_ACCOUNTS = 10  # the local chain's funded accounts, dev:0 .. dev:9


def _dev_address(spec: str) -> str:
    """The address of the local chain's account `dev:N` (refused outside dev:0 .. dev:9)."""
    # reason: start-up (eth_account, web3: only a command line that names dev:N needs them)
    from eth_account import Account
    from datalicense.infra.chain import DEV_MNEMONIC

    try:
        index = int(spec.strip()[4:])
    except ValueError as exc:
        raise ConfigError(f"{spec!r}: the local chain's accounts are dev:0 .. dev:{DEV_ACCOUNTS - 1}") from exc
    if not 0 <= index < DEV_ACCOUNTS:
        raise ConfigError(f"{spec!r}: the local chain has ten funded accounts, dev:0 .. dev:{DEV_ACCOUNTS - 1}")
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").address


def _chain_id(ctx: click.Context | None) -> int | None:
    """The chain whose checksum a mixed-case address typed on this command line must carry: --chain-id, else the
    named network's, else the node's (a URL or a --fork). None before the command line's `Ctx` exists, as for the
    global --address, which the connection checks again against the node's chain."""
    from datalicense.infra.chain import NETWORKS  # reason: start-up (web3)

    obj = ctx.find_root().obj if ctx is not None else None
    if obj is None:
        return None
    if obj.chain_id is not None:
        return int(obj.chain_id)
    if obj.network in NETWORKS:
        return NETWORKS[obj.network][1]
    return int(obj.client.conn.chain_id)


class AddressType(click.ParamType):
    """An address: 0x and 40 hex digits, in lower or upper case, or mixed case with a checksum valid on the
    connected chain (EIP-55, or EIP-1191 of that chain: a mistyped character is refused, never lower-cased away);
    or dev:N (the local chain's account N). With `rbtc`, also RBTC (or tRBTC) for the zero address; with `none`,
    also none."""

    name = "address"

    def __init__(self, rbtc: bool = False, none: bool = False):
        self.rbtc = rbtc
        self.none = none

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "ADDRESS|dev:N" + ("|RBTC" if self.rbtc else "") + ("|none" if self.none else "")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from datalicense.infra.chain import normalize_address  # reason: start-up (web3)

        text = str(value).strip()
        if self.rbtc and text.upper() in ("RBTC", "TRBTC"):
            return ZERO
        if self.none and text.lower() in ("none", "0"):
            return ZERO
        try:
            return _dev_address(text) if text.lower().startswith("dev:") else normalize_address(text, _chain_id(ctx))
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


class DeliveryKeyType(click.ParamType):
    """A one-time delivery public key: uncompressed secp256k1, hex, 64 bytes (x, y) or 65 bytes from 04."""

    name = "delivery key"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "HEX"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[bytes, bytes]:
        from datalicense.protocol.keywrap import is_usable_key  # reason: start-up (coincurve)

        if isinstance(value, tuple):
            return value
        try:
            raw = bytes.fromhex(str(value).strip().removeprefix("0x"))
        except ValueError:
            self.fail("not hex (the recipient's `datalicense delivery-key` prints one)", param, ctx)
        if len(raw) == 65 and raw[0] == 4:
            raw = raw[1:]
        if len(raw) != 64 or not is_usable_key(raw[:32], raw[32:]):
            self.fail("not an uncompressed secp256k1 public key (64 bytes, or 65 from 04)", param, ctx)
        return raw[:32], raw[32:]


ADDRESS = AddressType()
ASSET = AddressType(rbtc=True)

"""The account's own commands: `whoami` (address, balance, where delivery keys come from) and `withdraw` (what the
marketplace owes it: revenue, refunds, bonds)."""

from __future__ import annotations

import click

from datalicense.cli.context import ZERO, Ctx, pass_ctx
from datalicense.cli.types import ADDRESS, ASSET


@click.command()
@pass_ctx
def whoami(c: Ctx) -> None:
    """Print this account's address (in the network's casing), its balance and where its delivery keys come from."""
    client = c.client
    me = client.conn.tx.account.address
    balance = client.conn.w3.eth.get_balance(me)
    c.out({"address": c.addr(me), "chain_id": client.conn.chain_id, "balance": balance,
           "balance_text": c.amount(balance, ZERO)},
          f"{c.addr(me)} on chain {client.conn.chain_id}, {c.amount(balance, ZERO)}\n"
          "delivery keys: one per purchase, derived from this wallet (nothing to keep; `delivery-key` makes one "
          "to hand out)")


@click.command()
@click.option("--asset", type=ASSET, default="RBTC", help="Token address, or RBTC.")
@click.option("--to", type=ADDRESS, default=None, help="Pay to another address (default: your account).")
@pass_ctx
def withdraw(c: Ctx, asset: str, to: str | None) -> None:
    """Withdraw everything you are owed in one asset."""
    owed = c.client.reader.owed(asset)
    r = c.client.seller.withdraw(asset, to)
    text = c.amount(owed, asset)
    c.out({"amount": owed, "amount_text": text, "asset": asset, "tx": r.tx_hash}, f"withdrew {text}: tx {r.tx_hash}")


COMMANDS = (whoami, withdraw)

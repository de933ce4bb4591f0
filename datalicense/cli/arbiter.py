"""The end of a data dispute: `rule` (the arbiter's ruling) and `resolve-default` (anyone, after the arbiter's
deadline). Each parses, calls the arbiter role (datalicense.roles.arbiter: it checks the licence's state and clock
before sending), and prints."""

from __future__ import annotations

import click

from datalicense.cli.context import Ctx, pass_ctx, tx_line

BPS = 10_000


@click.command()
@click.argument("licence_id", type=int)
@click.option("--buyer-bps", type=click.IntRange(0, BPS), required=True,
              help="Share of the price refunded to the buyer, in basis points (0: the sale stands; 10000: all).")
@pass_ctx
def rule(c: Ctx, licence_id: int, buyer_bps: int) -> None:
    """The arbiter's ruling on a data dispute. 0 lets the sale stand (the seller gets the bond); anything more
    refunds that share of the price to the buyer, with its bond."""
    ruling = c.client.arbiter.rule(licence_id, buyer_bps)
    outcome = ("the sale stands: the licence is settled and the seller takes the bond" if buyer_bps == 0 else
               f"the buyer gets {c.amount(ruling.buyer_part, ruling.asset)} back and its bond")
    c.out({"licence_id": licence_id, "buyer_bps": buyer_bps, "buyer_part": ruling.buyer_part,
           "tx": ruling.receipt.tx_hash}, f"licence {licence_id}: {outcome}: {tx_line(ruling.receipt)}")


@click.command(name="resolve-default")
@click.argument("licence_id", type=int)
@pass_ctx
def resolve_default(c: Ctx, licence_id: int) -> None:
    """After the arbiter's deadline (14 days from the dispute) without a ruling: the sale stands and the buyer's
    bond is returned. Anyone may send it."""
    r = c.client.arbiter.resolve_default(licence_id)
    c.out({"licence_id": licence_id, "tx": r.tx_hash},
          f"licence {licence_id}: no ruling in time, the sale stands and the buyer's bond is returned "
          f"(`datalicense withdraw`): {tx_line(r)}")


COMMANDS = (rule, resolve_default)

"""A dataset owner's commands after publishing: `set-agent`, `set-terms`, `set-price`, `pause`, `resume`, `transfer`,
`accept`, `sales`. Each parses, calls the owner role (datalicense.roles.owner: it refuses a dataset this account does
not own before sending), and prints the transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from datalicense.cli.context import Ctx, pass_ctx, tx_line
from datalicense.cli.types import ASSET, AddressType

if TYPE_CHECKING:
    from datalicense.infra.chain import Receipt


def _dataset_tx(c: Ctx, dataset_id: int, what: str, r: Receipt, **extra: str) -> None:
    """Print a transaction about a dataset: `dataset N <what>: tx ...`."""
    c.out({"dataset_id": dataset_id, **extra, "tx": r.tx_hash}, f"dataset {dataset_id} {what}: {tx_line(r)}")


@click.command(name="set-agent")
@click.argument("dataset_id", type=int)
@click.argument("agent", type=AddressType(none=True))
@pass_ctx
def set_agent(c: Ctx, dataset_id: int, agent: str) -> None:
    """Appoint AGENT (an address; `none` removes it) to deliver keys of a dataset you own."""
    r = c.client.owner.set_agent(dataset_id, agent)  # AddressType: none is the zero address, dev:N an address
    who = ("no agent: you deliver keys yourself (`datalicense deliver`, or run `agent` with your key)"
           if int(agent, 16) == 0 else f"agent {c.addr(agent)}")
    c.out({"dataset_id": dataset_id, "agent": agent, "tx": r.tx_hash}, f"dataset {dataset_id}: {who}: {tx_line(r)}")


@click.command(name="set-terms")
@click.argument("dataset_id", type=int)
@click.option("--price", default=None, help="New price in human units (default: unchanged).")
@click.option("--asset", type=ASSET, default=None, help="Payment token address, or RBTC (default: unchanged).")
@click.option("--duration-days", type=float, default=None, help="Licence term from key delivery.")
@click.option("--perpetual", is_flag=True, help="Licences never expire.")
@click.option("--cap", type=int, default=None, help="Most licences ever sold (0: unlimited).")
@click.option("--delivery-hours", type=float, default=None)
@click.option("--dispute-hours", type=float, default=None)
@click.option("--transferable/--soulbound", default=None, help="Whether settled licences may be resold.")
@click.option("--royalty-bps", type=int, default=None, help="ERC-2981 royalty on resales.")
@click.option("--terms-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="New licence text; its keccak256 is the on-chain terms reference.")
@pass_ctx
def set_terms(c: Ctx, dataset_id: int, price: str | None, asset: str | None, duration_days: float | None,
              perpetual: bool, cap: int | None, delivery_hours: float | None, dispute_hours: float | None,
              transferable: bool | None, royalty_bps: int | None, terms_file: Path | None) -> None:
    """Change price and terms of a dataset you own, for future sales only (licences sold keep theirs).
    Options not given stay as they are."""
    # reason: start-up (web3 and eth_hash load only when a command runs)
    from eth_utils import keccak
    from datalicense.roles.owner import TermsChange

    change = TermsChange(price=price, asset=asset, duration_days=duration_days, perpetual=perpetual,
                         supply_cap=cap, delivery_window_hours=delivery_hours, dispute_window_hours=dispute_hours,
                         transferable=transferable, royalty_bps=royalty_bps,
                         terms_ref=keccak(terms_file.read_bytes()) if terms_file else None)
    r = c.client.owner.set_terms(dataset_id, change)
    after = c.client.reader.dataset(dataset_id, with_manifest=False)
    c.out({"dataset_id": dataset_id, "terms_id": after.terms_id, "price": after.price, "tx": r.tx_hash},
          f"dataset {dataset_id}: terms {after.terms_id}, {after.price_text} ({after.status}), for future sales: "
          f"{tx_line(r)}\n  to buy: datalicense buy {dataset_id} --terms {after.terms_id} --version {after.version}")


@click.command(name="set-price")
@click.argument("dataset_id", type=int)
@click.argument("price")
@click.pass_context
def set_price(ctx: click.Context, dataset_id: int, price: str) -> None:
    """Change the price of a dataset you own for future sales (the rest of its terms stay): set-terms --price."""
    ctx.invoke(set_terms, dataset_id=dataset_id, price=price, asset=None, duration_days=None, perpetual=False,
               cap=None, delivery_hours=None, dispute_hours=None, transferable=None, royalty_bps=None,
               terms_file=None)


@click.command()
@click.argument("dataset_id", type=int)
@pass_ctx
def pause(c: Ctx, dataset_id: int) -> None:
    """Pause sales of a dataset you own."""
    _dataset_tx(c, dataset_id, "paused (no new sales; licences sold stay valid)", c.client.owner.pause(dataset_id))


@click.command()
@click.argument("dataset_id", type=int)
@pass_ctx
def resume(c: Ctx, dataset_id: int) -> None:
    """Resume sales of a dataset you paused."""
    _dataset_tx(c, dataset_id, "on sale again", c.client.owner.resume(dataset_id))


@click.command()
@click.argument("dataset_id", type=int)
@click.argument("to", type=AddressType())
@pass_ctx
def transfer(c: Ctx, dataset_id: int, to: str) -> None:
    """Offer a dataset you own to TO; it becomes theirs when they run `datalicense accept DATASET_ID`."""
    r = c.client.owner.transfer(dataset_id, to)
    _dataset_tx(c, dataset_id, f"offered to {c.addr(to)} (they run `datalicense accept {dataset_id}`)", r, to=to)


@click.command()
@click.argument("dataset_id", type=int)
@pass_ctx
def accept(c: Ctx, dataset_id: int) -> None:
    """Accept a dataset offered to you; its previous owner's agent is removed (appoint yours with set-agent).
    Deliveries need the content keys: copy them from the previous owner's data folder."""
    r = c.client.owner.accept(dataset_id)
    c.out({"dataset_id": dataset_id, "tx": r.tx_hash},
          f"dataset {dataset_id} is yours: {tx_line(r)}\n  its agent was removed: appoint yours with "
          f"`datalicense set-agent {dataset_id} ADDRESS`")


@click.command()
@click.option("--dataset", "dataset_id", type=int, default=None, help="Only this dataset.")
@pass_ctx
def sales(c: Ctx, dataset_id: int | None) -> None:
    """Licences sold from your datasets: buyer, state, price, fee, and what you are owed."""
    report = c.client.owner.sales(dataset_id)
    rows = [{**s.as_dict(), "price_text": c.amount(s.price, s.asset), "fee_text": c.amount(s.fee, s.asset)}
            for s in report.sales]
    lines = [f"{r['licence_id']:>5}  dataset {r['dataset_id']:<5} {r['state']:<12} buyer {c.addr(r['buyer'])}  "
             f"{r['price_text']} (fee {r['fee_text']})" for r in rows] or ["no sales yet"]
    for a, f in report.flows.items():
        if f.paid:
            amt = lambda v: c.amount(v, a)  # noqa: E731
            lines.append(f"money flow: paid in {amt(f.paid)} = to the owner {amt(f.owner)} + platform fees "
                         f"{amt(f.fee)} + refunded {amt(f.refunded)} + to buyers by ruling {amt(f.to_buyer)} + "
                         f"in escrow {amt(f.escrow)}")
    owed = report.owed
    lines.append("owed to you: " + ", ".join(c.amount(v, a) for a, v in owed.items())
                 + (" (`datalicense withdraw`)" if any(owed.values()) else ""))
    c.out({"sales": rows, "owed": dict(owed), "flow": {a: f.totals() for a, f in report.flows.items()}},
          "\n".join(lines))


COMMANDS = (set_agent, set_terms, set_price, pause, resume, transfer, accept, sales)

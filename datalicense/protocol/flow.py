"""Where the money of a dataset's sales went: the one computation behind the CLI's `sales` and the page's money flow
(through `MarketReader.money_flow`, which reads the contract's events and hands them in). Pure: no I/O.

Per payment asset, for the sales of the datasets asked about:

    paid in = to the owner + platform fees + refunded + to the buyer by ruling + in escrow

- paid in: each purchase's price (`LicencePurchased.price`), into escrow;
- to the owner, fees: each settlement (`LicenceSettled`: a confirmation, a settlement after the dispute window, a key
  dispute that found the key right, a data ruling of 0 or the default after the arbiter's deadline); and the seller's
  part of a split ruling;
- refunded: a missed delivery or a wrong key proved (`LicenceRefunded.amount`, the price; a bond is not sale money);
- to the buyer by ruling: the buyer's part of a split ruling (`DataDisputeResolved` with buyerBps > 0), which the
  contract credits without an amount in the event: `split` restates its arithmetic;
- in escrow: what is left, the price of each sale still Pending, Delivered or DataDisputed.

Withdrawals move money out of the contract, not between these parts: the flow of a sale does not change when anyone
withdraws. Dispute bonds are RBTC kept apart from sale money and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

BPS = 10_000


class Kind(Enum):
    """A part of the flow."""

    PAID = "paid"
    OWNER = "owner"
    FEE = "fee"
    REFUNDED = "refunded"
    TO_BUYER = "to_buyer"


@dataclass(frozen=True)
class FlowEntry:
    """One movement of one sale's money, at a block (for the series over time)."""

    licence_id: int
    asset: str
    kind: Kind
    amount: int
    block: int
    log_index: int


@dataclass(frozen=True)
class Split:
    """The amounts of a split ruling (DataLicense.resolveData with 0 < buyerBps)."""

    to_buyer: int
    to_owner: int
    fee: int


def split(price: int, buyer_bps: int, fee_bps: int) -> Split:
    """DataLicense.resolveData: the buyer's part of the price, then the fee (at the licence's settings) on the rest."""
    to_buyer = price * buyer_bps // BPS
    gross = price - to_buyer
    fee = gross * fee_bps // BPS
    return Split(to_buyer=to_buyer, to_owner=gross - fee, fee=fee)


@dataclass(frozen=True)
class MoneyFlow:
    """The flow of one asset: the totals of each part, and the entries they add up (oldest first)."""

    asset: str
    paid: int = 0
    owner: int = 0
    fee: int = 0
    refunded: int = 0
    to_buyer: int = 0
    entries: tuple[FlowEntry, ...] = field(default=(), repr=False)

    @property
    def escrow(self) -> int:
        """Paid in and not yet settled, refunded or ruled: the sales still in escrow."""
        return self.paid - self.owner - self.fee - self.refunded - self.to_buyer

    def totals(self) -> dict[str, int]:
        return {"paid": self.paid, "owner": self.owner, "fee": self.fee, "refunded": self.refunded,
                "to_buyer": self.to_buyer, "escrow": self.escrow}

    def series(self) -> list[tuple[int, dict[str, int]]]:
        """The running totals after each block that moved money: [(block, totals)]."""
        out: list[tuple[int, dict[str, int]]] = []
        run = {k.value: 0 for k in Kind}
        for e in self.entries:
            run[e.kind.value] += e.amount
            now = {**run, "escrow": run["paid"] - sum(v for k, v in run.items() if k != "paid")}
            if out and out[-1][0] == e.block:
                out[-1] = (e.block, now)
            else:
                out.append((e.block, now))
        return out


def tally(entries: Iterable[FlowEntry], assets: Iterable[str] = ()) -> dict[str, MoneyFlow]:
    """The flow of each asset from its entries (and an empty flow for each of `assets` without any)."""
    by_asset: dict[str, list[FlowEntry]] = {a: [] for a in assets}
    for e in entries:
        by_asset.setdefault(e.asset, []).append(e)
    out = {}
    for asset, items in by_asset.items():
        items.sort(key=lambda e: (e.block, e.log_index, e.kind.value != Kind.PAID.value))
        sums = {k: sum(e.amount for e in items if e.kind == k) for k in Kind}
        out[asset] = MoneyFlow(asset=asset, paid=sums[Kind.PAID], owner=sums[Kind.OWNER], fee=sums[Kind.FEE],
                               refunded=sums[Kind.REFUNDED], to_buyer=sums[Kind.TO_BUYER], entries=tuple(items))
    return out

"""A dataset owner's acts after publishing: appoint an agent, change terms, pause and resume sales, hand the dataset
over (transfer, accept), and see the sales. Each act checks what it can before sending (a dataset this account does
not own is refused in one line, before any transaction); the contract checks again.

Publishing and new versions are the seller's (datalicense.roles.seller); a pool's dataset is its curator's
(datalicense.roles.pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datalicense.errors import ConfigError
from datalicense.infra.chain import Receipt, display_address, normalize_address, parse_amount
from datalicense.roles.role import Role
from datalicense.protocol.flow import MoneyFlow, split
from datalicense.protocol.results import DatasetInfo

DAY = 86400
HOUR = 3600


@dataclass(frozen=True)
class TermsChange:
    """What `set_terms` changes; None (False for `perpetual`) keeps the dataset's current value."""

    price: str | int | None = None
    asset: str | None = None
    duration_days: float | None = None
    perpetual: bool = False
    supply_cap: int | None = None
    delivery_window_hours: float | None = None
    dispute_window_hours: float | None = None
    transferable: bool | None = None
    royalty_bps: int | None = None
    terms_ref: bytes | None = None


@dataclass(frozen=True)
class Sale:
    """One licence sold from the owner's datasets, with the platform fee at the licence's settings."""

    licence_id: int
    dataset_id: int
    buyer: str
    state: str
    price: int
    fee: int
    asset: str

    def as_dict(self) -> dict[str, Any]:
        return {"licence_id": self.licence_id, "dataset_id": self.dataset_id, "buyer": self.buyer,
                "state": self.state, "price": self.price, "fee": self.fee, "asset": self.asset}


@dataclass(frozen=True)
class SalesReport:
    """`sales`: the licences sold, the money flow per asset (datalicense.protocol.flow) and what is owed to the owner."""

    sales: list[Sale]
    flows: dict[str, MoneyFlow]
    owed: dict[str, int]


class DatasetOwner(Role):
    """The owner of datasets over one connection: owned, set_agent, set_terms, pause, resume, transfer, accept,
    sales."""

    def owned(self, dataset_id: int) -> DatasetInfo:
        """The dataset as the chain has it; ConfigError (nothing sent) when this account does not own it; a pool's
        dataset names the pool's own commands."""
        d = self.reader.dataset(dataset_id, with_manifest=False)
        me = self.conn.tx.account.address
        if normalize_address(d.owner) == me:
            return d
        owner = display_address(d.owner, self.conn.chain_id)
        if d.owner_is_pool:
            raise ConfigError(f"dataset {dataset_id} is owned by the pool {owner}: its curator acts through the "
                              f"pool (`datalicense pool version {owner} FILE CONTRIBUTORS.csv --title ...` for a "
                              "new version)")
        raise ConfigError(f"dataset {dataset_id} is owned by {owner}, not by "
                          f"{display_address(me, self.conn.chain_id)}: use the owner's account (--account)")

    def set_agent(self, dataset_id: int, agent: str) -> Receipt:
        """Appoint `agent` to deliver keys of the dataset (the zero address: none, the owner delivers)."""
        self.owned(dataset_id)
        address = normalize_address(agent, self.conn.chain_id)
        return self.conn.tx.send(self.conn.contract.functions.setAgent(dataset_id, address), what="set agent")

    def set_terms(self, dataset_id: int, change: TermsChange) -> Receipt:
        """New terms for future sales (licences sold keep theirs): what `change` leaves None stays as it is."""
        d = self.owned(dataset_id)
        current = self.reader.index.terms.get(str(d.terms_id), {})
        asset = d.asset if change.asset is None else normalize_address(change.asset, self.conn.chain_id)
        decimals, _ = self.reader.asset_info(asset)
        price = d.price if change.price is None else (
            change.price if isinstance(change.price, int) else parse_amount(change.price, decimals))
        duration = 0 if change.perpetual else (
            d.duration if change.duration_days is None else int(change.duration_days * DAY))
        terms = (
            price, asset, duration, d.supply_cap if change.supply_cap is None else change.supply_cap,
            d.delivery_window if change.delivery_window_hours is None else int(change.delivery_window_hours * HOUR),
            d.dispute_window if change.dispute_window_hours is None else int(change.dispute_window_hours * HOUR),
            int(current.get("royaltyBps", 0)) if change.royalty_bps is None else change.royalty_bps,
            d.transferable if change.transferable is None else change.transferable,
        )
        ref = change.terms_ref or bytes.fromhex(d.terms_ref[2:])
        return self.conn.tx.send(self.conn.contract.functions.setTerms(dataset_id, ref, terms), what="set terms")

    def pause(self, dataset_id: int) -> Receipt:
        """No new sales until `resume`; licences sold stay valid."""
        self.owned(dataset_id)
        return self.conn.tx.send(self.conn.contract.functions.pauseSales(dataset_id), what="pause")

    def resume(self, dataset_id: int) -> Receipt:
        self.owned(dataset_id)
        return self.conn.tx.send(self.conn.contract.functions.resumeSales(dataset_id), what="resume")

    def transfer(self, dataset_id: int, to: str) -> Receipt:
        """Offer the dataset to `to`; it is theirs when they `accept`."""
        self.owned(dataset_id)
        new_owner = normalize_address(to, self.conn.chain_id)
        return self.conn.tx.send(self.conn.contract.functions.transferDataset(dataset_id, new_owner),
                                 what="transfer dataset")

    def accept(self, dataset_id: int) -> Receipt:
        """Take a dataset offered to this account (its previous agent is removed)."""
        return self.conn.tx.send(self.conn.contract.functions.acceptDataset(dataset_id), what="accept dataset")

    def sales(self, dataset_id: int | None = None) -> SalesReport:
        """The licences sold from this account's datasets (or one of them), the money flow and what is owed."""
        conn, market, index = self.conn, self.conn.market, self.reader.index
        me = conn.tx.account.address
        index.update()
        mine = [int(i) for i, rec in index.datasets.items() if rec.get("owner")
                and normalize_address(rec["owner"]) == me and (dataset_id is None or int(i) == dataset_id)]
        sold: list[Sale] = []
        if mine:
            logs = conn.contract.events.LicencePurchased().get_logs(from_block=conn.deploy_block,
                                                                   argument_filters={"datasetId": mine})
            for log in logs:
                args = log["args"]
                lic = market.licence(int(args["licenceId"]))
                price = int(args["price"])
                fee = split(price, 0, market.settings(lic.settings_id).fee_bps).fee
                sold.append(Sale(int(args["licenceId"]), int(args["datasetId"]), lic.holder, lic.state.label, price,
                                 fee, market.asset_address(market.terms(lic.terms_id).asset_id)))
        flows = self.reader.money_flow(mine)  # one computation with the page's (datalicense.protocol.flow)
        assets = sorted({s.asset for s in sold} | set(flows))
        return SalesReport(sold, flows, {a: market.balance_owed(a, me) for a in assets})

"""Reading the marketplace: datasets (from the local event index), licences, delivery keys and deliveries, what
an account is owed, and amounts in each asset's own units. Needs no account except for `licences()` and `owed()`
of this account."""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING, Any

from datalicense.protocol import keywrap
from datalicense.infra.chain import format_amount, normalize_address, parse_amount
from datalicense.errors import NotFoundError
from datalicense.infra.index import EventIndex
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.delivery import Version, versions_of
from datalicense.protocol.records import State, TermsFlag
from datalicense.protocol.flow import FlowEntry, Kind, MoneyFlow, split, tally
from datalicense.protocol.results import DatasetInfo, LicenceInfo

if TYPE_CHECKING:
    from datalicense.infra.connection import Connection


@dataclass(frozen=True)
class KeyDelivery:
    """One key delivery of a licence, from its event: where it is in the chain, whether it is the escrowed one
    (KeyDelivered) or of a newer version (KeyRedelivered), the wrapped key and the key commitment it opens."""

    block: int
    log_index: int
    escrowed: bool
    wrap: keywrap.Wrap
    key_hash: bytes


class MarketReader:
    """The market as one connection sees it: datasets, licences, deliveries, amounts."""

    def __init__(self, conn: "Connection"):
        self.conn = conn
        self.index = EventIndex(conn.contract, conn.deploy_block, conn.state_dir / "index.json", conn.storage,
                                self.asset_info)

    def __repr__(self) -> str:
        return f"<MarketReader {self.conn.address} on chain {self.conn.chain_id}>"

    # ------------------------------------------------------------------------------------------ amounts

    def asset_info(self, asset: str) -> tuple[int, str]:
        """(decimals, symbol) of a payment asset."""
        if int(asset, 16) == 0:
            return 18, self.conn.currency
        erc20 = self.conn.token_contract(asset)
        try:
            return int(erc20.functions.decimals().call()), str(erc20.functions.symbol().call())
        except Exception:  # noqa: BLE001 - a token without metadata is shown in raw units
            return 0, asset

    def amount_text(self, units: int, asset: str) -> str:
        decimals, symbol = self.asset_info(asset)
        return format_amount(units, decimals, symbol)

    def owed(self, asset: str = ZERO, account: str | None = None) -> int:
        """What the marketplace owes `account` (default: this account) in `asset`, ready to withdraw."""
        who = normalize_address(account, self.conn.chain_id) if account else self.conn.tx.account.address
        return self.conn.market.balance_owed(normalize_address(asset, self.conn.chain_id), who)

    # ----------------------------------------------------------------------------------------- datasets

    def datasets(
        self,
        with_manifest: bool = True,
        text: str | None = None,
        owner: str | None = None,
        min_price: str | int | None = None,
        max_price: str | int | None = None,
        asset: str | None = None,
    ) -> list[DatasetInfo]:
        """All datasets, from the local index alone (incremental: only new blocks are read; no per-dataset chain
        read), with their manifests (fetched once, bounded in size and time, validated, cached); optionally only
        those whose title, description or media type contains `text`, owned by `owner`, priced in `asset`
        ("RBTC" or a token address) within [min_price, max_price] (human units of each dataset's asset)."""
        self.index.update()
        recs = [(int(i), r) for i, r in self.index.datasets.items() if r.get("version") and r.get("termsId")]
        recs.sort(key=lambda x: x[0])
        want_owner = normalize_address(owner, self.conn.chain_id) if owner else None
        want_asset = None
        if asset:
            want_asset = ZERO if asset.strip().upper() in ("RBTC", "TRBTC") else normalize_address(asset, self.conn.chain_id)
        picked = []
        for ds_id, rec in recs:
            t = self.index.terms.get(str(rec["termsId"]), {})
            if want_owner and normalize_address(rec["owner"]) != want_owner:
                continue
            if want_asset and normalize_address(t.get("asset", ZERO)) != want_asset:
                continue
            if min_price is not None or max_price is not None:
                decimals, _ = self.index.asset_info(t.get("asset", ZERO))
                low = min_price if isinstance(min_price, int) or min_price is None else parse_amount(min_price, decimals)
                high = max_price if isinstance(max_price, int) or max_price is None else parse_amount(max_price, decimals)
                if (low is not None and t.get("price", 0) < low) or (high is not None and t.get("price", 0) > high):
                    continue
            picked.append((ds_id, rec))
        manifests = {}
        if with_manifest or text:
            manifests = self.index.manifests_for([r["versions"][str(r["version"])]["manifestCid"] for _, r in picked])
        out = [self._index_info(ds_id, rec, manifests) for ds_id, rec in picked]
        if text:
            needle = text.casefold()
            out = [d for d in out if needle in " ".join(
                str(d.manifest.get(k, "")) for k in ("title", "description", "media_type")).casefold()]
        return out

    def dataset(self, dataset_id: int, with_manifest: bool = True) -> DatasetInfo:
        self.index.update()
        if str(dataset_id) not in self.index.datasets or not self.index.datasets[str(dataset_id)].get("version"):
            raise NotFoundError(
                f"dataset {dataset_id} does not exist on chain id {self.conn.chain_id}: see `datalicense list`")
        return self.dataset_info(dataset_id, with_manifest)

    def dataset_info(self, dataset_id: int, with_manifest: bool) -> DatasetInfo:
        """One dataset the index knows, as the chain has it now (terms, owner, version and sales read from the
        contract), its versions and manifest from the index (no index update: see `dataset`)."""
        market = self.conn.market
        rec = self.index.datasets[str(dataset_id)]
        offer = market.offer(dataset_id)
        t = offer.terms
        latest = rec["versions"][str(offer.version)]
        terms_rec = self.index.terms.get(str(offer.terms_id), {})
        manifests = self.index.manifests_for([latest["manifestCid"]]) if with_manifest else {}
        info = self._index_info(dataset_id, rec, manifests)
        info.owner, info.version, info.terms_id, info.sold = offer.dataset.owner, offer.version, offer.terms_id, \
            offer.dataset.sold
        info.manifest_cid, info.plaintext_sha256, info.key_hash = (latest["manifestCid"], latest["plaintextHash"],
                                                                   latest["keyHash"])
        info.price, info.asset, info.price_text = t.price, offer.asset, self.amount_text(t.price, offer.asset)
        info.duration, info.supply_cap, info.status = t.duration, t.supply_cap, t.status
        info.delivery_window, info.dispute_window = t.delivery_window, t.dispute_window
        info.transferable, info.terms_ref = bool(t.flags & TermsFlag.TRANSFERABLE), terms_rec.get("termsRef", "")
        info.agent = market.agent_of(dataset_id)
        settings = market.current_settings()
        info.fee_bps, info.dispute_bond = settings.fee_bps, settings.dispute_bond
        info.owner_is_pool = bool(self.conn.w3.eth.get_code(info.owner))
        return info

    def _index_info(self, dataset_id: int, rec: dict[str, Any], manifests: dict[str, dict[str, Any]]) -> DatasetInfo:
        """A dataset from the index alone (no chain read)."""
        version = int(rec["version"])
        latest = rec["versions"][str(version)]
        t = self.index.terms.get(str(rec["termsId"]), {})
        asset = t.get("asset", ZERO)
        decimals, symbol = self.index.asset_info(asset)
        m = manifests.get(latest["manifestCid"], {})
        manifest = m.get("manifest", {})
        status = "retired" if rec.get("retired") else ("paused" if rec.get("paused") else "on sale")
        return DatasetInfo(
            dataset_id=dataset_id, owner=rec["owner"], version=version, manifest_cid=latest["manifestCid"],
            plaintext_sha256=latest["plaintextHash"], key_hash=latest["keyHash"], terms_id=int(rec["termsId"]),
            price=int(t.get("price", 0)), price_text=format_amount(int(t.get("price", 0)), decimals, symbol),
            asset=asset, duration=int(t.get("duration", 0)), supply_cap=int(t.get("supplyCap", 0)),
            sold=int(rec.get("sold", 0)), delivery_window=int(t.get("deliveryWindow", 0)),
            dispute_window=int(t.get("disputeWindow", 0)), transferable=bool(t.get("transferable", False)),
            status=status, terms_ref=t.get("termsRef", ""), manifest=manifest, manifest_error=m.get("error", ""),
            agent=rec.get("agent", ZERO), title=str(manifest.get("title", "")),
            media_type=str(manifest.get("media_type", "")), size=manifest.get("plaintext_size"),
        )

    def versions(self, dataset_id: int) -> dict[str, dict[str, Any]]:
        """{version number: {"manifestCid", "plaintextHash", "keyHash", "block"}} of a dataset, from the index."""
        self.index.update()
        rec = self.index.datasets.get(str(dataset_id))
        if rec is None:
            raise NotFoundError(f"dataset {dataset_id} does not exist on chain id {self.conn.chain_id}")
        return rec["versions"]

    def dataset_versions(self, dataset_id: int) -> list[Version]:
        """Every version of a dataset as typed records (datalicense.protocol.delivery.Version), oldest first."""
        versions = versions_of(dataset_id, self.versions(dataset_id))
        return sorted(versions, key=lambda v: v.number)

    # ----------------------------------------------------------------------------------------- licences

    def licence(self, licence_id: int) -> LicenceInfo:
        market = self.conn.market
        lic = market.licence(licence_id)
        if lic.state == State.NONE:
            raise NotFoundError(
                f"licence {licence_id} does not exist on chain id {self.conn.chain_id}: see `datalicense licences`")
        t = market.terms(lic.terms_id)
        asset = market.asset_address(t.asset_id)
        purchase = self.purchase_event(licence_id)
        return LicenceInfo(
            licence_id=licence_id, dataset_id=t.dataset_id, holder=lic.holder, state=lic.state.label, price=t.price,
            price_text=self.amount_text(t.price, asset), purchased_block=purchase["blockNumber"],
            expires_at=market.expires_at(licence_id), valid=market.is_valid(licence_id),
            key_x="0x" + bytes(purchase["args"]["keyX"]).hex(), key_y="0x" + bytes(purchase["args"]["keyY"]).hex(),
            terms_id=lic.terms_id, version=int(purchase["args"]["version"]),
        )

    def licences(self, holder: str | None = None) -> list[LicenceInfo]:
        """Licences bought for `holder` (default: this account), with state and expiry."""
        who = normalize_address(holder, self.conn.chain_id) if holder else self.conn.tx.account.address
        logs = self.conn.contract.events.LicencePurchased().get_logs(
            from_block=self.conn.deploy_block, argument_filters={"licensee": who}
        )
        return [self.licence(int(log["args"]["licenceId"])) for log in logs]

    def purchase_event(self, licence_id: int) -> Any:
        """The LicencePurchased log of a licence (NotFoundError if there is none)."""
        logs = self.conn.contract.events.LicencePurchased().get_logs(
            from_block=self.conn.deploy_block, argument_filters={"licenceId": licence_id}
        )
        if not logs:
            raise NotFoundError(f"licence {licence_id} does not exist on chain id {self.conn.chain_id}")
        return logs[0]

    def delivery_keys(self, licence_id: int) -> list[dict[str, Any]]:
        """The delivery keys a licence has named, oldest first: the purchase's, then each rotation's."""
        purchase = self.purchase_event(licence_id)
        logs = [purchase] + list(self.conn.contract.events.DeliveryKeyRotated().get_logs(
            from_block=purchase["blockNumber"], argument_filters={"licenceId": licence_id}))
        return [{"block": lg["blockNumber"], "logIndex": lg["logIndex"], "tx": lg["transactionHash"].to_0x_hex(),
                 "x": bytes(lg["args"]["keyX"]), "y": bytes(lg["args"]["keyY"])} for lg in logs]

    def deliveries(self, licence_id: int) -> list[KeyDelivery]:
        """Key deliveries of a licence, oldest first: the escrowed one, then deliveries of newer versions."""
        out = []
        events = self.conn.contract.events
        for ev in (events.KeyDelivered(), events.KeyRedelivered()):
            for log in ev.get_logs(from_block=self.conn.deploy_block, argument_filters={"licenceId": licence_id}):
                a = log["args"]
                out.append(KeyDelivery(int(log["blockNumber"]), int(log["logIndex"]), ev.event_name == "KeyDelivered",
                                       keywrap.Wrap(bytes(a["rX"]), bytes(a["rY"]), bytes(a["wrappedKey"])),
                                       bytes(a["keyHash"])))
        return sorted(out, key=lambda d: (d.block, d.log_index))

    # ------------------------------------------------------------------------------------------ money flow

    def money_flow(self, dataset_ids: list[int]) -> dict[str, MoneyFlow]:
        """Where the money of the sales of `dataset_ids` went, per payment asset (datalicense.protocol.flow): paid
        in = to the owner + fees + refunded + to the buyer by ruling + in escrow, from the contract's events.
        Always has RBTC (the zero address), even without sales."""
        entries: list[FlowEntry] = []
        events, first = self.conn.contract.events, self.conn.deploy_block
        bought = list(events.LicencePurchased().get_logs(from_block=first, argument_filters={"datasetId": dataset_ids})
                      ) if dataset_ids else []
        sales = {}
        for log in bought:
            lid = int(log["args"]["licenceId"])
            lic = self.conn.market.licence(lid)
            asset = self.conn.market.asset_address(self.conn.market.terms(lic.terms_id).asset_id)
            sales[lid] = (int(log["args"]["price"]), asset, lic.settings_id)
            entries.append(FlowEntry(lid, asset, Kind.PAID, sales[lid][0], log["blockNumber"], log["logIndex"]))
        if sales:
            ids = list(sales)

            def logs(event: Any) -> list[Any]:
                return list(event.get_logs(from_block=first, argument_filters={"licenceId": ids}))

            for log in logs(events.LicenceSettled()):
                a, at = log["args"], (log["blockNumber"], log["logIndex"])
                asset = sales[int(a["licenceId"])][1]
                entries += [FlowEntry(int(a["licenceId"]), asset, Kind.OWNER, int(a["sellerAmount"]), *at),
                            FlowEntry(int(a["licenceId"]), asset, Kind.FEE, int(a["fee"]), *at)]
            for log in logs(events.LicenceRefunded()):
                a = log["args"]
                entries.append(FlowEntry(int(a["licenceId"]), sales[int(a["licenceId"])][1], Kind.REFUNDED,
                                         int(a["amount"]), log["blockNumber"], log["logIndex"]))
            for log in logs(events.DataDisputeResolved()):
                a = log["args"]
                if int(a["buyerBps"]) == 0:
                    continue  # the sale stands: its LicenceSettled is counted above
                price, asset, settings_id = sales[int(a["licenceId"])]
                parts = split(price, int(a["buyerBps"]), self.conn.market.settings(settings_id).fee_bps)
                at = (log["blockNumber"], log["logIndex"])
                entries += [FlowEntry(int(a["licenceId"]), asset, Kind.TO_BUYER, parts.to_buyer, *at),
                            FlowEntry(int(a["licenceId"]), asset, Kind.OWNER, parts.to_owner, *at),
                            FlowEntry(int(a["licenceId"]), asset, Kind.FEE, parts.fee, *at)]
        return tally(entries, assets=[ZERO])

"""The dataset lifecycle from the terminal: owners (set-agent, set-terms, pause, resume, new-version, transfer,
accept, sales), the arbiter (rule) and anyone (resolve-default).

datalicense.cli.main calls `register(cli, Ctx)` at its end, with its own objects, so that `python -m datalicense.cli.main`
(where that module runs as __main__) gets the commands too. Every command checks what it can before sending
(a transaction that would revert is refused with the contract's reason, in one line) and prints the
transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datalicense.cli.types import AddressType
from datalicense.protocol.addresses import ZERO

BPS = 10_000


def _send(c: Any, fn: Any, what: str, value: int = 0) -> Any:
    return c.client.conn.tx.send(fn, value=value, what=what)


def _tx_line(r: Any) -> str:
    return f"tx {r.tx_hash} (gas {r.gas_used:,})"


def _owned(c: Any, dataset_id: int) -> Any:
    """The dataset as the chain has it; refuses one this account does not own (before any transaction)."""
    from datalicense.infra.chain import normalize_address
    from datalicense.errors import ConfigError

    d = c.client.reader.dataset(dataset_id, with_manifest=False)
    me = c.client.conn.tx.account.address
    if normalize_address(d.owner) != me:
        raise ConfigError(f"dataset {dataset_id} is owned by {c.addr(d.owner)}, not by {c.addr(me)}: use the owner's "
                          "account (--account)")
    return d


def register(cli: click.Group, Ctx: type) -> None:
    """Add the lifecycle commands to the `datalicense` group."""
    pass_ctx = click.make_pass_decorator(Ctx)

    @cli.command(name="set-agent")
    @click.argument("dataset_id", type=int)
    @click.argument("agent", type=AddressType(none=True))
    @pass_ctx
    def set_agent(c: Any, dataset_id: int, agent: str) -> None:
        """Appoint AGENT (an address; `none` removes it) to deliver keys of a dataset you own."""
        from datalicense.infra.chain import normalize_address

        _owned(c, dataset_id)
        address = normalize_address(agent)  # AddressType: none is the zero address, dev:N an address
        r = _send(c, c.client.conn.contract.functions.setAgent(dataset_id, address), "set agent")
        who = "no agent: you deliver keys yourself (`datalicense deliver`, or run `agent` with your key)" \
            if address == ZERO else f"agent {c.addr(address)}"
        c.out({"dataset_id": dataset_id, "agent": address, "tx": r.tx_hash}, f"dataset {dataset_id}: {who}: {_tx_line(r)}")

    @cli.command(name="set-terms")
    @click.argument("dataset_id", type=int)
    @click.option("--price", default=None, help="New price in human units (default: unchanged).")
    @click.option("--asset", default=None, help="Payment token address, or RBTC (default: unchanged).")
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
    def set_terms(c: Any, dataset_id: int, price: str | None, asset: str | None, duration_days: float | None,
                  perpetual: bool, cap: int | None, delivery_hours: float | None, dispute_hours: float | None,
                  transferable: bool | None, royalty_bps: int | None, terms_file: Path | None) -> None:
        """Change price and terms of a dataset you own, for future sales only (licences sold keep theirs).
        Options not given stay as they are."""
        from eth_utils import keccak

        from datalicense.infra.chain import normalize_address, parse_amount

        d = _owned(c, dataset_id)
        t = c.client.reader.index.terms.get(str(d.terms_id), {})
        new_asset = d.asset if asset is None else (ZERO if asset.strip().upper() in ("RBTC", "TRBTC")
                                                   else normalize_address(asset, c.client.conn.chain_id))
        decimals, _ = c.client.reader.asset_info(new_asset)
        units = d.price if price is None else parse_amount(price, decimals)
        duration = 0 if perpetual else (d.duration if duration_days is None else int(duration_days * 86400))
        terms = (
            units, new_asset, duration, d.supply_cap if cap is None else cap,
            d.delivery_window if delivery_hours is None else int(delivery_hours * 3600),
            d.dispute_window if dispute_hours is None else int(dispute_hours * 3600),
            int(t.get("royaltyBps", 0)) if royalty_bps is None else royalty_bps,
            d.transferable if transferable is None else transferable,
        )
        ref = keccak(terms_file.read_bytes()) if terms_file else bytes.fromhex(d.terms_ref[2:])
        r = _send(c, c.client.conn.contract.functions.setTerms(dataset_id, ref, terms), "set terms")
        after = c.client.reader.dataset(dataset_id, with_manifest=False)
        c.out({"dataset_id": dataset_id, "terms_id": after.terms_id, "price": after.price, "tx": r.tx_hash},
              f"dataset {dataset_id}: terms {after.terms_id}, {after.price_text} ({after.status}), for future sales: "
              f"{_tx_line(r)}\n  to buy: datalicense buy {dataset_id} --terms {after.terms_id} --version {after.version}")

    @cli.command(name="set-price")
    @click.argument("dataset_id", type=int)
    @click.argument("price")
    @click.pass_context
    def set_price(ctx: click.Context, dataset_id: int, price: str) -> None:
        """Change the price of a dataset you own for future sales (the rest of its terms stay): set-terms --price."""
        ctx.invoke(set_terms, dataset_id=dataset_id, price=price, asset=None, duration_days=None, perpetual=False,
                   cap=None, delivery_hours=None, dispute_hours=None, transferable=None, royalty_bps=None,
                   terms_file=None)

    def _flag(name: str, method: str, done: str, help_text: str) -> None:
        @cli.command(name=name, help=help_text)
        @click.argument("dataset_id", type=int)
        @pass_ctx
        def command(c: Any, dataset_id: int) -> None:
            _owned(c, dataset_id)
            r = _send(c, getattr(c.client.conn.contract.functions, method)(dataset_id), name)
            c.out({"dataset_id": dataset_id, "tx": r.tx_hash}, f"dataset {dataset_id} {done}: {_tx_line(r)}")

    _flag("pause", "pauseSales", "paused (no new sales; licences sold stay valid)", "Pause sales of a dataset you own.")
    _flag("resume", "resumeSales", "on sale again", "Resume sales of a dataset you paused.")

    @cli.command(name="new-version")
    @click.argument("dataset_id", type=int)
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--title", required=True)
    @click.option("--description", default="")
    @click.option("--media-type", default=None)
    @pass_ctx
    def new_version(c: Any, dataset_id: int, file: Path, title: str, description: str, media_type: str | None) -> None:
        """Publish FILE as a new version of a dataset you own: new key, new ciphertext, new manifest. Valid
        licences cover it (the agent re-delivers); a buyer names the version it buys. For a pool's dataset use
        `datalicense pool version` (a new epoch with its new tree)."""
        from datalicense.errors import ConfigError

        d = c.client.reader.dataset(dataset_id, with_manifest=False)
        me = c.client.conn.tx.account.address
        if c.client.conn.w3.eth.get_code(d.owner):
            raise ConfigError(f"dataset {dataset_id} is owned by the pool {c.addr(d.owner)}: publish its new version "
                              f"with `datalicense pool version {d.owner} FILE CONTRIBUTORS.csv --title ...`")
        if d.owner != me:
            raise ConfigError(f"dataset {dataset_id} is owned by {c.addr(d.owner)}, not by {c.addr(me)}")
        r = c.client.seller.publish_version(dataset_id, file, title=title, description=description,
                                            media_type=media_type)
        c.out(r.as_dict(), f"dataset {dataset_id} version {r.version} published: manifest {r.manifest_cid}\n"
                           f"  tx {r.tx_hash} (gas {r.gas_used:,})")

    @cli.command()
    @click.argument("dataset_id", type=int)
    @click.argument("to", type=AddressType())
    @pass_ctx
    def transfer(c: Any, dataset_id: int, to: str) -> None:
        """Offer a dataset you own to TO; it becomes theirs when they run `datalicense accept DATASET_ID`."""
        from datalicense.infra.chain import normalize_address

        _owned(c, dataset_id)
        new_owner = normalize_address(to)
        r = _send(c, c.client.conn.contract.functions.transferDataset(dataset_id, new_owner), "transfer dataset")
        c.out({"dataset_id": dataset_id, "to": new_owner, "tx": r.tx_hash},
              f"dataset {dataset_id} offered to {c.addr(new_owner)} (they run `datalicense accept {dataset_id}`): "
              f"{_tx_line(r)}")

    @cli.command()
    @click.argument("dataset_id", type=int)
    @pass_ctx
    def accept(c: Any, dataset_id: int) -> None:
        """Accept a dataset offered to you; its previous owner's agent is removed (appoint yours with set-agent).
        Deliveries need the content keys: copy them from the previous owner's data folder."""
        r = _send(c, c.client.conn.contract.functions.acceptDataset(dataset_id), "accept dataset")
        c.out({"dataset_id": dataset_id, "tx": r.tx_hash},
              f"dataset {dataset_id} is yours: {_tx_line(r)}\n  its agent was removed: appoint yours with "
              f"`datalicense set-agent {dataset_id} ADDRESS`")

    @cli.command()
    @click.argument("licence_id", type=int)
    @click.option("--buyer-bps", type=click.IntRange(0, BPS), required=True,
                  help="Share of the price refunded to the buyer, in basis points (0: the sale stands; 10000: all).")
    @pass_ctx
    def rule(c: Any, licence_id: int, buyer_bps: int) -> None:
        """The arbiter's ruling on a data dispute. 0 lets the sale stand (the seller gets the bond); anything more
        refunds that share of the price to the buyer, with its bond."""
        from datalicense.errors import ChainError
        from datalicense.protocol.records import State
        from datalicense.protocol.flow import split

        m = c.client.conn.market
        lic = m.licence(licence_id)
        if lic.state != State.DATA_DISPUTED:
            raise ChainError(f"licence {licence_id} is {lic.state.label}, not in a data dispute: nothing to rule")
        t = m.terms(lic.terms_id)
        asset = m.asset_address(t.asset_id)
        part = split(t.price, buyer_bps, m.settings(lic.settings_id).fee_bps).to_buyer
        r = _send(c, c.client.conn.contract.functions.resolveData(licence_id, buyer_bps), "rule")
        outcome = ("the sale stands: the licence is settled and the seller takes the bond" if buyer_bps == 0 else
                   f"the buyer gets {c.client.reader.amount_text(part, asset)} back and its bond")
        c.out({"licence_id": licence_id, "buyer_bps": buyer_bps, "buyer_part": part, "tx": r.tx_hash},
              f"licence {licence_id}: {outcome}: {_tx_line(r)}")

    @cli.command(name="resolve-default")
    @click.argument("licence_id", type=int)
    @pass_ctx
    def resolve_default(c: Any, licence_id: int) -> None:
        """After the arbiter's deadline (14 days from the dispute) without a ruling: the sale stands and the buyer's
        bond is returned. Anyone may send it."""
        from datalicense.errors import ChainError
        from datalicense.protocol.records import State
        from datalicense.protocol.lifecycle import Action

        m = c.client.conn.market
        clock = m.clock(licence_id)
        if clock.state != State.DATA_DISPUTED:
            raise ChainError(f"licence {licence_id} is {clock.state.label}, not in a data dispute")
        now = m.now()
        if not clock.may(Action.RESOLVE_DEFAULT, now):
            due = clock.arbiter_by or 0
            raise ChainError(f"the arbiter has until {_when(due)} to rule on licence {licence_id} "
                             f"({(due + 1 - now) / 3600:.1f} h from now): try again after that")
        r = _send(c, c.client.conn.contract.functions.resolveDataByDefault(licence_id), "resolve by default")
        c.out({"licence_id": licence_id, "tx": r.tx_hash},
              f"licence {licence_id}: no ruling in time, the sale stands and the buyer's bond is returned "
              f"(`datalicense withdraw`): {_tx_line(r)}")

    @cli.command()
    @click.option("--dataset", "dataset_id", type=int, default=None, help="Only this dataset.")
    @pass_ctx
    def sales(c: Any, dataset_id: int | None) -> None:
        """Licences sold from your datasets: buyer, state, price, fee, and what you are owed."""
        from datalicense.infra.chain import normalize_address

        client = c.client
        me = client.conn.tx.account.address
        client.reader.index.update()
        mine = [int(i) for i, rec in client.reader.index.datasets.items()
                if rec.get("owner") and normalize_address(rec["owner"]) == me and (dataset_id is None or int(i) == dataset_id)]
        rows: list[dict[str, Any]] = []
        if mine:
            logs = client.conn.contract.events.LicencePurchased().get_logs(
                from_block=client.conn.deploy_block, argument_filters={"datasetId": mine})
            for log in logs:
                a = log["args"]
                lid = int(a["licenceId"])
                lic = client.conn.market.licence(lid)
                t = client.conn.market.terms(lic.terms_id)
                asset = client.conn.market.asset_address(t.asset_id)
                fee = int(a["price"]) * client.conn.market.settings(lic.settings_id).fee_bps // BPS
                rows.append({"licence_id": lid, "dataset_id": int(a["datasetId"]), "buyer": lic.holder,
                             "state": lic.state.label, "price": int(a["price"]), "fee": fee, "asset": asset,
                             "price_text": client.reader.amount_text(int(a["price"]), asset),
                             "fee_text": client.reader.amount_text(fee, asset)})
        flows = client.reader.money_flow(mine)  # one computation with the page's (datalicense.protocol.flow)
        assets = sorted({r["asset"] for r in rows} | set(flows))
        owed = {a: client.conn.market.balance_owed(a, me) for a in assets}
        lines = [f"{r['licence_id']:>5}  dataset {r['dataset_id']:<5} {r['state']:<12} buyer {c.addr(r['buyer'])}  "
                 f"{r['price_text']} (fee {r['fee_text']})" for r in rows] or ["no sales yet"]
        for a, f in flows.items():
            if f.paid:
                amt = lambda v: client.reader.amount_text(v, a)  # noqa: E731
                lines.append(f"money flow: paid in {amt(f.paid)} = to the owner {amt(f.owner)} + platform fees "
                             f"{amt(f.fee)} + refunded {amt(f.refunded)} + to buyers by ruling {amt(f.to_buyer)} + "
                             f"in escrow {amt(f.escrow)}")
        lines.append("owed to you: " + ", ".join(client.reader.amount_text(v, a) for a, v in owed.items())
                     + (" (`datalicense withdraw`)" if any(owed.values()) else ""))
        c.out({"sales": rows, "owed": {a: v for a, v in owed.items()},
               "flow": {a: f.totals() for a, f in flows.items()}}, "\n".join(lines))


def _when(ts: int) -> str:
    """A date and time in the reader's time zone (--json keeps the unix time)."""
    from datalicense.infra.chain import local_time

    return local_time(ts)


def licences_view(c: Any, items: list[Any]) -> tuple[list[dict[str, Any]], str]:
    """`licences`: each licence with its dataset's title, state, and the next deadline that matters to the buyer
    (when a refund becomes possible, when the dispute window closes, when the arbiter must rule, when it
    expires)."""
    client = c.client
    titles: dict[int, str] = {}
    try:
        client.reader.index.update()
        cids = {}
        for i in items:
            rec = client.reader.index.datasets.get(str(i.dataset_id), {})
            v = rec.get("versions", {}).get(str(rec.get("version", 0)))
            if v:
                cids[i.dataset_id] = v["manifestCid"]
        found = client.reader.index.manifests_for(list(cids.values())) if cids else {}
        for ds, cid in cids.items():
            rec = found.get(cid, {})
            titles[ds] = rec.get("manifest", {}).get("title", "") or f"({rec.get('error', 'no manifest')})"
    except Exception:  # noqa: BLE001 - titles are a courtesy: the licences are listed without them
        pass
    data, rows = [], []
    for i in items:
        deadline = client.conn.market.clock(i.licence_id).next_deadline()
        what, at = deadline.label, deadline.at
        nxt = f"{what} {_when(at)}" if at else what or "-"
        title = titles.get(i.dataset_id, "")
        data.append({**i.as_dict(), "title": title, "next": what, "next_at": at})
        from datalicense.protocol.textsafe import escape

        shown = escape(title)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        rows.append(f"{i.licence_id:>5}  dataset {i.dataset_id:<5} {i.state:<12} {'valid' if i.valid else 'not valid':<9} "
                    f"{nxt:<38} {i.price_text:<14} {shown}")
    return data, "\n".join(rows) if rows else "no licences"

"""A buyer's commands: `buy`, `delivery-key`, `rotate-key`, `fetch`, `confirm`, `settle`, `refund`, `dispute`,
`licences`. Each parses, calls the buyer role (datalicense.roles.buyer) or the reader, and prints: the buyer's
rules (a licence already held, the price and version named, the output folder) live in the role."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from datalicense.cli.context import Ctx, clip, pass_ctx, tx_line, when
from datalicense.cli.types import ADDRESS, DeliveryKeyType

if TYPE_CHECKING:
    from datalicense.infra.chain import Receipt
    from datalicense.protocol.results import LicenceInfo


@click.command()
@click.argument("dataset_id", type=int)
@click.option("--max-price", default=None, help="Most you will pay (default: the current price).")
@click.option("--terms", "terms_id", type=int, default=None,
              help="The terms id you accept, as `show` prints it (default: the current terms).")
@click.option("--version", "version", type=int, default=None,
              help="The dataset version you accept, as `show` prints it (default: the current version).")
@click.option("--for", "licensee", type=ADDRESS, default=None,
              help="Buy for another address or dev:N (a gift, an agent's wallet).")
@click.option("--delivery-key", type=DeliveryKeyType(), default=None,
              help="One-time public key (hex, 64 or 65 bytes) the content key is wrapped to; default: one derived "
                   "from your wallet. Required with --for: the recipient's `datalicense delivery-key`.")
@click.option("--erc677", is_flag=True, help="Pay a token with one transferAndCall instead of approve + buy.")
@click.option("--again", is_flag=True, help="Buy even though you already hold a valid licence for this dataset.")
@pass_ctx
def buy(c: Ctx, dataset_id: int, max_price: str | None, terms_id: int | None, version: int | None,
        licensee: str | None, delivery_key: tuple[bytes, bytes] | None, erc677: bool, again: bool) -> None:
    """Buy a licence: pay into escrow for the terms and version you saw; the seller's agent delivers the key."""
    # the buyer role refuses a dataset the holder-to-be already holds (unless --again), and --for without the
    # recipient's --delivery-key (checked by DeliveryKeyType)
    r = c.client.buyer.buy(dataset_id, max_price=max_price, licensee=licensee, delivery_key=delivery_key,
                           erc677=erc677, terms_id=terms_id, version=version, again=again)
    c.out(r.as_dict(), f"licence {r.licence_id} bought for {r.price_text} (terms {r.terms_id}, version {r.version})"
                       f"\n  {tx_line(r)}")


@click.command(name="delivery-key")
@pass_ctx
def delivery_key_cmd(c: Ctx) -> None:
    """Print a fresh one-time delivery key to give someone who buys a licence for you (`buy --for`)."""
    _p, x, y, index = c.client.keys.gift_delivery_key()
    key = "04" + x.hex() + y.hex()
    c.out({"delivery_key": key, "index": index},
          f"{key}\n(give this to the buyer: `datalicense buy DATASET --for {c.client.conn.tx.account.address} "
          f"--delivery-key {key}`; it is derived from your wallet, nothing to keep)")


@click.command(name="rotate-key")
@click.argument("licence_id", type=int)
@pass_ctx
def rotate_key(c: Ctx, licence_id: int) -> None:
    """Name a new one-time delivery key for a licence you hold (after a transfer, or a lost key)."""
    r = c.client.buyer.rotate_key(licence_id)
    c.out({"licence_id": licence_id, "tx": r.tx_hash}, f"licence {licence_id}: new delivery key named, tx {r.tx_hash}")


@click.command()
@click.argument("licence_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to write the data.")
@click.option("--no-confirm", is_flag=True, help="Do not confirm the licence after a verified download.")
@pass_ctx
def fetch(c: Ctx, licence_id: int, output: Path, no_confirm: bool) -> None:
    """Download, decrypt and verify a licensed dataset, then confirm the licence. -o FOLDER writes
    FOLDER/dataset-ID-vN.EXT; a missing folder is refused, never created (as curl and wget do)."""
    def notice() -> None:
        if not no_confirm:
            c.note(f"licence {licence_id}: once the data verifies, it is confirmed and the seller paid (your dispute "
                   "window ends); pass --no-confirm to keep it open and `confirm` or `dispute` later")

    r = c.client.buyer.fetch(licence_id, output, confirm=not no_confirm, on_start=notice)
    if r.shares_commitment_with:
        c.note(f"note: version {r.version} shares its key commitment with version "
               f"{', '.join(map(str, r.shares_commitment_with))} of the dataset (the seller reused a content key): "
               f"what was written was checked against version {r.version}'s own hash")
    human = f"wrote {r.path} ({r.size} bytes, sha256 {r.sha256}, matches the on-chain commitment)"
    if r.confirmed_tx:
        human += f"\nlicence {licence_id} confirmed: tx {r.confirmed_tx}"
    c.out(r.as_dict(), human)


def _licence_tx(c: Ctx, licence_id: int, r: Receipt, done: str, after: str = "") -> None:
    c.out({"licence_id": licence_id, "tx": r.tx_hash, "gas_used": r.gas_used},
          f"licence {licence_id} {done}: {tx_line(r)}{after}")


@click.command()
@click.argument("licence_id", type=int)
@pass_ctx
def confirm(c: Ctx, licence_id: int) -> None:
    """Confirm a good delivery: the seller is paid."""
    _licence_tx(c, licence_id, c.client.buyer.confirm(licence_id), "confirmed")


@click.command()
@click.argument("licence_id", type=int)
@pass_ctx
def settle(c: Ctx, licence_id: int) -> None:
    """Settle a delivered licence after its dispute window."""
    _licence_tx(c, licence_id, c.client.buyer.settle(licence_id), "settled")


@click.command()
@click.argument("licence_id", type=int)
@pass_ctx
def refund(c: Ctx, licence_id: int) -> None:
    """Refund a licence whose key was not delivered in time (then `withdraw`)."""
    _licence_tx(c, licence_id, c.client.buyer.refund(licence_id), "refunded",
                "\n  the price is owed to the holder: `datalicense withdraw` pays it out")


@click.command()
@click.argument("licence_id", type=int)
@click.option("--data", is_flag=True, help="The key works but the data is not as described (goes to the arbiter).")
@pass_ctx
def dispute(c: Ctx, licence_id: int, data: bool) -> None:
    """Dispute a delivery. A wrong key is proved in one transaction (you are refunded at once; refused when the
    key is right). A data dispute posts the licence's bond and goes to the arbiter."""
    r = c.client.buyer.dispute(licence_id, data=data, on_send=None if c.as_json else c.note)
    if data:
        c.out({"licence_id": licence_id, "kind": "data", "tx": r.tx_hash},
              f"data dispute opened for licence {licence_id}: tx {r.tx_hash}")
    else:
        c.out({"licence_id": licence_id, "kind": "key", "outcome": "refunded", "tx": r.tx_hash},
              f"licence {licence_id}: the wrong key is proved and you are refunded (`datalicense withdraw`): "
              f"tx {r.tx_hash}")


@click.command()
@click.option("--holder", type=ADDRESS, default=None, help="Another holder's address or dev:N (default: your account).")
@pass_ctx
def licences(c: Ctx, holder: str | None) -> None:
    """Your licences: dataset title, state, validity and the next deadline that matters to you."""
    c.out(*licences_view(c, c.client.reader.licences(holder)))




def licences_view(c: Ctx, items: list[LicenceInfo]) -> tuple[list[dict[str, Any]], str]:
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
        nxt = f"{what} {when(at)}" if at else what or "-"
        title = titles.get(i.dataset_id, "")
        data.append({**i.as_dict(), "title": title, "next": what, "next_at": at})
        shown = clip(title, 40)
        rows.append(f"{i.licence_id:>5}  dataset {i.dataset_id:<5} {i.state:<12} {'valid' if i.valid else 'not valid':<9} "
                    f"{nxt:<38} {i.price_text:<14} {shown}")
    return data, "\n".join(rows) if rows else "no licences"


COMMANDS = (buy, delivery_key_cmd, rotate_key, fetch, confirm, settle, refund, dispute, licences)

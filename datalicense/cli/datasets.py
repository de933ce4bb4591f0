"""Browsing the market, for anyone: `list`, `show`."""

from __future__ import annotations

import click

from datalicense.cli.context import ZERO, Ctx, clip, pass_ctx, size_text
from datalicense.cli.types import ADDRESS, ASSET
from datalicense.protocol.textsafe import escape

@click.command(name="list")
@click.option("--text", default=None, help="Only datasets whose title, description or media type contains this.")
@click.option("--owner", type=ADDRESS, default=None, help="Only datasets owned by this address (or dev:N).")
@click.option("--min-price", default=None, help="Lowest price, in the dataset's asset (e.g. 0.001).")
@click.option("--max-price", default=None, help="Highest price, in the dataset's asset.")
@click.option("--asset", type=ASSET, default=None, help="Only datasets priced in this token address (or RBTC).")
@pass_ctx
def list_(c: Ctx, text: str | None, owner: str | None, min_price: str | None, max_price: str | None,
          asset: str | None) -> None:
    """List datasets for sale: title, media type, size, price, state, sales and owner."""
    items = c.client.reader.datasets(text=text, owner=owner, min_price=min_price, max_price=max_price, asset=asset)
    if c.as_json:
        c.out([d.as_dict() for d in items], "")
        return
    rows = []
    owners: dict[str, str] = {}  # one checksum per owner, not per row
    for d in items:
        if d.manifest_error:
            what = f"({clip(d.manifest_error, 70)})"
        else:
            what = f"{clip(d.title, 36):<36}  {clip(d.media_type, 24):<24} {size_text(d.size):>9}"
        rows.append(f"{d.dataset_id:>5}  {what}  {d.price_text:>14}  {d.status:<8} v{d.version}  sold {d.sold}"
                    f"{'/' + str(d.supply_cap) if d.supply_cap else ''}  "
                    f"{owners.setdefault(d.owner, c.addr(d.owner)) if d.owner not in owners else owners[d.owner]}")
    filtered = any(v is not None for v in (text, owner, min_price, max_price, asset))
    c.out([], "\n".join(rows) if rows else ("no dataset matches" if filtered else "no datasets yet"))


@click.command()
@click.argument("dataset_id", type=int)
@pass_ctx
def show(c: Ctx, dataset_id: int) -> None:
    """Show one dataset: terms, commitments and manifest."""
    d = c.client.reader.dataset(dataset_id)
    m = d.manifest
    term = "perpetual" if d.duration == 0 else f"{d.duration / 86400:g} days from delivery"
    human = "\n".join([
        f"dataset {d.dataset_id}: {escape(m.get('title', '?'))}" if m else
        f"dataset {d.dataset_id}: ({escape(d.manifest_error)})",
        f"  {escape(m.get('description', ''))}" if m.get("description") else "",
        f"  owner        {c.addr(d.owner)}" + (" (a revenue pool: its contributors share the sales)"
                                                   if d.owner_is_pool else ""),
        f"  agent        {c.addr(d.agent) if int(d.agent, 16) else 'none (the owner delivers keys)'}",
        f"  price        {d.price_text} ({d.status})",
        f"  fee and bond platform fee {(d.fee_bps or 0) / 100:g}% of the price, data-dispute bond "
        f"{c.amount(d.dispute_bond or 0, ZERO)} (fixed when you buy)",
        f"  licence      {term}, {'transferable' if d.transferable else 'soulbound'}",
        f"  sold         {d.sold}{' of ' + str(d.supply_cap) if d.supply_cap else ''}",
        f"  windows      delivery {d.delivery_window / 3600:g} h, dispute {d.dispute_window / 3600:g} h",
        f"  to buy       datalicense buy {d.dataset_id} --terms {d.terms_id} --version {d.version}",
        f"  version      {d.version}, manifest {d.manifest_cid}",
        f"  plaintext    {m.get('plaintext_size', '?')} bytes, sha256 {d.plaintext_sha256[2:]}",
        f"  media type   {escape(m.get('media_type', '?'))}",
    ])
    c.out(d.as_dict(), "\n".join(line for line in human.splitlines() if line))


COMMANDS = (list_, show)

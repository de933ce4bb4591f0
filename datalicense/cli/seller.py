"""A seller's commands: `publish`, `new-version`, `deliver` (by hand) and `agent` (the delivery agent that delivers
every sale). Each parses, calls the seller role (datalicense.roles.seller) or the agent service, and prints."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from datalicense.cli.context import Ctx, pass_ctx, tx_line
from datalicense.cli.types import ADDRESS, ASSET, AddressType


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--media-type", default=None, help="e.g. text/csv (guessed from the file name).")
@click.option("--price", required=True, help="Price of one licence in human units, e.g. 0.002.")
@click.option("--asset", type=ASSET, default="RBTC", help="Payment token address, or RBTC.")
@click.option("--duration-days", default=30.0, show_default=True, help="Licence term from key delivery.")
@click.option("--perpetual", is_flag=True, help="Licences never expire.")
@click.option("--cap", default=0, show_default=True, help="Most licences ever sold (0: unlimited).")
@click.option("--delivery-hours", default=24.0, show_default=True,
              help="Hours the seller (or its agent) has to deliver the key after a sale, or the buyer is refunded.")
@click.option("--dispute-hours", default=48.0, show_default=True,
              help="Hours the buyer has to dispute a delivery before the sale settles.")
@click.option("--transferable", is_flag=True, help="Settled licences may be resold.")
@click.option("--royalty-bps", default=0, show_default=True, help="ERC-2981 royalty on resales.")
@click.option("--terms-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Licence text; its keccak256 is the on-chain terms reference.")
@click.option("--agent", type=AddressType(none=True), default="none",
              help="Delivery agent address (or dev:N): it delivers keys for you (`datalicense agent`).")
@click.option("--pool", "pool_address", type=ADDRESS, default=None,
              help="Publish through this RevenuePool (you are its curator).")
@pass_ctx
def publish(c: Ctx, file: Path, title: str, description: str, media_type: str | None, price: str, asset: str,
            duration_days: float, perpetual: bool, cap: int, delivery_hours: float, dispute_hours: float,
            transferable: bool, royalty_bps: int, terms_file: Path | None, agent: str,
            pool_address: str | None) -> None:
    """Encrypt FILE, add it to IPFS and publish it for sale."""
    from eth_utils import keccak  # reason: start-up (eth_utils loads eth_hash's backend)

    ref = keccak(terms_file.read_bytes()) if terms_file else None
    r = c.client.seller.publish(file, title=title, price=price, description=description, media_type=media_type,
                         asset=asset, duration_days=0 if perpetual else duration_days, supply_cap=cap,
                         delivery_window_hours=delivery_hours, dispute_window_hours=dispute_hours,
                         transferable=transferable, royalty_bps=royalty_bps, terms_ref=ref, agent=agent,
                         pool=pool_address)
    verb = "already published as" if r.reused else "published as"
    human = (f"{file.name} {verb} dataset {r.dataset_id} (version {r.version})\n"
             f"  manifest   {r.manifest_cid}\n  ciphertext {r.ciphertext_cid}\n"
             f"  plaintext  {r.plaintext_size} bytes, sha256 {r.plaintext_sha256}")
    if r.tx_hash:
        human += f"\n  tx         {r.tx_hash} (gas {r.gas_used:,})"
    for rep in r.replicas:  # per configured replica (datalicense.roles.replicas)
        human += f"\n  replica    {rep['endpoint']}: {rep['status']}" + (f" ({rep['reason']})" if rep["reason"] else "")
    lacking = [rep["endpoint"] for rep in r.replicas if rep["status"] != "pinned"]
    if lacking:
        human += f"\n  {len(lacking)} replica(s) still lack the data: {', '.join(lacking)} (`datalicense pins repair`)"
    if int(agent, 16) == 0 and not r.reused:
        c.note(f"note: dataset {r.dataset_id} has no delivery agent: deliver each sale yourself before its delivery "
               f"deadline (`datalicense agent` with this account, or `datalicense set-agent {r.dataset_id} ADDRESS`), "
               "or buyers are refunded")
    c.out(r.as_dict(), human)


@click.command(name="new-version")
@click.argument("dataset_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--media-type", default=None)
@pass_ctx
def new_version(c: Ctx, dataset_id: int, file: Path, title: str, description: str, media_type: str | None) -> None:
    """Publish FILE as a new version of a dataset you own: new key, new ciphertext, new manifest. Valid
    licences cover it (the agent re-delivers); a buyer names the version it buys. For a pool's dataset use
    `datalicense pool version` (a new epoch with its new tree)."""
    c.client.owner.owned(dataset_id)  # refused before the upload: not this account's, or a pool's
    r = c.client.seller.publish_version(dataset_id, file, title=title, description=description,
                                        media_type=media_type)
    c.out(r.as_dict(), f"dataset {dataset_id} version {r.version} published: manifest {r.manifest_cid}\n"
                       f"  {tx_line(r)}")


@click.command()
@click.argument("licence_id", type=int)
@click.option("--redeliver", is_flag=True, help="Deliver the key of the current version to a valid licence.")
@pass_ctx
def deliver(c: Ctx, licence_id: int, redeliver: bool) -> None:
    """Deliver the content key of a sold licence by hand (the agent does this automatically)."""
    r = c.client.seller.deliver(licence_id, redeliver=redeliver)
    c.out({"licence_id": licence_id, "tx": r.tx_hash, "gas_used": r.gas_used},
          f"key delivered for licence {licence_id}: {tx_line(r)}")


@click.command()
@click.option("--once", is_flag=True, help="Do what is due now and exit (for cron).")
@click.option("--confirmations", type=int, default=None,
              help="Blocks to wait before acting on an event (default: 12 on Rootstock mainnet and testnet, 0 locally).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between polls of the chain.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite journal (default: one per chain, contract and agent key in the home folder).")
@pass_ctx
def agent(c: Ctx, once: bool, confirmations: int | None, poll: float, db: Path | None) -> None:
    """Run the seller's delivery agent: deliver keys for every purchase, exactly once."""
    from datalicense.services.agent import Agent  # reason: start-up (web3, sqlite)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    client = c.client
    path = db or client.conn.state_dir / f"agent-{client.conn.tx.account.address.lower()}.sqlite"
    stats = Agent(client, path, confirmations=confirmations, poll_interval=poll).run(once=once)
    c.out(stats.__dict__, f"delivered {stats.delivered}, re-delivered {stats.redelivered}, "
                          f"skipped {stats.skipped}, failed {stats.failed}")


COMMANDS = (publish, new_version, deliver, agent)

"""Paying per request over HTTP 402: `get` (a buyer within spending caps), `serve` (a seller's gateway), `refunds`.
Each parses, calls datalicense.roles.paying or the gateway service, and prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from datalicense.cli.context import ZERO, Ctx, pass_ctx, when
from datalicense.cli.web import allow_host_option, allowed_hosts

if TYPE_CHECKING:
    from datalicense.roles.spending import SpendingPolicy


def _policy(c: Ctx, asset: str, max_request: str | None, max_day: str | None, max_total: str | None,
            sellers: tuple[str, ...], datasets: tuple[int, ...], min_duration_days: float,
            transferable: bool | None, wait: float) -> SpendingPolicy:
    # reason: start-up (web3)
    from datalicense.infra.chain import normalize_address, parse_amount
    from datalicense.roles.paying import Caps, SpendingPolicy

    asset = normalize_address(asset, c.client.conn.chain_id)
    decimals, _ = c.client.reader.asset_info(asset)
    amt = lambda s: None if s is None else parse_amount(s, decimals)  # noqa: E731
    if max_request is None and max_day is None and max_total is None:
        raise click.UsageError("give at least one spending cap: --max-request, --max-day or --max-total")
    return SpendingPolicy(caps={asset: Caps(amt(max_request), amt(max_day), amt(max_total))},
                          sellers=set(sellers) or None, datasets=set(datasets) or None,
                          min_duration=int(min_duration_days * 86400), transferable=transferable,
                          delivery_timeout=wait)


@click.command(name="get")
@click.argument("url")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to write the data.")
@click.option("--asset", default=ZERO, help="The asset the caps are in (default RBTC); offers in others are refused.")
@click.option("--max-request", default=None, help="Most to pay for one request, e.g. 0.002.")
@click.option("--max-day", default=None, help="Most to pay in any 24 hours.")
@click.option("--max-total", default=None, help="Most to pay in total (through `get`, from this home folder).")
@click.option("--seller", "sellers", multiple=True, help="Only buy from this dataset owner (repeatable).")
@click.option("--dataset", "datasets", type=int, multiple=True, help="Only buy this dataset id (repeatable).")
@click.option("--min-duration-days", default=0.0, help="Refuse licences shorter than this (perpetual accepted).")
@click.option("--transferable/--not-transferable", default=None, help="Require or refuse transferable licences.")
@click.option("--wait", default=120.0, show_default=True, help="Seconds to wait for the key after buying.")
@click.option("--no-confirm", is_flag=True, help="Do not confirm the licence after a verified download.")
@pass_ctx
def get_cmd(c: Ctx, url: str, output: Path, asset: str, max_request: str | None, max_day: str | None,
            max_total: str | None, sellers: tuple[str, ...], datasets: tuple[int, ...], min_duration_days: float,
            transferable: bool | None, wait: float, no_confirm: bool) -> None:
    """Fetch URL from a seller's gateway, paying through escrow within the spending caps."""
    from datalicense.roles.paying import get  # reason: start-up (web3, httpx)

    policy = _policy(c, asset, max_request, max_day, max_total, sellers, datasets, min_duration_days, transferable,
                     wait)
    r = get(c.client.buyer, url, output, policy, confirm=not no_confirm)
    paid = f"paid {c.amount(r.paid, r.asset)} for" if r.bought else "reused"
    human = (f"wrote {r.path} ({r.size} bytes, sha256 {r.sha256}, matches the on-chain commitment)\n"
             f"{paid} licence {r.licence_id} (dataset {r.dataset_id} version {r.version})")
    if r.confirmed_tx:
        human += f"\nlicence {r.licence_id} confirmed: tx {r.confirmed_tx}"
    if r.refunded:
        human += f"\nrefunded undelivered licences: {', '.join(map(str, r.refunded))}"
    c.out(r.as_dict(), human)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8402, show_default=True, type=int)
@click.option("--public-url", default=None, help="Base URL the offers name (behind a proxy).")
@click.option("--rate", default=20.0, show_default=True, help="Requests per second per IP.")
@click.option("--paid-rate", default=5.0, show_default=True, help="Paid requests per second per signing address.")
@click.option("--owner", "owners", multiple=True,
              help="Serve the datasets of this owner (repeatable; default: the --account's, when one is given).")
@click.option("--dataset", "datasets", type=int, multiple=True, help="Serve this dataset id (repeatable).")
@click.option("--all-datasets", is_flag=True, help="Serve every dataset of the marketplace, strangers' included.")
@allow_host_option
@pass_ctx
def serve(c: Ctx, host: str, port: int, public_url: str | None, rate: float, paid_rate: float,
          owners: tuple[str, ...], datasets: tuple[int, ...], all_datasets: bool, allow_host: tuple[str, ...]) -> None:
    """Serve datasets at /datasets/ID: 402 offers, ciphertext to licence holders (no key is loaded). Which: those
    of --owner and --dataset, else the --account's, else (or with --all-datasets) every one."""
    # reason: start-up (web3, the server)
    from datalicense.infra.chain import account_address, normalize_address
    from datalicense.protocol.served import ServedDatasets
    from datalicense.services.gateway import Gateway, Limits

    if all_datasets and (owners or datasets):
        raise click.UsageError("--all-datasets serves every dataset: leave out --owner and --dataset, or it")
    hosts = allowed_hosts(allow_host)
    client = c.connect_without_account()
    if not (all_datasets or owners or datasets) and c.account:
        owners = (account_address(c.account),)
    served = ServedDatasets(frozenset(normalize_address(o, client.conn.chain_id) for o in owners),
                            frozenset(datasets))
    limits = Limits(per_ip_rate=rate, per_ip_burst=3 * rate, per_address_rate=paid_rate,
                    per_address_burst=4 * paid_rate, allowed_hosts=hosts)
    click.echo(f"serving {served.describe()} of {client.conn.address} (chain {client.conn.chain_id}) on "
               f"http://{host}:{port}/datasets/ID", err=True)
    Gateway(client, limits, public_url, served).serve(host, port)


@click.command()
@click.option("--list", "list_only", is_flag=True, help="Only show them; do not claim.")
@click.option("--all", "all_licences", is_flag=True, hidden=True,
              help="Every pending licence of this account (the default: kept for scripts).")
@pass_ctx
def refunds(c: Ctx, list_only: bool, all_licences: bool) -> None:
    """Show, and claim, refunds of your pending licences (bought with `buy` or `get`) whose key was not delivered
    before the deadline; `datalicense withdraw` pays the refunds out."""
    from datalicense.roles.paying import refunds as run  # reason: start-up (web3)

    rows = run(c.client.buyer, claim=not list_only)
    lines = [f"licence {r.licence_id} (dataset {r.dataset_id}): {r.state}, delivery deadline {when(r.deadline)}"
             + (f", refunded: tx {r.claimed_tx}" if r.claimed_tx else (", claimable" if r.claimable else ""))
             for r in rows]
    if any(r.claimed_tx for r in rows):
        lines.append("the refunds are owed to you: `datalicense withdraw` pays them out")
    c.out([r.as_dict() for r in rows], "\n".join(lines) or "no pending licences")


COMMANDS = (get_cmd, serve, refunds)

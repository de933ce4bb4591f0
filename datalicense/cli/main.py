"""`datalicense`: the command line.

Every command takes the global options (GLOBAL_OPTIONS below, each defined once with its environment variable),
before or after the command name (`datalicense --json show 1` and `datalicense show 1 --json` are the same):
  --network   local | rsk-testnet | rsk-mainnet | rsk-regtest | <RPC URL>   (DATALICENSE_NETWORK, default local)
  --account   dev:N (local chain) | keystore file | brownie keystore id       (DATALICENSE_ACCOUNT)
  --ipfs      Kubo RPC endpoint, multiaddr or URL                             (DATALICENSE_IPFS_API)
  --json      machine-readable output, snake_case keys, unix times           (DATALICENSE_JSON)
Errors are one line on stderr and a non-zero exit code; under --json that line is a JSON object
({"error": message, "kind": error type, ...}), still on stderr, so stdout only ever holds a result.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from datalicense.infra.chain import display_address
from datalicense.client import Client
from datalicense.errors import DataLicenseError
from datalicense.protocol.textsafe import escape

EXIT_ERROR = 1
from datalicense.protocol.addresses import ZERO  # noqa: E402 - the one ZERO


class Ctx:
    def __init__(self, network: str, account: str | None, ipfs: str | None, address: str | None,
                 home: str | None, as_json: bool, progress: bool, chain_id: int | None = None,
                 namespace: str | None = None):
        self.chain_id = chain_id
        self.namespace = namespace
        self.network = network
        self.account = account
        self.ipfs = ipfs
        self.address = address
        self.home = Path(home) if home else None
        self.as_json = as_json
        self.show_progress = progress
        self._client: Client | None = None

    def progress(self, label: str, total: int | None) -> Callable[[int], None]:
        if not self.show_progress or self.as_json:
            return lambda n: None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                   leave=False)

        def tick(n: int) -> None:
            bar.update(n)
            if total is not None and bar.n >= total:
                bar.close()

        return tick

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client.connect(self.network, self.account, self.ipfs, self.address, self.home,
                                          progress=self.progress, namespace=self.namespace, chain_id=self.chain_id)
        return self._client

    def out(self, data: dict[str, Any] | list[Any], human: str) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            click.echo(escape(human, newlines=True))  # chain and IPFS text never reaches the terminal raw

    def addr(self, a: str) -> str:
        return display_address(a, self.client.conn.chain_id)


pass_ctx = click.make_pass_decorator(Ctx)


from datalicense.cli.types import ADDRESS, ASSET, AddressType, DeliveryKeyType  # noqa: E402 - parameter types

#: The global options, each defined once with its environment variable; `datalicense` takes them before or after
#: the command (_Main.parse_args moves them), and every command's --help lists them.
GLOBAL_OPTIONS = [
    click.option("--network", envvar="DATALICENSE_NETWORK", default="local", show_envvar=True,
                 help="local, rsk-testnet, rsk-mainnet, rsk-regtest, or an RPC URL."),
    click.option("--account", envvar="DATALICENSE_ACCOUNT", show_envvar=True,
                 help="dev:N on the local chain (dev:0 .. dev:9), a keystore file, or a brownie keystore id."),
    click.option("--ipfs", envvar="DATALICENSE_IPFS_API", show_envvar=True,
                 help="Kubo RPC endpoint, multiaddr or URL (default: the local stack's, else 127.0.0.1:5001)."),
    click.option("--address", envvar="DATALICENSE_ADDRESS", show_envvar=True, type=ADDRESS,
                 help="Marketplace address (default: the deployments file of the chain)."),
    click.option("--home", envvar="DATALICENSE_HOME", show_envvar=True, show_default="~/.datalicense",
                 help="Data folder: content keys, seller secret, upload records, index (created 0700)."),
    click.option("--fork", envvar="DATALICENSE_FORK", show_envvar=True,
                 help="Run on a throwaway Ganache fork of this network or RPC URL (writes never reach it)."),
    click.option("--chain-id", "chain_id", type=int, envvar="DATALICENSE_CHAIN_ID", show_envvar=True,
                 help="Refuse a node whose chain id is not this one (for a network given as a URL)."),
    click.option("--json", "as_json", is_flag=True, envvar="DATALICENSE_JSON", show_envvar=True,
                 help="Machine-readable output (snake_case keys, amounts in smallest units, unix times); "
                      "errors as one JSON object on stderr."),
    click.option("--progress/--no-progress", default=lambda: sys.stderr.isatty(), show_default="on a terminal",
                 help="Progress bars on stderr."),
]


def _global_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(GLOBAL_OPTIONS):
        f = option(f)
    return f


def _takes_value(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and not param.is_flag and not param.count


class _Main(click.Group):
    """The `datalicense` group: global options given after the command (`datalicense show 1 --json`) are moved
    before it, unless the command has an option of that name itself (`buy --version`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._hoist(list(args)))

    def _hoist(self, args: list[str]) -> list[str]:
        own = {name: p for p in self.params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}
        i = 0
        while i < len(args) and args[i].startswith("-") and args[i] != "--":  # the global options given first
            name = args[i].split("=", 1)[0]
            i += 2 if name in own and "=" not in args[i] and _takes_value(own[name]) else 1
        if i >= len(args) or args[i] not in self.commands:
            return args
        theirs: dict[str, click.Parameter] = {}  # the options of the command and of any of its subcommands
        todo: list[click.Command] = [self.commands[args[i]]]
        while todo:
            cmd = todo.pop()
            theirs.update({n: p for p in cmd.params if isinstance(p, click.Option) for n in p.opts + p.secondary_opts})
            if isinstance(cmd, click.Group):
                todo.extend(cmd.commands.values())
        head, rest, moved = args[:i + 1], args[i + 1:], []
        kept: list[str] = []
        j = 0
        while j < len(rest):
            tok = rest[j]
            if tok == "--":
                kept.extend(rest[j:])
                break
            name = tok.split("=", 1)[0]
            if name in theirs:
                n = 2 if "=" not in tok and _takes_value(theirs[name]) else 1
                kept.extend(rest[j:j + n])
            elif name in own and name not in ("-h", "--help"):
                n = 2 if "=" not in tok and _takes_value(own[name]) else 1
                moved.extend(rest[j:j + n])
            else:
                n = 1
                kept.append(tok)
            j += n
        return moved + head + kept


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
             epilog="Global options go before or after the command. Example: datalicense --account dev:4 show 1 "
                    "(`datalicense COMMAND --help` for each command).")
@_global_options
@click.version_option(package_name="datalicense")
@click.pass_context
def cli(ctx: click.Context, network: str, account: str | None, ipfs: str | None, address: str | None,
        home: str | None, fork: str | None, chain_id: int | None, as_json: bool, progress: bool) -> None:
    """License data on Rootstock: publish, buy and fetch encrypted datasets."""
    namespace = None
    if fork:
        from datalicense.infra.chain import NETWORKS
        from datalicense.services.localstack import GanacheFork

        upstream = NETWORKS.get(fork, (fork, None))[0]
        forked = GanacheFork(upstream).start()
        ctx.call_on_close(forked.stop)
        network = forked.url
        # a rehearsal keeps its own local state (agent journal, index, keys, uploads), discarded after the run
        import shutil
        import uuid

        namespace = f"fork-{uuid.uuid4().hex[:12]}"
        from datalicense.infra.home import default_home

        scratch = (Path(home) if home else default_home()) / "chains" / namespace
        ctx.call_on_close(lambda: shutil.rmtree(scratch, ignore_errors=True))
    elif network == "local":  # the stack `datalicense up` keeps running in this data folder, if any
        from datalicense.services.stack import apply_defaults

        ipfs = apply_defaults(Path(home) if home else None, ipfs)
    ctx.obj = Ctx(network, account, ipfs, address, home, as_json, progress, int(chain_id) if chain_id else None,
                  namespace)


@cli.command()
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
    from eth_utils import keccak

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
    if int(agent, 16) == 0 and not r.reused and not c.as_json:
        click.echo(f"note: dataset {r.dataset_id} has no delivery agent: deliver each sale yourself before its "
                   f"delivery deadline (`datalicense agent` with this account, or `datalicense set-agent "
                   f"{r.dataset_id} ADDRESS`), or buyers are refunded", err=True)
    c.out(r.as_dict(), human)


@cli.command(name="list")
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
            what = f"({_clip(d.manifest_error, 70)})"
        else:
            what = f"{_clip(d.title, 36):<36}  {_clip(d.media_type, 24):<24} {_size(d.size):>9}"
        rows.append(f"{d.dataset_id:>5}  {what}  {d.price_text:>14}  {d.status:<8} v{d.version}  sold {d.sold}"
                    f"{'/' + str(d.supply_cap) if d.supply_cap else ''}  "
                    f"{owners.setdefault(d.owner, c.addr(d.owner)) if d.owner not in owners else owners[d.owner]}")
    filtered = any(v is not None for v in (text, owner, min_price, max_price, asset))
    c.out([], "\n".join(rows) if rows else ("no dataset matches" if filtered else "no datasets yet"))


def _clip(text: str, width: int) -> str:
    """Stranger's text on one line, escaped, at most `width` characters."""
    t = escape(text)
    return t if len(t) <= width else t[: width - 1] + "…"


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return "?"


@cli.command()
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
        f"{c.client.reader.amount_text(d.dispute_bond or 0, ZERO)} (fixed when you buy)",
        f"  licence      {term}, {'transferable' if d.transferable else 'soulbound'}",
        f"  sold         {d.sold}{' of ' + str(d.supply_cap) if d.supply_cap else ''}",
        f"  windows      delivery {d.delivery_window / 3600:g} h, dispute {d.dispute_window / 3600:g} h",
        f"  to buy       datalicense buy {d.dataset_id} --terms {d.terms_id} --version {d.version}",
        f"  version      {d.version}, manifest {d.manifest_cid}",
        f"  plaintext    {m.get('plaintext_size', '?')} bytes, sha256 {d.plaintext_sha256[2:]}",
        f"  media type   {escape(m.get('media_type', '?'))}",
    ])
    c.out(d.as_dict(), "\n".join(line for line in human.splitlines() if line))


@cli.command()
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
    from datalicense.errors import ConfigError

    key = delivery_key  # (x, y), checked by DeliveryKeyType
    if key is None and licensee:
        raise ConfigError("--for needs --delivery-key: the recipient's public key, so that the recipient can decrypt")
    # the buyer role refuses a dataset the holder-to-be already holds, unless --again
    r = c.client.buyer.buy(dataset_id, max_price=max_price, licensee=licensee, delivery_key=key, erc677=erc677,
                           terms_id=terms_id, version=version, again=again)
    c.out(r.as_dict(), f"licence {r.licence_id} bought for {r.price_text} (terms {r.terms_id}, version {r.version})"
                       f"\n  tx {r.tx_hash} (gas {r.gas_used:,})")


@cli.command()
@pass_ctx
def whoami(c: Ctx) -> None:
    """Print this account's address (in the network's casing), its balance and where its delivery keys come from."""
    client = c.client
    me = client.conn.tx.account.address
    balance = client.conn.w3.eth.get_balance(me)
    c.out({"address": c.addr(me), "chain_id": client.conn.chain_id, "balance": balance,
           "balance_text": client.reader.amount_text(balance, ZERO)},
          f"{c.addr(me)} on chain {client.conn.chain_id}, {client.reader.amount_text(balance, ZERO)}\n"
          "delivery keys: one per purchase, derived from this wallet (nothing to keep; `delivery-key` makes one "
          "to hand out)")


@cli.command(name="delivery-key")
@pass_ctx
def delivery_key_cmd(c: Ctx) -> None:
    """Print a fresh one-time delivery key to give someone who buys a licence for you (`buy --for`)."""
    _p, x, y, index = c.client.keys.gift_delivery_key()
    key = "04" + x.hex() + y.hex()
    c.out({"delivery_key": key, "index": index},
          f"{key}\n(give this to the buyer: `datalicense buy DATASET --for {c.client.conn.tx.account.address} "
          f"--delivery-key {key}`; it is derived from your wallet, nothing to keep)")


@cli.command(name="rotate-key")
@click.argument("licence_id", type=int)
@pass_ctx
def rotate_key(c: Ctx, licence_id: int) -> None:
    """Name a new one-time delivery key for a licence you hold (after a transfer, or a lost key)."""
    r = c.client.buyer.rotate_key(licence_id)
    c.out({"licence_id": licence_id, "tx": r.tx_hash}, f"licence {licence_id}: new delivery key named, tx {r.tx_hash}")


@cli.command()
@click.argument("licence_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to write the data.")
@click.option("--no-confirm", is_flag=True, help="Do not confirm the licence after a verified download.")
@pass_ctx
def fetch(c: Ctx, licence_id: int, output: Path, no_confirm: bool) -> None:
    """Download, decrypt and verify a licensed dataset, then confirm the licence. -o FOLDER writes
    FOLDER/dataset-ID-vN.EXT; a missing folder is refused, never created (as curl and wget do)."""
    from datalicense.infra.safefile import output_path

    output_path(output, "")  # a missing folder is refused before anything is fetched

    def notice() -> None:
        if not no_confirm and not c.as_json:
            click.echo(f"licence {licence_id}: once the data verifies, it is confirmed and the seller paid (your "
                       "dispute window ends); pass --no-confirm to keep it open and `confirm` or `dispute` later",
                       err=True)

    r = c.client.buyer.fetch(licence_id, output, confirm=not no_confirm, on_start=notice)
    if r.shares_commitment_with and not c.as_json:
        click.echo(f"note: version {r.version} shares its key commitment with version "
                   f"{', '.join(map(str, r.shares_commitment_with))} of the dataset (the seller reused a content key): "
                   f"what was written was checked against version {r.version}'s own hash", err=True)
    human = f"wrote {r.path} ({r.size} bytes, sha256 {r.sha256}, matches the on-chain commitment)"
    if r.confirmed_tx:
        human += f"\nlicence {licence_id} confirmed: tx {r.confirmed_tx}"
    c.out(r.as_dict(), human)


@cli.command()
@click.argument("licence_id", type=int)
@click.option("--redeliver", is_flag=True, help="Deliver the key of the current version to a valid licence.")
@pass_ctx
def deliver(c: Ctx, licence_id: int, redeliver: bool) -> None:
    """Deliver the content key of a sold licence by hand (the agent does this automatically)."""
    r = c.client.seller.deliver(licence_id, redeliver=redeliver)
    c.out({"licence_id": licence_id, "tx": r.tx_hash, "gas_used": r.gas_used},
          f"key delivered for licence {licence_id}: tx {r.tx_hash} (gas {r.gas_used:,})")


def _simple(name: str, method: str, done: str, help_text: str, after: str = "") -> None:
    @cli.command(name=name, help=help_text)
    @click.argument("licence_id", type=int)
    @pass_ctx
    def command(c: Ctx, licence_id: int) -> None:
        r = getattr(c.client.buyer, method)(licence_id)
        c.out({"licence_id": licence_id, "tx": r.tx_hash, "gas_used": r.gas_used},
              f"licence {licence_id} {done}: tx {r.tx_hash} (gas {r.gas_used:,}){after}")


_simple("confirm", "confirm", "confirmed", "Confirm a good delivery: the seller is paid.")
_simple("settle", "settle", "settled", "Settle a delivered licence after its dispute window.")
_simple("refund", "refund", "refunded", "Refund a licence whose key was not delivered in time (then `withdraw`).",
        "\n  the price is owed to the holder: `datalicense withdraw` pays it out")


@cli.command()
@click.argument("licence_id", type=int)
@click.option("--data", is_flag=True, help="The key works but the data is not as described (goes to the arbiter).")
@pass_ctx
def dispute(c: Ctx, licence_id: int, data: bool) -> None:
    """Dispute a delivery. A wrong key is proved in one transaction (you are refunded at once; refused when the
    key is right). A data dispute posts the licence's bond and goes to the arbiter."""
    r = c.client.buyer.dispute(licence_id, data=data,
                         on_send=None if c.as_json else (lambda text: click.echo(text, err=True)))
    if data:
        c.out({"licence_id": licence_id, "kind": "data", "tx": r.tx_hash},
              f"data dispute opened for licence {licence_id}: tx {r.tx_hash}")
    else:
        c.out({"licence_id": licence_id, "kind": "key", "outcome": "refunded", "tx": r.tx_hash},
              f"licence {licence_id}: the wrong key is proved and you are refunded (`datalicense withdraw`): "
              f"tx {r.tx_hash}")


@cli.command()
@click.option("--asset", type=ASSET, default="RBTC", help="Token address, or RBTC.")
@click.option("--to", type=ADDRESS, default=None, help="Pay to another address (default: your account).")
@pass_ctx
def withdraw(c: Ctx, asset: str, to: str | None) -> None:
    """Withdraw everything you are owed in one asset."""
    owed = c.client.reader.owed(asset)
    r = c.client.seller.withdraw(asset, to)
    text = c.client.reader.amount_text(owed, asset)
    c.out({"amount": owed, "amount_text": text, "asset": asset, "tx": r.tx_hash}, f"withdrew {text}: tx {r.tx_hash}")


@cli.command()
@click.option("--holder", type=ADDRESS, default=None, help="Another holder's address or dev:N (default: your account).")
@pass_ctx
def licences(c: Ctx, holder: str | None) -> None:
    """Your licences: dataset title, state, validity and the next deadline that matters to you."""
    from datalicense.cli.owner import licences_view

    c.out(*licences_view(c, c.client.reader.licences(holder)))


@cli.group()
def pool() -> None:
    """Data pools: many people's data, one licence, everyone paid."""


@pool.command(name="build")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--create", "create_pool", is_flag=True, help="Also create the pool on-chain (you are its curator).")
@click.option("--asset", type=ASSET, default="RBTC",
              help="With --create: the token the pool's dataset will be priced in (fixed for the pool).")
@click.option("--again", is_flag=True, help="With --create: create another pool even if you made one from this tree.")
@pass_ctx
def pool_build(c: Ctx, csv_file: Path, create_pool: bool, asset: str, again: bool) -> None:
    """Make the contributors' Merkle sum tree from CSV_FILE (account,weight), streaming, and add it to IPFS as a
    directory sharded by address (each contributor later fetches only its own shard)."""
    from datalicense.roles.pool import PoolClient
    from datalicense.infra.ipfs import Storage

    storage = c.client.conn.storage if create_pool else Storage(c.ipfs)
    info = PoolClient.build_and_store(storage, csv_file)
    out: dict[str, Any] = info.as_dict()
    human = (f"tree of {info.contributors} contributors in {info.shards} shards, total weight {info.total_weight}\n"
             f"  root 0x{info.root.hex()}\n  tree {info.cid}")
    if create_pool:
        made = [] if again else PoolClient.created_from(c.client.conn, info)
        if made:
            from datalicense.errors import ConfigError

            raise ConfigError(f"you already created pool {c.addr(made[-1])} from this contributor tree (root "
                              f"0x{info.root.hex()[:16]}…): use it, or pass --again to create another")
        out["pool"] = PoolClient.create(c.client.conn, info, asset)
        human += f"\n  pool {out['pool']} (publish its dataset with: datalicense publish FILE --pool {out['pool']} ...)"
    c.out(out, human)


@pool.command(name="show")
@click.argument("address", type=ADDRESS)
@pass_ctx
def pool_show(c: Ctx, address: str) -> None:
    """Accrued and claimed per epoch and asset for your account (fetching only your own proofs); consent
    revocations to act on."""
    p = c.client.pool(address)
    rows = p.standing()
    revoked = p.revoked()
    text = c.client.reader.amount_text
    lines = [f"epoch {r.epoch}: weight {r.weight}, claimed {text(r.claimed, r.asset)}, "
             f"claimable {text(r.claimable, r.asset)}{' (consent revoked)' if r.revoked else ''}"
             for r in rows] or ["you are not a contributor of this pool"]
    if revoked:
        lines.append(f"{len(revoked)} contributor(s) revoked consent: the next version must drop their records: "
                     + ", ".join(c.addr(a) for a in revoked))
    c.out({"standing": [r.as_dict() for r in rows], "revoked": revoked}, "\n".join(lines))


@pool.command(name="claim")
@click.argument("address", type=ADDRESS)
@pass_ctx
def pool_claim(c: Ctx, address: str) -> None:
    """Fetch your own proof of each epoch's tree, verify it against the root on chain, and claim everything
    accrued, in every asset."""
    done = c.client.pool(address).claim()
    c.out([{"epoch": e, "asset": s, "amount": a, "tx": t} for e, s, a, t in done],
          "\n".join(f"epoch {e}: claimed {c.client.reader.amount_text(a, s)}: tx {t}" for e, s, a, t in done))


@pool.command(name="revoke")
@click.argument("address", type=ADDRESS)
@pass_ctx
def pool_revoke(c: Ctx, address: str) -> None:
    """Revoke your consent: you keep what you earned and earn nothing more from this dataset."""
    tx = c.client.pool(address).revoke()
    c.out({"tx": tx}, f"consent revoked: tx {tx}")


@pool.command(name="version")
@click.argument("address", type=ADDRESS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="Title of the new version.")
@click.option("--description", default="", help="Description of the new version.")
@pass_ctx
def pool_version(c: Ctx, address: str, file: Path, csv_file: Path, title: str, description: str) -> None:
    """Publish a new version FILE of the pool's dataset with a new contributor tree from CSV_FILE: a new epoch.
    What contributors earned in earlier epochs stays theirs."""
    from datalicense.roles.pool import PoolClient

    p = c.client.pool(address)
    info = PoolClient.build_and_store(c.client.conn.storage, csv_file)
    epoch, tx = p.new_epoch(file, info, title, description)
    c.out({"epoch": epoch, "tx": tx, **info.as_dict()},
          f"epoch {epoch}: {info.contributors} contributors, total weight {info.total_weight}, tree {info.cid}: tx {tx}")


@pool.command(name="epoch")
@click.argument("address", type=ADDRESS)
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def pool_epoch(c: Ctx, address: str, csv_file: Path) -> None:
    """Start a new epoch with a new contributor tree from CSV_FILE and no new version of the data: only for a
    retired dataset (or one not published yet); a dataset on sale takes a new tree with `pool version`."""
    from datalicense.roles.pool import PoolClient

    p = c.client.pool(address)
    info = PoolClient.build_and_store(c.client.conn.storage, csv_file)
    epoch, tx = p.new_tree(info)
    c.out({"epoch": epoch, "tx": tx, **info.as_dict()},
          f"epoch {epoch}: {info.contributors} contributors, total weight {info.total_weight}, tree {info.cid}: tx {tx}")


@cli.command()
@click.option("--once", is_flag=True, help="Do what is due now and exit (for cron).")
@click.option("--confirmations", type=int, default=None,
              help="Blocks to wait before acting on an event (default: 12 on Rootstock mainnet and testnet, 0 locally).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between polls of the chain.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite journal (default: one per chain, contract and agent key in the home folder).")
@pass_ctx
def agent(c: Ctx, once: bool, confirmations: int | None, poll: float, db: Path | None) -> None:
    """Run the seller's delivery agent: deliver keys for every purchase, exactly once."""
    import logging

    from datalicense.services.agent import Agent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    client = c.client
    path = db or client.conn.state_dir / f"agent-{client.conn.tx.account.address.lower()}.sqlite"
    stats = Agent(client, path, confirmations=confirmations, poll_interval=poll).run(once=once)
    c.out(stats.__dict__, f"delivered {stats.delivered}, re-delivered {stats.redelivered}, "
                          f"skipped {stats.skipped}, failed {stats.failed}")


from datalicense.cli.pins import register as _register_pins  # noqa: E402

_register_pins(cli, Ctx)  # `pins`, `pins repair`, `retire`


def main() -> None:
    """Entry point: one-line errors, non-zero exit codes, never a traceback. Under --json (or DATALICENSE_JSON)
    the line is a JSON object on stderr: {"error": message, "kind": error type, "exit_code": n} and, for a decoded
    contract error, "revert": {"name", "args"}."""
    as_json = _json_requested(sys.argv[1:])
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort as exc:  # click turns Ctrl-C into Abort: say what the interrupt left behind
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            _fail(as_json, str(cause) or "interrupted", "Interrupted", 130)
        _fail(as_json, "aborted", "Aborted", 130)
    except click.ClickException as exc:
        where = getattr(getattr(exc, "ctx", None), "command_path", None)
        hint = f" (see `{where} --help`)" if where and isinstance(exc, click.UsageError) and not as_json else ""
        _fail(as_json, exc.format_message() + hint, type(exc).__name__, exc.exit_code)
    except DataLicenseError as exc:
        hint = " (start the local stack with `datalicense up` or `make up`)" if "reach the local node" in str(exc) else ""
        _fail(as_json, f"{exc}{hint}", type(exc).__name__, EXIT_ERROR, exc)
    except KeyboardInterrupt as exc:
        _fail(as_json, str(exc) or "interrupted", "Interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the user gets a line, developers set DATALICENSE_DEBUG
        if os.environ.get("DATALICENSE_DEBUG"):
            raise
        _fail(as_json, f"unexpected {type(exc).__name__}: {exc} (set DATALICENSE_DEBUG=1 for details)",
              type(exc).__name__, EXIT_ERROR)


def _json_requested(args: list[str]) -> bool:
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args or os.environ.get("DATALICENSE_JSON", "").lower() in ("1", "true", "yes", "on")


def _fail(as_json: bool, message: str, kind: str, code: int, exc: BaseException | None = None) -> None:
    """One line on stderr (`error: ...`, or under --json one JSON object), then exit with `code`."""
    if as_json:
        doc: dict[str, Any] = {"error": message, "kind": kind, "exit_code": code}
        if getattr(exc, "error_name", None):
            doc["revert"] = {"name": exc.error_name, "args": [a.hex() if isinstance(a, bytes) else a  # type: ignore[union-attr]
                                                              for a in exc.error_args]}  # type: ignore[union-attr]
        click.echo(json.dumps(doc, default=str), err=True)
    elif code == 130:
        click.echo(escape(message), err=True)
    else:
        click.echo(f"error: {escape(message)}", err=True)
    sys.exit(code)


from datalicense.cli.stack import register as _register_stack  # noqa: E402 - up, down, status

_register_stack(cli)
from datalicense.cli.owner import register as _register_owner  # noqa: E402 - set-agent, set-terms, pause, resume, new-version, transfer, accept, rule, resolve-default, sales

_register_owner(cli, Ctx)
from datalicense.cli.gateway import register as _register_gateway  # noqa: E402 - get, serve, refunds (HTTP 402)

_register_gateway(cli)
from datalicense.cli.web import register as _register_web  # noqa: E402 - web (the page)

_register_web(cli)

#: One example per command, shown at the end of its --help (tests/test_cli_conventions.py checks each has one).
EXAMPLES: dict[str, str] = {
    "publish": 'datalicense --account dev:3 publish clinic.csv --title "Clinic visits 2025" --price 0.002 --agent dev:5',
    "list": "datalicense list --text clinic --max-price 0.01",
    "show": "datalicense show 1",
    "buy": "datalicense --account dev:4 buy 1 --terms 1 --version 1",
    "whoami": "datalicense --account dev:4 whoami",
    "delivery-key": "datalicense --account dev:6 delivery-key",
    "rotate-key": "datalicense --account dev:4 rotate-key 1",
    "fetch": "datalicense --account dev:4 fetch 1 -o bought.csv",
    "deliver": "datalicense --account dev:3 deliver 1",
    "confirm": "datalicense --account dev:4 confirm 1",
    "settle": "datalicense settle 1",
    "refund": "datalicense --account dev:4 refund 1",
    "dispute": "datalicense --account dev:4 dispute 1 --data",
    "withdraw": "datalicense --account dev:3 withdraw",
    "licences": "datalicense --account dev:4 licences",
    "pool": "datalicense pool show 0xPOOL",
    "pool build": "datalicense --account dev:3 pool build contributors.csv --create",
    "pool show": "datalicense --account dev:7 pool show 0xPOOL",
    "pool claim": "datalicense --account dev:7 pool claim 0xPOOL",
    "pool revoke": "datalicense --account dev:7 pool revoke 0xPOOL",
    "pool version": 'datalicense --account dev:3 pool version 0xPOOL records.csv contributors.csv --title "v2"',
    "pool epoch": "datalicense --account dev:3 pool epoch 0xPOOL contributors-v2.csv",
    "agent": "datalicense --account dev:5 agent",
    "pins": "datalicense --account dev:3 pins 1",
    "pins repair": "datalicense --account dev:3 pins repair 1",
    "pins erase": "datalicense --account dev:3 pins erase 1 --version 1",
    "retire": "datalicense --account dev:3 retire 1",
    "up": "datalicense up",
    "down": "datalicense down",
    "status": "datalicense status",
    "set-agent": "datalicense --account dev:3 set-agent 1 dev:5",
    "set-terms": "datalicense --account dev:3 set-terms 1 --price 0.003 --delivery-hours 12",
    "set-price": "datalicense --account dev:3 set-price 1 0.003",
    "pause": "datalicense --account dev:3 pause 1",
    "resume": "datalicense --account dev:3 resume 1",
    "new-version": 'datalicense --account dev:3 new-version 1 clinic-v2.csv --title "Clinic visits 2025, v2"',
    "transfer": "datalicense --account dev:3 transfer 1 dev:7",
    "accept": "datalicense --account dev:7 accept 1",
    "rule": "datalicense --account dev:2 rule 1 --buyer-bps 5000",
    "resolve-default": "datalicense resolve-default 1",
    "sales": "datalicense --account dev:3 sales",
    "get": "datalicense --account dev:4 get http://127.0.0.1:8402/datasets/1 -o data.csv --max-request 0.01",
    "serve": "datalicense --account dev:3 serve --port 8402",
    "refunds": "datalicense --account dev:4 refunds --list",
    "web": "datalicense web --port 8600",
}
GLOBALS_EPILOG = ("Global options, before or after the command: --network (DATALICENSE_NETWORK, default local), "
                  "--account (DATALICENSE_ACCOUNT), --ipfs (DATALICENSE_IPFS_API), --address (DATALICENSE_ADDRESS), "
                  "--home (DATALICENSE_HOME), --fork (DATALICENSE_FORK), --chain-id (DATALICENSE_CHAIN_ID), --json "
                  "(DATALICENSE_JSON), --progress/--no-progress; see `datalicense --help`.")


def _document(group: click.Group, prefix: str = "") -> None:
    """Give every command its example and the global options at the end of its --help."""
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        example = EXAMPLES.get(path)
        cmd.epilog = (f"Example: {example}\n\n" if example else "") + GLOBALS_EPILOG
        if isinstance(cmd, click.Group):
            _document(cmd, path + " ")


_document(cli)

if __name__ == "__main__":
    main()

"""`datalicense pool ...`: data pools, many people's data under one licence, everyone paid: `build` (the
contributors' tree, and the pool), `show`, `claim`, `revoke` (a contributor's), `version`, `epoch` (the curator's).
Each parses, calls the pool role (datalicense.roles.pool), and prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datalicense.cli.context import Ctx, pass_ctx
from datalicense.cli.types import ADDRESS, ASSET
from datalicense.errors import ConfigError


@click.group()
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
    # reason: start-up (web3)
    from datalicense.infra.ipfs import Storage
    from datalicense.roles.pool import PoolClient

    storage = c.client.conn.storage if create_pool else Storage(c.ipfs)
    info = PoolClient.build_and_store(storage, csv_file)
    out: dict[str, Any] = info.as_dict()
    human = (f"tree of {info.contributors} contributors in {info.shards} shards, total weight {info.total_weight}\n"
             f"  root 0x{info.root.hex()}\n  tree {info.cid}")
    if create_pool:
        made = [] if again else PoolClient.created_from(c.client.conn, info)
        if made:
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
    text = c.amount
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
          "\n".join(f"epoch {e}: claimed {c.amount(a, s)}: tx {t}" for e, s, a, t in done))


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
    from datalicense.roles.pool import PoolClient  # reason: start-up (web3)

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
    from datalicense.roles.pool import PoolClient  # reason: start-up (web3)

    p = c.client.pool(address)
    info = PoolClient.build_and_store(c.client.conn.storage, csv_file)
    epoch, tx = p.new_tree(info)
    c.out({"epoch": epoch, "tx": tx, **info.as_dict()},
          f"epoch {epoch}: {info.contributors} contributors, total weight {info.total_weight}, tree {info.cid}: tx {tx}")


COMMANDS = (pool,)

"""Where the data lives and taking it down: `pins [DATASET]`, `pins repair`, `pins erase`, `retire [--erase]`. Each
parses, calls datalicense.roles.replicas, and prints."""

from __future__ import annotations

import sys
from typing import Any

import click

from datalicense.cli.context import Ctx, pass_ctx


class _PinsGroup(click.Group):
    """`pins [DATASET]` shows, `pins repair [DATASET]` repairs: a leading number is the dataset, not a command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].isdigit():
            ctx.meta["pins_dataset"] = int(args[0])
            args = args[1:]
        return super().parse_args(ctx, args)


def _ids(ctx: click.Context, dataset: int | None) -> list[int] | None:
    chosen = dataset if dataset is not None else ctx.meta.get("pins_dataset")
    return None if chosen is None else [int(chosen)]


def _show(c: Ctx, ids: list[int] | None) -> None:
    from datalicense.roles import replicas  # reason: start-up (web3)

    rows = replicas.where_pinned(c.client, ids)
    lines = []
    for row in rows:
        lines.append(f"dataset {row['datasetId']} version {row['version']}: manifest {row['manifestCid']}, "
                     f"ciphertext {row['ciphertextCid'] or '?'}")
        for name, state in row["nodes"].items():
            lines.append(f"  {state:<12} {name}" if " " not in state else f"  {name}: {state}")
    lacking = sum(1 for row in rows for s in row["nodes"].values() if s != replicas.PINNED)
    if rows:
        lines.append(f"{lacking} gap(s): run `datalicense pins repair`" if lacking else
                     "every version is pinned on every configured node")
    c.out(rows, "\n".join(lines) if lines else "no datasets of yours (published from this account or home)")


@click.group(cls=_PinsGroup, invoke_without_command=True)
@click.pass_context
def pins(ctx: click.Context) -> None:
    """Where every version of your datasets is pinned: your node and each replica (DATALICENSE_REPLICAS or
    HOME/replicas). `pins DATASET` for one dataset; `pins repair` re-pins what is missing."""
    if ctx.invoked_subcommand is None:
        _show(ctx.find_object(Ctx), _ids(ctx, None))


@pins.command(name="repair")
@click.argument("dataset", type=int, required=False)
@click.option("--wait", type=float, default=None,
              help="Seconds to wait for each node to finish (default DATALICENSE_REPLICA_WAIT or 120).")
@click.pass_context
def pins_repair(ctx: click.Context, dataset: int | None, wait: float | None) -> None:
    """Pin every version where it is missing, fetching it from a node that has it."""
    from datalicense.roles import replicas  # reason: start-up (web3)

    c = ctx.find_object(Ctx)
    done = replicas.repair(c.client, _ids(ctx, dataset), wait)
    lines = [f"dataset {d['datasetId']} version {d['version']} on {d['endpoint']}: {d['status']}"
             + (f" ({d['reason']})" if d["reason"] else "") for d in done]
    bad = [d for d in done if d["status"] != replicas.PINNED]
    if not done:
        lines = ["nothing to repair: every version is pinned on every reachable node"]
    c.out(done, "\n".join(lines))
    if bad:
        sys.exit(1)  # a gap left: non-zero for scripts and cron


@click.command()
@click.argument("dataset_id", type=int)
@click.option("--erase", is_flag=True,
              help="Also unpin every version from every configured node, collect garbage on the nodes you own, "
                   "delete the local content keys and upload records, and list what cannot be erased.")
@click.option("--yes", is_flag=True, help="Do not ask before erasing.")
@pass_ctx
def retire(c: Ctx, dataset_id: int, erase: bool, yes: bool) -> None:
    """Stop sales of a dataset for good (licences already sold stay valid)."""
    from datalicense.roles import erasure  # reason: start-up (web3)

    if erase and not yes and not c.as_json:
        click.confirm(f"erase every version of dataset {dataset_id}? The content keys go too: undelivered "
                      "licences can then only be refunded", abort=True, err=True)
    r = erasure.retire_and_erase(c.client, dataset_id, erase)
    lines = [f"dataset {dataset_id} retired" + (f": tx {r.retired_tx}" if r.retired_tx else " (it already was)")]
    out: dict[str, Any] = r.as_dict()
    c.out(out, "\n".join(lines + (_erasure_lines(r) if erase else [])))


@pins.command(name="erase")
@click.argument("dataset", type=int)
@click.option("--version", "versions", type=int, multiple=True, required=True,
              help="A version to erase (repeat for several); the others stay pinned and on sale.")
@click.option("--yes", is_flag=True, help="Do not ask before erasing.")
@pass_ctx
def pins_erase(c: Ctx, dataset: int, versions: tuple[int, ...], yes: bool) -> None:
    """Erase chosen versions of a dataset (a pool curator, after publishing the version without a contributor
    who revoked consent): unpinned everywhere, garbage collected where owned, their keys and records deleted."""
    from datalicense.roles import erasure  # reason: start-up (web3)

    if not yes and not c.as_json:
        click.confirm(f"erase version(s) {', '.join(map(str, versions))} of dataset {dataset}?", abort=True,
                      err=True)
    r = erasure.erase_versions(c.client, dataset, list(versions))
    c.out(r.as_dict(), "\n".join([f"dataset {dataset}: version(s) {', '.join(map(str, versions))} erased"]
                                 + _erasure_lines(r)))


def _erasure_lines(r: Any) -> list[str]:
    lines = [f"  {u['result']:<15} {u['cid']} on {u['endpoint']}" for u in r.unpinned]
    lines += [f"  {g['endpoint']}: {g['result']}" for g in r.collected]
    lines += [f"  deleted {f}" for f in r.deleted_files]
    return lines + ["cannot be erased:"] + [f"  - {x}" for x in r.cannot_erase]


COMMANDS = (pins, retire)

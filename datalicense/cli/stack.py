"""`datalicense up | down | status`: the local stack that stays up (see datalicense/services/stack.py)."""

from __future__ import annotations

from typing import Any

import click

from datalicense.cli.context import Ctx, pass_ctx


AGENT_EXAMPLE = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # dev:5


def _describe(s: dict[str, Any]) -> list[str]:
    chain, ipfs = s["chain"], s["ipfs"]
    lines = [
        f"  chain        {chain['rpc']}  (Ganache, chain id {chain['chainId']}, "
        + (f"pid {chain['pid']}, behind a front that refuses other web sites" if chain["running"] else "stopped")
        + f"; state in {chain['database']})",
        f"  IPFS         {ipfs['api']}  (Kubo, " + (f"pid {ipfs['pid']}" if ipfs["running"] else "stopped")
        + f"; gateway {ipfs['gateway']}; repository {ipfs['repo']})",
    ]
    c = s["contracts"]
    if c:
        lines.append(f"  marketplace  {c.get('DataLicense', '?')}  (lens {c.get('DataLicenseLens', '?')}, "
                     f"pools {c.get('RevenuePool', '?')}; recorded in {s['deployments']})")
    else:
        lines.append("  marketplace  not deployed yet")
    for key, label, what in (("web", "web page", "open it in a browser with a wallet"),
                             ("serve", "HTTP 402", "datasets at /datasets/ID for AI buyers")):
        svc = s.get(key)
        if svc:
            lines.append(f"  {label:<12} {svc['url']}  (" + (f"pid {svc['pid']}; {what}" if svc["running"] else "stopped")
                         + ")")
    return lines


@click.command()
@pass_ctx
def up(c: Ctx) -> None:
    """Start the local stack (chain, IPFS, marketplace) in the data folder; it stays up until `down`."""
    from datalicense.services.stack import Stack  # reason: start-up (web3)

    s = Stack(c.home).up()
    head = "local stack up" if s["started"] else "local stack already up"
    lines = [f"{head} (data folder {s['home']})", *_describe(s),
             "  accounts     dev:0 admin, dev:1 fee recipient, dev:2 arbiter; dev:0 .. dev:9 hold 1,000,000 RBTC each",
             f"next: datalicense --account dev:3 publish FILE --title \"My data\" --price 0.002 --agent {AGENT_EXAMPLE}",
             "      (README, \"From a terminal\"); `datalicense down` stops the stack, `datalicense up` brings it back"]
    c.out(s, "\n".join(lines))


@click.command()
@pass_ctx
def down(c: Ctx) -> None:
    """Stop the local stack; its chain, IPFS repository and deployments stay in the data folder for `up`."""
    from datalicense.services.stack import Stack  # reason: start-up (web3)

    stopped = Stack(c.home).down()
    names = {"ganache": "the chain", "front": "the chain's front", "kubo": "Kubo", "web": "the web page",
             "serve": "the HTTP 402 gateway"}
    c.out({"stopped": stopped}, f"stopped {', '.join(names[n] for n in stopped)}"
          if stopped else "the local stack was not running")


@click.command()
@pass_ctx
def status(c: Ctx) -> None:
    """Say what of the local stack runs, and where."""
    from datalicense.services.stack import Stack  # reason: start-up (web3)

    s = Stack(c.home).status()
    running = s["chain"]["running"] and s["ipfs"]["running"]
    partly = s["chain"]["running"] or s["ipfs"]["running"]
    head = "local stack up" if running else ("local stack partly up (run `datalicense up`)" if partly
                                             else "local stack down (start it with `datalicense up` or `make up`)")
    c.out(s, "\n".join([f"{head} (data folder {s['home']})", *_describe(s)]))


COMMANDS = (up, down, status)

"""The global options of `datalicense`, each defined once with its environment variable, and the group that
takes them before or after the command (`datalicense --json show 1` and `datalicense show 1 --json` are the same)."""

from __future__ import annotations

import sys
from typing import Any, Callable

import click

from datalicense.cli.types import ADDRESS

#: The global options, each defined once with its environment variable; `datalicense` takes them before or after
#: the command (MainGroup.parse_args moves them), and every command's --help lists them.
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


def global_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(GLOBAL_OPTIONS):
        f = option(f)
    return f


def _takes_value(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and not param.is_flag and not param.count


class MainGroup(click.Group):
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

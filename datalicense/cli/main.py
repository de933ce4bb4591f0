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

import sys

try:  # Ctrl-C while the command line loads (before main() runs): one line and exit 130, as at any other time
    import json
    import os
    import shutil
    import uuid
    from pathlib import Path
    from typing import Any

    import click

    from datalicense.cli import account, arbiter, buyer, datasets, gateway, owner, pins, pools, seller, stack, web
    from datalicense.cli.context import Ctx, pass_ctx  # noqa: F401 - Ctx and pass_ctx: this module's API for tests
    from datalicense.cli.examples import EXAMPLES, document  # noqa: F401 - EXAMPLES: read by the conventions test
    from datalicense.cli.options import MainGroup, global_options
    from datalicense.errors import DataLicenseError
    from datalicense.infra.home import default_home
    from datalicense.infra.stackdefaults import apply_defaults
    from datalicense.protocol.textsafe import escape
except KeyboardInterrupt:
    sys.stderr.write('{"error": "interrupted", "kind": "Interrupted", "exit_code": 130}\n' if "--json" in sys.argv
                     else "interrupted\n")
    raise SystemExit(130) from None

EXIT_ERROR = 1

#: The command groups, one module each (as ApeWorX ape's CLI): each module lists its commands in COMMANDS.
GROUPS = (datasets, buyer, account, seller, owner, arbiter, pools, pins, gateway, web, stack)


@click.group(cls=MainGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
             epilog="Global options go before or after the command. Example: datalicense --account dev:4 show 1 "
                    "(`datalicense COMMAND --help` for each command).")
@global_options
@click.version_option(package_name="datalicense")
@click.pass_context
def cli(ctx: click.Context, network: str, account: str | None, ipfs: str | None, address: str | None,
        home: str | None, fork: str | None, chain_id: int | None, as_json: bool, progress: bool) -> None:
    """License data on Rootstock: publish, buy and fetch encrypted datasets."""
    namespace = None
    if fork:
        network, namespace = _rehearsal(ctx, fork, home)
    elif network == "local":  # the stack `datalicense up` keeps running in this data folder, if any
        ipfs = apply_defaults(Path(home) if home else None, ipfs)
    ctx.obj = Ctx(network, account, ipfs, address, home, as_json, progress, int(chain_id) if chain_id else None,
                  namespace)


def _rehearsal(ctx: click.Context, fork: str, home: str | None) -> tuple[str, str]:
    """--fork: a throwaway Ganache fork of `fork` (a network name or URL), stopped when the command ends, and a
    namespace of local state of its own (agent journal, index, keys, uploads), discarded after the run. Returns
    (the fork's RPC URL, the namespace)."""
    # reason: start-up (web3; only a rehearsal starts a fork)
    from datalicense.infra.chain import NETWORKS
    from datalicense.services.localstack import GanacheFork

    forked = GanacheFork(NETWORKS.get(fork, (fork, None))[0]).start()
    ctx.call_on_close(forked.stop)
    namespace = f"fork-{uuid.uuid4().hex[:12]}"
    scratch = (Path(home) if home else default_home()) / "chains" / namespace
    ctx.call_on_close(lambda: shutil.rmtree(scratch, ignore_errors=True))
    return forked.url, namespace


for _group in GROUPS:
    for _command in _group.COMMANDS:
        cli.add_command(_command)
document(cli)


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


if __name__ == "__main__":
    main()

"""`datalicense web`: the page for buyers and owners (datalicense.services.web), and the --allow-host option both
local servers take (`web`, `serve`)."""

from __future__ import annotations

import os

import click

from datalicense.cli.context import Ctx, pass_ctx
from datalicense.protocol.hosts import host_rule, parse_list

#: `--allow-host NAME` (repeatable) for both local servers; $DATALICENSE_ALLOWED_HOSTS adds names (comma-separated).
allow_host_option = click.option(
    "--allow-host", multiple=True, metavar="NAME[:PORT]",
    help="Also answer requests for this host name (repeatable; also $DATALICENSE_ALLOWED_HOSTS, comma-separated). "
         "By default only 127.0.0.1, localhost and [::1] with the port are answered (no DNS rebinding).")


def allowed_hosts(given: tuple[str, ...]) -> tuple[str, ...]:
    """The names of --allow-host and $DATALICENSE_ALLOWED_HOSTS, each checked (one line if one is not a name)."""
    names = tuple(given) + tuple(parse_list(os.environ.get("DATALICENSE_ALLOWED_HOSTS")))
    host_rule(0, configured=names)  # ConfigError naming the first that is not a host name
    return names


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8600, show_default=True, type=int)
@click.option("--gateway", default=None,
              help="IPFS HTTP gateway the page downloads from (default: the Kubo's own gateway).")
@allow_host_option
@pass_ctx
def web(c: Ctx, host: str, port: int, gateway: str | None, allow_host: tuple[str, ...]) -> None:
    """Serve the web page (browse, buy, fetch in the browser, owners' sales): no keys, the wallet signs."""
    from datalicense.services.web import DIST, Web, kubo_gateway  # reason: start-up (web3, starlette)

    hosts = allowed_hosts(allow_host)
    client = c.connect_without_account()
    gw = gateway or kubo_gateway(client.conn.storage.api)
    rpc = getattr(client.conn.w3.provider, "endpoint_uri", None)
    if not (DIST / "index.html").exists():
        click.echo("the page is not built yet: run `make setup` (or tools/web-build.sh); serving the API only", err=True)
    click.echo(f"page for marketplace {client.conn.address} (chain {client.conn.chain_id}) on http://{host}:{port}/ "
               f"(IPFS gateway {gw})", err=True)
    Web(client, gw, rpc, allowed_hosts=hosts).serve(host, port)


COMMANDS = (web,)

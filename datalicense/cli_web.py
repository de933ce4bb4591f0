"""`datalicense web`: the page for buyers and owners (see datalicense/web.py); `register(cli)` adds it to the
group (the command receives the group's context object, so `python -m datalicense.cli` works too)."""

from __future__ import annotations

from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8600, show_default=True, type=int)
@click.option("--gateway", default=None,
              help="IPFS HTTP gateway the page downloads from (default: the Kubo's own gateway).")
@click.pass_obj
def web(c: Any, host: str, port: int, gateway: str | None) -> None:
    """Serve the web page (browse, buy, fetch in the browser, owners' sales): no keys, the wallet signs."""
    from .client import Client
    from .web import DIST, Web, kubo_gateway

    client = Client.connect(c.network, None, c.ipfs, c.address, c.home, namespace=c.namespace, chain_id=c.chain_id)
    gw = gateway or kubo_gateway(client.conn.storage.api)
    rpc = getattr(client.conn.w3.provider, "endpoint_uri", None)
    if not (DIST / "index.html").exists():
        click.echo("the page is not built yet: run `make setup` (or tools/web-build.sh); serving the API only", err=True)
    click.echo(f"page for marketplace {client.conn.address} (chain {client.conn.chain_id}) on http://{host}:{port}/ "
               f"(IPFS gateway {gw})", err=True)
    Web(client, gw, rpc).serve(host, port)


def register(group: click.Group) -> None:
    group.add_command(web)

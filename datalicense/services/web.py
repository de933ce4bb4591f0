"""The web page's server: a JSON API over the chain and the event index, and the built front-end (`DIST`).

It holds no keys and sends no transactions: the page signs everything with the user's wallet (EIP-1193). The
API only reads: datasets (with their manifests, read with the package's limits and schema), licences with their
deliveries and delivery keys, an owner's sales and money flow, and the one-line text of a revert.

    datalicense web --port 8600        (or `make up`, which starts it with the local stack)
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from datalicense.services.serving import BackgroundServer, EdgeLimits, ServerLock, uvicorn_config
from datalicense.protocol import keywrap
from datalicense.infra import deployments
from datalicense.infra.chain import decode_revert, gas_price, normalize_address
from datalicense.infra.ipfs import Storage
from datalicense.errors import DataLicenseError
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.flow import MoneyFlow
from datalicense.protocol import delivery as rule
from datalicense.services.webjson import ApiJSON, asset_list
from datalicense.services.weblisting import DatasetsView
from datalicense.services.webpools import PoolsView

if TYPE_CHECKING:
    from datalicense.client import Client

#: The built page: $DATALICENSE_WEB_DIST, else the bundle shipped in the package (datalicense/webpage, which
#: tools/web-build.sh writes from web/ and the wheel carries).
DIST = Path(os.environ.get("DATALICENSE_WEB_DIST") or str(resources.files("datalicense") / "webpage"))

#: What a wallet needs to add a network (wallet_addEthereumChain); the local chain gets its RPC URL at run time.
CHAINS = {
    30: {"chainName": "Rootstock Mainnet", "rpcUrls": ["https://public-node.rsk.co"],
         "blockExplorerUrls": ["https://explorer.rootstock.io"]},
    31: {"chainName": "Rootstock Testnet", "rpcUrls": ["https://public-node.testnet.rsk.co"],
         "blockExplorerUrls": ["https://explorer.testnet.rootstock.io"]},
    33: {"chainName": "Rootstock local (regtest)", "rpcUrls": [], "blockExplorerUrls": []},
}


#: A search that is an address (0x and 40 hex digits) is parsed as one.
ADDRESS_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}")

#: Seconds "My pools" waits for contributor trees not read yet.
POOLS_WAIT = 6.0


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


class Web:
    """The API of one marketplace deployment, for one page."""

    def __init__(self, client: "Client", gateway_url: str, rpc_url: str | None = None, dist: Path = DIST,
                 allowed_hosts: Sequence[str] = (), pool_factories: Sequence[str] | None = None,
                 limits: EdgeLimits | None = None):
        """allowed_hosts: Host names answered besides the local ones (datalicense.protocol.hosts); pool_factories:
        the pools' factories "My pools" lists pools of (default: RevenuePool in the deployments file)."""
        self.client = client
        self.gateway_url = gateway_url.rstrip("/")
        self.rpc_url = rpc_url
        self.dist = Path(dist)
        self.limits = replace(limits or EdgeLimits(), allowed_hosts=tuple(allowed_hosts))
        # Starlette runs the blocking handlers in a thread pool; web3 and the index are used by one request at a
        # time, and nobody holds the lock while waiting for IPFS (datalicense.infra.ipfsreads; `_manifest`)
        self.lock = ServerLock()
        self.datasets_view = DatasetsView(client, self.lock)
        factories = (lambda: list(pool_factories)) if pool_factories is not None else self._deployed_factories
        self.pools = PoolsView(client.conn, factories)
        routes = [
            Route("/api/config", self.config),
            Route("/api/datasets", self.datasets),
            Route("/api/datasets/{id:int}", self.dataset),
            Route("/api/datasets/{id:int}/held/{address}", self.held),
            Route("/api/licences/{id:int}", self.licence),
            Route("/api/accounts/{address}", self.account),
            Route("/api/contributors/{address}", self.contributor),
            Route("/api/explain", self.explain, methods=["POST"]),
        ]
        if (self.dist / "assets").is_dir():
            routes.append(Mount("/assets", StaticFiles(directory=self.dist / "assets")))
        routes.append(Route("/{path:path}", self.index))
        self.app = Starlette(routes=routes, exception_handlers={Exception: self._error})

    # ------------------------------------------------------------------------------------------ helpers

    async def _error(self, request: Request, exc: Exception) -> Response:
        status = 404 if type(exc).__name__ == "NotFoundError" else 400 if isinstance(exc, DataLicenseError) else 500
        msg = str(exc) if isinstance(exc, DataLicenseError) else f"internal error ({type(exc).__name__})"
        return ApiJSON({"error": msg.splitlines()[0][:300] if msg else "error"}, status_code=status)

    def _manifest(self, cid: str) -> dict[str, Any]:
        """The manifest at cid as a dict, or {"error": reason} (datalicense.services.weblisting: read once, the page's lock
        given up while waiting for IPFS)."""
        return self.datasets_view.manifest(cid)

    def _summary(self, dataset_id: int) -> dict[str, Any]:
        return self.datasets_view.summary(dataset_id)

    def _purchases(self, **filters: Any) -> list[Any]:
        ev = self.client.conn.contract.events.LicencePurchased()
        return list(ev.get_logs(from_block=self.client.conn.deploy_block, argument_filters=filters))

    def _sale(self, log: Any) -> dict[str, Any]:
        a = log["args"]
        lid = int(a["licenceId"])
        block = self.client.conn.w3.eth.get_block(log["blockNumber"])
        market = self.client.conn.market
        asset = market.asset_address(market.terms(int(a["termsId"])).asset_id)  # paid in the asset of its terms
        return {"licenceId": lid, "datasetId": int(a["datasetId"]), "licensee": a["licensee"], "payer": a["payer"],
                "price": str(a["price"]), "asset": asset,
                "priceText": self.client.reader.amount_text(int(a["price"]), asset),
                "version": int(a["version"]), "block": log["blockNumber"], "time": int(block["timestamp"]),
                "state": self.client.conn.market.licence(lid).state.label}

    # ---------------------------------------------------------------------------------------------- API

    def config(self, request: Request) -> Response:
        with self.lock:
            c = self.client
            chain = dict(CHAINS.get(c.conn.chain_id, {"chainName": f"chain {c.conn.chain_id}", "rpcUrls": [],
                                                  "blockExplorerUrls": []}))
            if c.conn.rehearsal:  # the wallet signs for the fork and sends to it, never to the real chain
                chain = {"chainName": f"{chain['chainName']} (rehearsal on a fork)", "rpcUrls": [],
                         "blockExplorerUrls": []}
            if self.rpc_url and not chain["rpcUrls"]:
                chain["rpcUrls"] = [self.rpc_url]
            wallet_chain = c.conn.node_chain_id  # datalicense/protocol/rehearsal.py
            return ApiJSON({
                "chainId": wallet_chain, "chainIdHex": hex(wallet_chain), "contract": c.conn.address,
                "currency": c.conn.currency, "gatewayUrl": self.gateway_url, "chain": chain,
                "deliveryKeyMessage": keywrap.delivery_key_message(c.conn.chain_id, c.conn.address),
                "gasPrice": str(gas_price(c.conn.w3)),
                "disputeBond": str(c.conn.market.current_settings().dispute_bond),
            })

    async def datasets(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        if ADDRESS_SHAPE.fullmatch(q):  # an address searched for: the one address rule, as `list --owner` takes it
            try:
                normalize_address(q, self.client.conn.chain_id)
            except DataLicenseError as exc:
                return ApiJSON({"error": str(exc)}, status_code=400)
        q = q.lower()
        rows = await self.datasets_view.listing()
        if q:
            rows = [r for r in rows if q in f"{r['id']} {r['title']} {r['description']} {r['owner']}".lower()]
        return ApiJSON({"datasets": rows})

    async def dataset(self, request: Request) -> Response:
        return ApiJSON(await self.datasets_view.dataset(int(request.path_params["id"]), self._sales_of))

    def _sales_of(self, dataset_id: int) -> list[dict[str, Any]]:
        return [self._sale(lg) for lg in self._purchases(datasetId=dataset_id)]

    def held(self, request: Request) -> Response:
        """The licence an account already holds for a dataset (the buyer role's rule, `Buyer.held`): the page asks
        before buying and buys another only on a second click."""
        dataset_id = int(request.path_params["id"])
        try:
            who = normalize_address(request.path_params["address"], self.client.conn.chain_id)
        except DataLicenseError as exc:
            return ApiJSON({"error": str(exc)}, status_code=400)
        with self.lock:
            lid = self.client.buyer.held(dataset_id, who)
            state = self.client.conn.market.licence(lid).state.label if lid is not None else None
        return ApiJSON({"datasetId": dataset_id, "address": who, "licenceId": lid, "state": state})

    def licence(self, request: Request) -> Response:
        lid = int(request.path_params["id"])
        with self.lock:
            c = self.client
            info = c.reader.licence(lid)
            w3 = c.conn.w3
            keys = []
            for k in c.reader.delivery_keys(lid):
                tx = w3.eth.get_transaction(k["tx"])
                keys.append({"x": _hex(k["x"]), "y": _hex(k["y"]), "tx": k["tx"], "nonce": int(tx["nonce"]),
                             "from": tx["from"], "block": k["block"], "logIndex": k["logIndex"]})
            deliveries = [{"escrowed": d.escrowed, "block": d.block, "logIndex": d.log_index,
                           "rX": _hex(d.wrap.r_x), "rY": _hex(d.wrap.r_y),
                           "wrappedKey": _hex(d.wrap.wrapped_key), "keyHash": _hex(d.key_hash)}
                          for d in c.reader.deliveries(lid)]
            versions = self._bound_versions(info.dataset_id, info.version, deliveries)
            lic = c.conn.market.licence(lid)
            clock = c.conn.market.clock(lid, lic)
            now = c.conn.market.now()
            # the clock's dates (datalicense.protocol.lifecycle): the delivery deadline while pending, the end of
            # the dispute window once delivered, the arbiter's deadline (from the dispute) while disputed
            deadline = clock.deliver_by or clock.dispute_by or clock.arbiter_by or 0
            nxt = clock.next_deadline()
            out = info.as_dict()
            asset = c.conn.market.asset_address(c.conn.market.terms(lic.terms_id).asset_id)
            owed = c.conn.market.balance_owed(asset, lic.holder)  # a refund is withdrawn from here
            c.reader.index.update()  # its dataset's newest version may be newer than any listing shown
            out.update({"datasetTitle": self._summary(info.dataset_id)["title"], "asset": asset,
                        "holderOwed": str(owed), "holderOwedText": c.reader.amount_text(owed, asset)})
            out.update({"price": str(info.price), "keys": keys, "deliveries": deliveries, "deadline": deadline,
                        "versions": versions,
                        "next": nxt.label, "nextAt": nxt.at,
                        "actions": sorted(a.value for a in clock.allowed(now)),
                        "disputeBond": str(c.conn.market.settings(lic.settings_id).dispute_bond),
                        "disputeBondText": c.reader.amount_text(
                            c.conn.market.settings(lic.settings_id).dispute_bond, ZERO),
                        "now": now})
        return ApiJSON(out)

    def _bound_versions(self, dataset_id: int, bought: int,
                        deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The dataset's versions for the page (datalicense.protocol.delivery's records, with the manifest of each
        version a delivery opens), and each delivery's version, decided by the one rule the page's JavaScript mirrors
        (which also flags versions sharing a key commitment)."""
        versions = rule.versions_of(dataset_id, self.client.reader.versions(dataset_id))
        opened: set[int] = set()
        for d in deliveries:
            v = rule.bound_version(rule.Delivery(d["escrowed"], d["block"], d["logIndex"], d["keyHash"]), dataset_id,
                                   bought, versions)
            d["version"] = v.number if v is not None else None
            opened |= {v.number} if v is not None else set()
        return [{"datasetId": v.dataset_id, "version": v.number, "manifestCid": v.manifest_cid,
                 "plaintextHash": v.plaintext_hash, "keyHash": v.key_hash, "block": v.block,
                 **({"manifest": self._manifest(v.manifest_cid)} if v.number in opened else {})}
                for v in sorted(versions, key=lambda v: v.number)]

    def account(self, request: Request) -> Response:
        """An account's licences, the datasets it owns with their sales and money flow, and what it is owed: in RBTC,
        and in each token its datasets were sold in or its licences bought in (`tokensOwed`, those owing something)."""
        try:
            who = normalize_address(request.path_params["address"], self.client.conn.chain_id)
        except DataLicenseError as exc:
            return ApiJSON({"error": str(exc)}, status_code=400)
        with self.lock:
            c = self.client
            c.reader.index.update()
            licences = [self._sale(lg) for lg in self._purchases(licensee=who)]
            owned = [int(i) for i, d in c.reader.index.datasets.items()
                     if str(d.get("owner", "")).lower() == who.lower()]
            datasets = []
            for ds in sorted(owned):
                summary = self._summary(ds)
                sales = [self._sale(lg) for lg in self._purchases(datasetId=ds)]
                summary["sales"] = sales
                summary["flows"] = self._flows(ds, summary["asset"])
                summary["flow"] = summary["flows"][0]
                summary["pendingDelivery"] = [s["licenceId"] for s in sales if s["state"] == "Pending"]
                datasets.append(summary)
            owed = c.conn.market.balance_owed(ZERO, who)
            # tokens: those its datasets were sold in (to the owner) and its licences were bought in (refunds)
            tokens = {f["asset"] for d in datasets for f in d["flows"]} | {lic["asset"] for lic in licences}
            tokens_owed = [{**a, "owed": str(units), "owedText": c.reader.amount_text(units, a["asset"])}
                           for a in asset_list(tokens - {ZERO}, c.reader.asset_info)
                           if (units := c.conn.market.balance_owed(a["asset"], who))]
        return ApiJSON({"address": who, "licences": licences, "datasets": datasets, "owed": str(owed),
                        "owedText": c.reader.amount_text(owed, ZERO), "tokensOwed": tokens_owed,
                        "currency": c.conn.currency})

    def _flows(self, dataset_id: int, current_asset: str) -> list[dict[str, Any]]:
        """Where the money of a dataset's sales went, per asset it was sold in (the current one first): the CLI's
        `sales` computation (MarketReader.money_flow: paid in = to the owner + fees + refunded + to the buyer by
        ruling + in escrow), amounts as strings in the asset's smallest units and as text in its own units, and the
        running totals over time (one point per block that moved money)."""
        c = self.client
        flows = c.reader.money_flow([dataset_id])
        picked = [a for a in flows if flows[a].paid] or [current_asset]
        picked.sort(key=lambda a: a != current_asset)
        out = []
        times: dict[int, int] = {}
        for asset in picked:
            f = flows.get(asset) or MoneyFlow(asset=asset)
            decimals, symbol = c.reader.asset_info(asset)
            series = []
            for block, totals in f.series():
                if block not in times:
                    times[block] = int(c.conn.w3.eth.get_block(block)["timestamp"])
                series.append({"block": block, "time": times[block], **{k: str(v) for k, v in totals.items()}})
            totals = f.totals()
            out.append({"asset": asset, "symbol": symbol, "decimals": decimals, **{k: str(v) for k, v in totals.items()},
                        "text": {k: c.reader.amount_text(v, asset) for k, v in totals.items()}, "series": series})
        return out

    async def contributor(self, request: Request) -> Response:
        """The pools an account contributes to (datalicense.services.webpools: only pools the pools' factory made; one that
        cannot be read is listed under "skipped" with the reason): per epoch and asset its weight, what it claimed
        and can claim (with the proof a claim needs), whether it revoked consent; and the transparency list: every
        licence sold of the pool's dataset, when, to whom, at what price, what the pool received and the account's
        share of it."""
        try:
            who = normalize_address(request.path_params["address"], self.client.conn.chain_id)
        except DataLicenseError as exc:
            return ApiJSON({"error": str(exc)}, status_code=400)

        def plans() -> Any:
            with self.lock:
                return self.pools.plans(who)

        def rows() -> Any:
            with self.lock:
                self.client.reader.index.update()  # a pool's dataset may be newer than any listing shown
                return self.pools.rows(who, found, trees, self._sales_of, lambda ds: str(self._summary(ds)["title"]))

        found, skipped = await run_in_threadpool(plans)
        trees = await self.pools.reads.aget_many([key for p in found for _, key in p.trees], POOLS_WAIT)
        pools, more = await run_in_threadpool(rows)

        def assets() -> list[dict[str, Any]]:  # each asset an amount of the answer is in, for the page to format it
            with self.lock:
                return asset_list([x["asset"] for p in pools for x in p["rows"] + p["sales"]],
                                  self.client.reader.asset_info)

        return ApiJSON({"address": who, "pools": pools, "skipped": skipped + more,
                        "assets": await run_in_threadpool(assets), "currency": self.client.conn.currency})

    def _deployed_factories(self) -> list[str]:
        """RevenuePool in the deployments file of this chain, if there is one (read at each use: `up` writes it)."""
        try:
            return [deployments.address_of(self.client.conn.chain_id, "RevenuePool")]
        except DataLicenseError:
            return []

    async def explain(self, request: Request) -> Response:
        """The one-line text the CLI gives for revert data (the page never shows raw revert data). The body is
        bounded before it gets here (datalicense.services.serving.Edge: at most limits.max_body_bytes)."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        data = str(body.get("data") or "")[:20000] if isinstance(body, dict) else ""
        return ApiJSON({"message": decode_revert(data)})

    def index(self, request: Request) -> Response:
        page = self.dist / "index.html"
        if not page.exists():
            return Response("the page is not built: run `make setup` (or tools/web-build.sh)\n", status_code=503,
                            media_type="text/plain")
        # the page runs only its own bundle and talks only to this server and the IPFS gateway: text from manifests
        # is never markup, and this policy makes that hold even if a bug let some through
        csp = (f"default-src 'self'; script-src 'self'; connect-src 'self' {self.gateway_url}; "
               "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
               "frame-ancestors 'none'; form-action 'self'")
        return FileResponse(page, headers={"Cache-Control": "no-store", "Content-Security-Policy": csp,
                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})

    # ---------------------------------------------------------------------------------------------- run

    def config_for(self, host: str, port: int) -> Any:
        return uvicorn_config(self.app, host, port, self.limits)

    def serve(self, host: str = "127.0.0.1", port: int = 8600) -> None:
        import uvicorn  # start-up: the server is loaded only when the page is served from here

        uvicorn.Server(self.config_for(host, port)).run()


class Running(BackgroundServer):
    """The page served from a background thread (tests)."""

    def __init__(self, web: Web, host: str = "127.0.0.1", port: int = 0):
        super().__init__(web.config_for, "the page's server", host, port)


def kubo_gateway(api: str) -> str:
    """The HTTP gateway URL of the Kubo whose RPC API is at `api` (from its Addresses.Gateway setting)."""
    scheme, host, port = Storage(api)._endpoint()
    url = f"{scheme}://{host}:{port}/api/v0/config?arg=Addresses.Gateway"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=5) as resp:
            value = json.loads(resp.read())["Value"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataLicenseError(f"cannot read the gateway address of the Kubo at {api} ({exc}): pass --gateway") from exc
    addr = value[0] if isinstance(value, list) else value
    parts = str(addr).split("/")
    if len(parts) < 5 or parts[3] != "tcp" or parts[4] == "0":
        raise DataLicenseError(f"the Kubo at {api} has gateway address {addr!r}: pass --gateway URL")
    gw_host = "127.0.0.1" if parts[2] in ("0.0.0.0", "::") else parts[2]
    return f"http://{gw_host}:{parts[4]}"


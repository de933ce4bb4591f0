"""The front of the local chain's RPC: refuses web pages from elsewhere, forwards the rest to Ganache.

`datalicense up` runs Ganache on a loopback port nobody is told, under a private path (its HTTP server answers 404
anywhere else) and without its WebSocket server, and this front on the chain's public port (8560). Ganache itself
answers any Origin; the front decides instead (datalicense.protocol.origins, datalicense.protocol.hosts):

- a request whose Host is not a local name (DNS rebinding) gets 421 (datalicense.services.serving's edge, which also times
  request heads and bounds bodies);
- a request from a foreign Origin gets 403 and no CORS permission, so no page from elsewhere can use the
  development accounts (their keys are public, the marketplace's admin among them) or rewrite the chain;
- an allowed browser origin (a wallet extension, the stack's page) gets CORS permission for what a wallet needs;
- a request without an Origin (the CLI, the agent, the page's server, scripts) is forwarded as it came.

Run as `python -m datalicense.services.chainfront --port P --upstream URL [--page-port W] [--allow-origin O]
[--allow-host H]` (datalicense/services/stack.py starts it); `ChainFront` is the ASGI application.
"""

from __future__ import annotations

import asyncio
import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from datalicense.errors import DataLicenseError
from datalicense.protocol.hosts import parse_list
from datalicense.protocol.origins import OriginRule, browser_may_call, browser_refusal, origin_rule
from datalicense.services.serving import EdgeLimits, uvicorn_config

#: The front's edge: every local tool connects from 127.0.0.1, so the per-client cap is the whole budget; bodies up
#: to a contract deployment's many times over.
LIMITS = EdgeLimits(max_connections=512, max_per_client=256, max_body_bytes=8 * 1024 * 1024, body_timeout=30.0)
UPSTREAM_TIMEOUT = 300.0  # a forked chain may fetch much state from its upstream for one call
REFUSED = -32003  # JSON-RPC "transaction rejected" range, the code wallets show as a refusal


class ChainFront:
    """ASGI application: the Origin rule, then forwarding to `upstream` (Ganache's private URL)."""

    def __init__(self, upstream: str, origins: OriginRule):
        self.upstream = upstream
        self.origins = origins
        self._client: Any = None

    async def _http(self) -> Any:
        """One connection pool to Ganache, made in the server's event loop (aiohttp: about a third of httpx's
        cost per forwarded call here, which every call of every local tool pays)."""
        import aiohttp  # start-up: aiohttp only once the front serves

        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT),
                                                 connector=aiohttp.TCPConnector(limit=64))
        return self._client

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: browsers apply no CORS to them, so the chain has none
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = scope.get("headers") or []
        origin = next((v.decode("latin-1") for k, v in headers if k == b"origin"), None)
        site = next((v.decode("latin-1") for k, v in headers if k == b"sec-fetch-site"), None)
        if not self.origins.allows(origin, site):
            await _answer(send, 403, _error(None, self.origins.refusal(origin or "")))
            return
        cors = [] if origin is None else [(b"access-control-allow-origin", origin.encode("latin-1")),
                                          (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":
            await _preflight(send, cors, headers)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, _error(None, "the chain's RPC takes JSON-RPC over POST"), cors)
            return
        body = await _read(receive)
        if origin is not None:
            refusal = _browser_refusal(body)
            if refusal is not None:
                await _answer(send, 403, refusal, cors)
                return
        await self._forward(send, body, cors)

    async def _forward(self, send: Any, body: bytes, cors: list[tuple[bytes, bytes]]) -> None:
        import aiohttp  # start-up: aiohttp only once the front serves

        client = await self._http()
        try:
            async with client.post(self.upstream, data=body, headers={"content-type": "application/json"}) as r:
                status, content = r.status, await r.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            await _answer(send, 502, _error(None, f"the local chain is not answering ({type(exc).__name__}): "
                                                  "start it with `datalicense up`"), cors)
            return
        await _answer(send, status, content, cors)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _error(request_id: object, message: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": REFUSED, "message": message}}).encode()


def _browser_refusal(body: bytes) -> bytes | None:
    """The answer refusing a browser's request (a call it may not make, or no JSON-RPC), or None to forward it."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return _error(None, "the request is not JSON-RPC")
    calls = parsed if isinstance(parsed, list) else [parsed]
    for call in calls:
        method = call.get("method") if isinstance(call, dict) else None
        if not browser_may_call(method):
            return _error(call.get("id") if isinstance(call, dict) else None, browser_refusal(method))
    return None


async def _read(receive: Any) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(parts)


async def _preflight(send: Any, cors: list[tuple[bytes, bytes]], headers: list[tuple[bytes, bytes]]) -> None:
    extra = [(b"access-control-allow-methods", b"POST, OPTIONS"), (b"access-control-allow-headers", b"content-type"),
             (b"access-control-max-age", b"600"), (b"content-length", b"0")]
    if any(k == b"access-control-request-private-network" for k, _ in headers):
        extra.append((b"access-control-allow-private-network", b"true"))
    await send({"type": "http.response.start", "status": 204, "headers": cors + extra})
    await send({"type": "http.response.body", "body": b""})


async def _answer(send: Any, status: int, body: bytes, cors: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": (cors or []) + [(b"content-type", b"application/json"),
                                           (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def config(upstream: str, port: int, page_ports: list[int], origins: list[str], hosts: list[str]) -> Any:
    """uvicorn's configuration of a front on 127.0.0.1:port (ConfigError for a malformed origin or host)."""
    app = ChainFront(upstream, origin_rule(page_ports, origins))
    cfg = uvicorn_config(app, "127.0.0.1", port, replace(LIMITS, allowed_hosts=tuple(hosts)))
    cfg.ws = "none"  # a WebSocket upgrade is answered as plain HTTP: no handshake
    return cfg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datalicense.services.chainfront", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the chain's public loopback port")
    parser.add_argument("--upstream", required=True, help="Ganache's private RPC URL")
    parser.add_argument("--page-port", type=int, action="append", default=[], help="the stack's page (origin)")
    parser.add_argument("--allow-origin", action="append", default=[], help="another page allowed (origin)")
    parser.add_argument("--allow-host", action="append", default=[], help="another name the chain is reached by")
    args = parser.parse_args(argv)
    import uvicorn  # start-up: uvicorn only for a server

    try:
        cfg = config(args.upstream, args.port, args.page_port, [o for v in args.allow_origin for o in parse_list(v)],
                     [h for v in args.allow_host for h in parse_list(v)])
    except DataLicenseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.Server(cfg).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

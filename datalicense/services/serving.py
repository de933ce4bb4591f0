"""The edge both local servers share (the page's server and the HTTP 402 gateway): how uvicorn is set up, what a
connection and a request may cost before the application sees them, and a server run from a background thread
(tests, benchmarks, the stack).

What a stranger cannot do to either server:
- hold connections with request heads that never end: every head is timed, the first on a connection and each
  next one on a keep-alive connection, from the end of the previous response (an idle gap counts against it);
  a connection whose head is not complete in `head_timeout` seconds is closed;
- fill the server from one address: one address (an IPv6 /64) keeps at most `max_per_client` connections open,
  all clients together `max_connections`;
- make it hold a large or slow body: a body is allowed only where the application takes one (`body_methods`),
  refused (413) when its declared length is over `max_body_bytes` before anything is read, counted as it streams
  in otherwise, and refused (408) when it does not arrive within `body_timeout`;
- reach it under a name the user did not give it (DNS rebinding): datalicense.protocol.hosts decides which Host
  headers are answered; any other gets 421;
- keep a place by upgrading: neither server speaks WebSocket (uvicorn runs with ws="none", so a handshake any web
  page may send is an ordinary request; a connection handed to another protocol gives its place back anyway, and
  the Edge closes any scope but HTTP's).
Every refusal is one line of JSON ({"error": ...}) and closes the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from datalicense.protocol.hosts import HostRule, host_rule


@dataclass(frozen=True)
class EdgeLimits:
    """What one server allows before its application runs (defaults: the page's server)."""

    max_connections: int = 256  # all clients together; beyond it uvicorn answers 503
    max_per_client: int = 16  # open connections from one address (an IPv6 /64 counts as one)
    head_timeout: float = 10.0  # seconds to a complete request head, from connecting or from the last response
    keep_alive: float = 5.0  # seconds a keep-alive connection may stay silent after a response
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 64 * 1024  # 0: no request carries a body
    body_methods: frozenset[str] = frozenset({"POST"})
    body_timeout: float = 10.0  # seconds for a whole request body to arrive
    allowed_hosts: tuple[str, ...] = ()  # names answered besides the local ones (datalicense.protocol.hosts)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def client_key(client: tuple[str, int] | None) -> str:
    """The address connections are counted by: the IPv4 address, or the /64 of an IPv6 one."""
    if not client:
        return "local"
    try:
        ip = ipaddress.ip_address(client[0])
    except ValueError:
        return str(client[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _raw_refusal(status: int, phrase: str, reason: str) -> bytes:
    body = json.dumps({"error": reason}).encode()
    return (f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


def protocol_class(limits: EdgeLimits) -> type:
    """uvicorn's h11 protocol with every request head timed and connections counted per client address (one count
    per server: the class is made per configuration)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol  # start-up: uvicorn only for a server

    open_by_client: dict[str, int] = {}  # used from the server's event loop only
    too_many = _raw_refusal(429, "Too Many Requests", f"too many connections from your address (at most "
                                                       f"{limits.max_per_client}): close some and retry")

    class EdgeProtocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _awaiting: Any = None  # the request cycle current when the timer was armed
        _counted: str | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            key = client_key(self.client)
            if open_by_client.get(key, 0) >= limits.max_per_client:
                transport.write(too_many)
                transport.close()
                return
            open_by_client[key] = open_by_client.get(key, 0) + 1
            self._counted = key
            self._arm()

        def _arm(self) -> None:
            """Time the next request head: it must be complete within head_timeout from now."""
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._awaiting = self.cycle
            self._head_timer = self.loop.call_later(limits.head_timeout, self._head_late)

        def _head_late(self) -> None:
            self._head_timer = None
            if self.cycle is self._awaiting and not self.transport.is_closing():
                self.transport.close()  # no new request began since the timer was armed

        def handle_events(self) -> None:
            super().handle_events()
            if self._head_timer is not None and self.cycle is not self._awaiting:
                self._head_timer.cancel()  # a complete head arrived: its request runs
                self._head_timer = None

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._arm()  # before uvicorn looks at a pipelined next request, which then cancels it
            super().on_response_complete()

        def _give_back(self) -> None:
            """Stop timing this connection and give its place back to its address (once)."""
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            if self._counted is not None:
                left = open_by_client.get(self._counted, 1) - 1
                if left > 0:
                    open_by_client[self._counted] = left
                else:
                    open_by_client.pop(self._counted, None)
                self._counted = None

        def handle_websocket_upgrade(self, event: Any) -> None:
            self._give_back()  # the transport goes to another protocol: this one's connection_lost never runs
            super().handle_websocket_upgrade(event)

        def _unsupported_upgrade_warning(self) -> None:
            pass  # an Upgrade header is answered as a plain request; a stranger's handshakes write no log lines

        def connection_lost(self, exc: Exception | None) -> None:
            self._give_back()
            super().connection_lost(exc)

    return EdgeProtocol


class _BodyTooLarge(Exception):
    pass


async def _refuse(send: Any, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class Edge:
    """ASGI middleware in front of a server's application: the Host rule, then the body bounds. A body that is
    allowed is read here (counted as it arrives, within the deadline) and handed to the application whole."""

    def __init__(self, app: Any, rule: HostRule, limits: EdgeLimits):
        self.app, self.rule, self.limits = app, rule, limits

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1003})  # refused before it is accepted: 403
            return
        headers = scope.get("headers") or []
        host = next((v.decode("latin-1") for k, v in headers if k == b"host"), None)
        if not self.rule.allows(host):
            await _refuse(send, 421, self.rule.refusal(host))
            return
        length = next((v for k, v in headers if k == b"content-length"), None)
        chunked = any(k == b"transfer-encoding" for k, _ in headers)
        if chunked or (length is not None and length.strip() not in (b"", b"0")):
            limit = self.limits.max_body_bytes
            if scope["method"] not in self.limits.body_methods or limit <= 0:
                await _refuse(send, 413, f"a {scope['method']} request carries no body here")
                return
            if length is not None and int(length) > limit:
                await _refuse(send, 413, f"request body too large: at most {limit} bytes")
                return
            try:
                body = await asyncio.wait_for(self._read(receive, limit), self.limits.body_timeout)
            except _BodyTooLarge:
                await _refuse(send, 413, f"request body too large: at most {limit} bytes")
                return
            except asyncio.TimeoutError:
                await _refuse(send, 408, f"the request body did not arrive within {self.limits.body_timeout:g} s")
                return
            if body is None:
                return  # the client went away
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    @staticmethod
    async def _read(receive: Any, limit: int) -> bytes | None:
        parts, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                raise _BodyTooLarge()
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: the client's disconnect

    return replay


def uvicorn_config(app: Any, host: str, port: int, limits: EdgeLimits, log_level: str = "warning",
                   more_hosts: tuple[str, ...] = ()) -> Any:
    """uvicorn's configuration for `app` behind the Edge, on (host, port), with `limits`; `more_hosts`: names the
    server itself knows it is reached by (the gateway's public URL)."""
    import uvicorn  # start-up: uvicorn only for a server

    rule = host_rule(port, host, limits.allowed_hosts + more_hosts)
    return uvicorn.Config(Edge(app, rule, limits), host=host, port=port, log_level=log_level, access_log=False,
                          http=protocol_class(limits), ws="none", limit_concurrency=limits.max_connections,
                          timeout_keep_alive=int(limits.keep_alive) or 1,
                          h11_max_incomplete_event_size=limits.max_header_bytes, server_header=False,
                          timeout_graceful_shutdown=2)


class ServerLock:
    """A server's lock over what its request threads share (web3, the event index): `with lock:` as a plain lock;
    `with lock.released():` gives it up for a wait that must not hold it (IPFS), when this thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def __enter__(self) -> "ServerLock":
        self._lock.acquire()
        self._owner = threading.get_ident()
        return self

    def __exit__(self, *exc: object) -> None:
        self._owner = None
        self._lock.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        if self._owner != threading.get_ident():
            yield
            return
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()


class BackgroundServer:
    """`with BackgroundServer(config_for, "the page's server") as s: s.url`: started on a free port (or the one
    given), ready when the block starts, stopped when it ends."""

    def __init__(self, config_for: Callable[[str, int], Any], what: str, host: str = "127.0.0.1", port: int = 0):
        import uvicorn  # start-up: uvicorn only for a server

        port = port or free_port(host)
        self.what = what
        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(config_for(host, port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"{self.what} did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

"""What the servers' attack tests (tests/test_server_attacks.py) and bench/server_attacks.py share: the attackers
(connections that drip request heads, closed WebSocket handshakes, a stranger's dataset whose data nobody holds, a
PoolCreated look-alike, a proof signed offline) and the bound an honest request is held to while an attack runs.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import threading
import time
from typing import Any, Callable

import httpx
import pytest

from datalicense.infra.chain import connect
from datalicense.infra.ipfs import Storage, cid_from_bytes, cid_to_bytes
from datalicense.protocol.manifest import Manifest, now
from datalicense.roles import paying
from datalicense.roles.paying import PAYMENT_SIGNATURE_HEADER, encode_header, offer_from, payment_payload
from datalicense.services.web import Running as RunningPage, Web

from helpers import ZERO, DeliveryKey, clients, offer, publish, purchase, terms

__all__ = ["online_kubo", "online", "stack_page", "Drippers", "MARGIN", "bound", "timed", "port_of", "upgrade",
           "served_after_upgrades", "nowhere_cid", "stranger_datasets", "bait_dataset", "free_licences",
           "hold_download", "from_one_64", "proof", "signed_proof", "emit_pool_created"]

#: Seconds an honest request may take beyond three times its own time without the attack (measured in the same
#: test, so a loaded machine moves both). The attacks this module guards against made it wait 20 s to minutes.
MARGIN = 2.0


def bound(alone: float) -> float:
    """How long an honest request that took `alone` seconds without the attack may take while it runs."""
    return 3 * alone + MARGIN


# ------------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def online_kubo():
    """A Kubo daemon with its swarm on (no peers to find): a read of a CID nobody has waits for its deadline."""
    from datalicense.services.localstack import KuboDaemon

    daemon = KuboDaemon(offline=False).start()
    yield daemon
    daemon.stop()


@pytest.fixture
def online(online_kubo, market, tmp_path):
    """online(n, home): a Client for dev:n (None: no account) over the online Kubo."""
    return clients(online_kubo.api_multiaddr, market.address, tmp_path)


def stranger_datasets(market, stranger, n, price=0):
    """n datasets whose manifest CID is a CIDv1 of random bytes: nobody holds it."""
    return [publish(market, stranger, price=price).dataset_id for _ in range(n)]


@pytest.fixture
def stack_page(online, tmp_path, online_kubo):
    web = Web(online(None, "page"), online_kubo.gateway_url, connect("local").provider.endpoint_uri)
    with RunningPage(web) as running:
        yield running.url, web


def proof(client, gateway_url, dataset_id, lid):
    required = offer_from(httpx.get(f"{gateway_url}/datasets/{dataset_id}"))
    payload = payment_payload(client.buyer, required, lid, "GET", f"/datasets/{dataset_id}")
    return {PAYMENT_SIGNATURE_HEADER: encode_header(payload)}


def served_after_upgrades(url: str, path: str) -> list[int]:
    """20 closed WebSocket handshakes (more than the 16 connections one address keeps), then 3 fresh requests."""
    for _ in range(20):
        assert not upgrade(port_of(url)).startswith(b"HTTP/1.1 101"), "no server here speaks WebSocket"
    return [httpx.get(url + path, timeout=10).status_code for _ in range(3)]


# ------------------------------------------------------------------------------------------------- helpers


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def upgrade(port: int) -> bytes:
    """One WebSocket handshake, as `new WebSocket("ws://127.0.0.1:PORT/")` in any web page sends it, then closed."""
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n")
                  .encode())
        try:
            return s.recv(256)
        except OSError:
            return b""
    finally:
        s.close()


def nowhere_cid() -> str:
    """A CIDv1 of random bytes: nobody holds it."""
    return cid_from_bytes(b"\x01\x55\x12\x20" + os.urandom(32))


def bait_dataset(market, stranger, storage: Storage, price: int = 0) -> int:
    """A dataset whose manifest the gateway's node holds and whose ciphertext nobody holds."""
    raw = Manifest("bait", "", "text/csv", 10, "ab" * 32, nowhere_cid(), 1 << 20,
                   "age1" + "q" * 58, "0x" + "00" * 32, str(stranger), now()).to_json()
    cid = storage.add_bytes(raw)
    tx = market.publish(cid_to_bytes(cid), b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, terms(price=price), ZERO,
                        {"from": stranger})
    return int(tx.events["DatasetPublished"]["datasetId"])


def free_licences(market, stranger, dataset_id: int, n: int) -> list[tuple[Any, int]]:
    """n free licences of `dataset_id` bought by `stranger` for n throw-away signers (never funded: they only sign):
    [(signer, licence id)]."""
    from eth_account import Account

    held = []
    for signer in (Account.create() for _ in range(n)):
        t, v = offer(market, dataset_id)
        tx = market.buy(purchase(dataset_id, DeliveryKey.random(), signer.address, t, v, 1),
                        {"from": stranger, "value": 0})
        held.append((signer, int(tx.events["LicencePurchased"]["licenceId"])))
    return held


def hold_download(url: str, k: int, headers: dict[str, str], answers: list[int]) -> None:
    """One download of `url` from the address 127.0.0.(2 + k % 4), read to its end; its status goes to `answers`
    (0: the connection failed)."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=f"127.0.0.{2 + k % 4}"), timeout=150) as c:
        try:
            with c.stream("GET", url, headers=headers) as r:
                answers.append(r.status_code)
                for _ in r.iter_raw():
                    pass
        except httpx.HTTPError:
            answers.append(0)


async def from_one_64(app: Any, path: str, n: int) -> list[int]:
    """The statuses of n requests to the ASGI `app`, each from a new address of one IPv6 /64."""
    out = []
    for i in range(n):
        source = str(ipaddress.IPv6Address("2001:db8:1:2::") + i + 1)
        transport = httpx.ASGITransport(app=app, client=(source, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8402") as c:
            out.append((await c.get(path)).status_code)
    return out


def signed_proof(account, gateway_url: str, path: str, lid: int) -> dict[str, str]:
    """The PAYMENT-SIGNATURE header the holder `account` (an eth_account signer, maybe never funded) sends."""
    from x402.schemas import PaymentPayload

    required = paying.offer_from(httpx.get(gateway_url + path))
    req = required.accepts[0]
    chain = httpx.get(gateway_url + "/health").json()["chainId"]
    payload = PaymentPayload(x402_version=2, accepted=req, resource=required.resource,
                             payload=paying.sign_proof(account, "GET", path, chain, req.pay_to, lid))
    return {paying.PAYMENT_SIGNATURE_HEADER: paying.encode_header(payload)}


class Drippers:
    """Connections from `source` that each send a complete first request, read its answer, then start the next
    request head on the same (keep-alive) connection and send it one byte at a time, never finishing it."""

    def __init__(self, port: int, source: str, count: int):
        self.socks: list[socket.socket] = []
        self.refused = 0
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
            try:
                s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                first = s.recv(4096)
                if first.startswith(b"HTTP/1.1 200"):
                    s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Drip: ".encode())
                    self.socks.append(s)
                    continue
            except OSError:
                pass
            self.refused += 1  # refused at once (too many connections from this address)
            s.close()
        self.stop = threading.Event()
        self.cut_at: dict[int, float] = {}
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def _drip(self) -> None:
        while not self.stop.is_set():
            for i, s in enumerate(self.socks):
                if i in self.cut_at:
                    continue
                try:
                    s.sendall(b"a")
                    s.setblocking(False)
                    try:
                        if s.recv(1) == b"":
                            self.cut_at[i] = time.monotonic() - self.started
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                except OSError:
                    self.cut_at[i] = time.monotonic() - self.started
            self.stop.wait(0.3)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def emit_pool_created(w3, sender: str, topic: bytes, pool: str, curator: str) -> str:
    """Deploy a contract whose constructor emits a PoolCreated look-alike naming `pool`: what any stranger can do."""
    def push32(word: bytes) -> bytes:
        return b"\x7f" + word.rjust(32, b"\x00")

    code = (push32(bytes.fromhex(curator[2:])) + push32(bytes.fromhex(pool[2:])) + push32(topic)
            + b"\x60\x00\x60\x00\xa3\x00")  # PUSH1 0 PUSH1 0 LOG3 STOP
    tx = w3.eth.send_transaction({"from": sender, "data": "0x" + code.hex(), "gas": 200_000})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])

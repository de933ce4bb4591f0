"""The seller's HTTP 402 gateway (`datalicense serve`): each dataset at /datasets/{id}.

Without payment a request gets `402 Payment Required` with an x402 v2 offer (scheme "datalicense-escrow",
network eip155:<chain id>, asset, amount, payTo = the marketplace, and the dataset id, terms id and version the
purchase must name in `extra`). With a proof (header PAYMENT-SIGNATURE: an x402 PaymentPayload whose payload is
the licence id and the holder's signature over method, path, chain, contract, nonce and timestamp) it answers
with the manifest (header Datalicense-Manifest, base64) and the ciphertext stream, after reading on chain that
the licence is pending or valid, for this dataset, held by the signer.

The gateway reads the chain and IPFS only: it has no account, holds no key that moves funds, and never
decrypts. Requests are bounded (GET/HEAD only, no body, short headers, every request head timed, a limited number
of connections per address and in all, only its own Host names: datalicense.services.serving), rate limited per IP and per
signing address, and every failure is a one-line JSON reason. What IPFS may make wait never holds a worker
thread: a manifest is read once at a time per CID with a short deadline and its failure kept (datalicense.infra.ipfsreads),
and data streams on threads of their own, a few at a time per signer, per dataset and per client address, its
first byte within a short deadline and a CID that failed answered at once for a while (datalicense.services.streams).
The operator may serve only some owners' datasets (datalicense.protocol.served; `serve` defaults to its account's).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from x402.schemas import PaymentRequired, ResourceInfo, SettleResponse

from datalicense.errors import StorageError
from datalicense.services.serving import BackgroundServer, EdgeLimits, client_key, uvicorn_config
from datalicense.services.streams import (Admission, Download, FailedCids, StreamBounds, first_byte_storage,
                                          open_ciphertext, read_block)
from datalicense.roles import paying
from datalicense.infra.ipfsreads import ManifestRead, manifest_reads, manifest_timeout
from datalicense.protocol.records import State
from datalicense.protocol.served import ServedDatasets

if TYPE_CHECKING:
    from datalicense.client import Client

CHUNK = 1 << 18


@dataclass
class Limits:
    per_ip_rate: float = 20.0  # requests per second, sustained
    per_ip_burst: float = 60.0
    per_address_rate: float = 5.0  # paid requests per second per signer
    per_address_burst: float = 20.0
    max_nonces: int = 200_000  # remembered proofs (per window); beyond it new proofs wait for room
    max_connections: int = 256  # open connections in all (uvicorn answers 503 beyond)
    max_per_client: int = 16  # open connections from one address
    max_header_bytes: int = 16 * 1024
    header_timeout: float = 10.0  # seconds to a complete request head, from connecting or from the last response
    keep_alive: float = 5.0  # seconds a connection may stay silent after a response
    allowed_hosts: tuple[str, ...] = ()  # Host names answered besides the local ones and the public URL's
    streams_per_signer: int = 4  # downloads one signing address may have running at once
    streams_per_dataset: int = 8  # downloads of one dataset running at once
    streams_per_client: int = 8  # downloads one client address (an IPv6 /64) may have running at once
    stream_threads: int = 32  # threads that read ciphertext from IPFS, for all downloads
    first_byte_timeout: float = 10.0  # seconds IPFS may take to send a ciphertext's first byte (or stay silent after)

    def edge(self) -> EdgeLimits:
        return EdgeLimits(max_connections=self.max_connections, max_per_client=self.max_per_client,
                          head_timeout=self.header_timeout, keep_alive=self.keep_alive,
                          max_header_bytes=self.max_header_bytes, max_body_bytes=0, body_methods=frozenset(),
                          allowed_hosts=self.allowed_hosts)


class Buckets:
    """Token buckets by key, bounded in number (the oldest forgotten first)."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000):
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self.state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            ok = tokens >= 1
            self.state[key] = (tokens - 1 if ok else tokens, now)
            while len(self.state) > self.max_keys:
                self.state.popitem(last=False)
            return ok


class Nonces:
    """Proof nonces seen within the proof window (twice PROOF_WINDOW: a proof is fresh for ±PROOF_WINDOW)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.lock = threading.Lock()

    def add(self, key: str) -> str | None:
        """None when added; the reason when refused."""
        now = time.time()
        with self.lock:
            while self.seen and next(iter(self.seen.values())) < now:
                self.seen.popitem(last=False)
            if key in self.seen:
                return "replayed proof: this nonce was already used"
            if len(self.seen) >= self.limit:
                return "too many proofs in flight: retry shortly"
            self.seen[key] = now + 2 * paying.PROOF_WINDOW
            return None


def _error(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


class Gateway:
    def __init__(self, client: "Client", limits: Limits | None = None, public_url: str | None = None,
                 served: ServedDatasets | None = None):
        self.client = client
        self.limits = limits or Limits()
        self.served = served or ServedDatasets()
        self.owners: dict[int, tuple[float, str]] = {}  # dataset id: (read at, owner), when not every one is served
        self.scheme = paying.EscrowSchemeServer(client.conn)
        self.public_url = public_url
        self.by_ip = Buckets(self.limits.per_ip_rate, self.limits.per_ip_burst)
        self.by_address = Buckets(self.limits.per_address_rate, self.limits.per_address_burst)
        self.nonces = Nonces(self.limits.max_nonces)
        self.index_lock = threading.Lock()
        self.manifests = manifest_reads(client.conn.storage)
        self.offers: dict[int, tuple[float, Any]] = {}
        self.stream_pool = concurrent.futures.ThreadPoolExecutor(self.limits.stream_threads,
                                                                 thread_name_prefix="datalicense-stream")
        self.admission = Admission(StreamBounds(self.limits.streams_per_signer, self.limits.streams_per_dataset,
                                                self.limits.streams_per_client))
        self.failed = FailedCids()
        self.stream_storage = first_byte_storage(client.conn.storage, self.limits.first_byte_timeout)
        self.app = Starlette(routes=[
            Route("/datasets/{dataset_id}", self.dataset, methods=["GET", "HEAD"]),
            Route("/health", self.health, methods=["GET"]),
        ])
        self.app.add_middleware(_Guard, gateway=self)

    # ---------------------------------------------------------------------------------------- endpoints

    def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "chainId": self.client.conn.chain_id, "contract": self.client.conn.address})

    def _serves(self, dataset_id: int) -> bool:
        """Whether the operator serves this dataset (its owner read at most once in 5 s per dataset)."""
        if self.served.every or dataset_id in self.served.datasets:
            return True
        now = time.monotonic()
        hit = self.owners.get(dataset_id)
        if hit is None or now - hit[0] > 5.0:
            if len(self.owners) > 10_000:
                self.owners.clear()
            hit = self.owners[dataset_id] = (now, self.client.conn.market.dataset(dataset_id).owner)
        return self.served.serves(dataset_id, hit[1])

    def _requirements(self, dataset_id: int) -> Any:
        now = time.monotonic()
        hit = self.offers.get(dataset_id)
        if hit and now - hit[0] < 1.0:  # a burst of 402s costs one chain read a second per dataset
            return hit[1]
        req = self.scheme.requirements(dataset_id)
        if len(self.offers) > 10_000:
            self.offers.clear()
        self.offers[dataset_id] = (now, req)
        return req

    def _offer(self, request: Request, dataset_id: int, reason: str) -> Response:
        try:
            req = self._requirements(dataset_id)
        except LookupError as exc:
            return _error(404, str(exc))
        url = self.public_url.rstrip("/") + request.url.path if self.public_url else str(request.url.replace(query=""))
        body = PaymentRequired(x402_version=2, error=reason, accepts=[req],
                               resource=ResourceInfo(url=url, description=f"dataset {dataset_id}",
                                                     mime_type="application/octet-stream"))
        return Response(body.model_dump_json(by_alias=True, exclude_none=True), status_code=402,
                        media_type="application/json",
                        headers={paying.PAYMENT_REQUIRED_HEADER: paying.encode_header(body)})

    async def dataset(self, request: Request) -> Response:
        checked = await run_in_threadpool(self._check, request)  # chain reads, on the shared worker threads
        if isinstance(checked, Response):
            return checked
        return await self._serve(request, checked)

    def _check(self, request: Request) -> "Response | _Access":
        """The offer, or the refusal, or what a valid proof gives access to (chain reads only)."""
        raw_id = request.path_params["dataset_id"]
        if not raw_id.isdigit() or len(raw_id) > 18:
            return _error(404, "no such dataset: ids are decimal integers")
        dataset_id = int(raw_id)
        if not self._serves(dataset_id):
            return _error(404, f"dataset {dataset_id} is not served here: this gateway serves "
                               f"{self.served.describe()}")
        header = request.headers.get(paying.PAYMENT_SIGNATURE_HEADER)
        if header is None:
            return self._offer(request, dataset_id, "payment required")
        try:
            payload = paying.decode_payment(header)
            ours = paying.network_id(self.client.conn.chain_id)
            if payload.accepted.scheme != paying.SCHEME or payload.accepted.network != ours:
                raise ValueError(f"the proof is not for {paying.SCHEME} on {ours}")
            lid, signer = paying.recover_proof(payload.payload, request.method if request.method != "HEAD" else "GET",
                                               request.url.path, self.client.conn.chain_id, self.client.conn.address)
        except ValueError as exc:
            return _error(403, str(exc))
        if not self.by_address.take(signer):
            return _error(429, f"rate limit for {signer}: slow down", {"Retry-After": "1"})
        lic = self.client.conn.market.licence(lid)
        if lic.state == State.NONE:
            return _error(403, f"licence {lid} does not exist")
        if lic.holder != signer:
            return _error(403, f"licence {lid} is held by {lic.holder}, not by the signer {signer}")
        terms = self.client.conn.market.terms(lic.terms_id)
        if terms.dataset_id != dataset_id:
            return _error(403, f"licence {lid} is for dataset {terms.dataset_id}, not {dataset_id}")
        if lic.state == State.REFUNDED:
            return self._offer(request, dataset_id, f"licence {lid} was refunded: it gives no access")
        if lic.state not in (State.PENDING, State.DELIVERED, State.SETTLED):
            return _error(403, f"licence {lid} is {lic.state.label}: it gives no access")
        if lic.state != State.PENDING and not self.client.conn.market.is_valid(lid):
            return self._offer(request, dataset_id, f"licence {lid} expired: buy a new one")
        why = self.nonces.add(f"{signer}:{payload.payload['nonce']}")
        if why:
            return _error(403, why)
        with self.index_lock:
            versions = self.client.reader.versions(dataset_id)
        purchase = self.client.reader.purchase_event(lid)
        if lic.state == State.SETTLED:
            allowed = {int(n) for n in versions}
        else:  # in escrow: the version the purchase named
            allowed = {int(purchase["args"]["version"])}
        wanted = request.query_params.get("version")
        if wanted is None:
            version = max(allowed)
        elif wanted.isdigit() and int(wanted) in allowed:
            version = int(wanted)
        else:
            return _error(403, f"licence {lid} gives access to version(s) {sorted(allowed)} only")
        return _Access(lid, dataset_id, signer, version, versions[str(version)]["manifestCid"],
                       purchase["transactionHash"].to_0x_hex())

    async def _serve(self, request: Request, access: "_Access") -> Response:
        read = await self.manifests.aget(access.manifest_cid, manifest_timeout() + 1)  # no thread held meanwhile
        if read is None:
            return _error(503, f"the manifest of version {access.version} is still being read from IPFS: retry in a "
                               "few seconds", {"Retry-After": "5"})
        if read.manifest is None:
            return _error(502, f"the manifest of version {access.version} cannot be read: {read.error}",
                          {"Retry-After": "30"} if read.retry else None)
        receipt = SettleResponse(success=True, transaction=access.purchase_tx,
                                 network=paying.network_id(self.client.conn.chain_id), payer=access.signer,
                                 extra={"licenceId": str(access.licence_id)})
        headers = {
            paying.MANIFEST_HEADER: base64.b64encode(read.raw).decode(),
            paying.VERSION_HEADER: str(access.version),
            paying.PAYMENT_RESPONSE_HEADER: paying.encode_header(receipt),
            "Content-Length": str(read.manifest.ciphertext_size),
        }
        if request.method == "HEAD":
            return Response(b"", headers=headers, media_type="application/octet-stream")
        cid = read.manifest.ciphertext_cid
        # a failure is kept for the CID read at the size its manifest promises: a stranger's manifest naming an
        # honest CID with a wrong size fails on its own key, never the honest one's
        failed_key = f"{cid}:{read.manifest.ciphertext_size}"
        failing = self.failed.failing(failed_key)
        if failing is not None:
            return _unreadable(access.version, failing[0], failing[1])
        ticket = self.admission.admit(access.signer, access.dataset_id, client_key(request.client))
        if isinstance(ticket, str):
            return _error(429, ticket, {"Retry-After": "5"})
        try:  # the first block before any answer: data nobody holds is a 502, not a 200 that breaks off
            stream, first = await asyncio.get_running_loop().run_in_executor(
                self.stream_pool, open_ciphertext, self.stream_storage, cid, read.manifest.ciphertext_size, CHUNK)
        except StorageError as exc:
            ticket.release()
            self.failed.failed(failed_key, str(exc))
            return _unreadable(access.version, str(exc), self.failed.first_retry)
        except BaseException:
            ticket.release()
            raise
        self.failed.read(failed_key)
        ticket.keep_only("signer")  # the dataset's and the address's places bound only waits for a first block
        return Download(self._stream(stream, first), ticket, self.stream_pool, stream,
                         media_type="application/octet-stream", headers=headers)

    async def _stream(self, stream: Any, first: bytes) -> AsyncIterator[bytes]:
        """The ciphertext in blocks of CHUNK, read on the gateway's stream threads (a stalled IPFS read holds one of
        those, never a thread that answers requests); each block crosses to the event loop once."""
        loop, block = asyncio.get_running_loop(), first
        while block:
            yield block
            block = await loop.run_in_executor(self.stream_pool, read_block, stream, CHUNK)

    # ---------------------------------------------------------------------------------------------- run

    def config(self, host: str = "127.0.0.1", port: int = 8402) -> Any:
        public = urlsplit(self.public_url).netloc if self.public_url else ""
        return uvicorn_config(self.app, host, port, self.limits.edge(), log_level="error",
                              more_hosts=(public,) if public else ())

    def serve(self, host: str = "127.0.0.1", port: int = 8402) -> None:
        import uvicorn  # start-up: uvicorn only for a server

        uvicorn.Server(self.config(host, port)).run()


@dataclass(frozen=True)
class _Access:
    """What a valid proof gives access to."""

    licence_id: int
    dataset_id: int
    signer: str
    version: int
    manifest_cid: str
    purchase_tx: str


def _unreadable(version: int, reason: str, retry_in: float) -> JSONResponse:
    return _error(502, f"the ciphertext of version {version} cannot be read from IPFS now: {reason}",
                  {"Retry-After": str(max(1, int(retry_in)))})


class _Guard:
    """ASGI middleware behind the edge (datalicense.services.serving: hosts, bodies, connections): only GET/HEAD, a per-IP
    token bucket; any unexpected error is a 500 with one line (the server stays up)."""

    def __init__(self, app: Any, gateway: Gateway):
        self.app, self.gw = app, gateway

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.gw.by_ip.take(client_key(scope.get("client"))):  # an IPv6 /64 is one address
            resp: Response | None = _error(429, "rate limit for your address: slow down", {"Retry-After": "1"})
        elif scope["method"] not in ("GET", "HEAD"):
            resp = _error(405, "only GET and HEAD")
        elif sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or []) > self.gw.limits.max_header_bytes:
            resp = _error(431, "request headers too large")
        elif len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > 2048:
            resp = _error(414, "URL too long")
        else:
            resp = None
        if resp is not None:
            await resp(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - one request's failure never takes the gateway down
            if not started:
                await _error(500, f"internal error ({type(exc).__name__})")(scope, receive, send)


class Running(BackgroundServer):
    """A gateway served from a background thread (tests, benchmarks, `make up`)."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0):
        super().__init__(gateway.config, "the gateway", host, port)

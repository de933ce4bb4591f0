"""IPFS through a Kubo RPC endpoint, with ipfshttpclient.

Adds stream from disk as CIDv1, cat streams to disk, pin/unpin, stat. Unreachable daemon, missing CID and
time-outs are retried a bounded number of times, then reported as a StorageError that says what to do.
ipfshttpclient's daemon-version gate (it predates current Kubo) is skipped by constructing `Client` directly.

Reads (`cat_bytes`, `open_stream`, `cat_to_file`) do not go through ipfshttpclient: they are streamed over
Kubo's RPC (`POST /api/v0/cat`) with http.client, so that each one is bounded by

- a byte limit (`max_size`): Kubo is asked for at most max_size + 1 bytes and the reader counts what arrives;
  one byte more ends the read with a StorageError. `exact_size` also refuses content that ends short.
- an overall deadline (`deadline`, seconds from the call): before every socket read the socket's time-out is
  set to what is left of it, so neither a silent nor a slowly dripping daemon holds a read past it; connecting
  and the retries of an unreachable daemon count against it too.

Manifests are read with MANIFEST_MAX_BYTES (datalicense.protocol.manifest); ciphertext with the size its manifest
promises. The bounded reader itself is datalicense.infra.ipfscat.CatStream.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import urllib.parse
import re
import time
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Callable, TypeVar
import io
import json

import ipfshttpclient
import ipfshttpclient.exceptions as ipfs_exc

from datalicense.errors import StorageError
from datalicense.infra.ipfscat import CHUNK, CatStream, rpc_message

DEFAULT_API = "/ip4/127.0.0.1/tcp/5001/http"
#: Overall deadline of a streamed read that names none (seconds); small reads default to the RPC time-out.
STREAM_DEADLINE = 3600.0

# urllib3 2.x warns about a parameter ipfshttpclient 0.7 still passes; harmless, and noisy in a terminal.
warnings.filterwarnings("ignore", message="The 'strict' parameter is no longer needed", category=FutureWarning)

T = TypeVar("T")
_CID_V1 = re.compile(r"^b[a-z2-7]{58,}$")
_CID_V0 = re.compile(r"^Qm[1-9A-HJ-NP-Za-km-z]{44}$")


def to_multiaddr(api: str) -> str:
    """Accept a multiaddr (/ip4/127.0.0.1/tcp/5001) or a URL (http://127.0.0.1:5001)."""
    api = api.strip()
    if api.startswith("/"):
        return api
    m = re.match(r"^(https?)://([^/:]+|\[[^\]]+\]):(\d+)/?$", api)
    if not m:
        raise StorageError(f"IPFS API address {api!r} is neither a multiaddr nor http(s)://host:port")
    scheme, host, port = m.groups()
    proto = "ip6" if host.startswith("[") else ("ip4" if re.match(r"^[\d.]+$", host) else "dns")
    return f"/{proto}/{host.strip('[]')}/tcp/{port}/{scheme}"


def check_cid(cid: str) -> str:
    """Return cid if it looks like a CID (v1 base32 or v0), else raise a StorageError that says so."""
    if not isinstance(cid, str) or not (_CID_V1.match(cid) or _CID_V0.match(cid)):
        raise StorageError(f"{cid!r} is not a valid IPFS CID (expected bafy.../bafk... or Qm...)")
    return cid


_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


def check_path(path: str) -> str:
    """Return path if it is a relative path of plain names inside a directory CID, else raise StorageError."""
    parts = path.split("/") if isinstance(path, str) else []
    if not parts or len(parts) > 32 or any(not _SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise StorageError(f"{path!r} is not a path inside an IPFS directory (plain names separated by /)")
    return path


def cid_to_bytes(cid: str) -> bytes:
    """Binary form of a CIDv1 in base32 (how manifests are referenced on-chain)."""
    check_cid(cid)
    if not cid.startswith("b"):
        raise StorageError(f"{cid} is a CIDv0; the project records CIDv1 (add with --cid-version 1)")
    body = cid[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))


def cid_from_bytes(raw: bytes) -> str:
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


class Storage:
    """A Kubo RPC endpoint."""

    def __init__(self, api: str | None = None, timeout: float = 120.0, retries: int = 3, backoff: float = 0.5,
                 stream_deadline: float = STREAM_DEADLINE):
        self.api = to_multiaddr(api or os.environ.get("DATALICENSE_IPFS_API", DEFAULT_API))
        self.timeout = timeout  # per request or socket read; also the default deadline of cat_bytes
        self.retries = retries
        self.backoff = backoff
        self.stream_deadline = stream_deadline  # default overall deadline of open_stream / cat_to_file
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = ipfshttpclient.Client(self.api, timeout=self.timeout, chunk_size=CHUNK)
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except ipfs_exc.ConnectionError as exc:
                last = exc
                self._client = None
            except ipfs_exc.TimeoutError as exc:
                last = exc
            except ipfs_exc.ErrorResponse as exc:
                raise StorageError(f"IPFS refused to {what}: {exc}") from exc
            except ipfs_exc.Error as exc:
                last = exc
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        if isinstance(last, ipfs_exc.TimeoutError):
            raise StorageError(
                f"IPFS timed out trying to {what} after {self.retries + 1} attempts: the content may not be "
                "available from any node reachable by the daemon at " + self.api
            ) from last
        raise StorageError(
            f"cannot reach the IPFS daemon at {self.api} to {what} ({last}): start Kubo (`ipfs daemon`) or "
            "set --ipfs / DATALICENSE_IPFS_API to a reachable Kubo RPC endpoint"
        ) from last

    def version(self) -> str:
        return str(self._call("read its version", lambda: self.client.version())["Version"])

    def add_file(self, path: str | Path, pin: bool = True) -> str:
        """Add a file streamed from disk as CIDv1 (raw leaves, as `ipfs add --cid-version 1`); return its CID."""
        path = str(path)
        # ipfshttpclient sends raw-leaves=false unless told; the Kubo CLI implies raw leaves with CIDv1
        result = self._call(f"add {path}", lambda: self.client.add(path, cid_version=1, raw_leaves=True, pin=pin))
        return str(result["Hash"])

    def add_bytes(self, data: bytes, pin: bool = True) -> str:
        result = self._call(
            "add data", lambda: self.client.add(io.BytesIO(data), cid_version=1, raw_leaves=True, pin=pin)
        )
        return str(result["Hash"])

    def cat_bytes(self, cid: str, max_size: int = 1 << 20, deadline: float | None = None, path: str = "") -> bytes:
        """The whole content of cid (or of the file at `path` inside the directory cid), at most max_size bytes,
        read within deadline seconds (default: the RPC time-out); larger content, a slower read or a broken one
        raise StorageError with the reason."""
        with self.open_stream(cid, max_size=max_size, deadline=self.timeout if deadline is None else deadline,
                              path=path) as s:
            return s.read()

    def open_stream(self, cid: str, max_size: int | None = None, deadline: float | None = None,
                    exact_size: int | None = None, path: str = "") -> "CatStream":
        """A file-like reader over `ipfs cat CID`, streamed (never the whole content in memory).

        max_size: reading more than this many bytes raises StorageError (None: no byte limit).
        exact_size: the content must be exactly this many bytes (implies max_size); ending short raises too.
        deadline: seconds from now by which the last byte must have been read, connecting and retries
        included (default: `stream_deadline`); passing it raises StorageError, whatever the daemon does.
        path: a file inside the directory cid ("a/b.json": names of letters, digits, '.', '_', '-').
        """
        check_cid(cid)
        if path:
            cid = f"{cid}/{check_path(path)}"
        if exact_size is not None:
            if exact_size < 0:
                raise StorageError(f"cannot read {cid}: expected size {exact_size} is negative")
            max_size = exact_size if max_size is None else min(max_size, exact_size)
        if max_size is not None and max_size < 0:
            raise StorageError(f"cannot read {cid}: byte limit {max_size} is negative")
        budget = self.stream_deadline if deadline is None else float(deadline)
        return CatStream._open(self, cid, max_size, budget, exact_size)

    def cat_to_file(self, cid: str, dst: BinaryIO, progress: Callable[[int], None] | None = None,
                    max_size: int | None = None, deadline: float | None = None,
                    exact_size: int | None = None) -> int:
        """Stream cid into dst (limits as in open_stream); return the number of bytes written."""
        total = 0
        with self.open_stream(cid, max_size=max_size, deadline=deadline, exact_size=exact_size) as stream:
            while chunk := stream.read(CHUNK):
                dst.write(chunk)
                total += len(chunk)
                if progress:
                    progress(len(chunk))
        return total

    def _endpoint(self) -> tuple[str, str, int]:
        """(scheme, host, port) of the RPC API multiaddr."""
        parts = self.api.strip("/").split("/")
        if len(parts) >= 4 and parts[0] in ("ip4", "ip6", "dns", "dns4", "dns6") and parts[2] == "tcp":
            scheme = parts[4] if len(parts) >= 5 and parts[4] in ("http", "https") else "http"
            try:
                return scheme, parts[1], int(parts[3])
            except ValueError:
                pass
        raise StorageError(f"IPFS API address {self.api!r} is not a /ip4|ip6|dns/HOST/tcp/PORT[/http|/https] multiaddr")

    def _rpc(self, what: str, command: str, args: list[tuple[str, str]], timeout: float | None = None,
             retries: int | None = None) -> list[dict[str, Any]]:
        """One Kubo RPC call without a body (`POST /api/v0/COMMAND?args`): its JSON objects (one per line).
        Unreachable daemons are retried; a refusal is a StorageError with Kubo's message."""
        scheme, host, port = self._endpoint()
        path = f"/api/v0/{command}?" + urllib.parse.urlencode(args)
        last: Exception | None = None
        tries = self.retries if retries is None else retries
        for attempt in range(tries + 1):
            conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(host, port, timeout=self.timeout if timeout is None else timeout)
            try:
                conn.request("POST", path, body=b"", headers={"Content-Length": "0"})
                resp = conn.getresponse()
                body = resp.read(16 << 20)
            except (ConnectionError, socket.gaierror, http.client.HTTPException, OSError) as exc:
                last = exc
                if isinstance(exc, (TimeoutError, socket.timeout)):
                    break  # the daemon is there and slow: retrying would only wait longer
                if attempt < tries:
                    time.sleep(self.backoff * 2**attempt)
                continue
            finally:
                conn.close()
            if resp.status != 200:
                raise StorageError(f"IPFS at {self.api} refused to {what}: {rpc_message(body, resp.status)}")
            out = []
            for line in body.decode("utf-8", "replace").splitlines():
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        out.append({"Text": line})
            return out
        if isinstance(last, (TimeoutError, socket.timeout)):
            raise StorageError(f"IPFS at {self.api} did not answer in time to {what}") from last
        raise StorageError(f"cannot reach the IPFS daemon at {self.api} to {what} ({last})") from last

    def peer_id(self) -> str:
        return str(self._rpc("read its identity", "id", [])[0]["ID"])

    def addresses(self) -> list[str]:
        """The swarm addresses this node listens on, each ending in /p2p/ID (what another node connects to)."""
        info = self._rpc("read its identity", "id", [])[0]
        return [str(a) for a in info.get("Addresses") or []]

    def swarm_connect(self, addrs: list[str]) -> bool:
        """Ask this node to connect to a peer at one of addrs; True when one worked."""
        for addr in addrs:
            try:
                self._rpc(f"connect to {addr}", "swarm/connect", [("arg", addr)], timeout=15, retries=0)
                return True
            except StorageError:
                continue
        return False

    def pin_remote(self, cid: str, timeout: float) -> None:
        """Pin cid, fetching what is missing from the network (bitswap); StorageError when it does not finish
        within timeout seconds or the node refuses."""
        check_cid(cid)
        self._rpc(f"pin {cid}", "pin/add", [("arg", cid), ("recursive", "true"), ("progress", "false")],
                  timeout=timeout, retries=1)

    def unpin_cid(self, cid: str) -> bool:
        """Unpin cid here; False when it was not pinned."""
        check_cid(cid)
        try:
            self._rpc(f"unpin {cid}", "pin/rm", [("arg", cid)], retries=1)
            return True
        except StorageError as exc:
            if "not pinned" in str(exc):
                return False
            raise

    def pinned(self, cids: list[str]) -> dict[str, bool]:
        """Which of cids are pinned here (recursively or directly)."""
        out = {}
        for cid in cids:
            check_cid(cid)
            try:
                res = self._rpc(f"list pins of {cid}", "pin/ls", [("arg", cid), ("type", "all")], retries=1)
                out[cid] = any(cid in (r.get("Keys") or {}) or r.get("Cid") == cid for r in res)
            except StorageError as exc:
                if "not pinned" in str(exc) or "is not pinned" in str(exc):
                    out[cid] = False
                else:
                    raise
        return out

    def has_local(self, cid: str) -> bool:
        """Whether this node holds cid's root block itself (without asking the network)."""
        check_cid(cid)
        try:
            self._rpc(f"look for {cid}", "block/stat", [("arg", cid), ("offline", "true")], timeout=10, retries=0)
            return True
        except StorageError:
            return False

    def gc(self) -> int:
        """Run this node's garbage collection (`repo gc`); the number of blocks removed."""
        res = self._rpc("collect garbage", "repo/gc", [("quiet", "true")], timeout=max(self.timeout, 300), retries=0)
        errors = [r["Error"] for r in res if r.get("Error")]
        if errors:
            raise StorageError(f"IPFS at {self.api} could not collect garbage: {errors[0][:200]}")
        return len(res)

    def pin(self, cid: str) -> None:
        check_cid(cid)
        self._call(f"pin {cid}", lambda: self.client.pin.add(cid))

    def unpin(self, cid: str) -> None:
        check_cid(cid)
        self._call(f"unpin {cid}", lambda: self.client.pin.rm(cid))

    def is_pinned(self, cid: str) -> bool:
        check_cid(cid)
        try:
            res = self._call(f"list pins of {cid}", lambda: self.client.pin.ls(cid, type="recursive"))
        except StorageError:
            return False
        return cid in res.get("Keys", {})

    def stat(self, cid: str) -> dict[str, Any]:
        """Size and type of a CID (`ipfs files stat /ipfs/CID`)."""
        check_cid(cid)
        res = self._call(f"stat {cid}", lambda: self.client.files.stat(f"/ipfs/{cid}"))
        return {"cid": cid, "size": int(res["Size"]), "cumulativeSize": int(res["CumulativeSize"]),
                "type": res["Type"]}

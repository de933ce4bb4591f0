"""IPFS through a Kubo RPC endpoint, with ipfshttpclient.

Adds stream from disk as CIDv1, cat streams to disk, pin/unpin, stat. Unreachable daemon, missing CID and
time-outs are retried a bounded number of times, then reported as a StorageError that says what to do.
ipfshttpclient's daemon-version gate (it predates current Kubo) is skipped by constructing `Client` directly.
"""

from __future__ import annotations

import base64
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, TypeVar

import ipfshttpclient
import ipfshttpclient.exceptions as ipfs_exc

from .errors import StorageError

DEFAULT_API = "/ip4/127.0.0.1/tcp/5001/http"
CHUNK = 1 << 20

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

    def __init__(self, api: str | None = None, timeout: float = 120.0, retries: int = 3, backoff: float = 0.5):
        self.api = to_multiaddr(api or os.environ.get("DATALICENSE_IPFS_API", DEFAULT_API))
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
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
        import io

        result = self._call(
            "add data", lambda: self.client.add(io.BytesIO(data), cid_version=1, raw_leaves=True, pin=pin)
        )
        return str(result["Hash"])

    def cat_bytes(self, cid: str, max_size: int = 1 << 20) -> bytes:
        check_cid(cid)
        data = self._call(f"read {cid}", lambda: self.client.cat(cid, length=max_size + 1))
        if len(data) > max_size:
            raise StorageError(f"{cid} is larger than the {max_size} bytes expected here")
        return bytes(data)

    def open_stream(self, cid: str) -> "CatStream":
        """A file-like reader over `ipfs cat CID`, streamed (never the whole content in memory)."""
        check_cid(cid)
        chunks = self._call(f"read {cid}", lambda: self.client.cat(cid, stream=True))
        return CatStream(cid, chunks)

    def cat_to_file(self, cid: str, dst: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        with self.open_stream(cid) as stream:
            while chunk := stream.read(CHUNK):
                dst.write(chunk)
                total += len(chunk)
                if progress:
                    progress(len(chunk))
        return total

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


class CatStream:
    """File-like adapter over ipfshttpclient's streamed response; errors become StorageError."""

    def __init__(self, cid: str, chunks: Iterator[bytes]):
        self.cid = cid
        self._chunks = iter(chunks)
        self._chunk = b""
        self._pos = 0

    def _next(self) -> bool:
        try:
            self._chunk = next(self._chunks)
        except StopIteration:
            return False
        except (ipfs_exc.Error, OSError) as exc:
            raise StorageError(
                f"download of {self.cid} broke off ({exc}): check the IPFS daemon and run the command again"
            ) from exc
        self._pos = 0
        return True

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (all that is left for n < 0); b"" only at the end of the content."""
        if n < 0:
            parts = [self._chunk[self._pos:]]
            while self._next():
                parts.append(self._chunk)
            self._chunk, self._pos = b"", 0
            return b"".join(parts)
        while self._pos >= len(self._chunk):
            if not self._next():
                return b""
        out = self._chunk[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close:
            close()

    def __enter__(self) -> "CatStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

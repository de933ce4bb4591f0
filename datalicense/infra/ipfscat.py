"""The bounded reader of IPFS content: one `POST /api/v0/cat` response read with a byte limit and an overall
deadline (datalicense.infra.ipfs.Storage.open_stream opens it), and Kubo's error messages made printable."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from typing import TYPE_CHECKING

from datalicense.errors import StorageError

if TYPE_CHECKING:  # annotations only: ipfs.py imports this module
    from datalicense.infra.ipfs import Storage

__all__ = ["CHUNK", "CatStream", "rpc_message"]

CHUNK = 1 << 20


class CatStream:
    """File-like reader over one `POST /api/v0/cat` response, bounded in bytes and time (see open_stream).

    Every failure is a StorageError: the daemon unreachable or refusing, the download breaking off, more bytes
    than max_size, fewer than exact_size, or the deadline passing.
    """

    def __init__(self, cid: str, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse,
                 max_size: int | None, deadline_at: float, budget: float, exact_size: int | None = None,
                 api: str = "", read_timeout: float = 120.0):
        self.cid = cid
        self.max_size = max_size
        self.exact_size = exact_size
        self.received = 0
        self._conn = conn
        self._resp = resp
        self._deadline_at = deadline_at
        self._budget = budget
        self._api = api
        self._read_timeout = read_timeout
        self._done = False

    # -- opening

    @classmethod
    def _open(cls, storage: "Storage", cid: str, max_size: int | None, budget: float,
              exact_size: int | None) -> "CatStream":
        deadline_at = time.monotonic() + budget
        scheme, host, port = storage._endpoint()
        query = [("arg", cid)] + ([("length", str(max_size + 1))] if max_size is not None else [])
        path = "/api/v0/cat?" + urllib.parse.urlencode(query)
        last: Exception | None = None
        for attempt in range(storage.retries + 1):
            left = deadline_at - time.monotonic()
            if left <= 0:
                break
            conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(host, port, timeout=min(storage.timeout, left))
            if exact_size is not None:
                # HTTP/1.0: Kubo streams the body as it is, not in ~4 KiB chunks of chunked transfer encoding,
                # so reads come in large pieces (~2.5x faster here). A connection that ends early is caught by
                # the exact size; a mid-stream error Kubo would have put in a trailer ends the body the same way.
                conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"  # type: ignore[attr-defined]
            try:
                conn.request("POST", path, body=b"", headers={"Content-Length": "0"})
                if conn.sock is not None:
                    conn.sock.settimeout(max(0.001, min(storage.timeout, deadline_at - time.monotonic())))
                resp = conn.getresponse()
            except (ConnectionError, socket.gaierror, http.client.HTTPException, OSError) as exc:
                conn.close()
                last = exc
                if isinstance(exc, (TimeoutError, socket.timeout)) and time.monotonic() >= deadline_at:
                    break
                if attempt < storage.retries:
                    time.sleep(max(0.0, min(storage.backoff * 2**attempt, deadline_at - time.monotonic())))
                continue
            if resp.status != 200:
                try:
                    conn.sock and conn.sock.settimeout(max(0.001, min(5.0, deadline_at - time.monotonic())))
                    body = resp.read(4096)
                except (OSError, http.client.HTTPException):
                    body = b""
                conn.close()
                raise StorageError(f"IPFS refused to read {cid}: {rpc_message(body, resp.status)}")
            return cls(cid, conn, resp, max_size, deadline_at, budget, exact_size, storage.api, storage.timeout)
        if time.monotonic() >= deadline_at:
            raise StorageError(
                f"reading {cid} from IPFS did not finish within its {budget:g} s deadline: the content may not be "
                f"available from any node reachable by the daemon at {storage.api}"
            ) from last
        if isinstance(last, (TimeoutError, socket.timeout)):
            raise StorageError(
                f"IPFS timed out trying to read {cid} after {storage.retries + 1} attempts: the content may not be "
                "available from any node reachable by the daemon at " + storage.api
            ) from last
        raise StorageError(
            f"cannot reach the IPFS daemon at {storage.api} to read {cid} ({last}): start Kubo (`ipfs daemon`) or "
            "set --ipfs / DATALICENSE_IPFS_API to a reachable Kubo RPC endpoint"
        ) from last

    # -- reading

    def _read_some(self, n: int) -> bytes:
        if self._done:
            return b""
        left = self._deadline_at - time.monotonic()
        if left <= 0:
            self._fail_deadline(None)
        try:
            if self._conn.sock is not None:
                self._conn.sock.settimeout(min(self._read_timeout, left))
            chunk = self._resp.read1(n)
        except (TimeoutError, socket.timeout) as exc:
            if time.monotonic() >= self._deadline_at - 0.001:
                self._fail_deadline(exc)
            self.close()
            raise StorageError(f"download of {self.cid} stalled: IPFS sent nothing for a while; run it again") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.close()
            raise StorageError(
                f"download of {self.cid} broke off ({type(exc).__name__}: {exc}): check the IPFS daemon and run "
                "the command again"
            ) from exc
        self.received += len(chunk)
        if self.max_size is not None and self.received > self.max_size:
            self.close()
            promised = "the manifest promises" if self.exact_size is not None else "expected here"
            raise StorageError(f"{self.cid} is larger than the {self.max_size} bytes {promised}")
        if not chunk:
            self._done = True
            self.close()
            if self.exact_size is not None and self.received != self.exact_size:
                raise StorageError(
                    f"{self.cid} ended after {self.received} of the {self.exact_size} bytes the manifest promises"
                )
        return chunk

    def _fail_deadline(self, exc: BaseException | None) -> None:
        self.close()
        raise StorageError(
            f"reading {self.cid} from IPFS did not finish within its {self._budget:g} s deadline "
            f"({self.received} bytes read)"
        ) from exc

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (all that is left for n < 0, within the limits); b"" only at the end of the content."""
        if n is None or n < 0:
            parts = []
            while chunk := self._read_some(CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        if n == 0:
            return b""
        return self._read_some(min(n, CHUNK))

    def close(self) -> None:
        self._done = True
        try:
            self._resp.close()
        finally:
            self._conn.close()

    def __enter__(self) -> "CatStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rpc_message(body: bytes, status: int) -> str:
    """The "Message" of a Kubo RPC error body, bounded and printable."""
    try:
        message = str(json.loads(body.decode("utf-8", "replace")).get("Message", ""))
    except (ValueError, AttributeError):
        message = ""
    message = "".join(ch if ch.isprintable() else "?" for ch in (message or f"HTTP {status}"))
    return message[:300]

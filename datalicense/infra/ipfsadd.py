"""Streaming an upload into Kubo: one `POST /api/v0/add` whose body is written as it is produced (encryption streams
into it, datalicense.infra.pipeline), sent by a thread of its own.

`open_add(storage)` gives the writer. An abort (an error, or Ctrl-C on the main thread) may come at any moment while
the sender thread writes: the sender looks at the connection once per piece, an abort wakes a sender blocked in a
write, and nobody waits on the sender for long after one, so no thread prints a traceback or hangs the exit.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import secrets
import socket
import threading
import time
import urllib.parse
from typing import Any

from datalicense.errors import StorageError
from datalicense.infra.ipfs import Storage, check_cid
from datalicense.infra.ipfscat import rpc_message


def open_add(storage: Storage, pin: bool = True, name: str = "data") -> "AddStream":
    """A file-like writer whose bytes go straight into one `POST /api/v0/add` (CIDv1, raw leaves, as
    `ipfs add --cid-version 1`) of `storage`'s Kubo: nothing touches the disk on this side; `finish()` returns the
    CID."""
    return AddStream._open(storage, pin, name)


class AddStream:
    """File-like writer over one streamed `POST /api/v0/add` (multipart body, chunked transfer encoding).

    Writes are gathered into BATCH-byte pieces and sent by a thread as they come, so the daemon chunks, hashes
    and stores while the caller is still producing (encrypting) the rest, and the caller never waits on the
    socket while fewer than QUEUE pieces are in flight. `finish()` ends the body and returns the CID;
    a daemon that goes away or refuses mid-way is a StorageError, and nothing is retried (the bytes are gone).
    """

    BATCH = 1 << 20
    QUEUE = 8  # pieces waiting for the socket at most (memory: QUEUE * BATCH)

    def __init__(self, storage: Storage, conn: http.client.HTTPConnection, boundary: str):
        self._storage = storage
        self._conn = conn
        self._boundary = boundary
        self._buf = bytearray()
        self.size = 0
        self.cid = ""
        self.error: StorageError | None = None  # what broke the upload (also when a caller wrapped it)
        self._closed = False
        self._thread: Any = None

    @classmethod
    def _open(cls, storage: Storage, pin: bool, name: str) -> "AddStream":
        scheme, host, port = storage._endpoint()
        query = urllib.parse.urlencode([("cid-version", "1"), ("raw-leaves", "true"), ("pin", str(pin).lower()),
                                        ("progress", "false"), ("quieter", "true")])
        boundary = "datalicense-" + secrets.token_hex(12)
        last: Exception | None = None
        for attempt in range(storage.retries + 1):
            conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(host, port, timeout=storage.timeout)
            try:
                conn.putrequest("POST", "/api/v0/add?" + query, skip_accept_encoding=True)
                conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if conn.sock is not None:
                    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            except (ConnectionError, socket.gaierror, http.client.HTTPException, OSError) as exc:
                conn.close()
                last = exc
                if attempt < storage.retries:
                    time.sleep(storage.backoff * 2**attempt)
                continue
            self = cls(storage, conn, boundary)
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "data"
            self._send(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe}\"\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n".encode())
            return self
        raise StorageError(
            f"cannot reach the IPFS daemon at {storage.api} to add data ({last}): start Kubo (`ipfs daemon`) or "
            "set --ipfs / DATALICENSE_IPFS_API to a reachable Kubo RPC endpoint"
        ) from last

    def _send(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        # one look at the socket: abort() (Ctrl-C, on the main thread) may close the connection, which sets
        # `sock` to None, while the sender thread is between two writes
        sock = self._conn.sock
        try:
            if sock is None or self._closed:
                raise OSError("the upload was closed")
            sock.sendall(b"%x\r\n" % len(data))
            sock.sendall(data)
            sock.sendall(b"\r\n")
        except OSError as exc:
            detail = self._early_answer()
            self.abort()
            self.error = StorageError(
                f"upload to IPFS at {self._storage.api} broke off after {self.size} bytes "
                f"({detail or type(exc).__name__}): check the daemon and run the command again"
            )
            raise self.error from exc

    def _early_answer(self) -> str:
        """What the daemon said when it stopped reading (an error response), if anything."""
        try:
            if self._conn.sock is not None:
                self._conn.sock.settimeout(2)
            resp = self._conn.getresponse()
            return rpc_message(resp.read(4096), resp.status)
        except (OSError, http.client.HTTPException, ValueError):
            return ""

    def _sender(self) -> None:
        """Sends the queued pieces, so that the caller goes on producing while the socket waits for Kubo."""
        while True:
            piece = self._q.get()
            if piece is None:
                return
            if self.error is None:
                try:
                    self._send(piece)
                except StorageError:
                    pass  # kept in self.error; the producer sees it at its next write
                except Exception as exc:  # noqa: BLE001 - never a traceback from this thread: the producer reports it
                    self.error = StorageError(f"upload to IPFS at {self._storage.api} failed ({exc}): run it again")

    def _queue(self, piece: bytes) -> None:
        if self._thread is None:
            self._q: "queue.Queue[bytes | None]" = queue.Queue(self.QUEUE)
            self._thread = threading.Thread(target=self._sender, name="datalicense-add", daemon=True)
            self._thread.start()
        self._q.put(piece)

    def _drain(self, timeout: float | None = None) -> None:
        """Wait until every queued piece is sent (or the upload broke); after an abort, for `timeout` at most (an
        interrupt inside a queue operation can leave the sender unwoken; it is a daemon)."""
        if self._thread is not None:
            try:
                self._q.put(None, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout)
            self._thread = None

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.error is not None:
            raise self.error
        if self._closed:
            raise StorageError("write to a finished IPFS upload")
        n = len(data)
        self.size += n
        self._buf += data
        if len(self._buf) >= self.BATCH:
            self._queue(bytes(self._buf))
            self._buf = bytearray()
        return n

    def flush(self) -> None:
        """Nothing to do: bytes leave in BATCH-sized pieces, the rest at finish()."""

    def finish(self) -> str:
        """End the upload; the CID Kubo gives the content (raises StorageError if it refused)."""
        if self.cid:
            return self.cid
        self._drain()
        if self.error is not None:
            raise self.error
        self._send(bytes(self._buf))
        self._buf = bytearray()
        self._send(f"\r\n--{self._boundary}--\r\n".encode())
        try:
            assert self._conn.sock is not None
            self._conn.sock.sendall(b"0\r\n\r\n")
            self._conn.sock.settimeout(max(self._storage.timeout, 600.0))
            resp = self._conn.getresponse()
            body = resp.read(1 << 20)
        except (OSError, http.client.HTTPException, AssertionError) as exc:
            self.abort()
            raise StorageError(f"upload to IPFS at {self._storage.api} got no answer ({exc}): run it again") from exc
        finally:
            self._closed = True
            self._conn.close()
        if resp.status != 200:
            raise StorageError(f"IPFS at {self._storage.api} refused the upload: {rpc_message(body, resp.status)}")
        cid = ""
        for line in body.decode("utf-8", "replace").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("Message") and not doc.get("Hash"):
                raise StorageError(f"IPFS at {self._storage.api} refused the upload: {rpc_message(line.encode(), 500)}")
            cid = str(doc.get("Hash") or cid)
        self.cid = check_cid(cid) if cid else ""
        if not self.cid:
            raise StorageError(f"IPFS at {self._storage.api} ended the upload without a CID")
        return self.cid

    def abort(self) -> None:
        self._closed = True
        sock = self._conn.sock
        if sock is not None:  # wakes a sender thread blocked in a write (a plain close would not)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._conn.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._drain(timeout=2)

    def __enter__(self) -> "AddStream":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None or not self.cid:
            self.abort()

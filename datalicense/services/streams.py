"""The gateway's downloads of ciphertext from IPFS, bounded so that strangers cannot hold its stream threads.

A licence holder may be anyone a stranger names (a free dataset's licences cost nothing), and a dataset may point
at data nobody holds, so a read the gateway starts may wait on IPFS. Three bounds keep honest downloads running:
- `Admission`: running downloads are counted per signer, per dataset and per client address (an IPv6 /64 is one,
  datalicense.services.serving.client_key); a download over any bound is refused at once;
- `open_ciphertext`: the ciphertext's first byte must come within a short deadline (the gateway's node should hold
  what it serves), on a reader whose every wait is that short;
- `FailedCids`: a CID whose read failed is answered with that failure at once, until a retry time that doubles (as
  the manifest reads of datalicense.infra.ipfsreads).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, AsyncIterator

from starlette.responses import StreamingResponse

from datalicense.errors import StorageError

__all__ = ["StreamBounds", "Admission", "Ticket", "FailedCids", "first_byte_storage", "open_ciphertext"]


@dataclass(frozen=True)
class StreamBounds:
    """Downloads running at once: per signing address, per dataset, per client address."""

    per_signer: int = 4
    per_dataset: int = 8
    per_client: int = 8


class Ticket:
    """One admitted download: `release()` (any number of times) gives its places back."""

    def __init__(self, admission: "Admission", keys: tuple[tuple[str, Any], ...]):
        self._admission, self._keys, self._released = admission, keys, False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(self._keys)

    def keep_only(self, kind: str) -> None:
        """Give back every place but the `kind` one: a download whose first block came holds its dataset's and its
        address's places no longer (a holder that stops reading must not lock a dataset's other buyers out)."""
        with self._admission._lock:
            if self._released:
                return
        gone = tuple(key for key in self._keys if key[0] != kind)
        self._keys = tuple(key for key in self._keys if key[0] == kind)
        self._admission._release(gone)


class Admission:
    """Counts of running downloads (thread-safe)."""

    def __init__(self, bounds: StreamBounds):
        self.bounds = bounds
        self._running: dict[tuple[str, Any], int] = {}
        self._lock = threading.Lock()

    def admit(self, signer: str, dataset_id: int, client: str) -> "Ticket | str":
        """A ticket, or the one-line reason the download is refused now."""
        wanted = ((("signer", signer), self.bounds.per_signer, f"{signer} already has {{n}} downloads running"),
                  (("dataset", dataset_id), self.bounds.per_dataset, f"dataset {dataset_id} already has {{n}} "
                                                                      "downloads running"),
                  (("client", client), self.bounds.per_client, "your address already has {n} downloads running"))
        with self._lock:
            for key, bound, why in wanted:
                n = self._running.get(key, 0)
                if n >= bound:
                    return why.format(n=n) + ": wait for one to end and retry"
            for key, _, _ in wanted:
                self._running[key] = self._running.get(key, 0) + 1
        return Ticket(self, tuple(key for key, _, _ in wanted))

    def running(self, kind: str, value: Any) -> int:
        with self._lock:
            return self._running.get((kind, value), 0)

    def _release(self, keys: tuple[tuple[str, Any], ...]) -> None:
        with self._lock:
            for key in keys:
                left = self._running.get(key, 1) - 1
                if left > 0:
                    self._running[key] = left
                else:
                    self._running.pop(key, None)


class FailedCids:
    """CIDs whose read failed, each with its reason until a retry time (first_retry, doubling to max_retry);
    bounded in number (the oldest forgotten first)."""

    def __init__(self, first_retry: float = 30.0, max_retry: float = 600.0, max_entries: int = 4096):
        self.first_retry, self.max_retry, self.max_entries = first_retry, max_retry, max_entries
        self._failed: OrderedDict[str, tuple[str, float, int]] = OrderedDict()  # reason, retry at, failures
        self._lock = threading.Lock()

    def failing(self, cid: str) -> tuple[str, float] | None:
        """(reason, seconds until a retry) while the CID's failure is kept, else None."""
        with self._lock:
            kept = self._failed.get(cid)
            if kept is None or kept[1] <= time.monotonic():
                return None
            return kept[0], kept[1] - time.monotonic()

    def failed(self, cid: str, reason: str) -> None:
        with self._lock:
            failures = self._failed.pop(cid, ("", 0.0, 0))[2]
            wait = min(self.first_retry * 2 ** failures, self.max_retry)
            self._failed[cid] = (reason, time.monotonic() + wait, failures + 1)
            while len(self._failed) > self.max_entries:
                self._failed.popitem(last=False)

    def read(self, cid: str) -> None:
        with self._lock:
            self._failed.pop(cid, None)


def first_byte_storage(storage: Any, first_byte_timeout: float) -> Any:
    """A reader over the same Kubo as `storage` whose every wait (the first byte included) lasts at most
    `first_byte_timeout` seconds, without retries; `storage` itself when it is not a Kubo reader."""
    from datalicense.infra.ipfs import Storage  # start-up: the IPFS client only for a server

    if not isinstance(storage, Storage):
        return storage
    return Storage(storage.api, timeout=first_byte_timeout, retries=0, stream_deadline=storage.stream_deadline)


def open_ciphertext(storage: Any, cid: str, size: int, chunk: int) -> tuple[Any, bytes]:
    """The open stream of `cid` (exactly `size` bytes) and its first block of up to `chunk` bytes; StorageError when
    IPFS does not send it in time."""
    stream = storage.open_stream(cid, exact_size=size)
    try:
        first = read_block(stream, chunk)
    except BaseException:
        stream.close()
        raise
    if size and not first:
        stream.close()
        raise StorageError(f"IPFS sent nothing for {cid}")
    return stream, first


def read_block(stream: Any, chunk: int) -> bytes:
    """Up to `chunk` bytes of `stream` (fewer only at its end)."""
    buf = bytearray()
    while len(buf) < chunk and (part := stream.read(chunk - len(buf))):
        buf += part
    return bytes(buf)


#: Seconds a download waits for its client to take the next block before cutting it off.
SEND_TIMEOUT = 60.0


class Download(StreamingResponse):
    """A download that gives its places back and closes its IPFS stream however it ends (sent, cut, never begun)."""

    def __init__(self, content: AsyncIterator[bytes], ticket: Ticket, pool: concurrent.futures.Executor,
                 stream: Any, **kw: Any):
        super().__init__(content, **kw)
        self._ticket, self._pool, self._ipfs = ticket, pool, stream

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def timed_send(message: Any) -> None:  # a client that takes no block for a while is cut off
            await asyncio.wait_for(send(message), SEND_TIMEOUT)

        try:
            await super().__call__(scope, receive, timed_send)
        except asyncio.TimeoutError:
            pass  # the client stopped reading: its download ends here and gives its places back
        finally:
            self._ticket.release()
            self._pool.submit(self._ipfs.close)

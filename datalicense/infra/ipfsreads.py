"""Reads from IPFS a stranger can make stall, for the servers: a manifest or a pool tree under a CID nobody holds
is searched for until its deadline, and a server must not wait for it holding a lock or a worker thread.

`CachedReads` runs each read on a few threads of its own, at most once at a time per key (the requests that want
the same key wait for the same read, asynchronously if they are async); it keeps a result for good (content
addressed: it never changes), and a failure that may pass (unreachable) until a retry time that doubles from
`first_retry` to `max_retry`; meanwhile the failure is answered at once and the retry runs in the background. The
number of results kept is bounded (the least recently used go first).

`read_manifest` is the one reading of a manifest (size bound, deadline, schema) with the difference between a
manifest that is wrong for good and one that could not be reached; the event index and both servers use it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from datalicense.errors import DataLicenseError, StorageError
from datalicense.protocol.manifest import Manifest, parse
from datalicense.protocol.manifest import MANIFEST_MAX_BYTES

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Overall deadline of one manifest read (seconds); $DATALICENSE_MANIFEST_TIMEOUT changes it.
MANIFEST_TIMEOUT = 5.0


def manifest_timeout() -> float:
    try:
        return float(os.environ.get("DATALICENSE_MANIFEST_TIMEOUT", MANIFEST_TIMEOUT))
    except ValueError:
        return MANIFEST_TIMEOUT


@dataclass(frozen=True)
class ManifestRead:
    """One manifest read: the bytes and the parsed manifest, or why not (`retry`: it may be reachable later)."""

    cid: str
    raw: bytes = b""
    manifest: Manifest | None = None
    error: str = ""
    retry: bool = False


def read_manifest(storage: Any, cid: str, deadline: float | None = None) -> ManifestRead:
    """Read and check the manifest at `cid` within `deadline` seconds (default: manifest_timeout())."""
    try:
        raw = storage.cat_bytes(cid, MANIFEST_MAX_BYTES, deadline=manifest_timeout() if deadline is None else deadline)
    except StorageError as exc:
        reason = str(exc)
        if "larger than" in reason:
            return ManifestRead(cid, error=f"manifest larger than {MANIFEST_MAX_BYTES} bytes")
        return ManifestRead(cid, error=f"manifest unreachable: {reason}", retry=True)
    if not raw:
        # No manifest is empty; Kubo ends a stream it could not serve with an empty body and an error in the
        # trailer, which http.client drops: try again later rather than keep it as invalid.
        return ManifestRead(cid, error="manifest unreachable: IPFS sent an empty stream for it", retry=True)
    try:
        return ManifestRead(cid, raw, parse(raw))
    except DataLicenseError as exc:
        return ManifestRead(cid, error=f"manifest invalid: {exc}")


def manifest_reads(storage: Any, workers: int = 16) -> "CachedReads[str, ManifestRead]":
    """The servers' cache of manifest reads through `storage`."""
    return CachedReads(lambda cid: read_manifest(storage, cid), retry=lambda r: r.retry,
                       on_error=lambda cid, exc: ManifestRead(cid, error=f"manifest unreachable: {exc}", retry=True),
                       workers=workers)


class CachedReads(Generic[K, V]):
    """Reads by key on `workers` threads of their own, deduplicated and kept (see the module's docstring).

    read(key) returns a value (a failure is a value too: `retry(value)` says whether it may pass); an exception
    from read becomes on_error(key, exc), which may pass."""

    def __init__(self, read: Callable[[K], V], retry: Callable[[V], bool], on_error: Callable[[K, Exception], V],
                 workers: int = 8, max_entries: int = 4096, first_retry: float = 30.0, max_retry: float = 600.0):
        self._read, self._retry, self._on_error = read, retry, on_error
        self.max_entries, self.first_retry, self.max_retry = max_entries, first_retry, max_retry
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="datalicense-read")
        self._lock = threading.Lock()
        self._kept: OrderedDict[K, tuple[V, float, int]] = OrderedDict()  # value, retry at (monotonic), failures
        self._running: dict[K, concurrent.futures.Future[V]] = {}

    def future(self, key: K) -> "concurrent.futures.Future[V]":
        """The read of `key`: done at once when kept (a failure kept past its retry time too, while the retry runs),
        else the running read, else a new one."""
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                if kept[1] <= now and key not in self._running:
                    self._start(key, kept[2])
                done: concurrent.futures.Future[V] = concurrent.futures.Future()
                done.set_result(kept[0])
                return done
            running = self._running.get(key)
            return running if running is not None else self._start(key, 0)

    def _start(self, key: K, failures: int) -> "concurrent.futures.Future[V]":
        fut = self._pool.submit(self._run, key, failures)
        self._running[key] = fut
        return fut

    def _run(self, key: K, failures: int) -> V:
        try:
            value = self._read(key)
        except Exception as exc:  # noqa: BLE001 - any failure of one read is that read's result, never the server's
            value = self._on_error(key, exc)
        with self._lock:
            self._running.pop(key, None)
            if self._retry(value):
                retry_at = time.monotonic() + min(self.first_retry * 2 ** failures, self.max_retry)
                self._kept[key] = (value, retry_at, failures + 1)
            else:
                self._kept[key] = (value, float("inf"), 0)
            self._kept.move_to_end(key)
            while len(self._kept) > self.max_entries:
                self._kept.popitem(last=False)
        return value

    def get(self, key: K, wait: float) -> V | None:
        """The value of `key`, waiting at most `wait` seconds (None: not read yet; the read goes on)."""
        try:
            return self.future(key).result(timeout=wait)
        except concurrent.futures.TimeoutError:
            return None

    async def aget(self, key: K, wait: float) -> V | None:
        """As `get`, waiting without holding a thread."""
        return (await self.aget_many([key], wait))[key]

    async def aget_many(self, keys: Iterable[K], wait: float) -> dict[K, V | None]:
        """{key: value or None (not read yet)} for each key, the reads in parallel, waiting at most `wait` in all."""
        futures = {k: self.future(k) for k in dict.fromkeys(keys)}
        pending = [asyncio.wrap_future(f) for f in futures.values() if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=wait)
        return {k: f.result() if f.done() else None for k, f in futures.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

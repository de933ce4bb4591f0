"""The data path as overlapping stages: encryption streams into the IPFS add request, and hashing runs beside it.

Publishing a file used to be encrypt-to-a-temporary-file, then add that file: two passes one after the other.
Here one pass reads the plaintext in BLOCK-sized pieces, hands each piece to a hashing thread (hashlib releases
the GIL on large buffers, so SHA-256 runs on the other core while pyrage encrypts), and pyrage's output goes
straight into Kubo's `add` request (ipfsadd.AddStream), which the daemon chunks and stores as it arrives.
Memory stays bounded: at most QUEUE pieces wait for the hasher, and the add request sends 1 MiB at a time.

`decrypt_verify` is the mirror image for a fetch: a reader thread keeps the next pieces of the download coming
while pyrage decrypts, and the plaintext is hashed and written by a third thread.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from typing import Any, BinaryIO, Callable

import pyrage

from datalicense.protocol import age as agecrypt
from datalicense.errors import ConfigError, IntegrityError, StorageError
from datalicense.infra.ipfsadd import open_add
from datalicense.infra.ipfs import Storage

BLOCK = 1 << 20
QUEUE = 8
_END = None


class _Hasher:
    """SHA-256 of the pieces handed to it, computed on its own thread (and optionally written somewhere)."""

    def __init__(self, sink: Callable[[bytes], Any] | None = None, progress: Callable[[int], None] | None = None):
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: BaseException | None = None
        self._sink = sink
        self._progress = progress
        self._q: queue.Queue[bytes | None] = queue.Queue(QUEUE)
        self._t = threading.Thread(target=self._run, name="datalicense-hash", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while True:
            piece = self._q.get()
            if piece is _END:
                return
            if self.error is not None:
                continue  # drain so the producer never blocks
            try:
                self.sha256.update(piece)
                if self._sink is not None:
                    self._sink(piece)
                self.size += len(piece)
                if self._progress:
                    self._progress(len(piece))
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread by close()
                self.error = exc

    def put(self, piece: bytes) -> None:
        if self.error is not None:
            raise self.error
        self._q.put(piece)

    def close(self) -> bytes:
        self._q.put(_END)
        self._t.join()
        if self.error is not None:
            raise self.error
        return self.sha256.digest()

    def abandon(self) -> None:
        """Stop after a failure or Ctrl-C, without waiting for long: an interrupt inside a queue operation can leave
        the thread unwoken (it is a daemon, and its result is not wanted)."""
        if self.error is None:
            self.error = InterruptedError("abandoned")
        try:
            self._q.put(_END, timeout=1)
        except queue.Full:
            pass
        self._t.join(timeout=2)


class _HashingRaw(io.RawIOBase):
    """The source as a raw stream that queues every block it reads for hashing. Wrapped in a BufferedReader of
    BLOCK bytes, so pyrage's many small reads (8 KiB) are served in C and this runs once per block."""

    def __init__(self, src: BinaryIO, hasher: _Hasher):
        self._src = src
        self._hasher = hasher
        self.error: OSError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        try:
            block = self._src.read(len(buf))
        except OSError as exc:
            self.error = exc
            raise
        n = len(block)
        if n:
            buf[:n] = block
            self._hasher.put(block)
        return n


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C inside pyrage's reader or writer: pyrage re-raises it as its own error, named in the message."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt) or str(seen).startswith("KeyboardInterrupt"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def encrypt_and_add(src: BinaryIO, storage: Storage, content_key: bytes, name: str = "data",
                    progress: Callable[[int], None] | None = None) -> tuple[int, bytes, str, int]:
    """Encrypt src to the content key's age recipient straight into an IPFS add (CIDv1, raw leaves, pinned).

    Returns (plaintext size, plaintext SHA-256, ciphertext CID, ciphertext size)."""
    recipient = pyrage.x25519.Recipient.from_str(agecrypt.recipient_of(content_key))
    hasher = _Hasher(progress=progress)
    raw = _HashingRaw(src, hasher)
    reader = io.BufferedReader(raw, buffer_size=BLOCK)
    try:
        with open_add(storage, pin=True, name=name) as add:
            try:
                pyrage.encrypt_io(reader, add, [recipient])
            except Exception as exc:  # pyrage wraps what its reader and writer raised: report the cause
                if _interrupted(exc):
                    raise KeyboardInterrupt("interrupted during encryption: nothing was published") from None
                if add.error is not None:
                    raise add.error from exc
                if raw.error is not None:
                    raise ConfigError(f"cannot read the file being published: {raw.error}") from exc
                raise
            digest = hasher.close()
            cid = add.finish()
    except BaseException:
        try:
            hasher.abandon()
        except BaseException:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    return hasher.size, digest, cid, add.size


class _Prefetch(io.RawIOBase):
    """Reads the next pieces of a download on a thread while the caller decrypts the previous ones (wrapped in a
    BufferedReader, so pyrage's 8 KiB reads are served in C)."""

    def __init__(self, src: Any, depth: int = QUEUE):
        self._src = src
        self._q: queue.Queue[tuple[bytes, BaseException | None]] = queue.Queue(depth)
        self._buf = memoryview(b"")
        self._pos = 0
        self._eof = False
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name="datalicense-prefetch", daemon=True)
        self._t.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._src.read(BLOCK)
                self._q.put((chunk, None))
                if not chunk:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._q.put((b"", exc))

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self._pos >= len(self._buf):
            if self._eof:
                return 0
            chunk, exc = self._q.get()
            if exc is not None:
                self._eof = True
                self.error = exc
                raise exc
            if not chunk:
                self._eof = True
                return 0
            self._buf, self._pos = memoryview(chunk), 0
        n = min(len(buf), len(self._buf) - self._pos)
        buf[:n] = self._buf[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._stop.set()
        while self._t.is_alive():
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass
        super().close()


class _ToHasher(io.RawIOBase):
    """pyrage's output, gathered by a BufferedWriter into BLOCK-sized pieces, for the hashing/writing thread."""

    def __init__(self, hasher: _Hasher):
        self._hasher = hasher

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._hasher.put(bytes(data))
        return len(data)


def decrypt_verify(src: Any, dst: BinaryIO, content_key: bytes,
                   progress: Callable[[int], None] | None = None) -> tuple[int, bytes]:
    """Decrypt src (a stream of ciphertext) into dst with download, decryption and hashing+writing on three
    threads; returns (plaintext size, plaintext SHA-256). Bad data raises IntegrityError (the caller discards
    what was written); a broken download raises the StorageError of the stream."""
    identity = pyrage.x25519.Identity.from_str(agecrypt.identity_string(content_key))
    hasher = _Hasher(sink=dst.write, progress=progress)
    prefetch = _Prefetch(src)
    reader = io.BufferedReader(prefetch, buffer_size=BLOCK)
    out = io.BufferedWriter(_ToHasher(hasher), buffer_size=BLOCK)
    try:
        pyrage.decrypt_io(reader, out, [identity])
        out.flush()
    except Exception as exc:  # pyrage wraps what its reader and writer raised: report the cause
        if _interrupted(exc):
            raise KeyboardInterrupt("interrupted during decryption: nothing was written") from None
        if prefetch.error is not None:  # the download broke, not the data
            raise prefetch.error from exc
        if hasher.error is not None:  # writing the output failed (a full disk)
            raise hasher.error from exc
        if isinstance(exc, pyrage.DecryptError):
            raise IntegrityError(
                f"the ciphertext does not decrypt with the delivered key ({exc}): the data on IPFS was tampered "
                "with or the key is wrong; no output was written. Open a dispute with `datalicense dispute`"
            ) from exc
        raise
    finally:
        prefetch.close()
        digest = hasher.close() if hasher.error is None else b""
    if hasher.error is not None:
        raise hasher.error
    return hasher.size, digest

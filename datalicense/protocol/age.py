"""Streamed encryption in the age format (https://age-encryption.org/v1) with pyrage.

Each dataset version gets a fresh X25519 identity; its 32-byte secret is the content key K that the
contract commits to (keccak256(K)) and that deliveries wrap. Files are never held in memory whole.
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO, Callable

import pyrage
from bech32 import bech32_decode, bech32_encode, convertbits

from datalicense.errors import CryptoError, IntegrityError

_HRP = "age-secret-key-"


def new_content_key() -> bytes:
    return os.urandom(32)


def identity_string(content_key: bytes) -> str:
    """The `AGE-SECRET-KEY-1...` identity for a 32-byte content key (what `age -d -i FILE` reads)."""
    if len(content_key) != 32:
        raise CryptoError("a content key is 32 bytes")
    data = convertbits(content_key, 8, 5)
    assert data is not None
    return bech32_encode(_HRP, data).upper()


def content_key_from_identity(identity: str) -> bytes:
    hrp, data = bech32_decode(identity.strip().lower())
    if hrp != _HRP or data is None:
        raise CryptoError("not an age X25519 identity (AGE-SECRET-KEY-1...)")
    raw = convertbits(data, 5, 8, False)
    if raw is None or len(raw) != 32:
        raise CryptoError("malformed age identity")
    return bytes(raw)


def recipient_of(content_key: bytes) -> str:
    """The age recipient (`age1...`) of a content key."""
    return str(pyrage.x25519.Identity.from_str(identity_string(content_key)).to_public())


class _Reader:
    """File-like reader that hashes and counts what passes through, and reports progress."""

    def __init__(self, src: BinaryIO, progress: Callable[[int], None] | None = None):
        self.src = src
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        chunk = self.src.read(n)
        if chunk:
            self.sha256.update(chunk)
            self.size += len(chunk)
            if self.progress:
                self.progress(len(chunk))
        return chunk

    def readinto(self, buf) -> int:  # pragma: no cover - pyrage uses read()
        chunk = self.read(len(buf))
        buf[: len(chunk)] = chunk
        return len(chunk)


class _Writer:
    """File-like writer that hashes and counts what passes through."""

    def __init__(self, dst: BinaryIO, progress: Callable[[int], None] | None = None):
        self.dst = dst
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        self.size += len(data)
        self.dst.write(data)
        if self.progress:
            self.progress(len(data))
        return len(data)

    def flush(self) -> None:
        self.dst.flush()


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, content_key: bytes, progress: Callable[[int], None] | None = None
) -> tuple[int, bytes]:
    """Encrypt src into dst to the content key's recipient; returns (plaintext size, plaintext SHA-256)."""
    reader = _Reader(src, progress)
    recipient = pyrage.x25519.Recipient.from_str(recipient_of(content_key))
    pyrage.encrypt_io(reader, dst, [recipient])
    return reader.size, reader.sha256.digest()


def decrypt_stream(
    src: BinaryIO, dst: BinaryIO, content_key: bytes, progress: Callable[[int], None] | None = None
) -> tuple[int, bytes]:
    """Decrypt src into dst; returns (plaintext size, plaintext SHA-256). Raises IntegrityError on bad data."""
    writer = _Writer(dst, progress)
    identity = pyrage.x25519.Identity.from_str(identity_string(content_key))
    try:
        pyrage.decrypt_io(src, writer, [identity])
    except pyrage.DecryptError as exc:
        raise IntegrityError(
            f"the ciphertext does not decrypt with the delivered key ({exc}): the data on IPFS was tampered "
            "with or the key is wrong; no output was written. Open a dispute with `datalicense dispute`"
        ) from exc
    return writer.size, writer.sha256.digest()

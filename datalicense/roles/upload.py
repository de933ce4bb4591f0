"""A publish's upload: the file encrypted (age, streamed into the IPFS add) and its manifest added, once per (file
content, publisher, title, terms). The upload record is remembered in the key store (camelCase JSON on disk) so a
re-run, or a publish interrupted after its upload, reuses the same CIDs and content key instead of uploading again.

Steps: `_reusable` (a record whose CIDs IPFS still has), `_encrypt_and_add` (the file, checked unchanged while it was
read), `_add_manifest` (the manifest naming the ciphertext and the content key's recipient).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from datalicense.errors import ConfigError, IntegrityError, StorageError
from datalicense.infra.connection import Connection
from datalicense.infra.ipfs import Storage
from datalicense.infra.pipeline import encrypt_and_add
from datalicense.protocol import age as agecrypt
from datalicense.protocol.manifest import Manifest
from datalicense.protocol.manifest import now as manifest_now
from datalicense.roles.keys import KeyStore

__all__ = ["Upload", "publishable_size", "upload"]


def publishable_size(src: Path) -> int:
    """The size of a file to publish (a dataset, a new version, a pool's epoch): the one check, before anything is
    encrypted or sent. A file this process cannot read, or an empty one, is refused in one line (ConfigError)."""
    if not src.is_file():
        raise ConfigError(f"{src} is not a readable file")
    try:
        size = src.stat().st_size
        with open(src, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot read {src}: {exc.strerror}") from exc
    if size == 0:
        raise ConfigError(f"{src} is empty (0 bytes): there is nothing to sell; give the file with the data")
    return size


@dataclass(frozen=True)
class Upload:
    """One upload: the plaintext's hash and size, the ciphertext's and manifest's CIDs, the content key (as an age
    identity) and the key's commitment."""

    sha256: str
    size: int
    ciphertext_cid: str
    manifest_cid: str
    identity: str
    key_hash: str

    @property
    def content_key(self) -> bytes:
        return agecrypt.content_key_from_identity(self.identity)

    @classmethod
    def from_record(cls, record: Any) -> "Upload | None":
        """The upload of a record as the key store keeps it; None for a damaged one."""
        try:
            return cls(str(record["sha256"]), int(record["size"]), str(record["ciphertextCid"]),
                       str(record["manifestCid"]), str(record["identity"]), str(record["keyHash"]))
        except (KeyError, TypeError, ValueError):
            return None

    def record(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "ciphertextCid": self.ciphertext_cid,
                "manifestCid": self.manifest_cid, "identity": self.identity, "keyHash": self.key_hash}


def upload(conn: Connection, keys: KeyStore, src: Path, size: int, title: str, description: str,
           media_type: str | None, terms_ref: bytes, publisher: str) -> Upload:
    """Encrypt and add `src` and its manifest to IPFS, or reuse the upload of the same file or content."""
    storage = conn.storage
    # A re-run on the same file (same path, inode, size and times) finds its record without reading the
    # file again; anything else is read once, encrypted into the add request and hashed beside it.
    try:
        before = src.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read {src}: {exc.strerror}") from exc
    common = f"{publisher}|{title}|{description}|{terms_ref.hex()}|{conn.chain_id}"
    stamp = f"{src.resolve()}|{before.st_dev}|{before.st_ino}|{before.st_size}|{before.st_mtime_ns}|{before.st_ctime_ns}"
    file_key = keccak(text=stamp + '|' + common).hex()
    pointer = keys.upload_pointer(file_key)
    found = _reusable(keys, storage, pointer) if pointer is not None else None
    if found is not None:
        return found
    content_key = agecrypt.new_content_key()
    plain_size, sha, cipher_cid, cipher_size = _encrypt_and_add(conn, src, size, content_key, before)
    record_key = keccak(text=f"{sha}|{common}").hex()
    earlier = _reusable(keys, storage, record_key)
    if earlier is not None:
        # the same content was uploaded before (another path or a touched file): keep that upload, whose
        # manifest may already be on chain, and drop the one just made
        if earlier.ciphertext_cid != cipher_cid:
            try:
                storage.unpin_cid(cipher_cid)
            except StorageError:
                pass
        keys.save_upload(file_key, record_key)
        return earlier
    manifest_cid = _add_manifest(storage, src, title, description, media_type, plain_size, sha, cipher_cid,
                                 cipher_size, content_key, terms_ref, publisher)
    done = Upload(sha, plain_size, cipher_cid, manifest_cid, agecrypt.identity_string(content_key),
                  "0x" + keccak(content_key).hex())
    keys.save_upload(file_key, record_key, done.record())
    return done


def _reusable(keys: KeyStore, storage: Storage, record_key: str) -> Upload | None:
    """The remembered upload `record_key` if IPFS still has its ciphertext and manifest."""
    found = Upload.from_record(keys.upload_record(record_key))
    try:
        if found is not None and storage.stat(found.ciphertext_cid) and storage.stat(found.manifest_cid):
            return found
    except (OSError, ValueError, KeyError, StorageError):
        pass  # damaged, or the earlier upload is gone from IPFS: upload again
    return None


def _encrypt_and_add(conn: Connection, src: Path, size: int, content_key: bytes,
                     before: Any) -> tuple[int, str, str, int]:
    """(plaintext size, plaintext sha256 hex, ciphertext CID, ciphertext size); the file must not change meanwhile."""
    with open(src, "rb") as fin:
        plain_size, digest, cipher_cid, cipher_size = encrypt_and_add(
            fin, conn.storage, content_key, name=src.name, progress=conn.progress("encrypt+upload", size))
    after = src.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or plain_size != after.st_size:
        raise IntegrityError(f"{src} changed while it was being published: try again")
    return plain_size, digest.hex(), cipher_cid, cipher_size


def _add_manifest(storage: Storage, src: Path, title: str, description: str, media_type: str | None,
                  plain_size: int, sha: str, cipher_cid: str, cipher_size: int, content_key: bytes,
                  terms_ref: bytes, publisher: str) -> str:
    manifest = Manifest(
        title=title,
        description=description,
        media_type=media_type or mimetypes.guess_type(src.name)[0] or "application/octet-stream",
        plaintext_size=plain_size,
        plaintext_sha256=sha,
        ciphertext_cid=cipher_cid,
        ciphertext_size=cipher_size,
        recipient=agecrypt.recipient_of(content_key),
        licence_terms="0x" + terms_ref.hex(),
        publisher=publisher,
        created_at=manifest_now(),
    )
    return storage.add_bytes(manifest.to_json())

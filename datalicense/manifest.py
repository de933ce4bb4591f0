"""The dataset manifest: a small JSON document on IPFS that describes one dataset version.

Schema version 1 (all fields required unless marked optional):

    {
      "schema": "datalicense/manifest",
      "version": 1,
      "title": str (1..200 chars),
      "description": str (optional, up to 10,000 chars),
      "mediaType": str (e.g. "text/csv"),
      "plaintext": {"size": int >= 0, "sha256": 64 hex chars},
      "ciphertext": {"cid": CIDv1 str, "size": int > 0},
      "encryption": {"scheme": "age-x25519", "recipient": "age1..."},
      "licenceTerms": 0x + 64 hex chars (hash or CID digest of the licence text),
      "publisher": 0x-prefixed 20-byte address,
      "createdAt": ISO 8601 UTC timestamp ("2026-11-28T09:00:00Z")
    }

The on-chain commitment to the plaintext (SHA-256) must equal `plaintext.sha256`; `fetch` checks both.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import IntegrityError
from .storage import StorageError, check_cid

SCHEMA = "datalicense/manifest"
VERSION = 1
SCHEME = "age-x25519"

_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_MEDIA = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class ManifestError(IntegrityError):
    """A manifest is not valid schema version 1."""


@dataclass(frozen=True)
class Manifest:
    title: str
    description: str
    media_type: str
    plaintext_size: int
    plaintext_sha256: str
    ciphertext_cid: str
    ciphertext_size: int
    recipient: str
    licence_terms: str
    publisher: str
    created_at: str

    def to_json(self) -> bytes:
        doc = {
            "schema": SCHEMA,
            "version": VERSION,
            "title": self.title,
            "description": self.description,
            "mediaType": self.media_type,
            "plaintext": {"size": self.plaintext_size, "sha256": self.plaintext_sha256},
            "ciphertext": {"cid": self.ciphertext_cid, "size": self.ciphertext_size},
            "encryption": {"scheme": SCHEME, "recipient": self.recipient},
            "licenceTerms": self.licence_terms,
            "publisher": self.publisher,
            "createdAt": self.created_at,
        }
        validate(doc)
        return json.dumps(doc, indent=2, sort_keys=True).encode()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _need(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    if key not in doc:
        raise ManifestError(f"manifest has no {where}{key!r}")
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"manifest field {where}{key!r} has the wrong type ({type(value).__name__})")
    return value


def validate(doc: Any) -> None:
    """Raise ManifestError with the reason unless doc is a valid schema-1 manifest."""
    if not isinstance(doc, dict):
        raise ManifestError("manifest is not a JSON object")
    if doc.get("schema") != SCHEMA:
        raise ManifestError(f"manifest schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    if doc.get("version") != VERSION:
        raise ManifestError(f"manifest schema version {doc.get('version')!r} is not supported (expected {VERSION})")
    title = _need(doc, "title", str)
    if not 1 <= len(title) <= 200:
        raise ManifestError("manifest title must be 1..200 characters")
    if len(doc.get("description", "")) > 10_000 or not isinstance(doc.get("description", ""), str):
        raise ManifestError("manifest description must be a string of at most 10,000 characters")
    if not _MEDIA.match(_need(doc, "mediaType", str)):
        raise ManifestError("manifest mediaType is not a media type like text/csv")
    plain = _need(doc, "plaintext", dict)
    if _need(plain, "size", int, "plaintext.") < 0:
        raise ManifestError("manifest plaintext.size is negative")
    if not _HEX32.match(_need(plain, "sha256", str, "plaintext.")):
        raise ManifestError("manifest plaintext.sha256 is not 64 lower-case hex characters")
    cipher = _need(doc, "ciphertext", dict)
    try:
        check_cid(_need(cipher, "cid", str, "ciphertext."))
    except StorageError as exc:
        raise ManifestError(f"manifest ciphertext.cid: {exc}") from exc
    if _need(cipher, "size", int, "ciphertext.") <= 0:
        raise ManifestError("manifest ciphertext.size must be positive")
    enc = _need(doc, "encryption", dict)
    if _need(enc, "scheme", str, "encryption.") != SCHEME:
        raise ManifestError(f"manifest encryption scheme {enc['scheme']!r} is not supported (expected {SCHEME})")
    if not _need(enc, "recipient", str, "encryption.").startswith("age1"):
        raise ManifestError("manifest encryption.recipient is not an age recipient (age1...)")
    if not _BYTES32.match(_need(doc, "licenceTerms", str)):
        raise ManifestError("manifest licenceTerms is not a 0x-prefixed 32-byte hex value")
    if not _ADDRESS.match(_need(doc, "publisher", str)):
        raise ManifestError("manifest publisher is not a 0x-prefixed address")
    if not _TIME.match(_need(doc, "createdAt", str)):
        raise ManifestError("manifest createdAt is not an ISO 8601 UTC time like 2026-11-28T09:00:00Z")


def parse(raw: bytes) -> Manifest:
    """Parse and validate a manifest; a bad one is rejected with the reason."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"manifest is not JSON ({exc})") from exc
    validate(doc)
    return Manifest(
        title=doc["title"],
        description=doc.get("description", ""),
        media_type=doc["mediaType"],
        plaintext_size=doc["plaintext"]["size"],
        plaintext_sha256=doc["plaintext"]["sha256"],
        ciphertext_cid=doc["ciphertext"]["cid"],
        ciphertext_size=doc["ciphertext"]["size"],
        recipient=doc["encryption"]["recipient"],
        licence_terms=doc["licenceTerms"],
        publisher=doc["publisher"],
        created_at=doc["createdAt"],
    )

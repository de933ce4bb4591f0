"""The dataset manifest: a small JSON document on IPFS that describes one dataset version.

The format is published as a JSON Schema document, `datalicense/schema/manifest.schema.json` (shipped in the
package; `schema_document()` returns it), so the CLI, the agent and the web page agree on what is valid.
Schema version 1 (all fields required unless marked optional, no other fields):

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

A manifest comes from strangers, so `parse` reads it with limits before validating it: at most MAX_BYTES of
strict UTF-8, nesting at most MAX_DEPTH deep, numbers at most MAX_NUMBER_CHARS characters, integers only (no
fractions, exponents, NaN or Infinity), no duplicate keys, no lone surrogates. Whatever the bytes, the only
exception that comes out is ManifestError, with the reason.

The on-chain commitment to the plaintext (SHA-256) must equal `plaintext.sha256`; `fetch` checks both.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from datalicense.errors import IntegrityError

SCHEMA = "datalicense/manifest"
VERSION = 1
SCHEME = "age-x25519"

#: Limits applied while reading a manifest, before the schema is checked.
MANIFEST_MAX_BYTES = 64 * 1024  # also the most the IPFS adapter reads of a manifest (datalicense.infra.ipfs)
MAX_BYTES = MANIFEST_MAX_BYTES
MAX_DEPTH = 16
MAX_NUMBER_CHARS = 20


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
        raw = json.dumps(doc, indent=2, sort_keys=True).encode()
        if len(raw) > MAX_BYTES:
            raise ManifestError(f"manifest is larger than {MAX_BYTES} bytes")
        return raw

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------ schema


@lru_cache(maxsize=1)
def schema_document() -> dict[str, Any]:
    """The manifest JSON Schema (datalicense/schema/manifest.schema.json), as shipped in the package."""
    text = resources.files("datalicense").joinpath("schema/manifest.schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _strict_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema's "integer" also accepts 1.0 and Python's True; a manifest has neither.
    return isinstance(instance, int) and not isinstance(instance, bool)


@lru_cache(maxsize=1)
def _validator() -> Any:
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema_document())
    types = cls.TYPE_CHECKER.redefine("integer", _strict_integer)
    return jsonschema.validators.extend(cls, type_checker=types)(schema_document())


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _order(error: ValidationError) -> tuple[int, ...]:
    """Sort key: errors in the order of the schema's properties (schema and version first), outer first."""
    key: list[int] = []
    sub = schema_document()
    for part in error.absolute_path:
        names = list(sub.get("properties", {}))
        key.append(names.index(part) if part in names else len(names))
        sub = sub.get("properties", {}).get(part, {})
    if error.validator == "required":
        names = list(sub.get("properties", {}))
        missing = [k for k in error.validator_value if k not in error.instance]
        key.append(names.index(missing[0]) if missing and missing[0] in names else len(names))
    elif error.validator == "additionalProperties":
        key.append(len(sub.get("properties", {})) + 1)  # after the known fields' errors
    return tuple(key)


def _reason(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    prefix = f"{where}." if where else ""
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f"manifest has no {prefix}{missing[0]!r}" if missing else "manifest is incomplete"
    if error.validator == "additionalProperties":
        extra = sorted(k for k in error.instance if k not in error.schema.get("properties", {}))
        name = repr(extra[0]) if extra else "field"
        return f"manifest has an unknown field {prefix}{name}"[:300]
    if error.validator == "type":
        if not where:
            return "manifest is not a JSON object"
        return (f"manifest field {where!r} has the wrong type ({_type_name(error.instance)}, expected "
                f"{error.validator_value})")
    message = error.schema.get("errorMessage")
    if message and error.validator == "const":
        return f"manifest {message}, got {_short(error.instance)}"
    if message:
        return f"manifest {message}"
    return f"manifest field {where!r} is invalid ({error.validator})"


def _short(value: Any) -> str:
    """A bounded repr for messages (repr escapes control and format characters)."""
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else f"a JSON {_type_name(value)}"
    return text if len(text) <= 60 else text[:57] + "..."


def validate(doc: Any) -> None:
    """Raise ManifestError with the reason unless doc is a valid schema-1 manifest."""
    try:
        errors = list(_validator().iter_errors(doc))
    except RecursionError as exc:  # only for documents not read by parse(), which caps the depth
        raise ManifestError("manifest is nested too deeply") from exc
    if errors:
        raise ManifestError(_reason(min(errors, key=_order)))
    _check_text(doc)


def _check_text(value: Any, depth: int = 0) -> None:
    """Reject lone surrogates (JSON's \\ud800 escapes): they cannot be printed or encoded as UTF-8."""
    if depth > MAX_DEPTH:
        raise ManifestError(f"manifest is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ManifestError("manifest text contains a lone surrogate (not valid Unicode)") from exc
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k, depth + 1)
            _check_text(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_text(v, depth + 1)


# ------------------------------------------------------------------------------------------------ reading


def _depth(text: str) -> int:
    """Deepest nesting of arrays and objects in JSON text (strings skipped), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _int(token: str) -> int:
    if len(token) > MAX_NUMBER_CHARS:
        raise ManifestError(f"manifest contains a number longer than {MAX_NUMBER_CHARS} characters")
    return int(token)


def _float(token: str) -> float:
    if len(token) > MAX_NUMBER_CHARS:
        raise ManifestError(f"manifest contains a number longer than {MAX_NUMBER_CHARS} characters")
    raise ManifestError(f"manifest contains a non-integer number ({token})")


def _constant(token: str) -> float:
    raise ManifestError(f"manifest contains {token}, which is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ManifestError(f"manifest repeats the key {key[:100]!r}")
        out[key] = value
    return out


def load(raw: bytes | str) -> Any:
    """The JSON value in raw, read with the limits above; ManifestError (and nothing else) if it breaks one."""
    if isinstance(raw, str):  # as json.loads accepted
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ManifestError("manifest text contains a lone surrogate (not valid Unicode)") from exc
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ManifestError(f"manifest is {type(raw).__name__}, not bytes")
    if len(raw) > MAX_BYTES:
        raise ManifestError(f"manifest is larger than {MAX_BYTES} bytes")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"manifest is not UTF-8 (invalid byte at offset {exc.start})") from exc
    if _depth(text) > MAX_DEPTH:
        raise ManifestError(f"manifest is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, object_pairs_hook=_object, parse_int=_int, parse_float=_float,
                          parse_constant=_constant)
    except ManifestError:
        raise
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest is not JSON ({exc})") from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # defensive: the limits above should prevent these
        raise ManifestError(f"manifest cannot be read ({type(exc).__name__})") from exc


def parse(raw: bytes | str) -> Manifest:
    """Parse and validate a manifest; a bad one is rejected with the reason (always a ManifestError)."""
    doc = load(raw)
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

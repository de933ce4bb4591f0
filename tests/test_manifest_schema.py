"""The manifest format as a JSON Schema document, and a reader that only ever fails with ManifestError.

Pure Python: no chain, no IPFS (the autouse chain isolation of conftest is harmless here).
"""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings  # not brownie.test.given: no chain here, no per-example snapshot
from hypothesis import strategies as st

from datalicense.protocol import manifest as mf
from datalicense.protocol.manifest import Manifest, ManifestError, parse

pytestmark = pytest.mark.unit

GOOD = {
    "schema": "datalicense/manifest",
    "version": 1,
    "title": "Weather 2026",
    "description": "hourly readings",
    "mediaType": "text/csv",
    "plaintext": {"size": 1234, "sha256": "ab" * 32},
    "ciphertext": {"cid": "bafkreiablk6x6xgfpiw5ss3vsdyevwaiijzzaxxdh3c45pvomitwvf7ymi", "size": 1500},
    "encryption": {"scheme": "age-x25519", "recipient": "age1xj8ljs2xef4uycrkknvqycyun3s9l3jjecydpalmeqeqeyegqdxsfaf76s"},
    "licenceTerms": "0x" + "11" * 32,
    "publisher": "0x" + "22" * 20,
    "createdAt": "2026-11-28T09:00:00Z",
}


def _doc(**changes):
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        *outer, last = path.split("__")
        target = doc
        for part in outer:
            target = target[part]
        if value is _DROP:
            target.pop(last)
        else:
            target[last] = value
    return doc


_DROP = object()


def _raw(doc) -> bytes:
    return json.dumps(doc).encode()


def test_schema_document_is_shipped_and_valid_draft_2020_12():
    text = resources.files("datalicense").joinpath("schema/manifest.schema.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc == mf.schema_document()
    assert set(doc["required"]) | {"description"} == set(doc["properties"])
    # the package ships it (setuptools package data)
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"schema/*.json"' in pyproject


def test_good_manifest_parses_and_round_trips():
    m = parse(_raw(GOOD))
    assert m.title == "Weather 2026" and m.plaintext_size == 1234 and m.ciphertext_size == 1500
    assert parse(m.to_json()) == m
    assert parse(_raw(_doc(description=_DROP))).description == ""


def test_validator_is_the_schema_document():
    """Every document the Python validator accepts, the plain jsonschema validator of the file accepts too."""
    jsonschema.validate(GOOD, mf.schema_document(), cls=jsonschema.Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_doc(title=""), mf.schema_document(), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("doc, reason", [
    (_doc(version=2), "schema version is not supported"),
    (_doc(schema="other"), "schema is not"),
    (_doc(title=_DROP), "has no 'title'"),
    (_doc(plaintext__sha256=_DROP), "has no plaintext.'sha256'"),
    (_doc(plaintext__sha256="xyz"), "sha256"),
    (_doc(plaintext__sha256="AB" * 32), "lower-case"),
    (_doc(ciphertext__cid="not-a-cid"), "not a valid IPFS CID"),
    (_doc(ciphertext__cid=GOOD["ciphertext"]["cid"] + "\n"), "not a valid IPFS CID"),
    (_doc(encryption__scheme="rot13"), "not supported"),
    (_doc(encryption__recipient="age1x"), "age X25519 recipient"),
    (_doc(publisher="bob"), "publisher"),
    (_doc(publisher="0x" + "22" * 20 + "\n"), "publisher"),
    (_doc(plaintext__size="12"), "wrong type"),
    (_doc(plaintext__size=True), "wrong type"),
    (_doc(plaintext__size=-1), "plaintext.size"),
    (_doc(plaintext__size=2**53), "plaintext.size"),
    (_doc(ciphertext__size=0), "ciphertext.size"),
    (_doc(title="x" * 201), "title must be"),
    (_doc(description="x" * 10_001), "description"),
    (_doc(description=["a"]), "wrong type"),
    (_doc(mediaType="text/csv\n"), "media type"),
    (_doc(mediaType="text/c\u0455v"), "media type"),
    (_doc(createdAt="2026-11-28T09:00:00Z\n"), "createdAt"),
    (_doc(createdAt="\u0662026-11-28T09:00:00Z"), "createdAt"),
    (_doc(extra="hidden text"), "unknown field 'extra'"),
    (_doc(plaintext__extra=1), "unknown field plaintext.'extra'"),
    (_doc(title="\ud800"), "lone surrogate"),
    ([GOOD], "not a JSON object"),
    ("manifest", "not a JSON object"),
])
def test_invalid_documents_give_the_reason(doc, reason):
    with pytest.raises(ManifestError, match=reason.replace("(", r"\(").replace(".", r"\.")):
        parse(json.dumps(doc).encode())


def test_first_error_in_schema_order():
    # both the CID and the recipient are wrong: the reason is the first in document order
    with pytest.raises(ManifestError, match="not a valid IPFS CID"):
        parse(_raw(_doc(ciphertext__cid="x", encryption__recipient="age1x")))
    with pytest.raises(ManifestError, match="schema version"):
        parse(_raw(_doc(version=3, title=_DROP)))
    with pytest.raises(ManifestError, match="has no 'schema'"):
        parse(b'{"a": 1}')
    with pytest.raises(ManifestError, match="has no 'title'"):
        parse(_raw(_doc(title=_DROP, extra=1)))


@pytest.mark.parametrize("raw, reason", [
    (b"{", "not JSON"),
    (b"", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"title": "\xc3\x28"}', "not UTF-8"),
    (b"\xef\xbb\xbf" + _raw(GOOD), "not JSON"),  # a UTF-8 BOM
    (b"[" * 100_000 + b"]" * 100_000, "larger than"),
    (b"[" * 5_000 + b"]" * 5_000, "nested more than"),
    (b'{"a":' * 17 + b"1" + b"}" * 17, "nested more than"),
    (b'{"version": ' + b"9" * 5_000 + b"}", "number longer than"),
    (b'{"version": ' + b"9" * 21 + b"}", "number longer than"),
    (b'{"version": 1.0}', "non-integer"),
    (b'{"version": 1e400}', "non-integer"),
    (b'{"version": NaN}', "NaN"),
    (b'{"version": -Infinity}', "Infinity"),
    (b'{"version": 1, "version": 2}', "repeats the key 'version'"),
    (b" " * (mf.MAX_BYTES + 1), "larger than 65536 bytes"),
    (b"\x00", "not JSON"),
])
def test_malformed_bytes_give_the_reason(raw, reason):
    with pytest.raises(ManifestError, match=reason):
        parse(raw)


def test_strings_may_contain_brackets_without_counting_as_nesting():
    doc = _doc(description="[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{ \\\" [[[[[[[[[[[[[[[[")
    assert parse(_raw(doc)).description.startswith("[[[")


def test_to_json_refuses_what_parse_refuses():
    m = parse(_raw(GOOD))
    bad = Manifest(**{**m.as_dict(), "title": ""})
    with pytest.raises(ManifestError, match="title"):
        bad.to_json()
    with pytest.raises(ManifestError, match="wrong type"):
        Manifest(**{**m.as_dict(), "plaintext_size": 1.0}).to_json()


# ------------------------------------------------------------------------------------------------ properties

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
_json = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


def _mutations():
    """The good manifest with one field set to any JSON value, or removed, or a nested value replaced."""
    fields = [k for k in GOOD] + [f"{outer}__{inner}" for outer in ("plaintext", "ciphertext", "encryption")
                                  for inner in GOOD[outer]]
    return st.tuples(st.sampled_from(fields), _json | st.just(_DROP))


def _only_manifest_error(raw: bytes) -> None:
    try:
        m = parse(raw)
    except ManifestError as exc:
        assert str(exc).startswith("manifest"), exc
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        return
    assert isinstance(m, Manifest)
    assert isinstance(m.plaintext_size, int) and not isinstance(m.plaintext_size, bool)
    m.title.encode("utf-8")  # printable: no lone surrogates


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_json)
def test_property_any_json_value_is_parsed_or_refused_with_manifest_error(value):
    try:
        raw = json.dumps(value).encode("utf-8", "surrogatepass")
    except ValueError:
        return
    _only_manifest_error(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_mutations())
def test_property_mutated_manifest_is_parsed_or_refused_with_manifest_error(change):
    path, value = change
    doc = _doc(**{path: value})
    _only_manifest_error(json.dumps(doc).encode("utf-8", "surrogatepass"))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=2048))
def test_property_garbage_bytes_give_only_manifest_error(raw):
    _only_manifest_error(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=10_000))
def test_property_corrupted_manifest_bytes_give_only_manifest_error(junk, at):
    good = _raw(GOOD)
    at = at % (len(good) + 1)
    _only_manifest_error(good[:at] + junk + good[at + len(junk):])


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[", "{\"a\":", "[{\"b\":"]))
def test_property_deep_nesting_gives_only_manifest_error(depth, opener):
    closer = {"[": "]", "{\"a\":": "}", "[{\"b\":": "}]"}[opener]
    _only_manifest_error((opener * depth + "1" + closer * depth).encode())

"""The one rule for verifying a delivery (datalicense/protocol/delivery.py) against the shared vectors
(tests/vectors/delivery.json), which the page's JavaScript runs in Chromium too (tests/test_web_delivery.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from datalicense.protocol import age as agecrypt
from datalicense.errors import DeliveryError
from datalicense.protocol import delivery as rule

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "delivery.json").read_text())


def _version(v: dict) -> rule.Version:
    return rule.Version.from_record(v["datasetId"], v["version"], v)


def _delivery(d: dict) -> rule.Delivery:
    return rule.Delivery(d["escrowed"], d["block"], d["logIndex"], d["keyHash"])


def _bind(case: dict) -> dict:
    """What the rule decides for a case, in the vectors' shape: {"error": code} or {"targets", "confirm"}."""
    try:
        found = rule.targets(case["state"], case["datasetId"], case["bought"],
                             [_version(v) for v in case["versions"]], [_delivery(d) for d in case["deliveries"]])
    except DeliveryError as exc:
        return {"error": exc.code}
    return {"targets": [{"delivery": t.index, "version": t.version.number} for t in found],
            "confirm": rule.may_confirm(case["state"], found[0], case["bought"])}


def _check(case: dict) -> str:
    key, v, m, p = bytes.fromhex(case["contentKey"]), _version(case["version"]), case["manifest"], case["plaintext"]
    try:
        rule.check_key(key, v)
        rule.check_manifest(v, m["plaintextSha256"], m["recipient"], agecrypt.recipient_of(key))
        if p is not None:
            rule.check_plaintext(v, p["sha256"], p["size"], m["plaintextSize"])
    except DeliveryError as exc:
        return exc.code
    return "ok"


@pytest.mark.parametrize("case", VECTORS["bind"], ids=lambda c: c["name"])
def test_which_delivery_opens_which_version(case):
    want = {"error": case["error"]} if "error" in case else {"targets": case["targets"], "confirm": case["confirm"]}
    assert _bind(case) == want


@pytest.mark.parametrize("case", VECTORS["check"], ids=lambda c: c["name"])
def test_key_manifest_and_plaintext_checks(case):
    assert _check(case) == case["expect"]


@pytest.mark.parametrize("case", VECTORS["reused"], ids=lambda c: c["name"])
def test_reused_commitments_are_flagged(case):
    found = rule.reused_commitments(case["datasetId"], [_version(v) for v in case["versions"]])
    assert {str(k): list(v) for k, v in found.items()} == case["reused"]


@pytest.mark.parametrize("case", VECTORS["fresh"], ids=lambda c: c["name"])
def test_publishing_refuses_a_reused_commitment(case):
    try:
        rule.check_fresh_commitment(case["datasetId"], case["keyHash"], [_version(v) for v in case["versions"]])
        got = None
    except DeliveryError as exc:
        got = exc.code
    assert got == case["error"]


def test_the_vectors_cover_every_outcome():
    """Each check's failure appears in the vectors, so the page cannot pass them while skipping one."""
    codes = {c["expect"] for c in VECTORS["check"]} | {c.get("error") for c in VECTORS["bind"]}
    assert {"ok", "wrong-key", "manifest-hash", "manifest-recipient", "plaintext", "escrow-not-bought",
            "no-delivery"} <= codes
    assert any(c.get("confirm") for c in VECTORS["bind"]) and any(c.get("confirm") is False for c in VECTORS["bind"])


def test_manifest_bytes_are_bound_to_the_cid_the_chain_records():
    from datalicense.infra.ipfs import cid_from_bytes

    body = b'{"schema": "datalicense/manifest"}'
    cid = cid_from_bytes(b"\x01\x55\x12\x20" + hashlib.sha256(body).digest())
    v = rule.Version(7, 1, cid, "0x" + "00" * 32, "0x" + "11" * 32, 1)
    rule.check_manifest_bytes(v, body)
    with pytest.raises(DeliveryError, match="not the one the chain records"):
        rule.check_manifest_bytes(v, body + b" ")

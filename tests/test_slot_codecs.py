"""The Solidity codecs of contracts/types/ against the shared vectors (tests/vectors/slots.json, which the Python
codecs run too: tests/test_slots.py), and the codecs of the words the compiler writes against the compiler's own
encoding of the marketplace's structs, on a real chain through a harness contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from brownie import SlotCodecHarness, accounts

pytestmark = pytest.mark.chain

VECTORS = json.loads((Path(__file__).parent / "vectors" / "slots.json").read_text())
CASES = [(codec, i) for codec, vectors in VECTORS.items() for i in range(len(vectors))]

#: codec -> (the harness's decoder, its encoder or None, the struct it is the word of or None)
HARNESS = {
    "LicenceWord": ("licenceWord", "storeLicence", True),
    "DatasetWord": ("datasetWord", "storeDataset", True),
    "TermsWord": ("termsWord", "storeTerms", True),
    "SettingsWord": ("settingsWord", "storeSettings", True),
    "CountersWord": ("countersWord", None, False),
    "ArbiterWord": ("arbiterWord", None, False),
    "DeliveryRecord": ("deliveryRecord", "escrowedDelivery", False),
    "DisputeRecord": ("disputeRecord", "openDispute", False),
    "AssetSlot": ("assetSlot", "packAssetSlot", False),
    "ClaimRecord": ("claimRecord", "buildClaimRecord", False),
}
#: encoder argument order, where it is not the vectors' field order
ARGS = {
    "escrowedDelivery": ("version", "body"),
    "openDispute": ("openedAt", "bond"),
    "packAssetSlot": ("assetId", "allowed"),
}


@pytest.fixture(scope="module")
def harness():
    return SlotCodecHarness.deploy({"from": accounts[0]})


def _value(v):
    return v if isinstance(v, bool) else int(v, 16)


def _decoded(result) -> dict:
    """{field: int or bool} of a harness decoder's result (a named tuple, or one struct)."""
    out = result.dict() if hasattr(result, "dict") else dict(result)
    if len(out) == 1 and isinstance(next(iter(out.values())), tuple):  # a struct in a one-element tuple
        out = next(iter(out.values())).dict()
    return {k: (v if isinstance(v, bool) else int(v, 16) if isinstance(v, str) else int(v)) for k, v in out.items()}


def _arg(name: str, value, encoder: str):
    """A vector's field as the harness takes it: addresses as addresses, the escrowed digest as bytes32."""
    if name in ("holder", "owner"):
        return "0x" + value.to_bytes(20, "big").hex()
    if encoder == "escrowedDelivery" and name == "body":
        return value.to_bytes(32, "big")
    return value


def _word(result) -> int:
    return int(result.hex(), 16) if isinstance(result, (bytes, bytearray)) else int(str(result), 0)


@pytest.mark.parametrize("codec,i", CASES)
def test_solidity_slot_codecs_match_the_shared_vectors(harness, codec, i):
    vector = VECTORS[codec][i]
    word = int(vector["word"], 16)
    fields = {k: _value(v) for k, v in vector["fields"].items()}
    decoder, encoder, is_struct = HARNESS[codec]
    raw = word.to_bytes(32, "big") if codec == "DeliveryRecord" else word
    decoded = _decoded(getattr(harness, decoder)(raw))
    if codec == "DeliveryRecord":  # the key getter reads the low 160 bits of the body
        assert decoded.pop("key") == fields["body"] & ((1 << 160) - 1)
    assert decoded == fields, f"{codec}: the Solidity codec reads {decoded} from {vector['word']}"
    if encoder is None:
        return
    fn = getattr(harness, encoder)
    if is_struct:
        # the compiler's own storage encoding of the struct is the vector's word: the codec reads what the core writes
        got = fn.call(tuple(_arg(k, v, encoder) for k, v in fields.items()))
    else:
        got = fn(*(_arg(k, fields[k], encoder) for k in ARGS.get(encoder, tuple(fields))))
    assert _word(got) == word, f"{codec}: {encoder} writes {hex(_word(got))}, the vector is {vector['word']}"


def test_pending_delivery_record_has_the_version_in_the_top_32_bits(harness):
    key = "0x00000000000000000000000000000000DeaDBeef"
    word = int(harness.pendingDelivery(7, key).hex(), 16)
    assert word == (7 << 224) | int(key, 16)
    assert harness.deliveryRecord(word.to_bytes(32, "big")).dict()["version"] == 7

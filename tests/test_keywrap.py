"""The Python key wrap against vectors computed with independent curve arithmetic."""

import json
import os
from pathlib import Path

import pytest

from datalicense.protocol import keywrap

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "keywrap.json").read_text())


@pytest.mark.parametrize("v", VECTORS, ids=[f"licence{v['licenceId']}" for v in VECTORS])
def test_wrap_matches_vectors(v):
    priv = bytes.fromhex(v["deliveryPrivateKey"])
    x, y = keywrap.public_key(priv)
    assert (x.hex(), y.hex()) == (v["deliveryKeyX"], v["deliveryKeyY"])
    r = int(v["r"], 16)
    assert keywrap.shared_address(r, x, y).hex() == v["s"]
    wrap = keywrap.Wrap(bytes.fromhex(v["rX"]), bytes.fromhex(v["rY"]), bytes.fromhex(v["wrappedKey"]))
    recovered = keywrap.unwrap_key(wrap, v["licenceId"], priv)
    assert (recovered.hex() == v["contentKey"]) is v["keyCorrect"]
    if v["keyCorrect"]:
        assert keywrap.wrap_key(bytes.fromhex(v["contentKey"]), v["licenceId"], x, y, r) == wrap


def test_unwrap_with_another_key_or_licence_fails():
    k = os.urandom(32)
    priv = os.urandom(32)
    x, y = keywrap.public_key(priv)
    w = keywrap.wrap_key(k, 9, x, y, 12345)
    assert keywrap.unwrap_key(w, 9, priv) == k
    assert keywrap.unwrap_key(w, 10, priv) != k
    assert keywrap.unwrap_key(w, 9, os.urandom(32)) != k


def test_derived_r_is_deterministic_and_distinct():
    secret = b"s" * 32
    a = keywrap.derive_r(secret, 33, "0x" + "11" * 20, 1, b"\x00" * 32)
    assert a == keywrap.derive_r(secret, 33, "0x" + "11" * 20, 1, b"\x00" * 32)
    assert a != keywrap.derive_r(secret, 33, "0x" + "11" * 20, 2, b"\x00" * 32)
    assert a != keywrap.derive_r(secret, 31, "0x" + "11" * 20, 1, b"\x00" * 32)
    assert 0 < a < keywrap.N
    with pytest.raises(keywrap.KeyWrapError):
        keywrap.derive_r(b"short", 33, "0x" + "11" * 20, 1, b"\x00" * 32)


def test_bad_inputs_are_refused():
    with pytest.raises(keywrap.KeyWrapError):
        keywrap.wrap_key(b"\x00" * 31, 1, b"\x01" * 32, b"\x01" * 32, 5)
    with pytest.raises(keywrap.KeyWrapError):
        keywrap.wrap_key(b"\x00" * 32, 1, b"\x01" * 32, b"\x01" * 32, 5)  # not on the curve
    x, y = keywrap.public_key(os.urandom(32))
    with pytest.raises(keywrap.KeyWrapError):
        keywrap.wrap_key(b"\x00" * 32, 1, x, y, 0)
    with pytest.raises(keywrap.KeyWrapError):
        keywrap.wrap_key(b"\x00" * 32, 1, x, y, keywrap.N)


DELIVERY_VECTORS = json.loads((Path(__file__).parent / "vectors" / "delivery_keys.json").read_text())


@pytest.mark.parametrize("v", DELIVERY_VECTORS, ids=[f"chain{v['chainId']}-i{v['index']}-{n}"
                                                    for n, v in enumerate(DELIVERY_VECTORS)])
def test_delivery_keys_match_vectors(v):
    """The one-time delivery keys the Python client derives are the shared vectors (the browser's too)."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    assert keywrap.delivery_key_message(v["chainId"], v["contract"]) == v["message"]
    sig = Account.sign_message(encode_defunct(text=v["message"]), v["walletPrivateKey"]).signature
    assert bytes(sig).hex() == v["signature"]
    seed = keywrap.delivery_seed(bytes(sig))
    assert seed.hex() == v["seed"]
    p, x, y = keywrap.delivery_key(seed, int(v["index"]))
    assert (p.to_bytes(32, "big").hex(), x.hex(), y.hex()) == (v["p"], v["x"], v["y"])
    assert keywrap.point_address(x, y).hex() == v["address"]


def test_delivery_keys_differ_per_index_and_wallet():
    seeds = {v["seed"] for v in DELIVERY_VECTORS}
    keys = {v["p"] for v in DELIVERY_VECTORS}
    assert len(seeds) == 4 and len(keys) == len(DELIVERY_VECTORS)

"""The page parses addresses as datalicense/protocol/addresses.py does: the shared vectors
(tests/vectors/addresses.json) run in Chromium, and an address input with a mistyped checksum is refused in one
line with nothing sent (issue 21, item 11). Real Chromium, the injected test wallet, the real chain; fixtures are
test_web.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webpage import browser_context, bundle, page_for, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

VECTORS = json.loads((Path(__file__).parent / "vectors" / "addresses.json").read_text())


def test_address_vectors_in_the_browser(page_for):
    page, _ = page_for(4)
    got = page.evaluate("""vs => vs.map(v => {
        const a = window.datalicenseAddresses;
        try { return {ok: true, address: a.parseAddress(v.input, v.chainId)}; }
        catch (e) { if (e instanceof a.AddressError) return {ok: false, error: e.code}; throw e; }
    })""", VECTORS)
    assert len(got) == len(VECTORS) > 200
    for case, result in zip(VECTORS, got):
        assert result == {k: case[k] for k in ("ok", "address", "error") if k in case}, case


def test_a_mistyped_pool_address_in_a_signed_revocation_is_refused(page_for, stack):
    page, wallet = page_for(4)
    w3 = stack["w3"]
    me = w3.eth.accounts[4]
    typo = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9954"  # dev:7's EIP-55 spelling, its last digit mistyped
    nonce = w3.eth.get_transaction_count(me)
    page.goto(stack["url"] + "/#/pools")
    page.click("#app button")  # connect
    page.wait_for_selector("#revocation-input")
    page.fill("#revocation-input", json.dumps({"pool": typo, "account": me, "weight": 1, "proof": [],
                                              "signature": "0x" + "11" * 65}))
    page.click("#send-revocation")
    page.wait_for_function("() => !document.getElementById('error').hidden")
    error = page.inner_text("#error")
    assert "checksum does not match: mistyped?" in error and typo in error and "\n" not in error
    assert w3.eth.get_transaction_count(me) == nonce

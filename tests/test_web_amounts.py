"""The page formats amounts as datalicense/protocol/amounts.py does: the shared vectors (tests/vectors/amounts.json)
run in Chromium through web/src/amounts.js (issue 22: amounts by asset and decimals, not 18-decimal RBTC). Real
Chromium and the page's server; fixtures are test_web.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webpage import browser_context, bundle, page_for, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

VECTORS = json.loads((Path(__file__).parent / "vectors" / "amounts.json").read_text())


def test_amount_vectors_in_the_browser(page_for):
    page, _ = page_for(4)
    got = page.evaluate("""vs => vs.map(v => {
        const a = window.datalicenseAmounts;
        try { return {ok: true, text: a.formatAmount(v.units, v.decimals, v.symbol)}; }
        catch (e) { if (e instanceof a.AmountError) return {ok: false}; throw e; }
    })""", VECTORS)
    assert len(got) == len(VECTORS) > 20
    for case, result in zip(VECTORS, got):
        assert result == {k: case[k] for k in ("ok", "text") if k in case}, case


def test_an_owner_paid_in_a_token_sees_and_withdraws_it_in_the_token(page_for, stack, market, token, buyer):
    """A dataset priced in tRIF, sold and confirmed: the owner's page shows what the marketplace owes it in tRIF
    (besides RBTC) and withdraws it with the wallet; the page once showed and withdrew RBTC only."""
    from brownie import accounts

    from helpers import FEE_BPS, PRICE, buy_token, deliver, publish

    owner = accounts[3]
    pub = publish(market, owner, accounts[5], asset=token.address)
    lid, key, _ = buy_token(market, token, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, accounts[5])
    market.confirm(lid, {"from": buyer})
    owed = PRICE - PRICE * FEE_BPS // 10_000  # 0.00195 tRIF
    assert market.balanceOwed(token, owner) == owed

    page, _ = page_for(3)
    page.goto(stack["url"] + "/#/account")
    page.click("#app button")  # connect
    page.wait_for_selector("#owed")
    row = page.locator(".owed-asset", has_text="tRIF")
    assert "0.00195 tRIF" in row.inner_text()
    before = token.balanceOf(owner)
    row.locator("button").click()
    page.wait_for_function("() => document.querySelector('#status').textContent === 'withdrawn'")
    assert token.balanceOf(owner) - before == owed and market.balanceOwed(token, owner) == 0


def test_a_dataset_priced_in_a_token_is_bought_with_the_token(page_for, stack, market, token, buyer, tmp_path):
    """The buy button of a dataset priced in tRIF says tRIF and pays tRIF (the wallet approves the price, then
    buyWithToken), where the page sent the price as RBTC and the purchase could only revert."""
    src = tmp_path / "tolls.csv"
    src.write_bytes(b"gate,cars\n1,40\n")
    ds = stack["seller"].seller.publish(src, title="Toll gates", price="0.002", asset=token.address,
                                        agent=stack["agent"].conn.account.address).dataset_id
    page, wallet = page_for(4)
    page.goto(stack["url"] + f"/#/dataset/{ds}")
    page.wait_for_selector("#buy")
    assert page.inner_text("#buy") == "Buy a licence for 0.002 tRIF"
    held, escrow = token.balanceOf(buyer), token.balanceOf(market)
    page.click("#buy")
    page.wait_for_selector("#licence-state")
    lid = int(page.inner_text("h1").split()[-1])
    assert market.ownerOf(lid) == buyer and "0.002 tRIF" in page.inner_text("#app")
    assert held - token.balanceOf(buyer) == 2 * 10**15 == token.balanceOf(market) - escrow
    assert [t["value"] for t in wallet.sent] == [0, 0]  # the approval and the purchase: no RBTC sent

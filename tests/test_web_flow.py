"""The owner's page shows the money flow the CLI's `sales` shows (one computation: MarketReader.money_flow): after
a split ruling and both sides' withdrawals nothing is left in escrow, and the buyer's part is shown (issue 21,
item 12). Real Chromium, the injected test wallet, the real chain and Kubo; fixtures are test_web.py's."""

from __future__ import annotations

import pytest

from helpers import account_private_key
from webpage import browser_context, bundle, page_for, publish_titled, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

ZERO = "0x0000000000000000000000000000000000000000"


def test_owner_page_counts_a_split_ruling(page_for, stack, tmp_path, market, arbiter):
    seller = stack["seller"]
    ds = publish_titled(stack, tmp_path, "Split sale", b"a,b\n1,2\n")
    buyer = stack["client"](4, "buyer")
    lid = buyer.buyer.buy(ds).licence_id
    seller.seller.deliver(lid)
    buyer.buyer.dispute(lid, data=True)
    market.resolveData(lid, 5000, {"from": arbiter})  # half the price back to the buyer
    for who in (seller.conn.account.address, buyer.conn.account.address):
        market.withdraw(ZERO, who, {"from": who})

    page, wallet = page_for(4)
    wallet.use(account_private_key(seller.conn.account.address))
    page.goto(stack["url"] + "/#/account")
    page.click("#app button")  # connect
    page.wait_for_selector("#owed")
    page.wait_for_function("() => document.querySelector('#app').innerText.includes('Split sale')")
    text = page.inner_text("#app")
    assert "Buyers paid 0.002 RBTC" in text
    assert "to the buyer by ruling 0.001 RBTC" in text and "in escrow 0 RBTC" in text, text

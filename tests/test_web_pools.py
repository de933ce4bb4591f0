"""The page's "My pools" API (`/api/contributors/{address}`, datalicense/services/webpools.py) over a pool its
factory made, on the real chain and Kubo: a sale's share is the contributor's weight in the epoch of the version
sold, which is not the epoch numbered like the version (issue 22)."""

from __future__ import annotations

import pytest

from helpers import FEE_BPS, PRICE
from webpage import (api, browser_context, bundle, factory_pool, page_for, sold_and_settled,  # noqa: F401 - fixtures
                     stack, store_tree)

pytestmark = pytest.mark.e2e


def test_a_sales_share_uses_the_weight_of_the_epoch_its_version_pays(stack, market, kubo, tmp_path, monkeypatch):
    """Epoch 1's tree gives the contributor 1 of 4; a new tree before the dataset was published (epoch 2) gives it 3
    of 4; version 1 is then published and sold, so its sale pays epoch 2: the share is 3/4 of what reached the pool,
    not 1/4 (epoch 1, numbered like the version)."""
    from brownie import accounts

    contributor, other, curator = accounts[7], accounts[8], accounts[3]
    pool = factory_pool(market, kubo, tmp_path, monkeypatch, curator, [(contributor.address, 1), (other.address, 3)])
    second = store_tree(kubo, tmp_path, [(contributor.address, 3), (other.address, 1)], "second.csv")
    pool.newEpoch(second.top, second.cid.encode(), {"from": curator})
    ds, lid = sold_and_settled(market, pool, curator, accounts[5], accounts[4])
    assert pool.epoch() == 2 and pool.epochSales(2)["version"] == 1

    answer = api(stack, f"/api/contributors/{contributor.address}")
    assert answer["skipped"] == []
    [p] = answer["pools"]
    [sale] = p["sales"]
    to_pool = PRICE - PRICE * FEE_BPS // 10_000
    assert sale["licenceId"] == lid and sale["version"] == 1 and sale["toPool"] == str(to_pool)
    assert sale["yourShare"] == str(to_pool * 3 // 4)
    assert sale["epoch"] == 2


def test_a_token_pool_shows_its_amounts_in_the_token_not_in_rbtc(page_for, stack, market, kubo, tmp_path,
                                                                 monkeypatch, token, buyer):
    """A pool paid in tRIF: what reached the pool and the contributor's share are shown in tRIF by the amounts rule
    (web/src/amounts.js, with the asset the API names), where the page once showed every pool amount as RBTC."""
    from brownie import accounts

    contributor, curator = accounts[7], accounts[3]
    pool = factory_pool(market, kubo, tmp_path, monkeypatch, curator, [(contributor.address, 1), (accounts[8], 3)],
                        asset=token.address)
    _, lid = sold_and_settled(market, pool, curator, accounts[5], buyer, token=token)
    page, _ = page_for(7)
    page.goto(stack["url"] + "/#/pools")
    page.click("#app button")  # connect
    page.wait_for_selector("#pools button.claim")
    sale = page.locator("#pools tr", has_text=f"#{lid}").inner_text()
    # to the pool: 0.002 less the 2.5% fee = 0.00195 tRIF; the contributor's share, 1 of 4: 0.0004875 tRIF
    assert "0.00195 tRIF" in sale and "0.0004875 tRIF" in sale and "RBTC" not in sale, sale
    assert page.locator("#pools button.claim", has_text="tRIF").count() == 1

"""The page's "My pools" API (`/api/contributors/{address}`, datalicense/services/webpools.py) over a pool its
factory made, on the real chain and Kubo: a sale's share is the contributor's weight in the epoch of the version
sold, which is not the epoch numbered like the version (issue 22)."""

from __future__ import annotations

import httpx
import pytest

from datalicense.infra.chain import connect
from datalicense.services.web import Running, Web

from helpers import FEE_BPS, PRICE, ZERO
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


def _pool_whose_tree_was_replaced_before_publishing(market, kubo, tmp_path, monkeypatch):
    """(pool, licence sold, a contributor of epoch 1 only): the tree was replaced (`newEpoch`) before the dataset was
    published, so epoch 2 is the one paid by version 1's sale."""
    from brownie import accounts

    left, stays, curator = accounts[7], accounts[8], accounts[3]
    pool = factory_pool(market, kubo, tmp_path, monkeypatch, curator, [(left.address, 1), (stays.address, 3)])
    second = store_tree(kubo, tmp_path, [(stays.address, 1), (curator.address, 1)], "second.csv")
    pool.newEpoch(second.top, second.cid.encode(), {"from": curator})
    _, lid = sold_and_settled(market, pool, curator, accounts[5], accounts[4])
    assert pool.epochSales(2)["version"] == 1
    assert pool.pendingOf(1, ZERO) == 0 and pool.pendingOf(2, ZERO) > 0  # the sale pays epoch 2 only
    return pool, lid, left


def _my_pools(make, kubo, who: str, visit_listing_first: bool) -> dict:
    """`/api/contributors/{who}` of a page started now (its index has seen nothing yet)."""
    web = Web(make(9, "page"), kubo.gateway_url, connect("local").provider.endpoint_uri)
    with Running(web) as page:
        if visit_listing_first:
            assert httpx.get(f"{page.url}/api/datasets", timeout=60).status_code == 200
        return httpx.get(f"{page.url}/api/contributors/{who}", timeout=60).json()


def test_my_pools_shows_no_share_of_sales_that_pay_another_epoch(make, market, kubo, tmp_path, monkeypatch):
    """A contributor of epoch 1 only is shown no share of a sale of version 1, which pays epoch 2 (it was shown a
    share looked up by the version's number among its epochs)."""
    pool, lid, left = _pool_whose_tree_was_replaced_before_publishing(market, kubo, tmp_path, monkeypatch)
    body = _my_pools(make, kubo, left.address, visit_listing_first=True)
    [mine] = [p for p in body["pools"] if p["address"] == pool.address]
    shown = {s["licenceId"]: int(s["yourShare"]) for s in mine["sales"]}
    assert shown == {lid: 0}, shown


def test_my_pools_lists_a_pool_whose_dataset_the_page_has_not_listed_yet(make, market, kubo, tmp_path, monkeypatch):
    """"My pools" opened first (a bookmark, or any visit after the pool published a new version): the page's index
    had not seen the dataset, the title's lookup failed and the pool was dropped ("the pool could not be read:
    '1'")."""
    pool, _, left = _pool_whose_tree_was_replaced_before_publishing(market, kubo, tmp_path, monkeypatch)
    body = _my_pools(make, kubo, left.address, visit_listing_first=False)
    assert [p["address"] for p in body["pools"]] == [pool.address] and body["skipped"] == [], body

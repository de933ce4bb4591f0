"""The page's "My pools" API (`/api/contributors/{address}`, datalicense/services/webpools.py) over a pool its
factory made, on the real chain and Kubo: a sale's share is the contributor's weight in the epoch of the version
sold, which is not the epoch numbered like the version (issue 22)."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from eth_utils import keccak

from datalicense.infra.ipfs import Storage
from helpers import PRICE, FEE_BPS, ZERO, Published, buy, buy_token, deliver, terms
from test_web import browser_context, bundle, page_for, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e


def store_tree(kubo, tmp_path, rows, name="contributors.csv"):
    """A contributor tree (rows: [(account, weight)]) on the test's Kubo: its TreeInfo (top, cid)."""
    from datalicense.roles.pool import PoolClient

    path = tmp_path / name
    path.write_text("account,weight\n" + "".join(f"{a},{w}\n" for a, w in rows))
    return PoolClient.build_and_store(Storage(kubo.api_multiaddr), path)


def factory_pool(market, kubo, tmp_path, monkeypatch, curator, rows, asset=ZERO):
    """A pool made by the pools' factory the page knows (RevenuePool in the deployments file), with tree `rows`,
    paid in `asset`."""
    from brownie import RevenuePool, accounts

    from datalicense.infra import deployments

    info = store_tree(kubo, tmp_path, rows)
    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    monkeypatch.setenv("DATALICENSE_DEPLOYMENTS", str(tmp_path / "deployments"))
    deployments.save(33, "RevenuePool", impl.address, 0, "0x")
    created = impl.create(curator, asset, info.top, info.cid.encode(), {"from": curator})
    return RevenuePool.at(created.events["PoolCreated"]["pool"])


def sold_and_settled(market, pool, curator, agent, buyer, token=None):
    """The pool's dataset published (version 1, in the pool's current epoch), one licence sold (in `token` if
    given), delivered and confirmed: (dataset id, licence id)."""
    content_key = os.urandom(32)
    ds = pool.publishDataset(b"\x01\x55\x12\x20" + os.urandom(32), keccak(b"p"), keccak(content_key), keccak(b"t"),
                             terms(asset=token.address if token else ZERO), agent, {"from": curator}).return_value
    lid, key, _ = buy(market, ds, buyer) if token is None else buy_token(market, token, ds, buyer)
    deliver(market, lid, Published(ds, content_key, keccak(content_key)), key, agent)
    market.confirm(lid, {"from": buyer})
    return ds, lid


def api(stack, path):
    with urllib.request.urlopen(f"{stack['url']}{path}", timeout=60) as resp:
        return json.loads(resp.read())


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

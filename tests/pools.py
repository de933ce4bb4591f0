"""What the pool tests share: a pool on the implementation itself, its dataset, a sale, a claim, and a
deployments file naming the marketplace and the pool implementation (for the CLI)."""

from __future__ import annotations

import json
import os

from brownie import RevenuePoolHarness
from eth_utils import keccak

from datalicense.roles.pool import PoolTree
from helpers import PRICE, ZERO, DeliveryKey, Published, buy, deliver, offer, purchase, terms

__all__ = ["new_pool", "publish_in_pool", "sell", "claimer_pool", "claim", "pool_deployments",
           "token_sale_with_forfeited_bond"]


def new_pool(market, curator, contributors, asset=ZERO):
    """A pool on the implementation itself (harness): same code as a clone, coverage maps to it."""
    tree = PoolTree.build(contributors)
    pool = RevenuePoolHarness.deploy(market, {"from": curator})
    pool.initialize(curator, asset, tree.top, b"tree-1", {"from": curator})
    return pool, tree


def publish_in_pool(pool, curator, agent, asset=ZERO, price=PRICE):
    k = os.urandom(32)
    tx = pool.publishDataset(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"),
                             terms(price=price, asset=asset, transferable=True, royalty=500), agent,
                             {"from": curator})
    return Published(tx.return_value, k, keccak(k))


def sell(market, pub, buyer, agent, token=None, confirm=True):
    """A sale of a pooled dataset, delivered, and (by default) confirmed: the pool is owed the seller's share."""
    if token is None:
        lid, key, _ = buy(market, pub.dataset_id, buyer)
    else:
        key = DeliveryKey.random()
        terms_id, version = offer(market, pub.dataset_id)
        token.approve(market, PRICE, {"from": buyer})
        tx = market.buyWithToken(purchase(pub.dataset_id, key, ZERO, terms_id, version), {"from": buyer})
        lid = tx.events["LicencePurchased"]["licenceId"]
    deliver(market, lid, pub, key, agent)
    if confirm:
        market.confirm(lid, {"from": buyer})
    return lid


def claimer_pool(market, accounts, agent):
    """A pool of two equal contributors, a contract (PoolClaimer, deployed by accounts[6]) and accounts[7], whose
    dataset sold once (accounts[4] buys, confirmed). Returns (pool, tree, claimer, its weight, its proof, the
    dataset, the other contributor)."""
    from brownie import PoolClaimer

    curator, buyer, other = accounts[3], accounts[4], accounts[7]
    claimer = PoolClaimer.deploy({"from": accounts[6]})
    pool, tree = new_pool(market, curator, [(claimer.address, 1), (other.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    weight, proof = tree.proof(claimer.address)
    return pool, tree, claimer, weight, proof, pub, other


def claim(pool, account, tree, epoch=1, asset=ZERO, token=None):
    """Claim and return what the account received."""
    weight, proof = tree.proof(account.address)
    if asset == ZERO:
        before = account.balance()
        tx = pool.claim(epoch, asset, weight, proof, {"from": account})
        return account.balance() - before + tx.gas_used * tx.gas_price
    before = token.balanceOf(account)
    pool.claim(epoch, asset, weight, proof, {"from": account})
    return token.balanceOf(account) - before


def token_sale_with_forfeited_bond(market, pub, token, buyer, agent, arbiter, bond):
    """A token sale of a pooled dataset, delivered, disputed with an RBTC bond the arbiter forfeits: the pool is
    owed the token share and the bond. Returns the licence id."""
    lid = sell(market, pub, buyer, agent, token=token, confirm=False)
    market.disputeData(lid, {"from": buyer, "value": bond})
    market.resolveData(lid, 0, {"from": arbiter})
    return lid


def pool_deployments(tmp_path, market, impl):
    """A deployments folder naming `market` and the pool implementation `impl` on the local chain (id 33)."""
    deps = tmp_path / "deps"
    deps.mkdir(exist_ok=True)
    (deps / "33.json").write_text(json.dumps({"chainId": 33, "contracts": {
        "DataLicense": {"address": market.address, "block": 0},
        "RevenuePool": {"address": impl.address, "block": 0}}}))
    return deps

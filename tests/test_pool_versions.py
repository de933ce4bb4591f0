"""Issue 21, pools on chain: a sale's revenue belongs to the epoch published with the version sold, whenever it
settles (item 1); nothing runs inside a payout (item 3); an epoch's dust waits until the sales of its version have
all been able to settle, and a sale settling after a sweep overdraws nothing (item 4).

Each test is the attack or the failure, run on the real local chain; each failed before the fix.
"""

import os

import pytest
from brownie import HookedToken, PoolClaimer, web3
from eth_utils import keccak

from datalicense.roles.pool import PoolTree
from helpers import BOND, FEE_BPS, PRICE, ZERO, Published, buy, deliver, reverts, sleep
from pools import claim, claimer_pool, new_pool, publish_in_pool, sell

pytestmark = pytest.mark.chain

SHARE = PRICE - PRICE * FEE_BPS // 10000


def seller_share(price):
    return price - price * FEE_BPS // 10000


def escrowed_sale(market, pub, buyer, agent, price=PRICE):
    """A sale bought and delivered that waits in escrow (not confirmed): its licence id."""
    lid, key, _ = buy(market, pub.dataset_id, buyer, value=price)
    deliver(market, lid, pub, key, agent)
    return lid


def next_version(pool, pub, tree, curator):
    """The curator's `pool version`: a new dataset version with a new tree (a new epoch)."""
    k = os.urandom(32)
    pool.publishVersion(b"\x01\x55" + os.urandom(8), keccak(b"p2"), keccak(k), tree.top, b"tree-2",
                        {"from": curator})
    return Published(pub.dataset_id, k, keccak(k))


# ------------------------------------------------------------------------------ item 1: the version sold


def test_curator_cannot_move_escrowed_sales_to_a_tree_of_its_own(market, accounts, agent):
    """ATTACK (High). Gains: the curator. Loses: every contributor of epoch 1 (all of the sales). Cost: gas.
    Three sales are bought under version 1 and wait in escrow; the curator retires the dataset and starts an
    epoch whose tree holds only itself, then the buyers confirm. Before: a sale's revenue went to whichever epoch
    was current when it settled, so the curator claimed all three. Now it goes to the epoch published with the
    version sold."""
    a, b = accounts[7], accounts[8]
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    lids = [escrowed_sale(market, pub, buyer, agent) for _ in range(3)]
    pool.retire({"from": curator})
    mine = PoolTree.build([(curator.address, 1)])
    pool.newEpoch(mine.top, b"mine", {"from": curator})
    for lid in lids:
        market.confirm(lid, {"from": buyer})
    assert pool.claimable(2, ZERO, curator, 1) == 0, "the curator's own tree took the escrowed sales"
    assert claim(pool, a, tree) == claim(pool, b, tree) == 3 * SHARE // 2
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 3 * SHARE % 2


def test_a_new_tree_without_a_version_is_refused_while_the_dataset_sells(market, accounts, agent):
    """ATTACK (Medium, consent). While version v sells, its sales pay the epoch published with v; a tree started
    without a version (`newEpoch`) would close that epoch, and its contributors could no longer revoke while their
    data is still sold. Before: allowed at any time. Now: only for a dataset that sells no more (retired) or not
    yet; a new tree otherwise comes with a new version."""
    a = accounts[7]
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 1)])
    other = PoolTree.build([(accounts[8].address, 1)])
    pool.newEpoch(other.top, b"before-any-sale", {"from": curator})  # no dataset yet: nothing is sold
    pub = publish_in_pool(pool, curator, agent)
    with reverts(f"SalesOpen: {pub.dataset_id}"):
        pool.newEpoch(tree.top, b"t", {"from": curator})
    assert pool.epochSales(2)["version"] == 1
    pool.retire({"from": curator})
    pool.newEpoch(tree.top, b"t", {"from": curator})
    assert pool.epoch() == 3 and pool.epochSales(3)["version"] == 0


def test_a_new_version_between_purchase_and_settlement_pays_the_contributors_of_the_version_sold(
        market, accounts, agent, arbiter):
    """FAILURE (High, the honest `pool version` flow). Version 2 replaces contributor B with newcomer C while sales
    of version 1 wait in escrow: one confirmed later, one still pending and delivered only after the change, one
    split by the arbiter, one ruled for the seller (its bond forfeited). Before: all of them went to epoch 2, so B
    got nothing of sales of its data and C half of sales made before it joined. Now: A and B share every sale of
    version 1; A and C share the sales of version 2."""
    a, b, c = accounts[7], accounts[8], accounts[9]
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub1 = publish_in_pool(pool, curator, agent)
    confirmed_later = escrowed_sale(market, pub1, buyer, agent)
    pending, key, _ = buy(market, pub1.dataset_id, buyer)
    split, forfeited = (escrowed_sale(market, pub1, buyer, agent) for _ in range(2))
    for lid in (split, forfeited):
        market.disputeData(lid, {"from": buyer, "value": BOND})
    tree2 = PoolTree.build([(a.address, 1), (c.address, 1)])
    pub2 = next_version(pool, pub1, tree2, curator)
    deliver(market, pending, pub1, key, agent)  # the key of the version bought
    sold_v2 = escrowed_sale(market, pub2, buyer, agent)
    for lid in (confirmed_later, pending, sold_v2):
        market.confirm(lid, {"from": buyer})
    market.resolveData(split, 5_000, {"from": arbiter})  # half back to the buyer
    market.resolveData(forfeited, 0, {"from": arbiter})  # for the seller: the sale stands, the bond is forfeit
    half = PRICE - PRICE * 5_000 // 10_000
    version_1 = 3 * SHARE + seller_share(half) + BOND
    assert claim(pool, b, tree1) == version_1 // 2, "a contributor who left lost its share of sales of its data"
    assert claim(pool, a, tree1) == version_1 // 2
    assert claim(pool, c, tree2, epoch=2) == SHARE // 2, "a newcomer took sales made before it joined"
    assert claim(pool, a, tree2, epoch=2) == SHARE // 2
    assert pool.epochSales(1)["version"] == 1 and pool.epochSales(2)["version"] == 2


# ---------------------------------------------------------------------------- item 3: inside a payout


def test_a_hooked_token_payout_cannot_be_revoked_into_nor_freeze_the_pool(market, accounts, agent, admin):
    """ATTACK (Medium). Gains: the claimer's co-contributors on paper, then nobody; loses: every contributor of
    the pool (frozen). The pool is priced in a token the admin admitted that calls the recipient *before* moving
    balances. A contributor contract claims and, inside that call, revokes consent. Before: the revocation's
    accrual saw the payout twice (the books already lowered, the balance not yet) and credited it again; once the
    balance moved the pool counted more than it held: BalanceShort on every sync, claim and new epoch until the
    next sale. Now: one lock covers claims and revocations, so the revocation is refused inside the payout, the
    claim completes, and the books equal the balance."""
    curator, buyer, other = accounts[3], accounts[4], accounts[7]
    hooked = HookedToken.deploy({"from": admin})
    market.setAssetAllowed(hooked, True, {"from": admin})
    hooked.mint(buyer, 10 * PRICE, {"from": admin})
    claimer = PoolClaimer.deploy({"from": accounts[6]})
    hooked.hook(claimer, True, {"from": admin})
    pool, tree = new_pool(market, curator, [(claimer.address, 1), (other.address, 1)], asset=hooked.address)
    pub = publish_in_pool(pool, curator, agent, asset=hooked.address)
    sell(market, pub, buyer, agent, token=hooked)
    w, proof = tree.proof(claimer.address)
    claimer.claimFrom(pool, 1, hooked, w, proof, True, {"from": accounts[6]})  # the pool learns its weight
    sell(market, pub, buyer, agent, token=hooked)
    claimer.claimAndRevokeWhilePaid(pool, 1, hooked, w, proof, {"from": accounts[6]})
    assert not claimer.revokedInPayment(), "a revocation ran inside the payout"
    assert hooked.balanceOf(claimer) == SHARE
    assert hooked.balanceOf(pool) == pool.held(hooked)
    pool.sync({"from": other})  # the pool is not frozen
    assert claim(pool, other, tree, asset=hooked, token=hooked) == SHARE
    assert hooked.balanceOf(pool) == pool.held(hooked) == 0


def test_a_revocation_inside_an_rbtc_payout_is_refused_and_the_claim_completes(market, accounts, agent):
    """The same lock for RBTC: a contributor contract that revokes from inside its own claim's payment is refused
    there (before, it went through); its claim is paid in full and it can revoke on its own afterwards."""
    pool, tree, claimer, w, proof, _, other = claimer_pool(market, accounts, agent)
    tx = claimer.claimAndRevokeWhilePaid(pool, 1, ZERO, w, proof, {"from": accounts[6]})
    assert tx.return_value is False and "ConsentRevoked" not in tx.events
    assert claimer.balance() == SHARE // 2
    assert pool.epochInfo(1)["activeWeight"] == 2
    assert claim(pool, other, tree) == SHARE // 2
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO)


# ---------------------------------------------------------------------------------- item 4: dust


def test_dust_waits_for_its_versions_sales_and_a_sale_settling_after_a_sweep_overdraws_nothing(
        market, accounts, agent):
    """FAILURE (Medium). Weights 1 and 1, 3 wei credited: each is owed 1.5 and paid 1, one wei is dust. A sale of
    version 1 (an odd seller share) waits in escrow when version 2 starts. Before: the dust was sweepable at once
    and the late sale went to epoch 2. Now the sweep waits DUST_AFTER (every sale of the version can have settled
    by then), takes the dust though contributor A never came back to settle, and when the buyer confirms the late
    sale anyway, epoch 1 is paid it: the fractions the sweep took are made up first, so both contributors claim
    their share and no claim overdraws the epoch."""
    a, b = accounts[7], accounts[8]
    curator, buyer, payer = accounts[3], accounts[4], accounts[6]
    price = PRICE + 1
    share = seller_share(price)
    assert share % 2 == 1
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent, price=price)
    late = escrowed_sale(market, pub, buyer, agent, price=price)
    payer.transfer(pool, 3)
    pool.sync({"from": payer})
    assert claim(pool, a, tree) == 1  # while epoch 1 is open: A never settles its rounding
    next_version(pool, pub, PoolTree.build([(a.address, 1)]), curator)
    with reverts("DustNotFinal: 1"):
        pool.sweepDust(1, ZERO, {"from": curator})
    with reverts(f"DustNotFinal: 1, {pool.epochSales(1)['closedAt'] + pool.DUST_AFTER()}"):
        pool.sweepable(1, ZERO)
    sleep(pool.DUST_AFTER())
    assert claim(pool, b, tree) == 1  # after the close: B is paid in full, its half wei is known
    assert pool.sweepable(1, ZERO) == 1
    before = curator.balance()
    tx = pool.sweepDust(1, ZERO, {"from": curator})
    assert curator.balance() - before + tx.gas_used * tx.gas_price == 1
    market.confirm(late, {"from": buyer})  # the late sale of version 1
    assert pool.claimable(1, ZERO, a, 1) == pool.claimable(1, ZERO, b, 1) == (share - 1) // 2
    assert claim(pool, a, tree) == (share - 1) // 2
    assert claim(pool, b, tree) == (share - 1) // 2
    assert pool.claimable(2, ZERO, a, 1) == 0
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 1  # what rounding leaves, never less


def test_dust_after_everyone_revoked_needs_no_wait(market, accounts, agent):
    """An epoch whose every contributor revoked owes nobody: whatever reaches it is the curator's at once."""
    a = accounts[7]
    curator, payer = accounts[3], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 2)])
    publish_in_pool(pool, curator, agent)
    payer.transfer(pool, 5)
    pool.revokeConsent(2, tree.proof(a.address)[1], {"from": a})
    payer.transfer(pool, 7)
    assert pool.sweepable(1, ZERO) == 7
    pool.sweepDust(1, ZERO, {"from": curator})
    assert claim(pool, a, tree) == 5
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0

"""Data pools v2: revenue shared by a Merkle sum tree, epochs that keep what contributors earned, every inflow
accounted for, the dataset id the marketplace returns, and trees a contributor reads one shard of.

Most tests run on `RevenuePoolHarness`, the implementation deployed directly (so coverage maps to its source);
`test_pool_through_a_clone` runs the same flow through `create` (EIP-1167 clones).
"""

import json
import os
import subprocess
import sys

import pytest
from brownie import RevenuePool, RevenuePoolHarness, web3
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from helpers import BOND, FEE_BPS, PRICE, ZERO, Published, dataset_of, reverts, sleep, terms
from datalicense.errors import IntegrityError
from datalicense.protocol.records import version_account
from datalicense.roles.pool import MAX_TOTAL_WEIGHT, ZERO32, PoolTree, fetch_proof, leaf_hash, node_hash
from pools import claim, claimer_pool, new_pool, pool_deployments, publish_in_pool, sell

pytestmark = pytest.mark.e2e

SELLER_SHARE = PRICE - PRICE * FEE_BPS // 10000


# ------------------------------------------------------------------------------------------- helpers


def two_word(proof):
    return [(proof[i], int.from_bytes(proof[i + 1], "big")) for i in range(0, len(proof), 2)]


@pytest.fixture(autouse=True)
def coverage_sees_the_pool(monkeypatch):
    """Under `--coverage`, let brownie map the pool's code to its source. Brownie keeps a deployed contract's
    pcMap (what coverage is computed from) only if the code on chain equals the build's deployedBytecode; Solidity
    writes immutables (`market`, `_implementation`) into the runtime code at construction, where the build has
    zero words, so the pool never matched and brownie dropped its pcMap: no RevenuePool rows in
    reports/coverage.json. Here the code matches if it differs only where the build has zero bytes (the
    immutables' slots). Only for coverage runs: a kept pcMap makes brownie trace every reverting transaction."""
    from brownie._config import CONFIG
    from brownie.network import contract as brownie_contract

    if not CONFIG.argv.get("coverage"):
        return
    strict = brownie_contract._verify_deployed_code

    def same_code_but_immutables(address, expected, language):
        actual = bytes(web3.eth.get_code(address))
        built = bytes.fromhex(expected.removeprefix("0x"))
        if len(actual) == len(built) and all(x == y or y == 0 for x, y in zip(actual, built)):
            return True
        return strict(address, expected, language)

    monkeypatch.setattr(brownie_contract, "_verify_deployed_code", same_code_but_immutables)


@pytest.fixture
def people(accounts):
    return accounts[7], accounts[8], accounts[9]


# ------------------------------------------------------------------------------------------ sharing


def test_revenue_is_shared_by_weight(market, lens, people, accounts, agent):
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 3), (c.address, 6)])
    pub = publish_in_pool(pool, curator, agent)
    assert dataset_of(lens, pub.dataset_id).owner == pool  # the pool owns the dataset
    for _ in range(2):
        sell(market, pub, buyer, agent)
    revenue = 2 * SELLER_SHARE
    assert pool.pending(ZERO) == revenue
    assert pool.claimable(1, ZERO, a, 1) == revenue // 10  # counts what the marketplace owes, before any sync
    assert claim(pool, a, tree) == revenue * 1 // 10  # the claim pulls the revenue in
    assert claim(pool, c, tree) == revenue * 6 // 10
    with reverts("NothingToClaim"):
        claim(pool, a, tree)
    sell(market, pub, buyer, agent)
    assert claim(pool, a, tree) == SELLER_SHARE // 10  # only what accrued since the last claim
    assert claim(pool, b, tree) == (revenue + SELLER_SHARE) * 3 // 10
    with reverts("NotInTree"):
        pool.claim(1, ZERO, 5, [], {"from": accounts[5]})
    with reverts("NotInTree"):
        pool.claim(1, ZERO, 2, tree.proof(a.address)[1], {"from": a})  # wrong weight
    with reverts("NotInTree"):
        pool.claim(1, ZERO, 1, tree.proof(a.address)[1][:-1], {"from": a})  # odd proof length
    with reverts("NotInTree"):
        pool.claim(1, ZERO, 0, tree.proof(a.address)[1], {"from": a})
    with reverts("NotInTree"):
        pool.claim(9, ZERO, 1, tree.proof(a.address)[1], {"from": a})  # no such epoch
    w, proof = tree.proof(b.address)
    assert pool.isContributor(1, b, w, proof)
    assert not pool.isContributor(1, b, w + 1, proof)
    assert not pool.isContributor(1, b, w, proof[:-1])
    assert not pool.isContributor(1, b, 0, proof)
    assert pool.leaf(b, w) == "0x" + leaf_hash(b.address.lower(), w).hex()


def test_pool_through_a_clone(market, lens, people, accounts, agent):
    """The production path: `create` makes an EIP-1167 clone; the clone is initialised once."""
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    tree = PoolTree.build([(a.address, 1), (b.address, 3)])
    tx = impl.create(curator, ZERO, tree.top, b"tree", {"from": curator})
    pool = RevenuePool.at(tx.events["PoolCreated"]["pool"])
    assert tx.events["PoolCreated"]["totalWeight"] == 4 and pool.epochInfo(1)["root"] == "0x" + tree.root.hex()
    with reverts("AlreadyInitialized"):
        pool.initialize(curator, ZERO, tree.top, b"", {"from": curator})
    with reverts("AlreadyInitialized"):
        impl.initialize(curator, ZERO, tree.top, b"", {"from": curator})
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    assert claim(pool, b, tree) == SELLER_SHARE * 3 // 4


def test_curator_controls_the_dataset_through_the_pool(market, lens, accounts, agent, people, token):
    curator, other = accounts[3], accounts[6]
    pool, _ = new_pool(market, curator, [(people[0].address, 1)])
    with reverts("NotCurator"):
        pool.publishDataset(b"\x01", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(), agent, {"from": other})
    with reverts("AssetChange"):  # the pool's asset is fixed when it is created
        pool.publishDataset(b"\x01", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(asset=token.address), agent,
                            {"from": curator})
    with reverts("NoDataset"):
        pool.publishVersion(b"\x01", keccak(b"p"), keccak(b"k"), PoolTree.build([(other.address, 1)]).top, b"",
                            {"from": curator})
    publish_in_pool(pool, curator, agent)
    with reverts("DatasetExists"):
        publish_in_pool(pool, curator, agent)
    pool.pauseSales({"from": curator})
    pool.resumeSales({"from": curator})
    with reverts("AssetChange"):
        pool.setTerms(keccak(b"t"), terms(asset=token.address), {"from": curator})
    pool.setTerms(keccak(b"t2"), terms(price=2 * PRICE), {"from": curator})
    pool.setAgent(other, {"from": curator})
    assert lens.agentOf(pool.datasetId()) == other
    with reverts("NotCurator"):
        pool.transferCurator(ZERO, {"from": curator})
    pool.transferCurator(other, {"from": curator})
    with reverts("NotCurator"):
        pool.acceptCurator({"from": accounts[7]})
    pool.acceptCurator({"from": other})
    assert pool.curator() == other and pool.pendingCurator() == ZERO
    pool.retire({"from": other})
    with reverts("AlreadyInitialized"):
        pool.initialize(curator, ZERO, PoolTree.build([(other.address, 1)]).top, b"", {"from": curator})


def test_initialize_refuses_a_zero_curator_and_bad_totals(market, accounts):
    tree = PoolTree.build([(accounts[7].address, 1)])
    pool = RevenuePoolHarness.deploy(market, {"from": accounts[0]})
    with reverts("NotCurator"):
        pool.initialize(ZERO, ZERO, tree.top, b"", {"from": accounts[0]})
    with reverts("BadTotalWeight"):
        pool.initialize(accounts[3], ZERO, (ZERO32, 0, ZERO32, 0), b"", {"from": accounts[0]})
    with reverts("BadTotalWeight"):
        pool.initialize(accounts[3], ZERO, (ZERO32, pool.MAX_TOTAL_WEIGHT() + 1, ZERO32, 0), b"", {"from": accounts[0]})
    assert MAX_TOTAL_WEIGHT == pool.MAX_TOTAL_WEIGHT()  # the tree builder refuses what the pool would
    root, total = pool.rootOf(tree.top)
    assert root == "0x" + tree.root.hex() and total == 1


# --------------------------------------------------------------------------- (1) across epochs


def test_curator_cannot_take_earlier_epochs_revenue_with_an_understated_total(market, people, accounts, agent):
    """Scenario 1. Epoch 1's contributors have not claimed; the curator starts epoch 2 with a tree that holds its
    own leaf of weight 1000 but declares (in its top) a total of 1. It can claim nothing of epoch 1's money: the
    total is read from the root, so its leaf does not verify at weight 1000; at weight 1 it would only be a leaf
    of another tree; and no epoch pays out more than was credited to it. Epoch 1's contributors claim in full."""
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    for _ in range(3):
        sell(market, pub, buyer, agent)
    # the malicious tree: top = (leaf(curator, 1000) declared with sum 1, empty)
    evil_leaf = leaf_hash(curator.address.lower(), 1000)
    evil_top = (evil_leaf, 1, ZERO32, 0)
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), evil_top, b"evil", {"from": curator})
    assert pool.epochInfo(2)["totalWeight"] == 1  # the total is what the root commits to
    with reverts("NotInTree"):  # its leaf at the declared weight does not hash to the root's child sums
        pool.claim(2, ZERO, 1000, [ZERO32, (0).to_bytes(32, "big")], {"from": curator})
    with reverts("NotInTree"):
        pool.claim(2, ZERO, 1, [ZERO32, (0).to_bytes(32, "big")], {"from": curator})
    # epoch 2 was credited nothing: even a sound leaf could take nothing from it
    assert pool.pot(2, ZERO)["credited"] == 0
    assert claim(pool, a, tree1) == 3 * SELLER_SHARE // 2
    assert claim(pool, b, tree1) == 3 * SELLER_SHARE // 2
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0


def test_an_epoch_never_pays_out_more_than_was_credited_to_it(market, people, accounts, agent):
    """Belt and braces: even with the per-weight figure corrupted (a harness hook), a claim cannot take more than
    its epoch was credited, so earlier epochs' money is safe."""
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    tree2 = PoolTree.build([(a.address, 1), (b.address, 1)])
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    pool.harnessSetAcc(2, ZERO, 10**36 * PRICE)  # epoch 2 credited nothing, says each weight earned PRICE
    w, proof = tree2.proof(a.address)
    with reverts("EpochOverdrawn"):
        pool.claim(2, ZERO, w, proof, {"from": a})
    assert claim(pool, a, tree1) == SELLER_SHARE // 2


def test_nobody_is_paid_more_than_its_weight_share_even_with_wrapping_sums(market, accounts, agent):
    """A curator's tree whose inner sums would wrap around 2^256 (to hide a big leaf under a small total) does
    not verify: sibling sums are below 2^128, so sums add up."""
    curator, buyer, thief, honest = accounts[3], accounts[4], accounts[6], accounts[7]
    big = 2**255
    thief_leaf = leaf_hash(thief.address.lower(), 10)
    hide = 2**256 - 9  # 10 + hide wraps to 1
    inner = node_hash(thief_leaf, 10, keccak(b"x"), hide)
    honest_leaf = leaf_hash(honest.address.lower(), 1)
    top = (inner, 1, honest_leaf, 1)
    pool = RevenuePoolHarness.deploy(market, {"from": curator})
    pool.initialize(curator, ZERO, top, b"", {"from": curator})
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    with reverts("NotInTree"):
        pool.claim(1, ZERO, 10, [keccak(b"x"), hide.to_bytes(32, "big"), honest_leaf, (1).to_bytes(32, "big")],
                   {"from": thief})
    assert not pool.isContributor(1, thief, 10, [keccak(b"x"), big.to_bytes(32, "big")])
    before = honest.balance()
    tx = pool.claim(1, ZERO, 1, [inner, (1).to_bytes(32, "big")], {"from": honest})
    assert honest.balance() - before + tx.gas_used * tx.gas_price == SELLER_SHARE // 2  # 1 of a total of 2


def test_new_version_new_root_keeps_old_earnings(market, people, accounts, agent):
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    tree2 = PoolTree.build([(b.address, 1), (c.address, 1)])  # a's records are dropped
    k2 = os.urandom(32)
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(k2), tree2.top, b"tree2", {"from": curator})
    assert pool.epoch() == 2 and pool.pot(1, ZERO)["credited"] == SELLER_SHARE  # what was owed went to epoch 1
    sell(market, Published(pub.dataset_id, k2, keccak(k2)), buyer, agent)
    assert claim(pool, a, tree1, epoch=1) == SELLER_SHARE // 2  # a keeps what it earned before
    with reverts("NotInTree"):  # a's old proof does not open the new root
        pool.claim(2, ZERO, 1, tree1.proof(a.address)[1], {"from": a})
    assert claim(pool, b, tree1, epoch=1) == SELLER_SHARE // 2
    assert claim(pool, b, tree2, epoch=2) == SELLER_SHARE // 2
    assert claim(pool, c, tree2, epoch=2) == SELLER_SHARE // 2


# ----------------------------------------------------------------------------- (2) every inflow


def test_rbtc_bond_forfeited_to_a_token_priced_pool_is_claimable(market, people, accounts, agent, arbiter, token):
    """Scenario 2: a data dispute ruled for the seller forfeits the buyer's RBTC bond to the pool, whose dataset
    is priced in a token. Contributors claim both the token revenue and the RBTC."""
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 3)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    lid = sell(market, pub, buyer, agent, token=token, confirm=False)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    market.resolveData(lid, 0, {"from": arbiter})
    version_1 = version_account(pool.address, pub.dataset_id, 1)  # the pool is paid by version
    assert market.balanceOwed(ZERO, version_1) == BOND and market.balanceOwed(ZERO, pool) == 0
    assert pool.claimable(1, ZERO, b, 3) == BOND * 3 // 4
    pool.sync({"from": accounts[6]})
    assert market.balanceOwed(ZERO, version_1) == 0 and market.balanceOwed(token, version_1) == 0
    assert claim(pool, b, tree, asset=ZERO) == BOND * 3 // 4
    assert claim(pool, b, tree, asset=token.address, token=token) == SELLER_SHARE * 3 // 4
    assert claim(pool, a, tree, asset=ZERO) == BOND // 4
    assert claim(pool, a, tree, asset=token.address, token=token) == SELLER_SHARE // 4


def test_royalties_and_plain_transfers_in_rbtc_and_tokens_are_claimable(market, people, accounts, agent, token):
    """An ERC-2981 royalty (the pool is the dataset's royalty receiver) and plain transfers, in RBTC and in the
    pool's token, are credited to the current epoch at the next sync or claim."""
    a, b, _ = people
    curator, buyer, payer = accounts[3], accounts[4], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    lid = sell(market, pub, buyer, agent, token=token)
    receiver, royalty = market.royaltyInfo(lid, 10**18)
    assert receiver == pool and royalty == 5 * 10**16
    payer.transfer(pool, royalty)  # a resale marketplace pays the royalty in RBTC
    token.mint(payer, 1000, {"from": accounts[0]})
    token.transfer(pool, 1000, {"from": payer})  # a plain token transfer
    assert pool.pending(ZERO) == royalty and pool.pending(token) == SELLER_SHARE + 1000
    assert claim(pool, a, tree, asset=ZERO) == royalty // 2
    assert claim(pool, a, tree, asset=token.address, token=token) == (SELLER_SHARE + 1000) // 2
    with reverts("NotPoolAsset"):
        pool.claim(1, accounts[9].address, 1, tree.proof(a.address)[1], {"from": a})


def test_stray_tokens_are_sweepable_by_the_curator(market, people, accounts, agent, token, admin):
    """A token that is neither the pool's asset nor RBTC is the curator's to sweep; the pool's own asset and RBTC
    are not."""
    from brownie import TestToken

    curator = accounts[3]
    pool, _ = new_pool(market, curator, [(people[0].address, 1)])
    other = TestToken.deploy("Other", "OTH", {"from": admin})
    other.mint(pool, 777, {"from": admin})
    with reverts("NotCurator"):
        pool.sweepToken(other, {"from": accounts[6]})
    with reverts("NotPoolAsset"):
        pool.sweepToken(ZERO, {"from": curator})
    tx = pool.sweepToken(other, {"from": curator})
    assert other.balanceOf(curator) == 777 and tx.events["StraySwept"]["amount"] == 777
    with reverts("NothingToClaim"):
        pool.sweepToken(other, {"from": curator})


def test_rounding_dust_is_sweepable_once_nobody_can_claim_it(market, people, accounts, agent):
    """Weights 1, 1, 1 and revenue not divisible by 3: what the floors leave is the curator's once the epoch is
    closed and everyone was paid in full; never before, never more."""
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1), (c.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    accounts[6].transfer(pool, 2)  # SELLER_SHARE + 2 is not a multiple of 3
    pool.sync({"from": curator})
    credited = SELLER_SHARE + 2
    assert credited % 3 == 2
    with reverts("EpochOpen"):
        pool.sweepDust(1, ZERO, {"from": curator})
    with reverts("UnknownEpoch"):
        pool.sweepable(5, ZERO)
    tree2 = PoolTree.build([(a.address, 1)])
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    with reverts("DustNotFinal"):  # sales of version 1 may still settle
        pool.sweepable(1, ZERO)
    sleep(pool.DUST_AFTER())
    assert pool.sweepable(1, ZERO) == 0  # the three exact shares add up to what was credited: nobody paid yet
    assert claim(pool, a, tree) == credited // 3
    assert claim(pool, b, tree) == credited // 3
    before_c = pool.sweepable(1, ZERO)
    assert claim(pool, c, tree) == credited // 3
    assert pool.sweepable(1, ZERO) == credited % 3 > before_c - 1
    with reverts("NotCurator"):
        pool.sweepDust(1, ZERO, {"from": a})
    before = curator.balance()
    tx = pool.sweepDust(1, ZERO, {"from": curator})
    assert curator.balance() - before + tx.gas_used * tx.gas_price == credited % 3
    with reverts("NothingToClaim"):
        pool.sweepDust(1, ZERO, {"from": curator})
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0


def test_a_whole_share_is_paid_in_full_not_one_unit_short(market, accounts):
    """Regression (stateful test: a sole contributor of weight 3 could claim 2950000000000005 of 2950000000000006
    wei): revenue per weight was kept scaled by 1e36 and floored, so a share that is a whole number came out one
    unit short whenever the active weight does not divide inflow * 1e36. The scale is now a multiple of the total
    weight, so without revocations each share is its exact value rounded down."""
    a, b = accounts[7], accounts[8]
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 3)])
    accounts[6].transfer(pool, 2950000000000006)
    assert pool.claimable(1, ZERO, a, 3) == 2950000000000006
    assert claim(pool, a, tree) == 2950000000000006  # everything that reached the pool
    pool, tree = new_pool(market, curator, [(a.address, 3), (b.address, 3)])
    accounts[6].transfer(pool, 2)  # one wei each, exactly
    assert claim(pool, a, tree) == 1
    assert claim(pool, b, tree) == 1
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0


def test_a_contributor_settles_its_rounding_after_the_epoch_closes(market, people, accounts, agent):
    """Weights 1 and 1, 3 wei: each is owed 1.5 and paid 1. In a closed epoch a contributor whose claimable is 0
    may still claim once, to settle: its half wei of dust then becomes sweepable; a second settle is refused."""
    a, b, _ = people
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    accounts[6].transfer(pool, 3)
    assert claim(pool, a, tree) == 1  # in the open epoch
    tree2 = PoolTree.build([(a.address, 1)])
    pool.publishDataset(b"\x01", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(), agent, {"from": curator})
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    sleep(pool.DUST_AFTER())
    assert pool.sweepable(1, ZERO) == 0  # 3 - floor(2 * 1.5): nobody is paid in full yet
    w, proof = tree.proof(a.address)
    tx = pool.claim(1, ZERO, w, proof, {"from": a})  # pays 0, settles
    assert "Claimed" not in tx.events and pool.record(1, ZERO, a)["settled"]
    with reverts("NothingToClaim"):
        pool.claim(1, ZERO, w, proof, {"from": a})
    assert pool.sweepable(1, ZERO) == 1
    assert claim(pool, b, tree) == 1
    assert pool.sweepable(1, ZERO) == 1
    pool.sweepDust(1, ZERO, {"from": curator})
    assert pool.held(ZERO) == web3.eth.get_balance(pool.address) == 0


def test_token_pool_dust_views_and_refusals(market, accounts, agent, token, admin):
    """A token-priced pool: its own token is not a stray, a version needs a dataset, the views of a revoked
    contributor, of a closed epoch and of an epoch everyone revoked, and token dust swept to the curator."""
    a, b, c = accounts[7], accounts[8], accounts[9]
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1), (c.address, 1)], asset=token.address)
    with reverts("NotPoolAsset"):
        pool.sweepToken(token, {"from": curator})
    with reverts("NoDataset"):
        pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree.top, b"t2", {"from": curator})
    token.mint(pool, 5, {"from": admin})
    accounts[6].transfer(pool, 4)
    assert pool.claimable(1, token, a, 1) == 1 and pool.claimable(1, ZERO, a, 1) == 1  # 5/3 and 4/3, not synced
    assert pool.claimable(1, admin, a, 1) == 0  # not an asset of the pool
    w, proof = tree.proof(a.address)
    pool.revokeConsent(w, proof, {"from": a})
    assert pool.claimable(1, token, a, 1) == 1 and pool.record(1, token, a)["revoked"]  # frozen at 5/3
    assert pool.claimable(1, ZERO, a, 1) == 1
    for m in (b, c):
        w, proof = tree.proof(m.address)
        pool.revokeConsent(w, proof, {"from": m})
    token.mint(pool, 7, {"from": admin})
    accounts[6].transfer(pool, 6)
    # nobody is active: what is credited and not owed, and what is pending, can only be the curator's
    assert pool.sweepable(1, token) == 5 - 3 * (5 // 3) + 7
    assert pool.sweepable(1, ZERO) == 4 - 3 * (4 // 3) + 6
    assert pool.sweepable(1, admin) == 0
    with reverts("NotPoolAsset"):
        pool.sweepDust(1, admin, {"from": curator})
    assert pool.claimable(1, token, b, 1) == 1
    before = token.balanceOf(curator)
    pool.sweepDust(1, token, {"from": curator})
    assert token.balanceOf(curator) - before == 9
    pool.publishDataset(b"\x01", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(asset=token.address), agent,
                        {"from": curator})
    tree2 = PoolTree.build([(a.address, 1)])
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    assert pool.claimable(1, token, b, 1) == 1 and pool.claimable(2, token, a, 1) == 0  # closed epoch; nothing yet
    assert pool.sweepable(1, ZERO) == 7 and pool.sweepable(1, token) == 0
    for m in (a, b, c):
        claim(pool, m, tree, asset=token.address, token=token)
    assert pool.held(token) == token.balanceOf(pool) == 0


def test_refusals_at_the_edges_of_the_books(market, accounts, agent, token, admin):
    """The curator cannot sweep RBTC or a token the pool does not hold as strays, nor dust an epoch does not have;
    an epoch full to its credit cap credits nothing more until the next epoch, and its views say so."""
    from brownie import TestToken

    a, b, curator = accounts[7], accounts[8], accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    other = TestToken.deploy("Other", "OTH", {"from": admin})
    with reverts("NotPoolAsset"):
        pool.sweepToken(ZERO, {"from": curator})
    with reverts("NothingToClaim"):
        pool.sweepToken(other, {"from": curator})
    cap = pool.MAX_EPOCH_CREDIT()
    token.mint(pool, cap, {"from": admin})
    pool.sync({"from": a})
    token.mint(pool, 10, {"from": admin})
    pool.sync({"from": a})  # full: nothing more is credited, the 10 wait
    assert pool.pot(1, token)["credited"] == cap and pool.pending(token) == 10
    assert pool.claimable(1, token, a, 1) == cap // 2  # the view applies the cap too
    pool.newEpoch(tree.top, b"t2", {"from": curator})
    pool.sync({"from": a})
    assert pool.pot(2, token)["credited"] == 10 and pool.pending(token) == 0
    for m in (a, b):
        claim(pool, m, tree, asset=token.address, token=token)
    sleep(pool.DUST_AFTER())
    assert pool.sweepable(1, token) == cap - 2 * (cap // 2)
    pool.sweepDust(1, token, {"from": curator})
    with reverts("NothingToClaim"):
        pool.sweepDust(1, token, {"from": curator})  # swept already


def test_everyone_revoked_sends_revenue_to_the_curator(market, people, accounts, agent):
    a = people[0]
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    weight, proof = tree.proof(a.address)
    pool.revokeConsent(weight, proof, {"from": a})
    sell(market, pub, buyer, agent)
    pool.sync({"from": curator})
    assert pool.sweepable(1, ZERO) == SELLER_SHARE  # no active weight: nobody can claim it
    assert pool.claimable(1, ZERO, a, 1) == 0
    before = curator.balance()
    tx = pool.sweepDust(1, ZERO, {"from": curator})
    assert curator.balance() - before + tx.gas_used * tx.gas_price == SELLER_SHARE


def test_a_token_that_loses_balance_is_reported(market, people, accounts, token):
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(people[0].address, 1)], asset=token.address)
    pool.harnessSetHeld(token, 5)  # the pool accounts for 5 it does not hold
    with reverts("BalanceShort"):
        pool.sync({"from": curator})


def test_a_contributor_that_refuses_rbtc_is_not_paid_and_keeps_its_claim(market, accounts, agent):
    from brownie import PoolClaimer

    curator, buyer = accounts[3], accounts[4]
    claimer = PoolClaimer.deploy({"from": accounts[6]})
    pool, tree = new_pool(market, curator, [(claimer.address, 1), (accounts[7].address, 1)])
    accounts[6].transfer(pool, 10)
    w, proof = tree.proof(claimer.address)
    with reverts("PaymentFailed"):
        claimer.claimFrom(pool, 1, ZERO, w, proof, False, {"from": accounts[6]})
    claimer.claimFrom(pool, 1, ZERO, w, proof, True, {"from": accounts[6]})
    assert claimer.balance() == 5


# ------------------------------------------------------------------------------------ revocation


def test_revoked_consent_earns_nothing_more(market, people, accounts, agent, token):
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    accounts[6].transfer(pool, 100)
    weight, proof = tree.proof(a.address)
    tx = pool.revokeConsent(weight, proof, {"from": a})
    assert tx.events["ConsentRevoked"]["weight"] == 1
    rec_token, rec_rbtc = pool.record(1, token, a), pool.record(1, ZERO, a)
    assert rec_token["frozen"] == SELLER_SHARE // 2 and rec_token["revoked"]
    assert rec_rbtc["frozen"] == 50 and rec_rbtc["revoked"]
    with reverts("AlreadyRevoked"):
        pool.revokeConsent(weight, proof, {"from": a})
    sell(market, pub, buyer, agent, token=token)
    assert claim(pool, a, tree, asset=token.address, token=token) == SELLER_SHARE // 2  # before revoking only
    assert claim(pool, b, tree, asset=token.address, token=token) == SELLER_SHARE // 2 + SELLER_SHARE
    assert claim(pool, a, tree) == 50
    assert pool.claimable(1, ZERO, a, 1) == 0


def test_revocation_by_signed_message(market, accounts, agent):
    curator, relayer = accounts[3], accounts[6]
    signer = Account.create()
    other = accounts[8]
    pool, tree = new_pool(market, curator, [(signer.address, 2), (other.address, 2)])
    weight, proof = tree.proof(signer.address)
    digest = pool.revocationDigest(signer.address)
    sig = Account.sign_message(encode_defunct(primitive=bytes(digest)), signer.key).signature
    with reverts("BadSignature"):
        pool.revokeConsentFor(other.address, 2, tree.proof(other.address)[1], sig, {"from": relayer})
    tx = pool.revokeConsentFor(signer.address, weight, proof, sig, {"from": relayer})
    assert tx.events["ConsentRevoked"]["account"] == signer.address
    with reverts("BadSignature"):  # a signature is good once: the nonce moved
        pool.revokeConsentFor(signer.address, weight, proof, sig, {"from": relayer})
    assert pool.epochInfo(1)["activeWeight"] == 2


def test_revoke_without_a_proof_needs_the_weight_a_claim_proved_in_this_epoch(market, people, accounts, agent):
    """Attack: revoke someone else's consent, or one's own with a made-up weight, by sending no proof. Who would
    gain: a contributor inflating its frozen share (a larger weight) or a stranger cutting contributors out; who
    would lose: the other contributors. Costs the attacker one reverted transaction: the pool accepts an empty
    proof only for the exact weight a claim proved for the caller in the current epoch."""
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 3)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    assert pool.knownWeight(1, a) == 0
    claim(pool, a, tree)
    assert pool.knownWeight(1, a) == 1
    for who, weight in ((c, 1), (b, 3), (a, 2), (a, 0)):  # a stranger, a contributor who never claimed, wrong weights
        with reverts("NotInTree"):
            pool.revokeConsent(weight, [], {"from": who})
    tx = pool.revokeConsent(1, [], {"from": a})
    assert tx.events["ConsentRevoked"]["weight"] == 1 and pool.epochInfo(1)["activeWeight"] == 3
    assert pool.knownWeight(1, a) == 0 and pool.record(1, ZERO, a)["frozen"] == SELLER_SHARE // 4
    with reverts("AlreadyRevoked"):
        pool.revokeConsent(1, [], {"from": a})
    # a weight proven in a closed epoch is not known in the next one
    claim(pool, b, tree)
    tree2 = PoolTree.build([(a.address, 1), (b.address, 3)])
    pool.publishVersion(b"\x01\x55" + os.urandom(8), keccak(b"p2"), keccak(b"k2"), tree2.top, b"tree-2", {"from": curator})
    assert pool.knownWeight(1, b) == 3 and pool.knownWeight(2, b) == 0
    with reverts("NotInTree"):
        pool.revokeConsent(3, [], {"from": b})
    pool.revokeConsent(3, tree2.proof(b.address)[1], {"from": b})


def test_a_revocation_tried_while_the_pool_pays_a_claim_is_refused(market, accounts, agent):
    """Claims and revocations share one lock: a contributor contract that revokes from inside its own claim's
    payment is refused there (a revocation that saw the claim half-done could freeze an entitlement above what it
    had not yet been paid, at the other contributor's expense). The claim is paid; the revocation, made on its own
    afterwards, keeps exactly the revoker's share."""
    pool, tree, claimer, w, proof, pub, other = claimer_pool(market, accounts, agent)
    buyer = accounts[4]
    claimer.claimFrom(pool, 1, ZERO, w, proof, True, {"from": accounts[6]})  # the pool learns its weight
    accounts[6].transfer(pool, 1000)
    tx = claimer.claimAndRevokeWhilePaid(pool, 1, ZERO, w, proof, {"from": accounts[6]})
    assert "ConsentRevoked" not in tx.events and tx.return_value is False
    assert claimer.balance() == SELLER_SHARE // 2 + 500
    assert pool.claimable(1, ZERO, claimer, 1) == 0
    assert "ConsentRevoked" in claimer.revoke(pool, w, {"from": accounts[6]}).events
    sell(market, pub, buyer, agent)
    assert claim(pool, other, tree) == SELLER_SHARE // 2 + 500 + SELLER_SHARE
    assert pool.balance() == 0 and pool.held(ZERO) == 0


# --------------------------------------------------------------------------------- (3) publishing


def test_publish_dataset_uses_the_id_the_marketplace_returns_when_another_publish_is_mined_first(
        market, lens, people, accounts, agent):
    """Scenario 3: another seller's publish is mined first, in the same block; the pool's publish still goes
    through and the pool records the id the marketplace assigned."""
    curator, other = accounts[3], accounts[6]
    pool, _ = new_pool(market, curator, [(people[0].address, 1)])
    last = lens.counters()["lastDatasetId"]
    web3.provider.make_request("miner_stop", [])
    try:
        t1 = market.publish(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(), ZERO,
                            {"from": other, "required_confs": 0, "gas_limit": 400_000, "gas_price": 2 * 60_000_000})
        t2 = pool.publishDataset(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(),
                                 agent, {"from": curator, "required_confs": 0, "gas_limit": 600_000})
    finally:
        web3.provider.make_request("miner_start", [])
    t1.wait(1)
    t2.wait(1)
    assert t1.block_number == t2.block_number and t2.status == 1
    assert pool.datasetId() == last + 2
    assert dataset_of(lens, last + 1).owner == other and dataset_of(lens, last + 2).owner == pool
    assert t2.events["DatasetAttached"]["datasetId"] == last + 2


# -------------------------------------------------------------------------------- (4) off chain


def test_tree_rejects_bad_input(tmp_path):
    from datalicense.errors import ConfigError
    from datalicense.roles.pool import build_dir

    cases = {
        "account,weight\n0x" + "11" * 20 + ",0\n": "weights are positive",
        "0x" + "11" * 20 + ",x\n": "is not an integer",
        "0x1234,1\n": "is not an address",
        "0x" + "11" * 20 + "\n": "expected account,weight",
        "0x" + "11" * 20 + ",1\n0x" + "11" * 20 + ",2\n": "appears twice",
        "account,weight\n": "at least one contributor",
        "0x" + "11" * 20 + f",{MAX_TOTAL_WEIGHT + 1}\n": "above the pool's limit",
    }
    for i, (text, message) in enumerate(cases.items()):
        src = tmp_path / f"c{i}.csv"
        src.write_text(text)
        with pytest.raises(ConfigError, match=message):
            build_dir(src, tmp_path / f"out{i}")
    with pytest.raises(ConfigError, match="not a readable file"):
        build_dir(tmp_path / "missing.csv", tmp_path / "o")


def test_a_contributor_fetches_only_its_own_shard(market, accounts, kubo, tmp_path):
    """A tree of 20,000 contributors on IPFS as an address-sharded directory: a contributor reads meta.json and its
    shard (kilobytes, not the tree), rebuilds its proof, checks it against the root on chain, and claims."""
    from datalicense.roles.pool import PoolClient, build_dir
    from datalicense.infra.ipfs import Storage

    member = accounts[8]
    rows = [("0x" + os.urandom(20).hex(), 1 + i % 7) for i in range(20_000)] + [(member.address, 5)]
    src = tmp_path / "c.csv"
    src.write_text("account,weight\n" + "".join(f"{a},{w}\n" for a, w in rows))
    storage = Storage(kubo.api_multiaddr)
    info = PoolClient.build_and_store(storage, src)
    assert info.contributors == 20_001 and info.shards == 256 and info.prefix_length == 2
    total = sum(w for _, w in rows)
    assert info.total_weight == total
    p = fetch_proof(storage, info.cid, member.address, info.root)
    assert p.weight == 5 and p.downloaded < 64 * 1024  # the whole tree is megabytes
    assert fetch_proof(storage, info.cid, "0x" + "00" * 20, info.root) is None  # not a contributor: no proof
    with pytest.raises(IntegrityError, match="root"):
        fetch_proof(storage, info.cid, member.address, b"\x01" * 32)
    # the same proof on chain
    curator = accounts[3]
    pool = RevenuePoolHarness.deploy(market, {"from": curator})
    pool.initialize(curator, ZERO, info.top, info.cid.encode(), {"from": curator})
    assert pool.epochInfo(1)["totalWeight"] == total
    accounts[6].transfer(pool, total * 10)
    before = member.balance()
    tx = pool.claim(1, ZERO, p.weight, p.proof, {"from": member})
    assert member.balance() - before + tx.gas_used * tx.gas_price == 50
    # an in-memory tree of the same rows has the same root
    assert PoolTree.build(rows).root == info.root


def test_pool_from_the_command_line(market, accounts, kubo, tmp_path):
    """pool build --create, publish --pool, buy, agent delivery, pool show / claim / revoke / version."""
    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    deps = pool_deployments(tmp_path, market, impl)
    env = dict(os.environ, DATALICENSE_DEPLOYMENTS=str(deps), DATALICENSE_IPFS_API=kubo.api_multiaddr,
               DATALICENSE_LOCAL_RPC=web3.provider.endpoint_uri)

    def run(*args, account="dev:3", home="curator", check=True):
        p = subprocess.run([sys.executable, "-m", "datalicense.cli.main", "--account", account, *args],
                           capture_output=True, text=True, env=dict(env, DATALICENSE_HOME=str(tmp_path / home)))
        if check:
            assert p.returncode == 0, p.stderr
        return p

    members = [accounts[7], accounts[8]]
    csv_file = tmp_path / "contributors.csv"
    csv_file.write_text("account,weight\n" + "".join(f"{m.address},{w}\n" for m, w in zip(members, (1, 3))))
    built = json.loads(run("--json", "pool", "build", str(csv_file), "--create").stdout)
    assert built["total_weight"] == 4 and built["contributors"] == 2
    pool_addr = built["pool"]
    bad = run("pool", "build", str(tmp_path / "nope.csv"), check=False)
    assert bad.returncode != 0 and "not a readable file" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    data = tmp_path / "records.csv"
    data.write_text("id,value\n1,2\n")
    pub = json.loads(run("--json", "publish", str(data), "--title", "Pooled", "--price", "0.002",
                         "--agent", accounts[5].address, "--pool", pool_addr).stdout)
    assert RevenuePool.at(pool_addr).datasetId() == pub["dataset_id"]
    lid = json.loads(run("--json", "buy", str(pub["dataset_id"]), account="dev:4", home="buyer").stdout)["licence_id"]
    run("agent", "--once", account="dev:5")
    run("fetch", str(lid), "-o", str(tmp_path / "got.csv"), account="dev:4", home="buyer")
    assert (tmp_path / "got.csv").read_text() == "id,value\n1,2\n"  # version 1, verified
    run("confirm", str(lid), account="dev:4", home="buyer", check=False)
    shown = run("pool", "show", pool_addr, account="dev:8", home="m8").stdout
    assert "weight 3" in shown and "claimable 0.0014625 RBTC" in shown, shown
    claimed = run("pool", "claim", pool_addr, account="dev:8", home="m8").stdout
    assert "claimed 0.0014625 RBTC" in claimed
    again = run("pool", "claim", pool_addr, account="dev:8", home="m8", check=False)
    assert again.returncode != 0 and "nothing to claim" in again.stderr
    run("pool", "revoke", pool_addr, account="dev:7", home="m7")
    shown = run("pool", "show", pool_addr, account="dev:3").stdout
    assert "must drop their records" in shown and members[0].address in shown
    # a new version with a new tree: a new epoch, member 7's records dropped
    csv2 = tmp_path / "contributors2.csv"
    csv2.write_text(f"{members[1].address},2\n")
    data.write_text("id,value\n1,3\n")
    out = json.loads(run("--json", "pool", "version", pool_addr, str(data), str(csv2), "--title", "Pooled v2").stdout)
    assert out["epoch"] == 2
    shown = run("--json", "pool", "show", pool_addr, account="dev:8", home="m8").stdout
    assert [r["epoch"] for r in json.loads(shown)["standing"]] == [1, 2]
    # a new tree without a new version is refused while the dataset sells (one line saying what to do)
    refused = run("pool", "epoch", pool_addr, str(csv2), check=False)
    assert refused.returncode != 0 and "retire the dataset first" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and RevenuePool.at(pool_addr).epoch() == 2
    # a sale of version 2 pays epoch 2; a contributor who claimed in it revokes with no proof
    lid = json.loads(run("--json", "buy", str(pub["dataset_id"]), account="dev:6", home="buyer6").stdout)["licence_id"]
    run("agent", "--once", account="dev:5")
    run("fetch", str(lid), "-o", str(tmp_path / "got3.csv"), account="dev:6", home="buyer6")
    assert (tmp_path / "got3.csv").read_text() == "id,value\n1,3\n"  # version 2, verified
    run("confirm", str(lid), account="dev:6", home="buyer6", check=False)
    assert "claimed 0.00195 RBTC" in run("pool", "claim", pool_addr, account="dev:8", home="m8").stdout
    tx = json.loads(run("--json", "pool", "revoke", pool_addr, account="dev:8", home="m8").stdout)["tx"]
    _, args = RevenuePool.at(pool_addr).decode_input(web3.eth.get_transaction(tx)["input"])
    assert list(args) == [2, []]  # the pool knew its weight from the claim: no proof sent

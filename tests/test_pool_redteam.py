"""Red-team review of pools v2 (RevenuePool, its interplay with DataLicense, and datalicense.roles.pool off chain).

Every test is named for an attack and asserts the SAFE behaviour: a failing test is a finding that still exists;
a passing test is an attack that was tried and is defended. See each docstring for who gains, who loses and what
the attack costs.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from brownie import RevenuePoolHarness, web3
from brownie.exceptions import VirtualMachineError
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from helpers import FEE_BPS, PRICE, ZERO, Published, reverts, sleep
from datalicense.roles.pool import FORMAT, ZERO32, PoolTree, fetch_proof, leaf_hash, node_hash
from pools import new_pool, publish_in_pool, sell, token_sale_with_forfeited_bond

pytestmark = pytest.mark.e2e

SELLER_SHARE = PRICE - PRICE * FEE_BPS // 10000
W0 = (0).to_bytes(32, "big")


# ------------------------------------------------------------------------------------------- helpers


def word(n):
    return int(n).to_bytes(32, "big")


def token_pool_with_a_sale(market, a, b, curator, buyer, agent, token):
    """A token pool of a and b (weight 1 each) whose dataset sold once: (pool, tree, published dataset)."""
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    return pool, tree, pub


def hidden_leaf_revokes_then_a_sale(market, pool, w1, thief_proof, thief, curator, buyer, agent):
    """The thief tries to revoke the hidden leaf (refused once fixed), then the pool's dataset sells once."""
    try:
        pool.revokeConsent(w1, thief_proof, {"from": thief})
    except VirtualMachineError:
        pass
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)


def rbtc_claim(pool, account, epoch, weight, proof):
    before = account.balance()
    tx = pool.claim(epoch, ZERO, weight, proof, {"from": account})
    return account.balance() - before + tx.gas_used * tx.gas_price


def wrapped_pool(market, curator, honest, thief, hidden):
    """A curator's tree that looks honest on chain and to every honest contributor, plus a hidden subtree whose
    sum wraps around 2^256 to 0: leaf (thief, W1) with W1 = 2^256 - 2^128 + hidden, next to a sibling of sum
    2^128 - hidden (below 2^128, so the sibling check passes). uint128(W1) == hidden."""
    tree = PoolTree.build(honest)
    w1 = 2**256 - 2**128 + hidden
    w2 = 2**128 - hidden
    x = keccak(b"hidden sibling")
    p = node_hash(leaf_hash(thief.address.lower(), w1), w1, x, w2)
    assert (w1 + w2) % 2**256 == 0
    top = (tree.root, tree.total_weight, p, 0)
    pool = RevenuePoolHarness.deploy(market, {"from": curator})
    pool.initialize(curator, ZERO, top, b"evil-but-plausible", {"from": curator})

    def proof_of(account):
        w, pr = tree.proof(account.address)
        return w, pr + [p, W0]

    thief_proof = [x, word(w2), tree.root, word(tree.total_weight)]
    return pool, tree, proof_of, w1, thief_proof


def served(kubo, files, tmp_path):
    """(storage, cid): the tree files on the run's real Kubo daemon, as a curator would publish them."""
    from datalicense.roles.pool import add_dir
    from datalicense.infra.ipfs import Storage

    d = tmp_path / f"served-{len(list(tmp_path.glob('served-*')))}" / "tree"
    d.mkdir(parents=True)
    for name, data in files.items():
        (d / name).write_bytes(data)
    storage = Storage(kubo.api_multiaddr)
    return storage, add_dir(storage, d)


def tree_files(tree, tmp_path):
    out = tmp_path / "tree"
    tree.write_dir(out)
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.fixture
def people(accounts):
    return accounts[7], accounts[8], accounts[9]


# --------------------------------------------------------------- sum tree: wrap via the leaf's own weight


def test_hidden_wrapping_leaf_revocation_zeroes_active_weight_so_curator_sweeps_all_revenue(
        market, people, accounts, agent):
    """ATTACK (High). Gains: the curator. Loses: every contributor of the epoch (all its revenue). Cost: gas.
    The curator publishes a tree whose total (1000) and whose every honest proof look right, but which hides a
    leaf (sock, W1) with W1 ~ 2^256 whose subtree sum wraps to 0 (the climb checks sibling sums < 2^128 but not
    the starting weight, and adds unchecked). Before any revenue, the sock revokes with weight W1: `_revoke`
    subtracts uint128(W1) = 1000 from the active weight, so the epoch has no active weight although nobody
    honest revoked. Every later sale is then 'sweepable' by the curator and contributors are owed nothing.
    Safe: a weight above MAX_TOTAL_WEIGHT never verifies (or the subtraction is checked), active weight stays
    1000, contributors are paid their share and the curator cannot sweep it."""
    a, b, sock = people
    curator, buyer, thief = accounts[3], accounts[4], accounts[6]
    pool, tree, proof_of, w1, thief_proof = wrapped_pool(
        market, curator, [(a.address, 600), (b.address, 399), (sock.address, 1)], thief, hidden=1000)
    assert pool.epochInfo(1)["totalWeight"] == 1000  # the on-chain total looks honest
    w, pr = proof_of(a)
    assert pool.isContributor(1, a, w, pr)
    hidden_leaf_revokes_then_a_sale(market, pool, w1, thief_proof, thief, curator, buyer, agent)
    assert pool.epochInfo(1)["activeWeight"] == 1000, "a hidden leaf's revocation removed honest contributors' active weight"
    with pytest.raises(VirtualMachineError):
        pool.sweepDust(1, ZERO, {"from": curator})  # the epoch is open and has active weight
    assert rbtc_claim(pool, a, 1, w, pr) == SELLER_SHARE * 600 // 1000


def test_hidden_wrapping_leaf_revocation_lets_curator_take_the_whole_epoch_by_claiming_first(
        market, people, accounts, agent):
    """ATTACK (High), same root cause. Gains: the curator's own weight-1 leaf. Loses: honest contributors (their
    claims revert EpochOverdrawn). Cost: gas. The hidden leaf's revocation subtracts uint128(W1) = 999, leaving
    an active weight of 1 for 1000 of honest weight: each inflow is spread as if over weight 1, so the curator's
    weight-1 leaf (0.1% of the visible total) is owed the whole sale and claims it first.
    Safe: nobody is paid more than its weight's share: the weight-1 leaf gets 1/1000 and the weight-600 leaf
    claims its 600/1000."""
    a, b, sock = people
    curator, buyer, thief = accounts[3], accounts[4], accounts[6]
    pool, tree, proof_of, w1, thief_proof = wrapped_pool(
        market, curator, [(a.address, 600), (b.address, 399), (sock.address, 1)], thief, hidden=999)
    hidden_leaf_revokes_then_a_sale(market, pool, w1, thief_proof, thief, curator, buyer, agent)
    ws, ps = proof_of(sock)
    assert pool.claimable(1, ZERO, sock, ws) <= SELLER_SHARE * 1 // 1000, "weight 1 of 1000 owed the whole sale"
    rbtc_claim(pool, sock, 1, ws, ps)
    wa, pa = proof_of(a)
    assert rbtc_claim(pool, a, 1, wa, pa) == SELLER_SHARE * 600 // 1000


def test_sibling_sum_wrap_and_padding_tricks_do_not_verify(market, people, accounts):
    """DEFENDED. Proof forgery by a contributor: an extra (0, 0) padding level, the proof of an inner node as if
    it were a leaf (weight = the pair's sum), a sibling sum >= 2^128 to wrap the running sum, swapping a sibling's
    sum with the claimant's, and a zero weight. Who would gain: the forger; who would lose: the other
    contributors of the epoch. None verifies."""
    a, b, c = people
    curator = accounts[3]
    pool, tree = new_pool(market, curator, [(a.address, 2), (b.address, 3), (c.address, 5)])
    for who in (a, b, c):
        w, pr = tree.proof(who.address)
        assert pool.isContributor(1, who, w, pr)
        assert not pool.isContributor(1, who, w, pr + [ZERO32, W0])  # extra padding level
        assert not pool.isContributor(1, who, w, pr[2:])  # skip the bottom level (claim as inner node)
        assert not pool.isContributor(1, who, 0, pr)
        with reverts("NotInTree"):
            pool.claim(1, ZERO, w + 1, pr, {"from": who})
    w, pr = tree.proof(a.address)
    sib_sum = int.from_bytes(pr[1], "big")
    # the pair's sum claimed as a leaf weight, with the bottom level dropped
    assert not pool.isContributor(1, a, w + sib_sum, pr[2:])
    # wrap the running sum with a sibling >= 2^128
    forged = list(pr)
    forged[1] = word(sib_sum + 2**128)
    assert not pool.isContributor(1, a, w, forged)
    # swap the sums (a claims the sibling's weight)
    if sib_sum != w:
        with reverts("NotInTree"):
            pool.claim(1, ZERO, sib_sum, [pr[0], word(w)] + pr[2:], {"from": a})


def test_claim_twice_and_across_epochs_is_refused(market, people, accounts, agent):
    """DEFENDED. A contributor claims an epoch twice, claims epoch 2 with its epoch-1 proof, and claims epoch 1
    again after the epoch closed. Would gain: the contributor; would lose: the others. Each pays at most once."""
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = new_pool(market, curator, [(a.address, 1), (b.address, 1)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)
    w, pr = tree1.proof(a.address)
    assert rbtc_claim(pool, a, 1, w, pr) == SELLER_SHARE // 2
    with reverts("NothingToClaim"):
        pool.claim(1, ZERO, w, pr, {"from": a})
    tree2 = PoolTree.build([(a.address, 1), (c.address, 3)])
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    with reverts("NotInTree"):
        pool.claim(2, ZERO, w, pr, {"from": a})  # epoch-1 proof on epoch 2
    # closing only settles a's rounding (0 paid): a second settle is refused
    pool.claim(1, ZERO, w, pr, {"from": a})
    with reverts("NothingToClaim"):
        pool.claim(1, ZERO, w, pr, {"from": a})
    assert pool.pot(1, ZERO)["paid"] == SELLER_SHARE // 2


# ------------------------------------------------------------------------------- signatures and consent


def test_revocation_signature_replay_across_pools_and_epochs_is_refused(market, accounts, agent):
    """DEFENDED. A relayer (or the curator) keeps a contributor's signed revocation and replays it on another
    pool the contributor is in, or in a later epoch, or for another account. Would gain: whoever wants the
    contributor out of a pool; would lose: the contributor (its future earnings there). Refused: the digest binds
    the chain, the pool, the epoch and a nonce."""
    curator, relayer, other = accounts[3], accounts[6], accounts[8]
    signer = Account.create()
    pool1, tree1 = new_pool(market, curator, [(signer.address, 2), (other.address, 2)])
    pool2, tree2 = new_pool(market, curator, [(signer.address, 2), (other.address, 2)])
    assert tree1.root == tree2.root  # same tree, same proofs: only the digest tells the pools apart
    w, pr = tree1.proof(signer.address)
    sig1 = Account.sign_message(encode_defunct(primitive=bytes(pool1.revocationDigest(signer.address))),
                                signer.key).signature
    with reverts("BadSignature"):
        pool2.revokeConsentFor(signer.address, w, pr, sig1, {"from": relayer})
    with reverts("BadSignature"):
        pool1.revokeConsentFor(other.address, 2, tree1.proof(other.address)[1], sig1, {"from": relayer})
    # a signature made in epoch 1 and held back is dead in epoch 2
    publish_in_pool(pool1, curator, agent)
    pool1.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree1.top, b"t2", {"from": curator})
    with reverts("BadSignature"):
        pool1.revokeConsentFor(signer.address, w, pr, sig1, {"from": relayer})
    assert pool1.epochInfo(2)["activeWeight"] == 4 and pool2.epochInfo(1)["activeWeight"] == 4


# ------------------------------------------------------------------------------------ sweeps and dust


def test_curator_sweep_never_takes_contributors_money_with_revocations_and_odd_inflows(market, people, accounts,
                                                                                       agent):
    """DEFENDED. The curator sweeps an epoch's 'dust' as early as it can (right after the epoch closes, before
    anyone claims), in an epoch with a revocation and inflows the active weight does not divide. Would gain: the
    curator; would lose: contributors who claim late. Every contributor still claims at least its share (less
    one unit for the revocation's rounding), nothing reverts, and the pool ends holding exactly what it accounts
    for."""
    a, b, c = people
    curator, payer = accounts[3], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 3), (b.address, 5), (c.address, 7)])
    publish_in_pool(pool, curator, agent)
    payer.transfer(pool, 1001)
    pool.sync({"from": payer})
    wb, pb = tree.proof(b.address)
    pool.revokeConsent(wb, pb, {"from": b})
    payer.transfer(pool, 77)
    pool.sync({"from": payer})
    payer.transfer(pool, 13)
    tree2 = PoolTree.build([(a.address, 1)])
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree2.top, b"t2", {"from": curator})
    sleep(pool.DUST_AFTER())  # as early as a sweep can come
    swept = 0
    if pool.sweepable(1, ZERO) > 0:
        swept += pool.sweepable(1, ZERO)
        pool.sweepDust(1, ZERO, {"from": curator})
    wa, pa = tree.proof(a.address)
    wc, pc = tree.proof(c.address)
    got_a = rbtc_claim(pool, a, 1, wa, pa)
    got_b = rbtc_claim(pool, b, 1, wb, pb)
    got_c = rbtc_claim(pool, c, 1, wc, pc)
    assert got_b >= 1001 * 5 // 15 - 1
    assert got_a >= 1001 * 3 // 15 + (77 + 13) * 3 // 10 - 1
    assert got_c >= 1001 * 7 // 15 + (77 + 13) * 7 // 10 - 1
    rest = pool.sweepable(1, ZERO)
    if rest:
        pool.sweepDust(1, ZERO, {"from": curator})
    assert got_a + got_b + got_c + swept + rest == 1001 + 77 + 13
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0


def test_rounding_dust_of_a_retired_pool_is_not_stuck_forever(market, people, accounts, agent):
    """ATTACK/BUG (Low). Loses: the curator (the dust is the curator's by the pool's promise). Gains: nobody,
    the wei is locked. Cost: none, it happens by itself. Dust becomes sweepable only once an epoch closes, and an
    epoch closes only with `publishVersion`, which the marketplace refuses for a retired dataset: after
    `retire()` the current epoch can never close, so its rounding dust (and every unit a contributor who never
    claims leaves) stays in the pool for good although every contributor was paid in full.
    Safe: the curator closes the retired dataset's epoch without a new version (`newEpoch`); once every
    contributor is paid in full (a claim in a closed epoch settles its rounding), the remainder is swept."""
    a, b, c = people
    curator, payer = accounts[3], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1), (c.address, 1)])
    publish_in_pool(pool, curator, agent)
    payer.transfer(pool, 100)
    for who in (a, b):
        w, pr = tree.proof(who.address)
        assert rbtc_claim(pool, who, 1, w, pr) == 33
    pool.retire({"from": curator})
    with pytest.raises(VirtualMachineError):  # a retired dataset takes no new version
        pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree.top, b"t2", {"from": curator})
    with pytest.raises(VirtualMachineError):  # only the curator closes an epoch
        pool.newEpoch(tree.top, b"t2", {"from": payer})
    pool.newEpoch(tree.top, b"t2", {"from": curator})
    sleep(pool.DUST_AFTER())  # every sale of the retired version can have settled
    assert pool.sweepable(1, ZERO) == 0  # two contributors not settled yet, one never claimed
    w, pr = tree.proof(c.address)
    assert rbtc_claim(pool, c, 1, w, pr) == 33  # paid in full after the close: settled
    for who in (a, b):  # claimed while open: a claim of nothing settles their rounding
        w, pr = tree.proof(who.address)
        assert rbtc_claim(pool, who, 1, w, pr) == 0
    assert pool.sweepable(1, ZERO) == 1
    pool.sweepDust(1, ZERO, {"from": curator})
    assert web3.eth.get_balance(pool.address) == 0, "1 wei of dust is locked in the retired pool for good"


# --------------------------------------------------------------------------------- tokens and inflows


def test_griefer_gifting_2pow128_of_the_pool_asset_does_not_lock_contributors_earnings(
        market, people, accounts, agent, token, admin):
    """ATTACK (Low: needs 2^128 units of the pool's token, which only tokens with a huge supply allow). Gains:
    nobody (a griefer). Loses: contributors: every accrual of the asset reverts (credited is cast to uint128),
    so their current-epoch claims, `sync`, `revokeConsent` and even `publishVersion` revert for good; the sale
    they earned stays in the marketplace. Cost: the gift itself (2^128 units, e.g. a worthless high-supply token).
    Safe: contributors can still claim what they earned (and revoke)."""
    a, b, _ = people
    curator, buyer, griefer = accounts[3], accounts[4], accounts[6]
    pool, tree, pub = token_pool_with_a_sale(market, a, b, curator, buyer, agent, token)
    token.mint(griefer, 2**128, {"from": admin})
    token.transfer(pool, 2**128, {"from": griefer})
    w, pr = tree.proof(a.address)
    before = token.balanceOf(a)
    try:
        pool.claim(1, token, w, pr, {"from": a})
    except VirtualMachineError as exc:
        pytest.fail(f"a contributor cannot claim its earnings after a gift of 2^128 units: {exc.revert_msg}")
    assert token.balanceOf(a) - before >= SELLER_SHARE // 2


def test_malicious_token_reentry_during_claim_and_pull_is_refused(market, people, accounts, agent, evil_token,
                                                                 admin):
    """DEFENDED. The pool's asset is a token that calls back into the pool whenever tokens leave the marketplace
    (the pool pulling its revenue) or the pool (a claim), trying to `sync` in the middle of the accounting to
    have the same revenue credited twice. Would gain: contributors of the pool at the expense of the curator's
    and the other epochs' money. The callbacks fail (nonReentrant) and the pool accounts for exactly what it
    holds."""
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=evil_token.address)
    pub = publish_in_pool(pool, curator, agent, asset=evil_token.address)
    sell(market, pub, buyer, agent, token=evil_token)
    w, pr = tree.proof(a.address)
    evil_token.arm(market, pool.sync.encode_input(), {"from": admin})  # when the pool pulls from the market
    pool.claim(1, evil_token, w, pr, {"from": a})
    assert evil_token.attackSucceeded() is False
    evil_token.arm(pool, pool.sync.encode_input(), {"from": admin})  # when the pool pays out
    wb, pb = tree.proof(b.address)
    pool.claim(1, evil_token, wb, pb, {"from": b})
    assert evil_token.attackSucceeded() is False
    assert evil_token.balanceOf(a) == evil_token.balanceOf(b) == SELLER_SHARE // 2
    assert evil_token.balanceOf(pool) == pool.held(evil_token) == SELLER_SHARE - 2 * (SELLER_SHARE // 2)


def test_rbtc_inflows_to_a_token_pool_are_all_accounted_for(market, people, accounts, agent, arbiter, token):
    """DEFENDED. RBTC reaching a token-priced pool three ways (forfeited dispute bond owed by the marketplace, a
    royalty paid in RBTC, a plain transfer) while a contributor revokes in between: every wei is claimable or
    sweepable and the balance invariant holds (balance + owed by the market == held + pending)."""
    from helpers import BOND

    a, b, _ = people
    curator, buyer, payer = accounts[3], accounts[4], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 2)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    token_sale_with_forfeited_bond(market, pub, token, buyer, agent, arbiter, BOND)
    payer.transfer(pool, 12345)  # royalty
    wb, pb = tree.proof(b.address)
    pool.revokeConsent(wb, pb, {"from": b})
    payer.transfer(pool, 1)  # after the revocation: all a's
    pool.sync({"from": payer})
    wa, pa = tree.proof(a.address)
    got_a = rbtc_claim(pool, a, 1, wa, pa)
    got_b = rbtc_claim(pool, b, 1, wb, pb)
    assert got_a == (BOND + 12345) // 3 + 1
    assert got_b >= (BOND + 12345) * 2 // 3 - 1
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(b"k2"), tree.top, b"t2", {"from": curator})
    sleep(pool.DUST_AFTER())
    pool.claim(1, ZERO, wa, pa, {"from": a})  # a settles its rounding
    rest = pool.sweepable(1, ZERO)
    assert got_a + got_b + rest == BOND + 12345 + 1
    if rest:
        pool.sweepDust(1, ZERO, {"from": curator})
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0


# ------------------------------------------------------------------------------------------- off chain


def test_forged_shard_or_tree_cannot_fool_pool_claim(tmp_path, accounts, kubo):
    """DEFENDED. Whoever serves the tree (a hostile gateway, a replaced CID) forges the contributor's shard to
    give it a bigger weight, or serves a whole other tree: `fetch_proof` rebuilds the proof and checks it against
    the root on chain, so the contributor never submits a wrong proof (it would only waste gas) and never
    believes a wrong weight."""
    from datalicense.errors import IntegrityError

    me = accounts[8]
    tree = PoolTree.build([(me.address, 5), (accounts[7].address, 7), (accounts[9].address, 1)])
    files = tree_files(tree, tmp_path)
    good = fetch_proof(*served(kubo, files, tmp_path), me.address, tree.root)
    assert good.weight == 5
    name = me.address.lower()[2:2 + tree.info.prefix_length] + ".json"
    shard = json.loads(files[name])
    shard["leaves"] = [[x, 500 if x == me.address.lower() else w] for x, w in shard["leaves"]]
    forged = dict(files, **{name: json.dumps(shard).encode()})
    with pytest.raises(IntegrityError, match="does not lead to the root"):
        fetch_proof(*served(kubo, forged, tmp_path), me.address, tree.root)
    other = PoolTree.build([(me.address, 500), (accounts[7].address, 1)])
    with pytest.raises(IntegrityError, match="on chain"):
        fetch_proof(*served(kubo, tree_files(other, tmp_path / "o"), tmp_path), me.address, tree.root)


def test_hostile_tree_numbers_are_reported_as_integrity_errors(tmp_path, accounts, kubo):
    """ATTACK (Info). Whoever publishes the tree (the curator) puts numbers in meta.json or a shard that Python
    cannot turn into 32-byte words (1e999, a negative or 2^256 weight) or nests JSON deeper than the parser's
    recursion limit: `fetch_proof` raises OverflowError / RecursionError instead of IntegrityError, so `pool
    show` / `pool claim` fail with an unexplained internal error rather than 'the pool tree is malformed'.
    Gains: nobody; loses: the contributor's diagnosis. Cost: a CID. Safe: IntegrityError every time."""
    from datalicense.errors import IntegrityError

    me = accounts[8]
    tree = PoolTree.build([(me.address, 5), (accounts[7].address, 7)])
    files = tree_files(tree, tmp_path)
    name = me.address.lower()[2:2 + tree.info.prefix_length] + ".json"
    meta = json.loads(files["meta.json"])
    shard = json.loads(files[name])
    hostile = []
    hostile.append({"meta.json": files["meta.json"].replace(b'"totalWeight":12', b'"totalWeight":1e999')})
    for bad in (-5, 2**256, "1e999"):
        s = dict(shard, leaves=[[x, bad] for x, _ in shard["leaves"]])
        hostile.append({name: json.dumps(s).replace('"1e999"', "1e999").encode()})
    m = dict(meta, top=[meta["top"][0], -1, meta["top"][2], meta["top"][3]])
    hostile.append({"meta.json": json.dumps(m).encode()})
    hostile.append({name: b"[" * 100_000 + b"]" * 100_000})
    problems = []
    for i, patch in enumerate(hostile):
        try:
            fetch_proof(*served(kubo, dict(files, **patch), tmp_path), me.address, tree.root)
        except IntegrityError:
            continue
        except Exception as exc:  # noqa: BLE001
            problems.append(f"case {i}: {type(exc).__name__}")
        else:
            problems.append(f"case {i}: accepted")
    assert not problems, problems


def test_hostile_shard_cannot_exhaust_memory_of_pool_claim(kubo, tmp_path):
    """ATTACK (Low). The curator (or whoever chooses the tree CID) publishes a 16 MiB shard made of millions of
    tiny leaves. Every contributor's `pool show` / `pool claim` would parse it, for every epoch: hundreds of MiB
    of memory and seconds of CPU, for a shard an honest tree keeps near 256 contributors (~20 KB). Gains: nobody
    (griefing, or hiding the tree from contributors with small machines). Cost: one IPFS upload. Safe: a shard's
    size is bounded (1 MiB: the issue's 'a claim downloads under 1 MiB'): the claim is refused with a clear
    error and stays well under 128 MiB of extra memory."""
    from datalicense.roles.pool import FORMAT, ZERO32, node_hash

    top = (b"\x11" * 32, 5, ZERO32, 0)
    root = node_hash(*top)
    meta = json.dumps({"format": FORMAT, "prefixLength": 1, "root": "0x" + root.hex(), "totalWeight": 5,
                       "top": ["0x" + top[0].hex(), 5, "0x" + top[2].hex(), 0]}).encode()
    n = (16 * 2**20 - 60) // 6
    shard = b'{"format":"x","prefix":"a","top":[],"leaves":[' + b",".join([b"[0,0]"] * n) + b"]}"
    _, cid = served(kubo, {"meta.json": meta, "a.json": shard}, tmp_path)
    script = textwrap.dedent(f"""
        import resource
        from datalicense.errors import StorageError
        from datalicense.roles.pool import fetch_proof
        from datalicense.infra.ipfs import Storage
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            fetch_proof(Storage({kubo.api_multiaddr!r}), {cid!r}, "0xa" + "0" * 39, bytes.fromhex({root.hex()!r}))
            print("accepted")
        except StorageError as exc:
            print("refused:", exc)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("refused:") and "bytes" in lines[0], lines
    extra_mib = int(lines[-1])
    assert extra_mib < 128, f"a hostile shard made fetch_proof use {extra_mib} MiB more memory"


def test_malicious_token_reentry_during_a_revocation_keeps_the_books(market, people, accounts, agent, arbiter,
                                                                      evil_token, admin):
    """DEFENDED (revocations are no longer nonReentrant). The pool's asset is a token that, when the marketplace
    pays the pool during a revocation, calls the pool's `sync` and a claim-free path in the middle of the
    revocation, while the marketplace also owes the pool RBTC (a forfeited bond). Would gain: contributors or the
    curator if revenue were credited twice or a revocation froze the wrong amount; would lose: the others. The
    revocation either goes through with the books exact, or reverts as a whole: after it, every pool asset's
    balance equals what the pool accounts for, the marketplace owes it nothing it has not credited, and the
    revoker's frozen share and the other contributor's claim are exact."""
    from helpers import BOND

    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=evil_token.address)
    pub = publish_in_pool(pool, curator, agent, asset=evil_token.address)
    token_sale_with_forfeited_bond(market, pub, evil_token, buyer, agent, arbiter, BOND)  # the pool is owed the token share and the RBTC bond
    evil_token.arm(market, pool.sync.encode_input(), {"from": admin})
    wa, pa = tree.proof(a.address)
    try:
        pool.revokeConsent(wa, pa, {"from": a})
        revoked = True
    except VirtualMachineError:
        revoked = False
    evil_token.arm(ZERO, b"", {"from": admin})
    pool.sync({"from": accounts[6]})
    assert evil_token.balanceOf(pool) == pool.held(evil_token) == SELLER_SHARE
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == BOND
    assert market.balanceOwed(ZERO, pool) == market.balanceOwed(evil_token, pool) == 0
    assert pool.pot(1, ZERO)["credited"] == BOND and pool.pot(1, evil_token)["credited"] == SELLER_SHARE  # once
    if revoked:
        assert pool.record(1, evil_token, a)["frozen"] == SELLER_SHARE // 2
        assert pool.record(1, ZERO, a)["frozen"] == BOND // 2
    wb, pb = tree.proof(b.address)
    pool.claim(1, evil_token, wb, pb, {"from": b})
    assert evil_token.balanceOf(b) == SELLER_SHARE // 2


# ==================================================================== second review: the fixes under attack
# Proof-free revocation (weight kept in the record), unguarded revocations, `newEpoch`, the 2^128 credit cap.

# A pool asset whose transfers call out (a hooked or upgradeable token the admin allowed, as `evil_token` in
# conftest): when tokens leave `watch`, it makes one prepared call to `hookTarget` (any contract, not only the
# sender). Compiled here, not kept in contracts/, so the review adds no contract to the project.
HOOK_TOKEN_SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

contract HookToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;
    address public watch;
    address public hookTarget;
    bytes public hookData;
    bool public hookRan;
    bool public hookOk;
    bytes public hookError;
    bool private _busy;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function mint(address to, uint256 v) external {
        balanceOf[to] += v;
        totalSupply += v;
        emit Transfer(address(0), to, v);
    }

    function arm(address watch_, address target, bytes calldata data) external {
        watch = watch_;
        hookTarget = target;
        hookData = data;
        hookRan = false;
        hookOk = false;
    }

    function approve(address s, uint256 v) external returns (bool) {
        allowance[msg.sender][s] = v;
        emit Approval(msg.sender, s, v);
        return true;
    }

    function transfer(address to, uint256 v) external returns (bool) {
        _move(msg.sender, to, v);
        return true;
    }

    function transferFrom(address f, address to, uint256 v) external returns (bool) {
        allowance[f][msg.sender] -= v;
        _move(f, to, v);
        return true;
    }

    function _move(address f, address to, uint256 v) private {
        balanceOf[f] -= v;
        balanceOf[to] += v;
        emit Transfer(f, to, v);
        if (f == watch && !_busy && hookData.length != 0) {
            _busy = true;
            hookRan = true;
            bytes memory data = hookData;
            delete hookData; // one shot
            (bool ok, bytes memory err) = hookTarget.call(data);
            hookOk = ok;
            hookError = err;
            _busy = false;
        }
    }
}
"""
_HOOK_TOKEN = []


def hook_token(market, admin, buyer):
    """A deployed HookToken the marketplace allows, the buyer holding 10^24 units."""
    from brownie import compile_source

    if not _HOOK_TOKEN:
        _HOOK_TOKEN.append(compile_source(HOOK_TOKEN_SOURCE, solc_version="0.8.24", evm_version="paris").HookToken)
    t = _HOOK_TOKEN[0].deploy({"from": admin})
    market.setAssetAllowed(t, True, {"from": admin})
    t.mint(buyer, 10**24, {"from": admin})
    return t


def token_claim(pool, token, account, epoch, weight, proof):
    before = token.balanceOf(account)
    pool.claim(epoch, token, weight, proof, {"from": account})
    return token.balanceOf(account) - before


def sign_revocation(pool, signer):
    digest = bytes(pool.revocationDigest(signer.address))
    return Account.sign_message(encode_defunct(primitive=digest), signer.key).signature


# ------------------------------------------------------------- unguarded revocation inside a claim's pull


def test_hooked_pool_token_revocation_inside_a_claims_pull_credits_the_claim_twice(market, accounts, agent, admin):
    """ATTACK (Medium; needs a pool asset whose transfers call out, which the admin must have allowed: a hooked or
    upgradeable token, the threat `evil_token` models). Gains: the revoking contributor (its frozen share counts
    the claimed amount a second time: 3/4 of the sale instead of 1/2). Loses: every contributor and the curator:
    the pool then accounts for more than it holds, so every accrual in the asset reverts `BalanceShort` (claims in
    the open epoch, `sync`, revocations, `newEpoch`, `publishVersion`), `pending`/`claimable` revert, and closed
    epochs' last claimers cannot be paid. Cost: gas (the signed revocation is the attacker's own).
    Why: `claim` lowers `held` by the amount it pays, then pulls the sale from the marketplace, then pays. While
    the marketplace transfers the tokens (the hook), the pool holds the claimant's amount but no longer accounts
    for it, and `revokeConsent`/`revokeConsentFor` lost `nonReentrant`: their `_accrue` sees that amount as a fresh
    inflow and credits it to the epoch again. Safe: the revocation either fails or sees the true books: the
    epoch is credited the sale once, the revoker freezes half of it, the pool holds what it accounts for."""
    curator, buyer, a = accounts[3], accounts[4], accounts[7]
    mallory = Account.create()
    tok = hook_token(market, admin, buyer)
    pool, tree = new_pool(market, curator, [(a.address, 1), (mallory.address, 1)], asset=tok.address)
    pub = publish_in_pool(pool, curator, agent, asset=tok.address)
    sell(market, pub, buyer, agent, token=tok)  # the pool is owed SELLER_SHARE in the marketplace
    wm, pm = tree.proof(mallory.address)
    revoke = pool.revokeConsentFor.encode_input(mallory.address, wm, pm, sign_revocation(pool, mallory))
    tok.arm(market, pool, revoke, {"from": admin})  # when the marketplace pays the pool: revoke
    wa, pa = tree.proof(a.address)
    got_a = token_claim(pool, tok, a, 1, wa, pa)
    assert tok.hookRan()
    assert got_a == SELLER_SHARE // 2
    problems = []
    credited = pool.pot(1, tok)["credited"]
    frozen = pool.record(1, tok, mallory.address)["frozen"]
    if credited != SELLER_SHARE:
        problems.append(f"a sale of {SELLER_SHARE} was credited as {credited} (the claimed amount twice)")
    if frozen not in (0, SELLER_SHARE // 2):
        problems.append(f"the revoker froze {frozen} of a {SELLER_SHARE} sale (half is hers)")
    if tok.balanceOf(pool) != pool.held(tok):
        problems.append(f"the pool holds {tok.balanceOf(pool)} and accounts for {pool.held(tok)}")
    try:
        pool.sync({"from": accounts[6]})  # the books still work
    except VirtualMachineError as exc:
        problems.append(f"sync reverts from now on: {exc.revert_msg}")
    assert not problems, problems


# -------------------------------------------------------------------------- the record's 126-bit field


def test_revoked_share_above_2pow126_is_truncated_in_the_record_and_locked_for_good(market, people, accounts,
                                                                                    agent, token, admin):
    """BUG (Low: only a pool asset with a huge supply reaches it; RBTC never does). Loses: the revoker (2^126
    units of what it earned) and, since nobody can claim or sweep them, every later user of the books. Gains:
    nobody. Cost: none, a revocation once an epoch holds more than 2^126 units (the epoch cap is 2^128 - 1, so
    the new cap makes this reachable on purpose: anyone gifting that much then watching a revocation).
    `_freeze` stores the frozen entitlement as `entitled << 128` in bits 128-253 (126 bits) of the record, while
    an entitlement can reach 2^128 - 1: its bit 126 lands on REVOKED and bit 127 on SETTLED, and the revoker can
    claim only `entitled mod 2^126`; `pot.frozen` counts the whole, so the rest is neither claimable nor sweepable.
    Safe (fixed: an epoch is credited at most MAX_EPOCH_CREDIT = 2^126 - 1 units, the rest waits for the next):
    the revoker's frozen entitlement is its whole share, it claims it, and everything credited ends claimed or
    swept."""
    a, b, c = people
    curator, buyer, payer = accounts[3], accounts[4], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    big = 2**127 + 2**126  # revenue of a huge-supply token, beyond what an epoch takes
    token.mint(payer, big, {"from": admin})
    token.transfer(pool, big, {"from": payer})
    pool.sync({"from": payer})
    total = pool.MAX_EPOCH_CREDIT()
    assert total == 2**126 - 1 and pool.pot(1, token)["credited"] == total
    assert pool.pending(token) == SELLER_SHARE + big - total  # waits for the next epoch
    wb, pb = tree.proof(b.address)
    pool.revokeConsent(wb, pb, {"from": b})
    frozen = pool.record(1, token, b)["frozen"]
    assert frozen == total // 2, f"b's frozen share is {frozen}, its share {total // 2} ({total // 2 - frozen} lost)"
    got_b = token_claim(pool, token, b, 1, wb, pb)
    wa, pa = tree.proof(a.address)
    got_a = token_claim(pool, token, a, 1, wa, pa)
    pool.retire({"from": curator})  # sells no more: a new tree may come without a version
    pool.newEpoch(PoolTree.build([(c.address, 1)]).top, b"t2", {"from": curator})
    pool.claim(1, token, wa, pa, {"from": a})  # a settles its rounding
    sleep(pool.DUST_AFTER())
    rest = pool.sweepable(1, token)
    assert got_a + got_b + rest == total


# ------------------------------------------------------------------------------- the 2^128 credit cap


def test_claimable_view_tells_what_a_claim_pays_after_an_inflow_beyond_the_epoch_cap(market, people, accounts,
                                                                                     agent, token, admin):
    """BUG (Low/Info: needs a gift of more than 2^128 units of a huge-supply pool token). Loses: contributors'
    tools: `claimable` adds ALL pending revenue (not capped at the epoch's 2^128 - 1) and multiplies it by the
    ~1e36 scale unchecked by the cap: past 2^128 it promises about twice what a claim pays, and past ~2^136 it
    reverts (overflow), and `datalicense pool show`/`pool claim` call it for every epoch and asset, so they fail
    for every epoch, closed ones included. Gains: nobody (griefing). Cost: the gift. `sweepable` likewise adds
    uncapped pending. Safe: `claimable` never reverts and equals what the claim pays."""
    a, b, _ = people
    curator, buyer, griefer = accounts[3], accounts[4], accounts[6]
    pool, tree, pub = token_pool_with_a_sale(market, a, b, curator, buyer, agent, token)
    token.mint(griefer, 2**140, {"from": admin})
    token.transfer(pool, 2**129, {"from": griefer})
    wa, pa = tree.proof(a.address)
    problems = []
    shown = pool.claimable(1, token, a, wa)
    got = token_claim(pool, token, a, 1, wa, pa)
    if shown != got:
        problems.append(f"claimable said {shown}, the claim paid {got}")
    token.transfer(pool, 2**140 - 2**129, {"from": griefer})
    wb, _ = tree.proof(b.address)
    try:
        pool.claimable(1, token, b, wb)
    except VirtualMachineError as exc:
        problems.append(f"claimable reverts after a 2^140 gift: {exc.revert_msg}")
    assert not problems, problems


def test_capped_excess_is_credited_once_to_the_next_epoch_and_books_balance(market, people, accounts, agent,
                                                                          token, admin):
    """DEFENDED (double credit), with a design note. Would gain: whoever is in the next epoch if the excess above
    an epoch's 2^128 - 1 cap were credited twice (or to both epochs); would lose: the pool's solvency. The excess
    stays pending, `newEpoch` credits the closing epoch only up to its cap, and the next accrual credits the
    rest once to the new epoch: credited(1) + credited(2) equals what arrived and the pool holds what it accounts
    for. (Note: revenue that reached the pool in epoch 1 beyond the cap goes to epoch 2's tree, the curator's
    choice; only a gift of 2^128 units makes it happen and that gift went to epoch 1's contributors.)"""
    a, b, c = people
    curator, buyer, griefer = accounts[3], accounts[4], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    gift = pool.MAX_EPOCH_CREDIT()  # with the sale, more than an epoch takes
    token.mint(griefer, gift, {"from": admin})
    token.transfer(pool, gift, {"from": griefer})
    pool.sync({"from": griefer})
    cap = pool.MAX_EPOCH_CREDIT()
    assert pool.pot(1, token)["credited"] == cap
    sell(market, pub, buyer, agent, token=token)  # after the cap: pending
    tree2 = PoolTree.build([(c.address, 1)])
    pool.retire({"from": curator})
    pool.newEpoch(tree2.top, b"t2", {"from": curator})
    assert pool.pot(1, token)["credited"] == cap
    pool.sync({"from": griefer})
    excess = 2 * SELLER_SHARE + gift - cap
    assert pool.pot(2, token)["credited"] == excess
    assert token.balanceOf(pool) == pool.held(token) == cap + excess
    assert market.balanceOwed(token, pool) == 0
    wa, pa = tree.proof(a.address)
    wb, pb = tree.proof(b.address)
    paid = token_claim(pool, token, a, 1, wa, pa) + token_claim(pool, token, b, 1, wb, pb)
    assert paid == 2 * (cap // 2)
    wc, pc = tree2.proof(c.address)
    assert token_claim(pool, token, c, 2, wc, pc) == excess
    sleep(pool.DUST_AFTER())
    dust = pool.sweepable(1, token)
    if dust:
        pool.sweepDust(1, token, {"from": curator})
    assert paid + dust == cap
    assert token.balanceOf(pool) == pool.held(token) == 0


# ---------------------------------------------------------------------- the proof-free revocation path


def test_proof_free_revocation_accepts_only_the_weight_proven_in_this_epochs_pool_asset_record(
        market, people, accounts, agent, token, admin):
    """DEFENDED. A contributor (or a relayer with its signature) tries to make the empty-proof path take a weight
    the record does not prove: a weight proven only in the RBTC pot of a token pool, a weight proven in a closed
    epoch (claimed after the close, settled), a revoked record's frozen entitlement read as a weight, a second
    revocation after claiming again, a relayed revocation with a wrong weight. Would gain: the forger (a bigger
    frozen share, or earnings revived); would lose: the other contributors. Cost: reverted transactions. Every
    attempt is refused and the revoker's books stay exact."""
    a, b, c = people
    curator, buyer, payer, relayer = accounts[3], accounts[4], accounts[6], accounts[5]
    signer = Account.create()
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 3), (signer.address, 2)],
                          asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    payer.transfer(pool, 6000)  # RBTC reaching the token pool
    wa, pa = tree.proof(a.address)
    wb, pb = tree.proof(b.address)
    # b's weight proven in the RBTC pot only: the token record (the one the path reads) knows nothing
    assert rbtc_claim(pool, b, 1, wb, pb) == 3000
    assert pool.knownWeight(1, b) == 0
    with reverts("NotInTree"):
        pool.revokeConsent(wb, [], {"from": b})
    # a proves its weight in the token pot, revokes without a proof, then tries again in every way
    got = token_claim(pool, token, a, 1, wa, pa)
    assert got == SELLER_SHARE // 6 and pool.knownWeight(1, a) == 1
    pool.revokeConsent(1, [], {"from": a})
    frozen_t = pool.record(1, token, a)["frozen"]
    assert frozen_t == SELLER_SHARE // 6 and pool.record(1, ZERO, a)["frozen"] == 1000
    assert pool.knownWeight(1, a) == 0
    for weight, proof in ((1, []), (frozen_t, []), (wa, pa)):
        with reverts("AlreadyRevoked"):
            pool.revokeConsent(weight, proof, {"from": a})
    assert rbtc_claim(pool, a, 1, wa, pa) == 1000  # claiming after revoking keeps the record revoked
    with reverts("AlreadyRevoked"):
        pool.revokeConsent(1, [], {"from": a})
    sell(market, pub, buyer, agent, token=token)
    payer.transfer(pool, 5000)
    assert pool.claimable(1, token, a, 1) == 0 and pool.claimable(1, ZERO, a, 1) == 0  # nothing revived
    with reverts("NothingToClaim"):
        pool.claim(1, token, wa, pa, {"from": a})
    # a relayed revocation with an empty proof and the wrong weight
    ws, ps = tree.proof(signer.address)
    sig = sign_revocation(pool, signer)
    with reverts("NotInTree"):
        pool.revokeConsentFor(signer.address, ws, [], sig, {"from": relayer})  # never claimed
    # the epoch closes; a claim (and settlement) in the closed epoch teaches nothing about the new one
    pool.retire({"from": curator})
    pool.newEpoch(tree.top, b"t2", {"from": curator})
    assert token_claim(pool, token, b, 1, wb, pb) > 0
    assert pool.record(1, token, b)["settled"] and pool.knownWeight(1, b) == 3 and pool.knownWeight(2, b) == 0
    with reverts("NotInTree"):
        pool.revokeConsent(wb, [], {"from": b})
    assert pool.epochInfo(2)["activeWeight"] == 6
    # books: every unit of epoch 1 claimable or sweepable, the pool holds what it accounts for
    pool.sync({"from": payer})
    assert token.balanceOf(pool) == pool.held(token) and web3.eth.get_balance(pool.address) == pool.held(ZERO)
    assert pool.pot(1, ZERO)["credited"] == 11000 and pool.pot(1, token)["credited"] == 2 * SELLER_SHARE


def test_contributor_contract_revokes_inside_its_rbtc_payment_in_a_token_pool_books_stay_exact(
        market, accounts, agent, token):
    """DEFENDED. A contributor contract, paid its RBTC share of a token pool, tries to revoke with an empty proof
    from inside that payment (its token claim taught the pool its weight), freezing both pots mid-claim. Would
    gain: the revoker if the revocation saw a half-done claim or froze the RBTC pot twice; would lose: the other
    contributor. Claims and revocations share one lock: the revocation is refused inside the payment, the claim
    is paid; revoked on its own afterwards, both pots freeze exactly, later revenue goes to the other
    contributor, and the pool holds what it accounts for in both assets."""
    from brownie import PoolClaimer

    curator, buyer, other, payer = accounts[3], accounts[4], accounts[7], accounts[6]
    claimer = PoolClaimer.deploy({"from": payer})
    pool, tree = new_pool(market, curator, [(claimer.address, 1), (other.address, 1)], asset=token.address)
    pub = publish_in_pool(pool, curator, agent, asset=token.address)
    sell(market, pub, buyer, agent, token=token)
    w, proof = tree.proof(claimer.address)
    claimer.claimFrom(pool, 1, token, w, proof, True, {"from": payer})
    assert pool.knownWeight(1, claimer) == 1
    payer.transfer(pool, 1000)
    tx = claimer.claimAndRevokeWhilePaid(pool, 1, ZERO, w, proof, {"from": payer})
    assert "ConsentRevoked" not in tx.events and tx.return_value is False  # refused inside the payment
    assert claimer.balance() == 500 and token.balanceOf(claimer) == SELLER_SHARE // 2
    claimer.revoke(pool, w, {"from": payer})
    assert pool.record(1, token, claimer)["frozen"] == SELLER_SHARE // 2
    assert pool.record(1, ZERO, claimer)["frozen"] == 500
    sell(market, pub, buyer, agent, token=token)
    payer.transfer(pool, 1000)
    assert pool.claimable(1, token, claimer, 1) == pool.claimable(1, ZERO, claimer, 1) == 0
    wo, po = tree.proof(other.address)
    assert token_claim(pool, token, other, 1, wo, po) == SELLER_SHARE // 2 + SELLER_SHARE
    assert rbtc_claim(pool, other, 1, wo, po) == 500 + 1000
    assert token.balanceOf(pool) == pool.held(token) and web3.eth.get_balance(pool.address) == pool.held(ZERO)


# ------------------------------------------------------------------------------- newEpoch by the curator


def test_curator_new_epoch_cannot_take_lock_or_front_run_what_contributors_earned(market, people, accounts,
                                                                                agent):
    """DEFENDED. The curator front-runs contributors' pending claims and a revocation by closing the epoch with a
    new version whose tree holds only itself, tries to sweep 'dust' at once, to open empty epochs without a
    version (refused while the dataset sells) and sweep them, then to bring the old epoch's money into its own.
    Would gain: the curator; would lose: the contributors of epoch 1. Everything that reached the pool before the
    close stays with epoch 1 and is paid in full to its contributors (their in-flight claims still go through,
    for the closed epoch); the curator's sweeps take only true dust, and only once the version's sales can have
    settled; the revocation that lost the race can be redone in the new epoch only if the curator kept the
    contributor; the pool ends holding exactly what it accounts for."""
    a, b, c = people
    curator, buyer, payer = accounts[3], accounts[4], accounts[6]
    pool, tree = new_pool(market, curator, [(a.address, 1), (b.address, 2), (c.address, 4)])
    pub = publish_in_pool(pool, curator, agent)
    sell(market, pub, buyer, agent)  # owed by the marketplace, not credited yet
    payer.transfer(pool, 7001)  # pending, not credited yet
    wa, pa = tree.proof(a.address)
    wb, pb = tree.proof(b.address)
    wc, pc = tree.proof(c.address)
    assert rbtc_claim(pool, a, 1, wa, pa) == (SELLER_SHARE + 7001) // 7  # a claimed before the close
    mine = PoolTree.build([(curator.address, 1)])
    k2 = os.urandom(32)
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(k2), mine.top, b"mine",
                        {"from": curator})  # front-runs b's claim and c's revocation
    assert pool.pot(1, ZERO)["credited"] == SELLER_SHARE + 7001 and pool.pot(2, ZERO)["credited"] == 0
    with pytest.raises(VirtualMachineError):
        pool.sweepDust(1, ZERO, {"from": curator})  # sales of version 1 may still settle: no dust yet
    with reverts("NotInTree"):
        pool.revokeConsent(wc, pc, {"from": c})  # the race was lost; c is not in the curator's tree
    with reverts("SalesOpen"):
        pool.newEpoch(mine.top, b"mine", {"from": curator})
    with pytest.raises(VirtualMachineError):
        pool.sweepDust(2, ZERO, {"from": curator})
    wm, pm = mine.proof(curator.address)
    with pytest.raises(VirtualMachineError):
        pool.claim(2, ZERO, wm, pm, {"from": curator})  # nothing reached epoch 2
    assert rbtc_claim(pool, b, 1, wb, pb) == (SELLER_SHARE + 7001) * 2 // 7
    assert rbtc_claim(pool, c, 1, wc, pc) == (SELLER_SHARE + 7001) * 4 // 7
    pool.claim(1, ZERO, wa, pa, {"from": a})  # settles a's rounding
    sleep(pool.DUST_AFTER())
    dust = pool.sweepable(1, ZERO)
    assert dust < 7
    if dust:
        pool.sweepDust(1, ZERO, {"from": curator})
    pub2 = Published(pub.dataset_id, k2, keccak(k2))
    sell(market, pub2, buyer, agent)  # a sale of version 2: the curator's epoch
    assert rbtc_claim(pool, curator, 2, wm, pm) == SELLER_SHARE
    assert web3.eth.get_balance(pool.address) == pool.held(ZERO) == 0

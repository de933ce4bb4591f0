"""Data pools: revenue shared by Merkle-committed weights, epochs with new versions, consent revocation."""

import os

import pytest
from brownie import RevenuePool, chain
from brownie.exceptions import VirtualMachineError
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conftest import FEE_BPS, PRICE, ZERO, DeliveryKey, reverts, terms
from datalicense import keywrap
from datalicense.pool import PoolTree

SELLER_SHARE = PRICE - PRICE * FEE_BPS // 10000


@pytest.fixture(scope="module")
def impl(market, admin):
    return RevenuePool.deploy(market, {"from": admin})


def make_pool(impl, curator, contributors):
    tree = PoolTree.build([(a, w) for a, w in contributors])
    tx = impl.create(curator, tree.root, tree.total_weight, b"bafy-tree", {"from": curator})
    return RevenuePool.at(tx.events["PoolCreated"]["pool"]), tree


def publish_in_pool(pool, curator, agent):
    k = os.urandom(32)
    pool.publishDataset(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"), terms(), agent,
                        {"from": curator})
    return k


def sell(market, pool, buyer, agent, content_key):
    key = DeliveryKey.random()
    tx = market.buy(pool.datasetId(), ZERO, key.x, key.y, PRICE, {"from": buyer, "value": PRICE})
    lid = tx.events["LicencePurchased"]["licenceId"]
    w = keywrap.wrap_key(content_key, lid, key.x, key.y, 777)
    market.deliverKey(lid, *w.as_args(), {"from": agent})
    market.confirm(lid, {"from": buyer})
    return tx


def claim(pool, account, tree, epoch=1):
    weight, proof = tree.proof(account.address)
    before = account.balance()
    tx = pool.claim(epoch, weight, proof, {"from": account})
    return account.balance() - before + tx.gas_used * tx.gas_price


@pytest.fixture
def people(accounts):
    return accounts[7], accounts[8], accounts[9]


def test_revenue_is_shared_by_weight(impl, market, people, accounts, agent):
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = make_pool(impl, curator, [(a.address, 1), (b.address, 3), (c.address, 6)])
    assert market.dataset(0)[0] == ZERO
    k = publish_in_pool(pool, curator, agent)
    assert market.dataset(pool.datasetId())[0] == pool  # the pool owns the dataset
    for _ in range(2):
        sell(market, pool, buyer, agent, k)
    revenue = 2 * SELLER_SHARE
    assert pool.claimable(1, a, 1) == revenue // 10
    assert claim(pool, a, tree) == revenue * 1 // 10
    assert claim(pool, c, tree) == revenue * 6 // 10
    with reverts("NothingToClaim"):
        claim(pool, a, tree)
    sell(market, pool, buyer, agent, k)
    assert claim(pool, a, tree) == SELLER_SHARE // 10  # only what accrued since the last claim
    assert claim(pool, b, tree) == (revenue + SELLER_SHARE) * 3 // 10
    stranger = accounts[5]
    with reverts("NotInTree"):
        pool.claim(1, 5, [], {"from": stranger})
    with reverts("NotInTree"):
        pool.claim(1, 2, tree.proof(a.address)[1], {"from": a})  # wrong weight


def test_curator_controls_the_dataset_through_the_pool(impl, market, accounts, agent, people):
    curator, other = accounts[3], accounts[6]
    pool, _ = make_pool(impl, curator, [(people[0].address, 1)])
    with reverts("NotCurator"):
        pool.publishDataset(b"\x01", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(), agent, {"from": other})
    publish_in_pool(pool, curator, agent)
    with reverts("DatasetExists"):
        publish_in_pool(pool, curator, agent)
    pool.pauseSales({"from": curator})
    pool.resumeSales({"from": curator})
    with reverts("AssetChange"):
        pool.setTerms(keccak(b"t"), terms(asset="0x" + "22" * 20), {"from": curator})
    pool.setTerms(keccak(b"t2"), terms(price=2 * PRICE), {"from": curator})
    pool.setAgent(other, {"from": curator})
    assert market.agentOf(pool.datasetId()) == other
    pool.transferCurator(other, {"from": curator})
    pool.acceptCurator({"from": other})
    assert pool.curator() == other
    with reverts("AlreadyInitialized"):
        pool.initialize(curator, b"\x00" * 32, 1, b"", {"from": curator})
    with reverts("AlreadyInitialized"):
        impl.initialize(curator, b"\x00" * 32, 1, b"", {"from": curator})


def test_new_version_new_root_keeps_old_earnings(impl, market, people, accounts, agent):
    a, b, c = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree1 = make_pool(impl, curator, [(a.address, 1), (b.address, 1)])
    k = publish_in_pool(pool, curator, agent)
    sell(market, pool, buyer, agent, k)
    tree2 = PoolTree.build([(b.address, 1), (c.address, 1)])  # a's records are dropped
    k2 = os.urandom(32)
    pool.publishVersion(b"\x01\x02", keccak(b"p2"), keccak(k2), tree2.root, tree2.total_weight, b"tree2",
                        {"from": curator})
    assert pool.epoch() == 2
    sell(market, pool, buyer, agent, k2)
    assert claim(pool, a, tree1, epoch=1) == SELLER_SHARE // 2  # a keeps what it earned before
    with reverts("NotInTree"):  # a's old proof does not open the new root
        pool.claim(2, 1, tree1.proof(a.address)[1], {"from": a})
    assert claim(pool, b, tree1, epoch=1) == SELLER_SHARE // 2
    assert claim(pool, b, tree2, epoch=2) == SELLER_SHARE // 2
    assert claim(pool, c, tree2, epoch=2) == SELLER_SHARE // 2


def test_revoked_consent_earns_nothing_more(impl, market, people, accounts, agent):
    a, b, _ = people
    curator, buyer = accounts[3], accounts[4]
    pool, tree = make_pool(impl, curator, [(a.address, 1), (b.address, 1)])
    k = publish_in_pool(pool, curator, agent)
    sell(market, pool, buyer, agent, k)
    weight, proof = tree.proof(a.address)
    tx = pool.revokeConsent(weight, proof, {"from": a})
    assert tx.events["ConsentRevoked"]["entitlement"] == SELLER_SHARE // 2
    with reverts("AlreadyRevoked"):
        pool.revokeConsent(weight, proof, {"from": a})
    sell(market, pool, buyer, agent, k)
    assert claim(pool, a, tree) == SELLER_SHARE // 2  # earned before revoking, nothing after
    assert claim(pool, b, tree) == SELLER_SHARE // 2 + SELLER_SHARE


def test_revocation_by_signed_message(impl, market, accounts, agent):
    curator, relayer = accounts[3], accounts[6]
    signer = Account.create()
    other = accounts[8]
    pool, tree = make_pool(impl, curator, [(signer.address, 2), (other.address, 2)])
    weight, proof = tree.proof(signer.address)
    digest = pool.revocationDigest(signer.address)
    sig = Account.sign_message(encode_defunct(primitive=bytes(digest)), signer.key).signature
    with reverts("BadSignature"):
        pool.revokeConsentFor(other.address, 2, tree.proof(other.address)[1], sig, {"from": relayer})
    tx = pool.revokeConsentFor(signer.address, weight, proof, sig, {"from": relayer})
    assert tx.events["ConsentRevoked"]["account"] == signer.address
    with reverts("BadSignature"):  # a signature is good once: the nonce moved
        pool.revokeConsentFor(signer.address, weight, proof, sig, {"from": relayer})
    assert pool.epochInfo(1)[2] == 2  # active weight


def test_everyone_revoked_sends_revenue_to_the_curator(impl, market, people, accounts, agent):
    a = people[0]
    curator, buyer = accounts[3], accounts[4]
    pool, tree = make_pool(impl, curator, [(a.address, 1)])
    k = publish_in_pool(pool, curator, agent)
    weight, proof = tree.proof(a.address)
    pool.revokeConsent(weight, proof, {"from": a})
    sell(market, pool, buyer, agent, k)
    pool.sync({"from": curator})
    assert pool.unallocated() == SELLER_SHARE
    before = curator.balance()
    tx = pool.withdrawUnallocated({"from": curator})
    assert curator.balance() - before + tx.gas_used * tx.gas_price == SELLER_SHARE


class PoolMachine(RuleBasedStateMachine):
    ctx: dict = {}

    def __init__(self):
        super().__init__()
        chain.revert()
        c = self.ctx
        self.market, self.pool, self.tree, self.k = c["market"], c["pool"], c["tree"], c["k"]
        self.members, self.buyer, self.agent = c["members"], c["buyer"], c["agent"]
        self.credited = 0
        self.claims = 0
        self.received = {m.address: 0 for m in self.members}

    @rule()
    def sale(self):
        sell(self.market, self.pool, self.buyer, self.agent, self.k)
        self.credited += SELLER_SHARE

    @rule(i=st.integers(min_value=0, max_value=3))
    def claim(self, i):
        m = self.members[i]
        try:
            self.received[m.address] += claim(self.pool, m, self.tree)
            self.claims += 1
        except VirtualMachineError:
            pass

    @rule(i=st.integers(min_value=0, max_value=3))
    def revoke(self, i):
        m = self.members[i]
        weight, proof = self.tree.proof(m.address)
        try:
            self.pool.revokeConsent(weight, proof, {"from": m})
        except VirtualMachineError:
            pass

    @invariant()
    def claimed_plus_claimable_is_credited(self):
        outstanding = 0
        for m in self.members:
            weight, _ = self.tree.proof(m.address)
            outstanding += self.pool.claimable(1, m.address, weight)
        if self.pool.epochInfo(1)[2] == 0:  # nobody active: what the pool is owed becomes the curator's on sync
            outstanding += self.market.balanceOwed(ZERO, self.pool)
        total = sum(self.received.values()) + outstanding + self.pool.unallocated()
        # rounding dust: at most one wei per claim and per contributor of each revenue pull
        assert self.credited - (self.claims + len(self.members) * (self.credited // SELLER_SHARE + 1)) <= total
        assert total <= self.credited


@pytest.mark.parametrize("seed_weights", [(1, 2, 3, 4), (7, 7, 1, 1000)])
def test_pool_property(impl, market, accounts, agent, seed_weights):
    curator, buyer = accounts[3], accounts[4]
    members = [accounts[6], accounts[7], accounts[8], accounts[9]]
    pool, tree = make_pool(impl, curator, [(m.address, w) for m, w in zip(members, seed_weights)])
    k = publish_in_pool(pool, curator, agent)
    PoolMachine.ctx = dict(market=market, pool=pool, tree=tree, k=k, members=members, buyer=buyer, agent=agent)
    chain.snapshot()
    run_state_machine_as_test(PoolMachine, settings=settings(max_examples=6, stateful_step_count=12, deadline=None,
                                                             suppress_health_check=list(HealthCheck)))


def test_pool_from_the_command_line(impl, market, accounts, kubo, tmp_path):
    """pool build --create, publish --pool, buy, agent delivery, pool show / claim / revoke."""
    import json
    import subprocess
    import sys

    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "33.json").write_text(json.dumps({"chainId": 33, "contracts": {
        "DataLicense": {"address": market.address, "block": 0},
        "RevenuePool": {"address": impl.address, "block": 0}}}))
    env = dict(os.environ, DATALICENSE_DEPLOYMENTS=str(deps), DATALICENSE_IPFS_API=kubo.api_multiaddr)

    def run(*args, account="dev:3", home="curator", check=True):
        p = subprocess.run([sys.executable, "-m", "datalicense.cli", "--account", account, *args],
                           capture_output=True, text=True, env=dict(env, DATALICENSE_HOME=str(tmp_path / home)))
        if check:
            assert p.returncode == 0, p.stderr
        return p

    members = [accounts[7], accounts[8]]
    csv_file = tmp_path / "contributors.csv"
    csv_file.write_text("account,weight\n" + "".join(f"{m.address},{w}\n" for m, w in zip(members, (1, 3))))
    built = json.loads(run("--json", "pool", "build", str(csv_file), "--create").stdout)
    assert built["totalWeight"] == 4 and built["contributors"] == 2
    pool_addr = built["pool"]
    data = tmp_path / "records.csv"
    data.write_text("id,value\n1,2\n")
    pub = json.loads(run("--json", "publish", str(data), "--title", "Pooled", "--price", "0.002",
                         "--agent", accounts[5].address, "--pool", pool_addr).stdout)
    lid = json.loads(run("--json", "buy", str(pub["dataset_id"]), account="dev:4", home="buyer").stdout)["licence_id"]
    run("agent", "--once", account="dev:5")
    run("fetch", str(lid), "-o", str(tmp_path / "got.csv"), account="dev:4", home="buyer")
    shown = run("pool", "show", pool_addr, account="dev:8", home="m8").stdout
    assert "weight 3" in shown and "claimable 0.0014625 RBTC" in shown
    claimed = run("pool", "claim", pool_addr, account="dev:8", home="m8").stdout
    assert "claimed 0.0014625 RBTC" in claimed
    again = run("pool", "claim", pool_addr, account="dev:8", home="m8", check=False)
    assert again.returncode != 0 and "nothing to claim" in again.stderr
    run("pool", "revoke", pool_addr, account="dev:7", home="m7")
    shown = run("pool", "show", pool_addr, account="dev:3").stdout
    assert "must drop their records" in shown and members[0].address in shown

"""Stateful property test of pools with the marketplace: random pool publishes (RBTC- and token-priced), sales in
both assets, forfeited dispute bonds, stray transfers in both assets, syncs, claims, revocations, new versions
(epochs), time passing (settlements, and past the dust delay) and dust sweeps. After every step:

- per asset, every pool's balance plus what the marketplace owes it equals what its contributors can claim plus
  what the curator can sweep, up to the rounding not yet attributable (under one unit per contributor and epoch);
- per asset, the marketplace's balance equals escrow plus everything owed plus fees plus bonds;
- each epoch was credited (or is owed, pending) exactly the revenue of the sales of its own version, whenever they
  settled, plus the bonds those sales forfeited and what else reached the pool while it was current;
- no contributor is owed less than its weight's share of what reached its epochs (an exact model fed by the
  pool's events) rounded down, and none more; in an epoch with a revocation, one unit less at most (two once a
  sweep took fractions that a later sale of the version made whole).

Pools run on `RevenuePoolHarness` (the implementation itself, so coverage maps to its source).

Small by default (4 examples of 12 steps after the 12-operation history: about a minute) so `make test` stays
short; POOL_EXAMPLES and POOL_STEPS set a deep run (`make test-deep`).
"""

from fractions import Fraction
import os

import pytest
from brownie import RevenuePoolHarness, chain, web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from helpers import BOND, PRICE, ZERO, DeliveryKey, Published, deliver, lens_of, licence_of, offer, purchase, terms
from datalicense.protocol.records import State, version_account
from datalicense.roles.pool import PoolTree

pytestmark = pytest.mark.chain

ESCROW_STATES = {State.PENDING, State.DELIVERED, State.DATA_DISPUTED}

idx = st.integers(min_value=0, max_value=2**16)


class PoolsAndMarket(RuleBasedStateMachine):
    ctx: dict = {}

    def __init__(self):
        super().__init__()
        chain.revert()
        c = self.ctx
        self.market, self.token, self.accounts = c["market"], c["token"], c["accounts"]
        self.lens = lens_of(self.market)
        self.curator, self.buyer, self.agent, self.arbiter = (self.accounts[3], self.accounts[4], self.accounts[5],
                                                              c["arbiter"])
        self.members = [self.accounts[6], self.accounts[7], self.accounts[8], self.accounts[9]]
        self.pools = []  # dicts: pool, asset, pub, trees {epoch: (tree, weights)}, model, epochs {version: epoch},
        # expected {(epoch, asset): what the attribution rules give it}
        self.licences = {}  # id -> (price, asset, pool entry, version)
        self.received = {}  # (pool, epoch, asset, member) -> paid out
        self.swept = {}

    # ------------------------------------------------------------------------------------ helpers

    def _try(self, fn, *args):
        try:
            return fn(*args)
        except VirtualMachineError:
            return None

    def _track(self, entry, tx):
        """Feed the exact model from the pool's events, in order."""
        if tx is None:
            return
        for ev in tx.events:
            if ev.address != entry["pool"].address:
                continue
            if ev.name == "RevenueIn":
                e, asset, amount = ev["epoch"], ev["asset"], ev["amount"]
                weights = entry["trees"][e][1]
                active = {m: w for m, w in weights.items() if m not in entry["revoked"].get(e, set())}
                total = sum(active.values())  # the active weight when the revenue came in
                for m, w in active.items():
                    key = (e, asset, m)
                    entry["model"][key] = entry["model"].get(key, Fraction(0)) + Fraction(amount * w, total)
            elif ev.name == "ConsentRevoked":
                entry["revoked"].setdefault(ev["epoch"], set()).add(ev["account"])

    def _weights(self, pick):
        chosen = [m for i, m in enumerate(self.members) if (pick >> i) & 1] or [self.members[pick % 4]]
        return {m.address: 1 + (pick >> (4 + 3 * i)) % 7 for i, m in enumerate(chosen)}

    def _settled(self, tx):
        """Feed the attribution model: a settled sale (and a forfeited bond) belongs to its version's epoch."""
        if tx is None:
            return
        for ev in tx.events:
            if ev.address != self.market.address or ev.name not in ("LicenceSettled", "DataDisputeResolved"):
                continue
            _, asset, entry, version = self.licences[ev["licenceId"]]
            key = (entry["epochs"][version], asset)
            if ev.name == "LicenceSettled":
                entry["expected"][key] = entry["expected"].get(key, 0) + ev["sellerAmount"]
            elif ev["buyerBps"] == 0 and not ev["byDefault"]:
                bond_key = (key[0], ZERO)
                entry["expected"][bond_key] = entry["expected"].get(bond_key, 0) + BOND

    def _pool(self, pick):
        return self.pools[pick % len(self.pools)] if self.pools else None

    def _assets(self, entry):
        return [entry["asset"]] if entry["asset"] == ZERO else [entry["asset"], ZERO]

    # -------------------------------------------------------------------------------------- rules

    @initialize(pick=idx, ops=st.lists(st.tuples(st.integers(min_value=0, max_value=10), idx), min_size=12,
                                       max_size=12))
    def two_pools_and_a_history(self, pick, ops):
        """Every run starts with a pool priced in RBTC and one priced in the token, and twelve random operations
        (invariants checked after each): hypothesis's first examples are short, this makes every one count."""
        self.publish_pool(pick, False)
        self.publish_pool(pick >> 1, True)
        for op, p in ops:
            [lambda: self.sale(p), lambda: self.sale(p >> 1), lambda: self.bond_forfeited(p),
             lambda: self.stray_transfer(p, 1 + p % 10**6, bool(p & 1)), lambda: self.sync(p),
             lambda: self.claim(p), lambda: self.claim(p >> 1), lambda: self.revoke(p), lambda: self.new_epoch(p),
             lambda: self.sweep_dust(p), lambda: self.time_passes([0, 1, 3, 91][p % 4])][op]()
            self.marketplace_balance_is_escrow_plus_owed_plus_fees_plus_bonds()
            self.every_pool_unit_is_claimable_or_sweepable_and_shares_are_by_weight()

    @rule(pick=idx, in_token=st.booleans())
    def publish_pool(self, pick, in_token):
        if len(self.pools) >= 4:
            return
        asset = self.token.address if in_token else ZERO
        weights = self._weights(pick)
        tree = PoolTree.build(list(weights.items()))
        pool = RevenuePoolHarness.deploy(self.market, {"from": self.curator})
        pool.initialize(self.curator, asset, tree.top, b"tree", {"from": self.curator})
        k = os.urandom(32)
        tx = pool.publishDataset(b"\x01" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"),
                                 terms(asset=asset, price=PRICE + pick % 7), self.agent, {"from": self.curator})
        self.pools.append({"pool": pool, "asset": asset, "pub": Published(tx.return_value, k, keccak(k)),
                           "trees": {1: (tree, weights)}, "model": {}, "revoked": {}, "epochs": {1: 1},
                           "expected": {}})

    def _buy(self, entry, pick):
        pub = entry["pub"]
        key = DeliveryKey.random()
        terms_id, version = offer(self.market, pub.dataset_id)
        price = self.lens.offer(pub.dataset_id)["price"]
        p = purchase(pub.dataset_id, key, ZERO, terms_id, version)
        if entry["asset"] == ZERO:
            tx = self.market.buy(p, {"from": self.buyer, "value": price})
        else:
            self.token.approve(self.market, price, {"from": self.buyer})
            tx = self.market.buyWithToken(p, {"from": self.buyer})
        lid = tx.events["LicencePurchased"]["licenceId"]
        self.licences[lid] = (price, entry["asset"], entry, version)
        deliver(self.market, lid, pub, key, self.agent)
        return lid

    @rule(pick=idx)
    def sale(self, pick):
        entry = self._pool(pick)
        if entry:
            lid = self._buy(entry, pick)
            if pick % 3:
                self._settled(self.market.confirm(lid, {"from": self.buyer}))

    @rule(pick=idx)
    def bond_forfeited(self, pick):
        entry = self._pool(pick)
        if entry:
            lid = self._buy(entry, pick)
            self.market.disputeData(lid, {"from": self.buyer, "value": BOND})
            self._settled(self.market.resolveData(lid, 0, {"from": self.arbiter}))

    @rule(pick=idx, amount=st.integers(min_value=1, max_value=10**6), in_token=st.booleans())
    def stray_transfer(self, pick, amount, in_token):
        entry = self._pool(pick)
        if not entry:
            return
        if in_token:
            self.token.transfer(entry["pool"], amount, {"from": self.buyer})
        else:
            self.accounts[2].transfer(entry["pool"], amount)
        asset = ZERO if not in_token else self.token.address
        if asset in self._assets(entry):  # anything else reaching the pool belongs to the epoch current now
            key = (entry["pool"].epoch(), asset)
            entry["expected"][key] = entry["expected"].get(key, 0) + amount

    @rule(pick=idx)
    def sync(self, pick):
        entry = self._pool(pick)
        if entry:
            self._track(entry, self._try(entry["pool"].sync, {"from": self.accounts[2]}))

    @rule(pick=idx)
    def claim(self, pick):
        entry = self._pool(pick)
        if not entry:
            return
        epochs = sorted(entry["trees"])
        e = epochs[pick % len(epochs)]
        tree, weights = entry["trees"][e]
        m = next(x for x in self.members if x.address == sorted(weights)[(pick >> 2) % len(weights)])
        assets = self._assets(entry)
        asset = assets[(pick >> 4) % len(assets)]
        w, proof = tree.proof(m.address)
        tx = self._try(entry["pool"].claim, e, asset, w, proof, {"from": m})
        self._track(entry, tx)
        if tx is not None and "Claimed" in tx.events:
            key = (entry["pool"].address, e, asset, m.address)
            self.received[key] = self.received.get(key, 0) + tx.events["Claimed"]["amount"]

    @rule(pick=idx)
    def revoke(self, pick):
        entry = self._pool(pick)
        if not entry:
            return
        e = max(entry["trees"])
        tree, weights = entry["trees"][e]
        m = next(x for x in self.members if x.address == sorted(weights)[(pick >> 2) % len(weights)])
        w, proof = tree.proof(m.address)
        if pick & 2 and entry["pool"].knownWeight(e, m) == w:
            proof = []  # the pool knows the weight from a claim in this epoch: `pool revoke` sends no proof
        self._track(entry, self._try(entry["pool"].revokeConsent, w, proof, {"from": m}))

    @rule(pick=idx)
    def new_epoch(self, pick):
        entry = self._pool(pick)
        if not entry or len(entry["trees"]) >= 3:
            return
        weights = self._weights(pick >> 3)
        tree = PoolTree.build(list(weights.items()))
        k = os.urandom(32)
        tx = entry["pool"].publishVersion(b"\x01" + os.urandom(8), keccak(b"p"), keccak(k), tree.top, b"t",
                                          {"from": self.curator})
        self._track(entry, tx)
        epoch = tx.events["EpochStarted"]["epoch"]
        entry["trees"][epoch] = (tree, weights)
        entry["epochs"][max(entry["epochs"]) + 1] = epoch
        entry["pub"] = Published(entry["pub"].dataset_id, k, keccak(k))

    @rule(pick=idx)
    def sweep_dust(self, pick):
        entry = self._pool(pick)
        if not entry:
            return
        e = sorted(entry["trees"])[pick % len(entry["trees"])]
        assets = self._assets(entry)
        self._track(entry, self._try(entry["pool"].sweepDust, e, assets[(pick >> 3) % len(assets)],
                                     {"from": self.curator}))

    @rule(days=st.sampled_from([0, 1, 3, 91]))
    def time_passes(self, days):
        """Days pass (91: past the pools' dust delay); delivered sales past their dispute window settle."""
        chain.sleep(days * 86400 + 1)
        chain.mine()
        for lid in list(self.licences):
            if licence_of(self.lens, lid).state == State.DELIVERED:
                self._settled(self._try(self.market.settle, lid, {"from": self.accounts[2]}))

    def teardown(self):
        if os.environ.get("POOL_STATS"):
            print(f"pools {len(self.pools)}, licences {len(self.licences)}, claims {len(self.received)}, "
                  f"epochs {[len(e['trees']) for e in self.pools]}, revoked {[e['revoked'] for e in self.pools]}")

    # --------------------------------------------------------------------------------- invariants

    def _version_accounts(self, entry):
        return [version_account(entry["pool"].address, entry["pub"].dataset_id, v) for v in entry["epochs"]]

    @invariant()
    def marketplace_balance_is_escrow_plus_owed_plus_fees_plus_bonds(self):
        parties = {self.buyer.address, self.curator.address} | {e["pool"].address for e in self.pools}
        parties |= {a for e in self.pools for a in self._version_accounts(e)}
        for asset in (ZERO, self.token.address):
            escrow = sum(price for lid, (price, a, _, _) in self.licences.items()
                         if a == asset and licence_of(self.lens, lid).state in ESCROW_STATES)
            bonds = sum(self.lens.bondOf(lid) for lid in self.licences) if asset == ZERO else 0
            owed = sum(self.lens.owed(asset, p) for p in parties)
            fees = self.lens.feesAccrued(asset)
            balance = web3.eth.get_balance(self.market.address) if asset == ZERO else self.token.balanceOf(self.market)
            assert balance == escrow + owed + fees + bonds

    @invariant()
    def every_pool_unit_is_claimable_or_sweepable_and_shares_are_by_weight(self):
        """Per pool and asset: balance + owed by the marketplace (per version) = held + pending, each epoch is owed
        exactly what the attribution rules give it, claimable + sweepable = all of it up to the rounding not yet
        attributable; and each contributor's paid + claimable is its exact weight share of what reached its
        epochs rounded down (one unit less at most in an epoch with a revocation; after a sweep, less by at most
        what the sweeps took)."""
        now = chain.time()
        for entry in self.pools:
            pool = entry["pool"]
            dust_after = pool.DUST_AFTER()
            for asset in self._assets(entry):
                balance = web3.eth.get_balance(pool.address) if asset == ZERO else self.token.balanceOf(pool)
                inflow = balance + sum(self.market.balanceOwed(asset, a) for a in self._version_accounts(entry))
                pending = {e: pool.pendingOf(e, asset) for e in entry["trees"]}
                assert inflow == pool.held(asset) + sum(pending.values())
                claimable = sweepable = rounding = 0
                for e, (tree, weights) in entry["trees"].items():
                    pot = pool.pot(e, asset)
                    # the property of issue 21: the epoch of version v gets the sales of v, whenever they settle
                    assert pot["credited"] + pending[e] == entry["expected"].get((e, asset), 0), (e, asset)
                    revoked = entry["revoked"].get(e, set())
                    active_weight = pool.epochInfo(e)["activeWeight"]
                    for m, w in weights.items():
                        owed = pool.claimable(e, asset, m, w)
                        claimable += owed
                        exact = entry["model"].get((e, asset, m), Fraction(0))
                        if m not in revoked and active_weight:
                            exact += Fraction(pending[e] * w, active_weight)
                        got = self.received.get((pool.address, e, asset, m), 0) + owed
                        # Without a revocation in the epoch the contract pays the exact share rounded down (its
                        # per-weight scale is a multiple of the total weight): more than exact - 1. After one, the
                        # revoked weight's future share is spread over an active weight that the scale need not
                        # divide, so a share that is a whole number may come out one unit short (the documented
                        # "at most one wei"). A sale settling after a sweep first makes up the fractions swept.
                        slack = (1 if revoked else 0) + pot["swept"]
                        assert exact - 1 < got + slack and got <= exact, (e, asset, m, got, exact)
                    closed_at = pool.epochSales(e)["closedAt"]
                    if active_weight == 0 or (closed_at and now >= closed_at + dust_after):
                        sweepable += pool.sweepable(e, asset)
                    rounding += len(weights) + 1
                assert claimable + sweepable <= inflow <= claimable + sweepable + rounding


def test_pools_stateful(market, token, accounts, arbiter):
    token.mint(accounts[4], 10**24, {"from": accounts[0]})
    PoolsAndMarket.ctx = dict(market=market, token=token, accounts=accounts, arbiter=arbiter)
    chain.snapshot()
    run_state_machine_as_test(
        PoolsAndMarket,
        settings=settings(max_examples=int(os.environ.get("POOL_EXAMPLES", 4)),
                          stateful_step_count=int(os.environ.get("POOL_STEPS", 12)), deadline=None,
                          suppress_health_check=list(HealthCheck), database=None, phases=[Phase.generate]),
    )

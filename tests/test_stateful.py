"""Stateful property test: random sequences of publish, buy, deliver, confirm, both disputes, proofs,
rulings, refunds, withdrawals and time jumps. After every step, per asset, the contract's balance equals
the funds in escrow plus everything withdrawable.

A hypothesis RuleBasedStateMachine driven on the brownie chain (each run starts from a chain snapshot):
brownie 1.22.2's compiled `state_machine` helper refuses user machine classes, so the few lines it
provides (snapshot, revert) are done here.
"""

import os

from brownie import chain
from brownie.exceptions import VirtualMachineError
from eth_abi import encode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from eth_utils import keccak

from conftest import BOND, DAY, ZERO, DeliveryKey, terms
from datalicense import keywrap

OPEN_STATES = {1, 2, 4, 5}  # Pending, Delivered, KeyDisputed, DataDisputed


who = st.integers(min_value=0, max_value=3)
pick = st.integers(min_value=0, max_value=2**16)


class Marketplace(RuleBasedStateMachine):
    ctx: dict = {}

    def __init__(self):
        super().__init__()
        chain.revert()
        c = self.ctx
        self.accounts, self.market, self.token = c["accounts"], c["market"], c["token"]
        self.admin, self.arbiter = c["admin"], c["arbiter"]
        self.sellers = [self.accounts[3], self.accounts[7]]
        self.buyers = [self.accounts[4], self.accounts[8], self.accounts[9], self.accounts[6]]
        self.datasets = []  # (id, seller, content key, asset)
        self.licences = {}  # id -> [key, wrap, r, dataset id]

    def _publish(self, seller, price, use_token):
        k = os.urandom(32)
        asset = self.token.address if use_token else ZERO
        tx = self.market.publish(b"\x01" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"),
                                 terms(price=price, asset=asset, duration=10 * DAY), ZERO, {"from": seller})
        self.datasets.append((tx.events["DatasetPublished"]["datasetId"], seller, k, asset))

    def _try(self, fn, *args):
        try:
            return fn(*args)
        except VirtualMachineError:
            return None

    def _licence(self, pick):
        if not self.licences:
            return None
        ids = sorted(self.licences)
        return ids[pick % len(ids)]

    @rule(st_who=who, st_price=st.integers(min_value=0, max_value=10**17), st_token=st.booleans())
    def rule_publish(self, st_who, st_price, st_token):
        self._publish(self.sellers[st_who % 2], st_price, st_token)

    @rule(st_who=who, st_pick=pick)
    def rule_buy(self, st_who, st_pick):
        if not self.datasets:
            return
        ds, _, _, asset = self.datasets[st_pick % len(self.datasets)]
        buyer = self.buyers[st_who]
        key = DeliveryKey.random()
        price = self.market.terms(self.market.dataset(ds)[1])[0]
        if asset == ZERO:
            tx = self._try(self.market.buy, ds, ZERO, key.x, key.y, price,
                           {"from": buyer, "value": price + st_pick % 3})
        elif st_pick % 2:
            self.token.approve(self.market, price, {"from": buyer})
            tx = self._try(self.market.buyWithToken, ds, ZERO, key.x, key.y, price, {"from": buyer})
        else:
            data = encode(["uint256", "address", "bytes32", "bytes32"], [ds, ZERO, key.x, key.y])
            tx = self._try(self.token.transferAndCall, self.market, price + st_pick % 5, data, {"from": buyer})
        if tx is not None:
            lid = tx.events["LicencePurchased"]["licenceId"]
            self.licences[lid] = [key, None, None, ds]

    @rule(st_pick=pick, st_good=st.booleans())
    def rule_deliver(self, st_pick, st_good):
        lid = self._licence(st_pick)
        if lid is None:
            return
        key, _, _, ds = self.licences[lid]
        _, seller, content_key, _ = next(d for d in self.datasets if d[0] == ds)
        r = int.from_bytes(os.urandom(31), "big") + 1
        wrap = keywrap.wrap_key(content_key if st_good else os.urandom(32), lid, key.x, key.y, r)
        if self._try(self.market.deliverKey, lid, *wrap.as_args(), {"from": seller}) is not None:
            self.licences[lid][1:3] = [wrap, r]

    @rule(st_pick=pick)
    def rule_confirm(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.confirm, lid, {"from": self.market.ownerOf(lid)})

    @rule(st_pick=pick)
    def rule_settle(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.settle, lid, {"from": self.admin})

    @rule(st_pick=pick)
    def rule_dispute_key(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.disputeKey, lid, {"from": self.market.ownerOf(lid), "value": BOND})

    @rule(st_pick=pick)
    def rule_dispute_data(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.disputeData, lid, {"from": self.market.ownerOf(lid), "value": BOND})

    @rule(st_pick=pick)
    def rule_prove(self, st_pick):
        lid = self._licence(st_pick)
        if lid is None or self.licences[lid][1] is None:
            return
        key, wrap, r, ds = self.licences[lid]
        proof = (r, wrap.r_x, wrap.r_y, wrap.wrapped_key, key.x, key.y, self.market.keyHashOf(ds))
        self._try(self.market.proveKey, lid, proof, {"from": self.admin})

    @rule(st_pick=pick, st_bps=st.integers(min_value=0, max_value=10000))
    def rule_resolve(self, st_pick, st_bps):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.resolveData, lid, st_bps, {"from": self.arbiter})

    @rule(st_pick=pick)
    def rule_resolve_default(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.resolveDataByDefault, lid, {"from": self.admin})

    @rule(st_pick=pick)
    def rule_refund(self, st_pick):
        lid = self._licence(st_pick)
        if lid is not None:
            self._try(self.market.refund, lid, {"from": self.admin})

    @rule(st_who=who, st_token=st.booleans())
    def rule_withdraw(self, st_who, st_token):
        who = (self.sellers + self.buyers)[st_who * 2 % 6]
        asset = self.token.address if st_token else ZERO
        self._try(self.market.withdraw, asset, who, {"from": who})

    @rule(st_token=st.booleans())
    def rule_withdraw_fees(self, st_token):
        self._try(self.market.withdrawFees, self.token.address if st_token else ZERO, {"from": self.admin})

    @rule(st_sleep=st.integers(min_value=0, max_value=16 * DAY))
    def rule_sleep(self, st_sleep):
        chain.sleep(st_sleep)
        chain.mine()

    @invariant()
    def invariant_balances_cover_escrow_and_payouts(self):
        escrow = {ZERO: 0, self.token.address: 0}
        for lid in self.licences:
            state = self.market.licence(lid)[3]
            t = self.market.terms(self.market.licence(lid)[1])
            asset = self.market.assetAddress(t[2])
            if state in OPEN_STATES:
                escrow[asset] += t[0]
            escrow[ZERO] += self.market.bondOf(lid)
        owed = {a: self.market.feesAccrued(a) for a in escrow}
        for who in set(self.sellers + self.buyers + [self.accounts[1]]):
            for a in escrow:
                owed[a] += self.market.balanceOwed(a, who)
        assert self.market.balance() == escrow[ZERO] + owed[ZERO]
        assert self.token.balanceOf(self.market) == escrow[self.token.address] + owed[self.token.address]


def test_balances_always_cover_escrow_and_payouts(accounts, market, token, admin, arbiter):
    for b in [accounts[4], accounts[8], accounts[9], accounts[6]]:
        token.mint(b, 10**24, {"from": admin})
    Marketplace.ctx = dict(accounts=accounts, market=market, token=token, admin=admin, arbiter=arbiter)
    chain.snapshot()
    run_state_machine_as_test(
        Marketplace,
        settings=settings(max_examples=12, stateful_step_count=30, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )

"""Stateful property test: random sequences of publishes, new versions, purchases in RBTC and in a token (ERC-20 and
ERC-677; some naming stale terms, versions or platform settings), deliveries (right and wrong keys, stale ones),
rotations, confirmations, settlements, the buyer's key
dispute (both outcomes), data disputes with every ruling (any split, by default), refunds, redeliveries, settings
changes, withdrawals and time jumps.

The test keeps its own model of the money: the escrow of every open licence, what everyone is owed and the fees,
computed from the rules (not read back from the chain). After every step, per asset:
  - every amount owed and the fees equal the model's;
  - the marketplace's balance equals the model's escrow plus everything withdrawable (owed + fees + bonds);
  - every licence is in the state the model expects.

A hypothesis RuleBasedStateMachine driven on the brownie chain (each run starts from a chain snapshot):
brownie 1.22's compiled `state_machine` helper refuses user machine classes, so the few lines it provides
(snapshot, revert) are done here.
"""

import os
import sys
from collections import Counter
from dataclasses import dataclass

import pytest
from brownie import chain
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from helpers import BOND, DAY, FEE_BPS, ZERO, DeliveryKey, lens_of, licence_of, terms, token_data
from datalicense.protocol import keywrap
from datalicense.protocol.records import State

pytestmark = pytest.mark.chain

BPS = 10_000

#: Actions and their weights (a name appears as often as it should be drawn).
ACTIONS = (["publish", "publish_version", "settings", "redeliver", "withdraw_fees", "resolve_default"]
           + ["buy"] * 5 + ["deliver"] * 5 + ["confirm", "settle", "dispute_key", "dispute_data", "rotate"] * 2
           + ["resolve", "refund", "sleep"] * 2 + ["withdraw"] * 3)
SLEEPS = [60, 3600, DAY - 600, DAY + 600, 2 * DAY + 600, 15 * DAY]

#: (rule, outcome) counts of the last run, printed at the end (pytest -s) to show what the sequences reached.
STATS: Counter = Counter()
pick = st.integers(min_value=0, max_value=2**16)


@dataclass
class Dataset:
    id: int
    owner: object
    asset: str
    price: int
    content_key: bytes
    terms_id: int
    version: int = 1


@dataclass
class Licence:
    id: int
    ds: Dataset
    holder: object
    asset: str
    price: int
    fee_bps: int
    bond: int
    key: DeliveryKey
    stamp: int
    state: State = State.PENDING
    delivery: tuple | None = None  # (key, wrap, key hash, good)
    posted_bond: int = 0
    bought_key: bytes = b""  # content key of the version bought: the escrowed delivery must carry it
    disputed_at: int = 0


class Marketplace(RuleBasedStateMachine):
    ctx: dict = {}

    def __init__(self):
        super().__init__()
        chain.revert()
        c = self.ctx
        self.market, self.token, self.lens = c["market"], c["token"], c["lens"]
        self.admin, self.arbiter, self.agent, self.fee_recipient = c["admin"], c["arbiter"], c["agent"], c["fees"]
        self.sellers = c["sellers"]
        self.buyers = c["buyers"]
        self.assets = [ZERO, self.token.address]
        self.datasets: list[Dataset] = []
        self.licences: dict[int, Licence] = {}
        self.settings = [(FEE_BPS, BOND)]  # current settings last
        self.max_fee_bps, self.arbiter_window = self.market.MAX_FEE_BPS(), self.market.ARBITER_WINDOW()
        self.owed: dict[tuple[str, str], int] = {}
        self.fees = {a: 0 for a in self.assets}
        self.touched: Licence | None = None  # the licence the last step acted on

    # ------------------------------------------------------------------------------------------- helpers

    def _ok(self, fn, *args):
        rule_name = sys._getframe(1).f_code.co_name
        try:
            tx = fn(*args)
        except VirtualMachineError:
            STATS[(rule_name, "reverted")] += 1
            return None
        STATS[(rule_name, "ok")] += 1
        return tx

    def _credit(self, asset, account, amount):
        if amount:
            key = (asset, str(account))
            self.owed[key] = self.owed.get(key, 0) + amount

    def _settle(self, lic: Licence):
        fee = lic.price * lic.fee_bps // BPS
        self._credit(lic.asset, lic.ds.owner, lic.price - fee)
        self.fees[lic.asset] += fee
        lic.state = State.SETTLED

    def _refund(self, lic: Licence):
        self._credit(lic.asset, lic.holder, lic.price)
        lic.state = State.REFUNDED

    def _licence(self, st_pick, *states):
        chosen = [lid for lid in sorted(self.licences) if not states or self.licences[lid].state in states]
        if not chosen:
            return None
        self.touched = self.licences[chosen[st_pick % len(chosen)]]
        return self.touched

    # ---------------------------------------------------------------------------------------------- rules

    @initialize(st_rbtc=st.integers(min_value=0, max_value=10**17), st_tok=st.integers(min_value=0, max_value=10**17))
    def init_datasets(self, st_rbtc, st_tok):
        """Every run starts with one dataset in each asset, from different sellers."""
        self.rule_publish(0, st_rbtc, False)
        self.rule_publish(1, st_tok, True)

    def rule_publish(self, st_who, st_price, st_token):
        seller = self.sellers[st_who % 2]
        k = os.urandom(32)
        asset = self.assets[st_token]
        tx = self.market.publish(b"\x01" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"),
                                 terms(price=st_price, asset=asset, duration=10 * DAY), self.agent,
                                 {"from": seller})
        self.datasets.append(Dataset(tx.events["DatasetPublished"]["datasetId"], seller, asset, st_price, k,
                                     tx.events["TermsSet"]["termsId"]))

    def rule_publish_version(self, st_pick):
        if not self.datasets:
            return
        d = self.datasets[st_pick % len(self.datasets)]
        k = os.urandom(32)
        self.market.publishVersion(d.id, b"\x02", keccak(b"p"), keccak(k), {"from": d.owner})
        d.content_key, d.version = k, d.version + 1

    def rule_buy(self, st_who, st_pick, st_path):
        if not self.datasets:
            return
        d = self.datasets[st_pick % len(self.datasets)]
        buyer = self.buyers[st_who]
        key = DeliveryKey.random()
        # paths 0-2: correct purchase; 3: wrong amount; 4: stale terms; 5: stale version; 6: other settings than
        # the current ones (an admin change mined in front)
        terms_id = d.terms_id - (st_path == 4)
        version = d.version + (st_path == 5)
        settings_id = len(self.settings) + (st_path == 6)
        p = (d.id, terms_id, version, settings_id, ZERO, key.x, key.y)
        amount = d.price + (st_path == 3)
        erc20 = st_pick // 7 % 2 == 1
        if d.asset == ZERO:
            tx = self._ok(self.market.buy, p, {"from": buyer, "value": amount})
        elif erc20:
            self.token.approve(self.market, amount, {"from": buyer})
            tx = self._ok(self.market.buyWithToken, p, {"from": buyer})
        else:
            tx = self._ok(self.token.transferAndCall, self.market, amount, token_data(p), {"from": buyer})
        # buyWithToken pulls exactly the price whatever was approved: an over-approval still buys
        expected = st_path <= 2 or (st_path == 3 and d.asset != ZERO and erc20)
        assert (tx is not None) == expected, (st_path, d.asset, erc20)
        if tx is not None:
            lid = tx.events["LicencePurchased"]["licenceId"]
            fee_bps, bond = self.settings[-1]
            self.licences[lid] = self.touched = Licence(lid, d, buyer, d.asset, d.price, fee_bps, bond, key,
                                                        tx.timestamp, bought_key=d.content_key)

    def rule_deliver(self, st_pick, st_kind):
        """0-1: right key, 2: wrong key, 3: named for another delivery key, 4: the current version's key when a
        newer version than the one bought was published (refused: the escrowed delivery carries the version bought)."""
        lic = self._licence(st_pick, State.PENDING)
        if lic is None:
            return
        d = lic.ds
        key = lic.key
        named = DeliveryKey.random() if st_kind == 3 else key
        content = {2: os.urandom(32), 4: d.content_key}.get(st_kind, lic.bought_key)
        key_hash = keccak(content) if st_kind == 4 else keccak(lic.bought_key)
        r = int.from_bytes(os.urandom(31), "big") + 1
        wrap = keywrap.wrap_key(content, lic.id, key.x, key.y, r)
        sender = self.agent if st_pick % 2 else d.owner
        tx = self._ok(self.market.deliverKey, lic.id, named.address, key_hash, *wrap.as_args(), {"from": sender})
        in_time = chain.time() <= lic.stamp + DAY - 5
        late = chain.time() > lic.stamp + DAY + 5
        refused = st_kind == 3 or (st_kind == 4 and d.content_key != lic.bought_key)
        if refused or late:
            assert tx is None
        elif in_time:
            assert tx is not None
        if tx is not None:
            lic.state, lic.stamp = State.DELIVERED, tx.timestamp
            lic.delivery = (key, wrap, key_hash, content == lic.bought_key)

    def rule_rotate(self, st_pick):
        lic = self._licence(st_pick, State.DELIVERED, State.SETTLED) if st_pick % 2 else self._licence(st_pick)
        if lic is None:
            return
        new = DeliveryKey.random()
        tx = self._ok(self.market.rotateDeliveryKey, lic.id, new.x, new.y, {"from": lic.holder})
        # refused while Pending (a rotation in front of a delivery) and once the licence has ended
        assert (tx is not None) == (lic.state not in (State.PENDING, State.REFUNDED, State.RESOLVED))
        if tx is not None:
            lic.key = new  # later (re)deliveries go to it; the escrowed delivery keeps its key

    def rule_confirm(self, st_pick):
        lic = self._licence(st_pick, State.DELIVERED) if st_pick % 4 else self._licence(st_pick)
        if lic is None:
            return
        tx = self._ok(self.market.confirm, lic.id, {"from": lic.holder})
        assert (tx is not None) == (lic.state == State.DELIVERED)
        if tx is not None:
            self._settle(lic)

    def rule_settle(self, st_pick):
        lic = self._licence(st_pick, State.DELIVERED)
        if lic is None:
            return
        tx = self._ok(self.market.settle, lic.id, {"from": self.admin})
        if tx is not None:
            assert tx.timestamp > lic.stamp + 2 * DAY
            self._settle(lic)

    def rule_dispute_key(self, st_pick):
        lic = self._licence(st_pick, State.DELIVERED)
        if lic is None:
            return
        key, wrap, key_hash, good = lic.delivery
        tx = self._ok(self.market.disputeKey, lic.id, key.scalar, (wrap.r_x, wrap.r_y, wrap.wrapped_key, key_hash),
                      {"from": lic.holder})
        if tx is None:
            assert chain.time() > lic.stamp + 2 * DAY - 5
            return
        assert tx.events["KeyDisputeDecided"]["keyCorrect"] is good
        if good:
            self._settle(lic)
        else:
            self._refund(lic)

    def rule_dispute_data(self, st_pick):
        lic = self._licence(st_pick, State.DELIVERED)
        if lic is None:
            return
        tx = self._ok(self.market.disputeData, lic.id, {"from": lic.holder, "value": lic.bond})
        if tx is None:
            assert chain.time() > lic.stamp + 2 * DAY - 5
        else:
            lic.state, lic.disputed_at, lic.posted_bond = State.DATA_DISPUTED, tx.timestamp, lic.bond

    def rule_resolve(self, st_pick, st_bps):
        lic = self._licence(st_pick, State.DATA_DISPUTED)
        if lic is None:
            return
        self.market.resolveData(lic.id, st_bps, {"from": self.arbiter})
        STATS[("rule_resolve", "ok")] += 1
        bond, lic.posted_bond = lic.posted_bond, 0
        if st_bps == 0:
            self._settle(lic)
            self._credit(ZERO, lic.ds.owner, bond)
            return
        buyer_part = lic.price * st_bps // BPS
        seller_gross = lic.price - buyer_part
        fee = seller_gross * lic.fee_bps // BPS
        self._credit(ZERO, lic.holder, bond)
        self._credit(lic.asset, lic.holder, buyer_part)
        self._credit(lic.asset, lic.ds.owner, seller_gross - fee)
        self.fees[lic.asset] += fee
        lic.state = State.RESOLVED

    def rule_resolve_default(self, st_pick):
        lic = self._licence(st_pick, State.DATA_DISPUTED)
        if lic is None:
            return
        tx = self._ok(self.market.resolveDataByDefault, lic.id, {"from": self.admin})
        if tx is None:
            assert chain.time() <= lic.disputed_at + self.arbiter_window + 5
            return
        self._credit(ZERO, lic.holder, lic.posted_bond)
        lic.posted_bond = 0
        self._settle(lic)

    def rule_refund(self, st_pick):
        lic = self._licence(st_pick, State.PENDING)
        if lic is None:
            return
        tx = self._ok(self.market.refund, lic.id, {"from": self.admin})
        if tx is None:
            assert chain.time() <= lic.stamp + DAY + 5
            return
        self._refund(lic)

    def rule_redeliver(self, st_pick):
        lic = self._licence(st_pick, State.SETTLED) if st_pick % 2 else self._licence(st_pick)
        if lic is None:
            return
        d = lic.ds
        wrap = keywrap.wrap_key(d.content_key, lic.id, lic.key.x, lic.key.y, 5 + st_pick)
        tx = self._ok(self.market.redeliverKey, lic.id, keccak(d.content_key), *wrap.as_args(), {"from": d.owner})
        if lic.state != State.SETTLED:
            assert tx is None

    def rule_settings(self, st_fee, st_bond):
        self.market.setSettings(st_fee, st_bond, {"from": self.admin})
        STATS[("rule_settings", "ok")] += 1
        self.settings.append((st_fee, st_bond))

    def rule_withdraw(self, st_who, st_token):
        who = (self.sellers + self.buyers)[st_who]
        asset = self.assets[st_token]
        tx = self._ok(self.market.withdraw, asset, who, {"from": who})
        owed = self.owed.pop((asset, str(who)), 0)
        assert (tx is not None) == (owed > 0)
        if tx is not None:
            assert tx.events["Withdrawn"]["amount"] == owed

    def rule_withdraw_fees(self, st_token):
        asset = self.assets[st_token]
        tx = self._ok(self.market.withdrawFees, asset, {"from": self.admin})
        assert (tx is not None) == (self.fees[asset] > 0)
        self.fees[asset] = 0

    def rule_sleep(self, st_sleep):
        chain.sleep(st_sleep)
        chain.mine()

    @rule(st_action=st.sampled_from(ACTIONS), st_a=pick, st_b=pick, st_c=st.integers(min_value=0, max_value=10**17))
    def step(self, st_action, st_a, st_b, st_c):
        """One action, drawn with the weights of ACTIONS, with its arguments derived from three numbers."""
        name = st_action
        if name == "publish":
            self.rule_publish(st_a % 2, st_c, bool(st_b % 2))
        elif name == "publish_version":
            self.rule_publish_version(st_a)
        elif name == "buy":
            self.rule_buy(st_a % 4, st_b, st_c % 7 if st_b % 3 == 0 else st_c % 3)
        elif name == "deliver":
            self.rule_deliver(st_a, st_b % 5)
        elif name == "settings":
            self.rule_settings(st_a % (self.max_fee_bps + 1), st_c % 10**16)
        elif name == "resolve":
            self.rule_resolve(st_a, [0, 10000, st_b % 10001][st_c % 3])
        elif name == "withdraw":
            owed = sorted(k for k, v in self.owed.items() if v)
            everyone = [str(a) for a in self.sellers + self.buyers]
            if owed and st_c % 3:  # mostly someone who is owed something
                asset, account = owed[st_a % len(owed)]
                self.rule_withdraw(everyone.index(account), asset != ZERO)
            else:
                self.rule_withdraw(st_a % 6, bool(st_b % 2))
        elif name == "withdraw_fees":
            self.rule_withdraw_fees(bool(st_b % 2))
        elif name == "sleep":
            self.rule_sleep(SLEEPS[st_a % len(SLEEPS)])
        else:
            getattr(self, f"rule_{name}")(st_a)

    # ----------------------------------------------------------------------------------------- invariants

    def _escrow(self):
        escrow = {a: 0 for a in self.assets}
        for lic in self.licences.values():
            if lic.state in (State.PENDING, State.DELIVERED, State.DATA_DISPUTED):
                escrow[lic.asset] += lic.price
            escrow[ZERO] += lic.posted_bond
        return escrow

    @invariant()
    def invariant_balance_is_escrow_plus_withdrawable(self):
        """Per asset: the marketplace holds the model's escrow + owed + fees, and the fees are the model's."""
        escrow = self._escrow()
        owed = {a: sum(v for (asset, _), v in self.owed.items() if asset == a) for a in self.assets}
        for asset in self.assets:
            assert self.lens.feesAccrued(asset) == self.fees[asset]
        assert self.market.balance() == escrow[ZERO] + owed[ZERO] + self.fees[ZERO]
        token_total = escrow[self.token.address] + owed[self.token.address] + self.fees[self.token.address]
        assert self.token.balanceOf(self.market) == token_total

    @invariant()
    def invariant_licence_state_matches_the_model(self):
        """The licence the last step acted on (checking all of them every step would slow the run down)."""
        lic, self.touched = self.touched, None
        if lic is not None:
            assert licence_of(self.lens, lic.id).state == lic.state, lic.id
            assert self.lens.bondOf(lic.id) == lic.posted_bond

    def teardown(self):
        """At the end of a run: every licence's state, everyone's balance, the token accounting."""
        for lic in self.licences.values():
            assert licence_of(self.lens, lic.id).state == lic.state, lic.id
            assert self.lens.bondOf(lic.id) == lic.posted_bond
        for asset in self.assets:
            for account in {str(a) for a in self.sellers + self.buyers}:
                assert self.market.balanceOwed(asset, account) == self.owed.get((asset, account), 0), (asset, account)
        assert self.lens.tokenHeld(self.token) == self.token.balanceOf(self.market)


def test_balances_always_cover_escrow_and_payouts(accounts, market, token, admin, arbiter, agent, fee_recipient):
    buyers = [accounts[4], accounts[8], accounts[9], accounts[6]]
    for b in buyers:
        token.mint(b, 10**24, {"from": admin})
    Marketplace.ctx = dict(market=market, token=token, lens=lens_of(market), admin=admin, arbiter=arbiter,
                           agent=agent, fees=fee_recipient, sellers=[accounts[3], accounts[7]], buyers=buyers)
    chain.snapshot()
    run_state_machine_as_test(
        Marketplace,
        settings=settings(max_examples=int(os.environ.get("STATEFUL_EXAMPLES", 20)), stateful_step_count=30,
                          deadline=None, suppress_health_check=list(HealthCheck), database=None,
                          phases=[Phase.generate]),
    )
    print("\n".join(f"{rule} {outcome}: {n}" for (rule, outcome), n in sorted(STATS.items())))

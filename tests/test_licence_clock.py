"""The licence clock (datalicense.protocol.lifecycle) against the contract itself: in every state, one second
before, at and after each deadline the clock computes, the set of actions it allows is exactly the set the contract
accepts (each simulated from the caller the clock names, at that block time). A dispute opened a day after the
delivery is the case the CLI once got wrong (issue 21, item 13): its arbiter deadline counts from the dispute."""

from __future__ import annotations

import os

import pytest
from brownie import chain, web3

from datalicense.protocol import keywrap
from datalicense.infra.market import Market
from datalicense.protocol.lifecycle import WHO, Action, LicenceClock, Role, State

from helpers import BOND, DAY, DeliveryKey, buy, deliver, publish

pytestmark = pytest.mark.chain


def _at(t: int) -> None:
    """Mine a block at time t: calls then run at exactly that block time."""
    chain.mine(timestamp=t)


def _accepted(market, lid, pub, key, callers, escrowed=None) -> frozenset[Action]:
    """The actions the contract accepts now, each simulated (eth_call) from the caller `WHO` names (a key dispute
    opens the `escrowed` delivery)."""
    r = int.from_bytes(os.urandom(31), "big") + 1
    wrap = keywrap.wrap_key(pub.content_key, lid, key.x, key.y, r)
    shown = escrowed or wrap
    fresh = DeliveryKey.random()
    calls = {
        Action.DELIVER: lambda f: market.deliverKey.call(lid, key.address, pub.key_hash, *wrap.as_args(), f),
        Action.REFUND: lambda f: market.refund.call(lid, f),
        Action.CONFIRM: lambda f: market.confirm.call(lid, f),
        Action.DISPUTE_KEY: lambda f: market.disputeKey.call(lid, key.scalar, (*shown.as_args(), pub.key_hash), f),
        Action.DISPUTE_DATA: lambda f: market.disputeData.call(lid, {**f, "value": BOND}),
        Action.SETTLE: lambda f: market.settle.call(lid, f),
        Action.RULE: lambda f: market.resolveData.call(lid, 0, f),
        Action.RESOLVE_DEFAULT: lambda f: market.resolveDataByDefault.call(lid, f),
        Action.REDELIVER: lambda f: market.redeliverKey.call(lid, pub.key_hash, *wrap.as_args(), f),
        Action.ROTATE_KEY: lambda f: market.rotateDeliveryKey.call(lid, fresh.x, fresh.y, f),
        Action.TRANSFER: lambda f: market.transferFrom.call(callers[Role.HOLDER], callers[Role.ANYONE], lid, f),
    }
    ok = set()
    for action, call in calls.items():
        try:
            call({"from": callers[WHO[action]]})
        except Exception:  # noqa: BLE001 - a revert of any kind means "not accepted now"
            continue
        ok.add(action)
    return frozenset(ok)


@pytest.fixture
def callers(seller, buyer, arbiter, stranger):
    return {Role.HOLDER: buyer, Role.DELIVERER: seller, Role.ARBITER: arbiter, Role.ANYONE: stranger}


@pytest.fixture
def reads(market):
    return Market(web3, market.address)


def _check(market, reads, lid, pub, key, callers, times, escrowed=None) -> LicenceClock:
    clock = reads.clock(lid)
    for t in sorted(set(times)):
        _at(t)
        assert reads.clock(lid) == clock  # the clock does not move with time: only a transaction changes it
        assert _accepted(market, lid, pub, key, callers, escrowed) == clock.allowed(t), (clock.state, t)
    return clock


def test_pending_deliver_until_the_deadline_then_refund(market, reads, seller, buyer, callers):
    pub = publish(market, seller, delivery=DAY)
    lid, key, tx = buy(market, pub.dataset_id, buyer)
    clock = reads.clock(lid)
    assert clock.state == State.PENDING and clock.deliver_by == tx.timestamp + DAY
    assert clock.refund_from == clock.deliver_by + 1 and clock.next_deadline().at == clock.refund_from
    _check(market, reads, lid, pub, key, callers, [clock.deliver_by - 1, clock.deliver_by, clock.refund_from])


def test_delivered_dispute_until_the_window_closes_and_data_dispute_only_while_valid(market, reads, seller, buyer,
                                                                                   callers):
    # a term shorter than the dispute window: a data dispute needs a valid licence, a key dispute does not
    pub = publish(market, seller, duration=DAY, dispute=2 * DAY, transferable=True)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    _, wrap, tx = deliver(market, lid, pub, key, seller)
    clock = reads.clock(lid)
    assert clock.dispute_by == tx.timestamp + 2 * DAY and clock.expires_at == tx.timestamp + DAY
    _check(market, reads, lid, pub, key, callers,
           [clock.expires_at - 1, clock.expires_at, clock.dispute_by, clock.settle_from], escrowed=wrap)


def test_arbiter_deadline_counts_from_the_dispute_not_the_delivery(market, reads, seller, buyer, callers):
    pub = publish(market, seller, dispute=2 * DAY)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    _, _, delivered = deliver(market, lid, pub, key, seller)
    _at(delivered.timestamp + DAY)
    opened = market.disputeData(lid, {"from": buyer, "value": BOND}).timestamp
    window = market.ARBITER_WINDOW()
    clock = reads.clock(lid)
    assert clock.state == State.DATA_DISPUTED and clock.dispute_opened == opened
    assert clock.arbiter_by == opened + window != delivered.timestamp + window
    assert clock.next_deadline().label == "arbiter rules by" and clock.next_deadline().at == opened + window
    # the old arithmetic's date (delivery + window) is a day early: no default then
    _check(market, reads, lid, pub, key, callers,
           [delivered.timestamp + window + 1, clock.arbiter_by, clock.default_from])


def test_settled_valid_for_its_term_transferable_and_redelivered(market, reads, seller, buyer, callers):
    pub = publish(market, seller, duration=3 * DAY, transferable=True)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, seller)
    market.confirm(lid, {"from": buyer})
    clock = reads.clock(lid)
    assert clock.state == State.SETTLED and clock.next_deadline().label == "expires"
    _check(market, reads, lid, pub, key, callers, [clock.expires_at - 1, clock.expires_at])


def test_ended_licences_allow_nothing(market, reads, seller, buyer, arbiter, callers):
    pub = publish(market, seller, delivery=DAY)
    refunded, key, tx = buy(market, pub.dataset_id, buyer)
    _at(tx.timestamp + DAY + 1)
    market.refund(refunded, {"from": buyer})
    clock = _check(market, reads, refunded, pub, key, callers, [tx.timestamp + 2 * DAY])
    assert clock.state == State.REFUNDED and not clock.allowed(tx.timestamp + 2 * DAY)
    resolved, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, resolved, pub, key, seller)
    market.disputeData(resolved, {"from": buyer, "value": BOND})
    market.resolveData(resolved, 5000, {"from": arbiter})
    clock = _check(market, reads, resolved, pub, key, callers, [web3.eth.get_block("latest")["timestamp"] + 1])
    assert clock.state == State.RESOLVED and clock.next_deadline().at == 0

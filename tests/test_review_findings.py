"""Findings of the independent review of marketplace v2, kept as tests (each was a working attack before its fix).

F1 (rotation in front of every delivery: key read from the reverted calldata, refund after the window) and
F5/F2 (a version published or a commitment reused after the purchase) are end-to-end tests in
test_offchain_attacks.py; the contract-level halves are here.
"""

import os

import pytest
from eth_utils import keccak

from datalicense.protocol.records import State
from helpers import BOND, DAY, ZERO, DeliveryKey, buy, deliver, licence_of, publish, reverts, sleep

pytestmark = pytest.mark.chain


def test_f4_an_expired_licence_cannot_be_revived_by_a_data_dispute(market, seller, buyer, agent):
    """A one-day licence, expired but still inside its two-day dispute window: before the fix a data dispute left
    unanswered settled by default, restarted the term and returned the bond (a free renewal)."""
    pub = publish(market, seller, agent=agent, duration=DAY)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    sleep(DAY + 3600)
    assert not market.isValid(lid)
    with reverts("Expired"):
        market.disputeData(lid, {"from": buyer, "value": BOND})


def test_f4_a_ruling_for_the_seller_extends_the_term_by_the_dispute_only(market, lens, seller, buyer, agent,
                                                                       arbiter):
    """A ruling for the seller (or the default) gives back the time spent in dispute, not a new term."""
    pub = publish(market, seller, agent=agent, duration=10 * DAY)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    delivered_at = licence_of(lens, lid).stamp
    sleep(DAY)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    opened = lens.disputeOpenedAt(lid)
    assert lens.bondOf(lid) == BOND and opened > delivered_at
    sleep(3 * DAY)
    tx = market.resolveData(lid, 0, {"from": arbiter})
    ruled = tx.timestamp
    assert licence_of(lens, lid).state == State.SETTLED  # valid
    assert lens.expiresAt(lid) == delivered_at + 10 * DAY + (ruled - opened)
    assert market.balanceOwed(ZERO, seller) >= BOND  # the bond is forfeit to the seller


def test_f4_the_default_also_extends_by_the_dispute_only(market, lens, seller, buyer, agent):
    pub = publish(market, seller, agent=agent, duration=30 * DAY)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    delivered_at = licence_of(lens, lid).stamp
    market.disputeData(lid, {"from": buyer, "value": BOND})
    opened = lens.disputeOpenedAt(lid)
    sleep(market.ARBITER_WINDOW() + 1)
    tx = market.resolveDataByDefault(lid, {"from": buyer})
    assert lens.expiresAt(lid) == delivered_at + 30 * DAY + (tx.timestamp - opened)
    assert market.balanceOwed(ZERO, buyer) == BOND


def test_f1_rotation_is_refused_while_pending(market, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    new = DeliveryKey.random()
    with reverts("WrongState"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})
    deliver(market, lid, pub, key, agent)
    market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})  # after delivery: later deliveries go to it


def test_f5_the_escrowed_delivery_carries_the_version_bought(market, lens, seller, buyer, agent):
    """A new version published after the purchase cannot be what escrow delivers."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    junk = os.urandom(32)
    market.publishVersion(pub.dataset_id, b"\x01\x55\x12\x20" + os.urandom(32), keccak(b"junk"), keccak(junk),
                          {"from": seller})
    assert lens.purchasedVersion(lid) == 1
    with reverts("KeyCommitmentChanged"):
        deliver(market, lid, pub, key, agent, content_key=junk, key_hash=keccak(junk))
    deliver(market, lid, pub, key, agent)  # the version bought
    assert licence_of(lens, lid).state == State.DELIVERED

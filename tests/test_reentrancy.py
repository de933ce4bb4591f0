"""Reentrancy: a malicious RBTC receiver and a malicious ERC-677 token cannot re-enter to take more."""

import pytest
from brownie import ReentrantReceiver
from eth_utils import keccak

from helpers import DAY, PRICE, ZERO, buy, buy_token, current_purchase, publish, reverts, sleep, token_data
from datalicense.protocol import keywrap

pytestmark = pytest.mark.chain

GUARD_ERROR = keccak(b"ReentrancyGuardReentrantCall()")[:4]


def test_receiver_reentering_withdraw_gets_nothing_more(market, seller, buyer, admin):
    pub = publish(market, seller)
    attacker = ReentrantReceiver.deploy(market, {"from": admin})
    # the attacker buys for itself; the seller never delivers; the attacker is refunded
    p, _ = current_purchase(market, pub.dataset_id)
    attacker.call(market.buy.encode_input(p), {"from": admin, "value": PRICE})
    # a second, honest buyer's money sits in escrow too
    p2, _ = current_purchase(market, pub.dataset_id)
    market.buy(p2, {"from": buyer, "value": PRICE})
    sleep(DAY + 1)
    market.refund(1, {"from": admin})
    assert market.balanceOwed(ZERO, attacker) == PRICE
    withdraw = market.withdraw.encode_input(ZERO, attacker)
    attacker.arm(withdraw, {"from": admin})
    attacker.call(withdraw, {"from": admin})
    assert attacker.received() == PRICE
    assert attacker.attackSucceeded() is False
    assert bytes(attacker.attackError())[:4] == GUARD_ERROR
    assert market.balance() == PRICE  # the honest buyer's escrow is intact
    assert market.balanceOwed(ZERO, attacker) == 0


def test_receiver_reentering_buy_from_a_payout_is_stopped(market, seller, buyer, admin, agent):
    """The seller is a contract: when its revenue arrives it tries to buy with it in the same call."""
    attacker = ReentrantReceiver.deploy(market, {"from": admin})
    pub = publish(market, seller, agent=agent, price=0)
    p, _ = current_purchase(market, pub.dataset_id)
    market.transferDataset(pub.dataset_id, attacker, {"from": seller})
    attacker.call(market.acceptDataset.encode_input(pub.dataset_id), {"from": admin})
    paid = publish(market, seller, agent=agent)
    market.transferDataset(paid.dataset_id, attacker, {"from": seller})
    attacker.call(market.acceptDataset.encode_input(paid.dataset_id), {"from": admin})
    lid, key, _ = buy(market, paid.dataset_id, buyer)
    wrap = keywrap.wrap_key(paid.content_key, lid, key.x, key.y, 12345)
    attacker.call(market.deliverKey.encode_input(lid, key.address, paid.key_hash, *wrap.as_args()), {"from": admin})
    market.confirm(lid, {"from": buyer})
    attacker.arm(market.buy.encode_input(p), {"from": admin})
    attacker.call(market.withdraw.encode_input(ZERO, attacker), {"from": admin})
    assert attacker.attackSucceeded() is False
    assert bytes(attacker.attackError())[:4] == GUARD_ERROR
    assert market.balanceOf(attacker) == 0


def test_malicious_erc677_token_cannot_reenter_on_a_refund_withdrawal(market, seller, buyer, evil_token, admin):
    pub = publish(market, seller, asset=evil_token.address)
    p, _ = current_purchase(market, pub.dataset_id)
    evil_token.transferAndCall(market, PRICE, token_data(p), {"from": buyer})
    sleep(DAY + 1)
    market.refund(1, {"from": buyer})
    # when the refund leaves the market, the token calls tokenFallback to mint a free licence
    p2, _ = current_purchase(market, pub.dataset_id)
    evil_token.arm(market, market.tokenFallback.encode_input(buyer, PRICE, token_data(p2)), {"from": admin})
    market.withdraw(evil_token, buyer, {"from": buyer})
    assert evil_token.attackSucceeded() is False
    assert bytes(evil_token.attackError())[:4] == GUARD_ERROR
    assert market.balanceOf(buyer) == 1
    assert evil_token.balanceOf(market) == 0


def test_token_that_lies_about_the_amount_is_refused(market, seller, buyer, evil_token):
    pub = publish(market, seller, asset=evil_token.address)
    p, _ = current_purchase(market, pub.dataset_id)
    with reverts("TokenNotReceived"):
        evil_token.lieAndCall(market, 1, PRICE, token_data(p), {"from": buyer})
    with reverts("TokenNotReceived"):
        evil_token.lieAndCall(market, 0, PRICE, token_data(p), {"from": buyer})
    assert market.balanceOf(buyer) == 0
    assert evil_token.balanceOf(market) == 0


def test_malicious_token_reentering_withdraw_is_stopped(market, seller, buyer, evil_token, admin, agent):
    pub = publish(market, seller, agent=agent, asset=evil_token.address)
    for _ in range(2):
        lid, _, _ = buy_token(market, evil_token, pub.dataset_id, buyer)
        sleep(DAY + 1)
        market.refund(lid, {"from": buyer})
    # the buyer is owed 2*PRICE; during the first payout the token asks for a second withdrawal
    evil_token.arm(market, market.withdraw.encode_input(evil_token, buyer), {"from": admin})
    before = evil_token.balanceOf(buyer)
    market.withdraw(evil_token, buyer, {"from": buyer})
    assert evil_token.attackSucceeded() is False
    assert bytes(evil_token.attackError())[:4] == GUARD_ERROR
    assert evil_token.balanceOf(buyer) == before + 2 * PRICE
    assert evil_token.balanceOf(market) == 0

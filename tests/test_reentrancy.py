"""Reentrancy: a malicious RBTC receiver and a malicious ERC-677 token cannot re-enter to take more."""

from brownie import ReentrantReceiver
from eth_abi import encode
from eth_utils import keccak

from conftest import DAY, PRICE, ZERO, DeliveryKey, publish, reverts, sleep

GUARD_ERROR = keccak(b"ReentrancyGuardReentrantCall()")[:4]


def test_receiver_reentering_withdraw_gets_nothing_more(market, seller, buyer, admin):
    pub = publish(market, seller)
    attacker = ReentrantReceiver.deploy(market, {"from": admin})
    key = DeliveryKey.random()
    # the attacker buys for itself; the seller never delivers; the attacker is refunded
    buy_data = market.buy.encode_input(pub.dataset_id, ZERO, key.x, key.y, PRICE)
    attacker.call(buy_data, {"from": admin, "value": PRICE})
    # a second, honest buyer's money sits in escrow too
    key2 = DeliveryKey.random()
    market.buy(pub.dataset_id, ZERO, key2.x, key2.y, PRICE, {"from": buyer, "value": PRICE})
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


def test_receiver_reentering_from_an_excess_refund_is_stopped(market, seller, admin):
    pub = publish(market, seller)
    attacker = ReentrantReceiver.deploy(market, {"from": admin})
    key = DeliveryKey.random()
    buy_data = market.buy.encode_input(pub.dataset_id, ZERO, key.x, key.y, PRICE)
    attacker.arm(buy_data, {"from": admin})  # re-enter buy when the excess comes back
    attacker.call(buy_data, {"from": admin, "value": 3 * PRICE})
    assert attacker.attackSucceeded() is False
    assert bytes(attacker.attackError())[:4] == GUARD_ERROR
    assert attacker.received() == 2 * PRICE
    assert market.balanceOf(attacker) == 1
    assert market.balance() == PRICE


def test_malicious_erc677_token_cannot_reenter_on_the_excess_refund(market, seller, buyer, evil_token, admin):
    pub = publish(market, seller, asset=evil_token.address)
    key = DeliveryKey.random()
    data = encode(["uint256", "address", "bytes32", "bytes32"], [pub.dataset_id, ZERO, key.x, key.y])
    # when the excess leaves the market, the token calls tokenFallback again to mint a free licence
    evil_token.arm(market, market.tokenFallback.encode_input(buyer, PRICE, data), {"from": admin})
    evil_token.transferAndCall(market, 2 * PRICE, data, {"from": buyer})
    assert evil_token.attackSucceeded() is False
    assert bytes(evil_token.attackError())[:4] == GUARD_ERROR
    assert market.balanceOf(buyer) == 1
    assert evil_token.balanceOf(market) == PRICE


def test_token_that_lies_about_the_amount_is_refused(market, seller, buyer, evil_token):
    pub = publish(market, seller, asset=evil_token.address)
    key = DeliveryKey.random()
    data = encode(["uint256", "address", "bytes32", "bytes32"], [pub.dataset_id, ZERO, key.x, key.y])
    with reverts("TokenNotReceived"):
        evil_token.lieAndCall(market, 1, PRICE, data, {"from": buyer})
    assert market.balanceOf(buyer) == 0
    assert evil_token.balanceOf(market) == 0


def test_malicious_token_reentering_withdraw_is_stopped(market, seller, buyer, evil_token, admin, agent):
    pub = publish(market, seller, agent=agent, asset=evil_token.address)
    for _ in range(2):
        key = DeliveryKey.random()
        evil_token.approve(market, PRICE, {"from": buyer})
        tx = market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})
        lid = tx.events["LicencePurchased"]["licenceId"]
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

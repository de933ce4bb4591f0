"""Key delivery, confirmation, settlement, both disputes, the delivery proof, refunds and withdrawals."""

import os

import pytest

from conftest import BOND, DAY, FEE_BPS, PRICE, ZERO, DeliveryKey, buy, deliver, proof, publish, reverts, sleep
from datalicense import keywrap

FEE = PRICE * FEE_BPS // 10000
PROOF_WINDOW = 3 * DAY
ARBITER_WINDOW = 14 * DAY


@pytest.fixture
def sold(market, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    return pub, lid, key


def test_delivery_by_agent_or_owner_only(market, sold, seller, agent, stranger, buyer):
    pub, lid, key = sold
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, stranger)
    r, wrap, tx = deliver(market, lid, pub, key, seller)
    e = tx.events["KeyDelivered"]
    assert (e["rX"], e["rY"], e["wrappedKey"], e["keyHash"]) == (
        "0x" + wrap.r_x.hex(), "0x" + wrap.r_y.hex(), "0x" + wrap.wrapped_key.hex(), "0x" + pub.key_hash.hex())
    assert keywrap.unwrap_key(wrap, lid, key.private) == pub.content_key
    assert market.licence(lid)[3] == 2  # Delivered
    assert market.isValid(lid)
    with reverts("WrongState"):
        deliver(market, lid, pub, key, agent)
    with reverts("UnknownLicence: 999"):
        market.deliverKey(999, *wrap.as_args(), {"from": agent})


def test_delivery_after_the_deadline_is_refused_and_refunded(market, sold, agent, buyer):
    pub, lid, key = sold
    with reverts("TooEarly"):
        market.refund(lid, {"from": buyer})
    sleep(DAY + 1)
    with reverts("TooLate"):
        deliver(market, lid, pub, key, agent)
    tx = market.refund(lid, {"from": buyer})
    assert tx.events["LicenceRefunded"]["amount"] == PRICE
    assert market.balanceOwed(ZERO, buyer) == PRICE
    assert market.licence(lid)[3] == 6  # Refunded
    assert not market.isValid(lid)
    with reverts("WrongState"):
        market.refund(lid, {"from": buyer})
    with reverts("UnknownLicence"):
        market.refund(12345, {"from": buyer})


def test_confirm_pays_seller_and_fee(market, sold, agent, buyer, seller, stranger):
    pub, lid, key = sold
    with reverts("WrongState"):
        market.confirm(lid, {"from": buyer})
    deliver(market, lid, pub, key, agent)
    with reverts("NotLicenceHolder"):
        market.confirm(lid, {"from": stranger})
    tx = market.confirm(lid, {"from": buyer})
    e = tx.events["LicenceSettled"]
    assert (e["payee"], e["sellerAmount"], e["fee"]) == (seller, PRICE - FEE, FEE)
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert market.feesAccrued(ZERO) == FEE
    assert market.deliveryRecord(lid) == "0x" + "00" * 32
    assert market.isValid(lid)


def test_fee_is_fixed_at_purchase(market, sold, agent, buyer, seller, admin):
    pub, lid, key = sold
    market.setFee(1000, {"from": admin})
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    assert market.feesAccrued(ZERO) == FEE


def test_settle_after_dispute_window(market, sold, agent, stranger, seller):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    with reverts("TooEarly"):
        market.settle(lid, {"from": stranger})
    sleep(2 * DAY + 1)
    market.settle(lid, {"from": stranger})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    with reverts("WrongState"):
        market.settle(lid, {"from": stranger})


def test_right_key_proves_and_seller_takes_the_bond(market, sold, agent, buyer, seller, stranger):
    pub, lid, key = sold
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    with reverts("WrongBond"):
        market.disputeKey(lid, {"from": buyer, "value": BOND - 1})
    with reverts("NotLicenceHolder"):
        market.disputeKey(lid, {"from": stranger, "value": BOND})
    market.disputeKey(lid, {"from": buyer, "value": BOND})
    assert market.bondOf(lid) == BOND
    assert not market.isValid(lid)
    tx = market.proveKey(lid, proof(r, wrap, key, pub.key_hash), {"from": stranger})  # anyone may submit
    assert tx.events["KeyProved"]["keyCorrect"] is True
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE + BOND
    assert market.balanceOwed(ZERO, buyer) == 0
    assert market.licence(lid)[3] == 3
    # the licence term starts at the proof
    assert market.expiresAt(lid) == tx.timestamp + 30 * DAY


def test_wrong_key_is_exposed_by_the_proof_and_refunded(market, sold, agent, buyer, seller):
    pub, lid, key = sold
    bogus = os.urandom(32)
    r, wrap, _ = deliver(market, lid, pub, key, agent, content_key=bogus)
    assert keywrap.unwrap_key(wrap, lid, key.private) != pub.content_key
    market.disputeKey(lid, {"from": buyer, "value": BOND})
    tx = market.proveKey(lid, proof(r, wrap, key, pub.key_hash), {"from": agent})
    assert tx.events["KeyProved"]["keyCorrect"] is False
    assert market.balanceOwed(ZERO, buyer) == PRICE + BOND
    assert market.balanceOwed(ZERO, seller) == 0
    assert market.licence(lid)[3] == 6


def test_wrong_r_or_wrong_reveal_cannot_prove(market, sold, agent, buyer):
    pub, lid, key = sold
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    market.disputeKey(lid, {"from": buyer, "value": BOND})
    other = DeliveryKey.random()
    for bad in [
        proof(r + 1, wrap, key, pub.key_hash),  # wrong r
        proof(r, keywrap.Wrap(wrap.r_x, wrap.r_y, os.urandom(32)), key, pub.key_hash),  # other W
        proof(r, wrap, other, pub.key_hash),  # other delivery key
        proof(r, wrap, key, os.urandom(32)),  # other key commitment
    ]:
        with reverts("ProofMismatch"):
            market.proveKey(lid, bad, {"from": agent})
    assert market.licence(lid)[3] == 4  # still KeyDisputed


def test_scalar_out_of_range_is_rejected(market, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    # a delivery whose R is not r*G for any r the seller can reveal
    n = keywrap.N
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    market.disputeKey(lid, {"from": buyer, "value": BOND})
    for bad_r in (0, n, 2**256 - 1):
        with reverts("InvalidScalar"):
            market.proveKey(lid, proof(bad_r, wrap, key, pub.key_hash), {"from": agent})


def test_silent_seller_loses_after_the_proof_window(market, sold, agent, buyer, seller):
    pub, lid, key = sold
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    market.disputeKey(lid, {"from": buyer, "value": BOND})
    with reverts("TooEarly"):
        market.refund(lid, {"from": buyer})
    sleep(PROOF_WINDOW + 1)
    with reverts("TooLate"):
        market.proveKey(lid, proof(r, wrap, key, pub.key_hash), {"from": agent})
    market.refund(lid, {"from": seller})  # anyone may trigger it
    assert market.balanceOwed(ZERO, buyer) == PRICE + BOND


def test_dispute_window_closes(market, sold, agent, buyer):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    sleep(2 * DAY + 1)
    with reverts("TooLate"):
        market.disputeKey(lid, {"from": buyer, "value": BOND})
    with reverts("TooLate"):
        market.disputeData(lid, {"from": buyer, "value": BOND})


def test_data_dispute_split_by_the_arbiter(market, sold, agent, buyer, seller, arbiter, stranger):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    tx = market.disputeData(lid, {"from": buyer, "value": BOND})
    assert tx.events["DataDisputed"]["bond"] == BOND
    with reverts("NotArbiter"):
        market.resolveData(lid, 3000, {"from": stranger})
    with reverts("InvalidSplit"):
        market.resolveData(lid, 10001, {"from": arbiter})
    market.resolveData(lid, 3000, {"from": arbiter})
    buyer_part = PRICE * 3000 // 10000
    seller_gross = PRICE - buyer_part
    fee = seller_gross * FEE_BPS // 10000
    assert market.balanceOwed(ZERO, buyer) == buyer_part + BOND
    assert market.balanceOwed(ZERO, seller) == seller_gross - fee
    assert market.feesAccrued(ZERO) == fee
    assert market.licence(lid)[3] == 7
    assert not market.isValid(lid)
    with reverts("WrongState"):
        market.resolveData(lid, 0, {"from": arbiter})


def test_data_dispute_lost_by_buyer_forfeits_bond(market, sold, agent, buyer, seller, arbiter):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    market.resolveData(lid, 0, {"from": arbiter})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE + BOND
    assert market.balanceOwed(ZERO, buyer) == 0


def test_absent_arbiter_default(market, sold, agent, buyer, seller, stranger):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    with reverts("TooEarly"):
        market.resolveDataByDefault(lid, {"from": stranger})
    sleep(ARBITER_WINDOW + 1)
    tx = market.resolveDataByDefault(lid, {"from": stranger})
    assert tx.events["DataDisputeResolved"]["byDefault"] is True
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert market.balanceOwed(ZERO, buyer) == BOND
    assert market.isValid(lid)


def test_withdrawals(market, sold, agent, buyer, seller, fee_recipient, stranger):
    pub, lid, key = sold
    with reverts("NothingToWithdraw"):
        market.withdraw(ZERO, seller, {"from": seller})
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    with reverts("ZeroAddress"):
        market.withdraw(ZERO, ZERO, {"from": seller})
    before = stranger.balance()
    tx = market.withdraw(ZERO, stranger, {"from": seller})  # pay to another address
    assert stranger.balance() == before + PRICE - FEE
    assert tx.events["Withdrawn"]["amount"] == PRICE - FEE
    assert market.balanceOwed(ZERO, seller) == 0
    before = fee_recipient.balance()
    market.withdrawFees(ZERO, {"from": stranger})
    assert fee_recipient.balance() == before + FEE
    with reverts("NothingToWithdraw"):
        market.withdrawFees(ZERO, {"from": stranger})
    assert market.balance() == 0
    with reverts("AssetNotAllowed"):
        market.withdraw("0x" + "33" * 20, seller, {"from": seller})


def test_token_escrow_round_trip(market, seller, buyer, agent, token, fee_recipient):
    pub = publish(market, seller, agent=agent, asset=token.address)
    key = DeliveryKey.random()
    token.approve(market, PRICE, {"from": buyer})
    tx = market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})
    lid = tx.events["LicencePurchased"]["licenceId"]
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    market.withdraw(token, seller, {"from": seller})
    market.withdrawFees(token, {"from": buyer})
    assert token.balanceOf(seller) == PRICE - FEE
    assert token.balanceOf(fee_recipient) == FEE
    assert token.balanceOf(market) == 0


def test_proof_against_shared_vectors(market, seller, buyer, agent):
    """The Python wrap and the contract agree on vectors computed independently of the contract."""
    import json
    from pathlib import Path

    vectors = json.loads((Path(__file__).parent / "vectors" / "keywrap.json").read_text())
    for v in vectors:
        content_key = bytes.fromhex(v["contentKey"])
        key = DeliveryKey(bytes.fromhex(v["deliveryPrivateKey"]), bytes.fromhex(v["deliveryKeyX"]),
                          bytes.fromhex(v["deliveryKeyY"]))
        # publish and buy until the licence id matches the vector's
        pub = publish(market, seller, agent=agent)
        pub.content_key, pub.key_hash = content_key, bytes.fromhex(v["keyHash"])
        market.publishVersion(pub.dataset_id, b"\x01", b"\x00" * 32, pub.key_hash, {"from": seller})
        while True:
            lid, _, _ = buy(market, pub.dataset_id, buyer, key=key)
            if lid >= v["licenceId"]:
                break
        assert lid == v["licenceId"]
        wrap = keywrap.Wrap(bytes.fromhex(v["rX"]), bytes.fromhex(v["rY"]), bytes.fromhex(v["wrappedKey"]))
        market.deliverKey(lid, *wrap.as_args(), {"from": agent})
        market.disputeKey(lid, {"from": buyer, "value": BOND})
        tx = market.proveKey(lid, proof(int(v["r"], 16), wrap, key, pub.key_hash), {"from": agent})
        assert tx.events["KeyProved"]["keyCorrect"] is v["keyCorrect"]


def test_zero_fee_and_zero_bond(market, seller, buyer, agent, admin):
    market.setFee(0, {"from": admin})
    market.setDisputeBond(0, {"from": admin})
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    market.disputeKey(lid, {"from": buyer, "value": 0})
    assert market.bondOf(lid) == 0
    market.proveKey(lid, proof(r, wrap, key, pub.key_hash), {"from": agent})
    assert market.balanceOwed(ZERO, seller) == PRICE
    assert market.feesAccrued(ZERO) == 0


def test_payout_to_an_address_that_refuses_rbtc_fails_and_keeps_the_balance(market, sold, agent, buyer, seller,
                                                                            token):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    with reverts("TransferFailed"):
        market.withdraw(ZERO, token, {"from": seller})  # a token contract has no receive()
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE

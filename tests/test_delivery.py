"""Key delivery, rotation, confirmation, settlement, the buyer's key dispute, data disputes, refunds, withdrawals."""

import json
import os
from pathlib import Path

import pytest

from helpers import (
    BOND, DAY, FEE_BPS, PRICE, ZERO, DeliveryKey, Published, account_key, buy, buy_token, deliver, dispute_key, escrowed,
    licence_of, publish, reverts, sleep,
)
from datalicense.protocol import keywrap
from datalicense.protocol.records import State

pytestmark = pytest.mark.chain

FEE = PRICE * FEE_BPS // 10000
ZERO32 = "0x" + "00" * 32


@pytest.fixture
def sold(market, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    return pub, lid, key


def commitment(wrap, key_hash, key, version=1):
    from datalicense.protocol.records import escrowed_delivery_record

    return "0x" + escrowed_delivery_record(wrap.r_x, wrap.r_y, wrap.wrapped_key, key_hash, key.address, version).hex()


def test_delivery_by_agent_or_owner_only(market, lens, sold, seller, agent, stranger, buyer):
    pub, lid, key = sold
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, stranger)
    _, wrap, tx = deliver(market, lid, pub, key, seller)
    e = tx.events["KeyDelivered"]
    assert (e["rX"], e["rY"], e["wrappedKey"], e["keyHash"]) == (
        "0x" + wrap.r_x.hex(), "0x" + wrap.r_y.hex(), "0x" + wrap.wrapped_key.hex(), "0x" + pub.key_hash.hex())
    assert keywrap.unwrap_key(wrap, lid, key.private) == pub.content_key
    lic = licence_of(lens, lid)
    assert (lic.stamp, lic.state) == (tx.timestamp, State.DELIVERED)
    assert lens.deliveryRecord(lid) == commitment(wrap, pub.key_hash, key)
    assert lens.pendingDeliveryKey(lid) == ZERO
    assert market.isValid(lid)
    with reverts("WrongState"):
        deliver(market, lid, pub, key, agent)
    with reverts("UnknownLicence: 999"):
        market.deliverKey(999, key.address, pub.key_hash, *wrap.as_args(), {"from": agent})


def test_delivery_names_key_and_commitment(market, sold, agent):
    pub, lid, key = sold
    other = DeliveryKey.random()
    with reverts(f"DeliveryKeyChanged: {lid}, {key.address}, {other.address}"):
        deliver(market, lid, pub, key, agent, key_address=other.address)
    bad_hash = os.urandom(32)
    with reverts(f"KeyCommitmentChanged: {lid}, "):
        deliver(market, lid, pub, key, agent, key_hash=bad_hash)
    with reverts("InvalidPoint"):
        market.deliverKey(lid, key.address, pub.key_hash, (1).to_bytes(32, "big"), (1).to_bytes(32, "big"),
                          os.urandom(32), {"from": agent})
    deliver(market, lid, pub, key, agent)


def test_delivery_after_the_deadline_is_refused_and_refunded(market, lens, sold, agent, buyer, stranger):
    pub, lid, key = sold
    with reverts("TooEarly"):
        market.refund(lid, {"from": buyer})
    sleep(DAY + 1)
    with reverts("TooLate"):
        deliver(market, lid, pub, key, agent)
    tx = market.refund(lid, {"from": stranger})  # anyone may trigger it; the holder is paid
    e = tx.events["LicenceRefunded"]
    assert (e["to"], e["amount"], e["bond"]) == (buyer, PRICE, 0)
    assert market.balanceOwed(ZERO, buyer) == PRICE
    lic = licence_of(lens, lid)
    assert (lic.stamp, lic.state) == (tx.timestamp, State.REFUNDED)
    assert lens.deliveryRecord(lid) == ZERO32
    assert not market.isValid(lid)
    with reverts("WrongState"):
        market.refund(lid, {"from": buyer})
    with reverts("UnknownLicence"):
        market.refund(12345, {"from": buyer})


def test_confirm_pays_seller_and_fee(market, lens, sold, agent, buyer, seller, stranger):
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
    assert lens.feesAccrued(ZERO) == FEE
    assert lens.deliveryRecord(lid) == ZERO32
    assert licence_of(lens, lid).state == State.SETTLED
    assert market.isValid(lid)


def test_fee_and_bond_are_fixed_at_purchase(market, lens, sold, agent, buyer, seller, admin, arbiter):
    pub, lid, key = sold
    tx = market.setSettings(1000, 3 * BOND, {"from": admin})
    assert list(tx.events["SettingsSet"].values()) == [2, 1000, 3 * BOND]
    assert licence_of(lens, lid).settings_id == 1
    assert lens.licenceSettings(lid).dict() == {"feeBps": FEE_BPS, "disputeBond": BOND}
    deliver(market, lid, pub, key, agent)
    with reverts(f"WrongBond: {BOND}, {3 * BOND}"):
        market.disputeData(lid, {"from": buyer, "value": 3 * BOND})
    market.disputeData(lid, {"from": buyer, "value": BOND})
    market.resolveData(lid, 0, {"from": arbiter})
    assert lens.feesAccrued(ZERO) == FEE
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE + BOND
    # a licence bought now carries the new settings
    lid2, _, _ = buy(market, pub.dataset_id, buyer)
    assert licence_of(lens, lid2).settings_id == 2
    assert lens.licenceSettings(lid2).dict() == {"feeBps": 1000, "disputeBond": 3 * BOND}


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
    with reverts("UnknownLicence"):
        market.settle(999, {"from": stranger})


def test_buyer_proves_a_wrong_key_and_is_refunded_at_once(market, lens, sold, agent, buyer, seller):
    pub, lid, key = sold
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    assert keywrap.unwrap_key(wrap, lid, key.private) != pub.content_key
    tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert list(tx.events["KeyDisputeDecided"].values()) == [lid, False]
    assert tx.events["LicenceRefunded"]["amount"] == PRICE
    assert market.balanceOwed(ZERO, buyer) == PRICE
    assert market.balanceOwed(ZERO, seller) == 0
    assert licence_of(lens, lid).state == State.REFUNDED
    assert lens.deliveryRecord(lid) == ZERO32
    assert not market.isValid(lid)


def test_buyer_disputing_a_right_key_settles_to_the_seller(market, lens, sold, agent, buyer, seller):
    pub, lid, key = sold
    _, wrap, dtx = deliver(market, lid, pub, key, agent)
    tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert list(tx.events["KeyDisputeDecided"].values()) == [lid, True]
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert market.balanceOwed(ZERO, buyer) == 0
    assert licence_of(lens, lid).state == State.SETTLED
    assert lens.expiresAt(lid) == dtx.timestamp + 30 * DAY  # the term still runs from delivery


def test_key_dispute_checks_the_revealed_key_and_delivery(market, sold, agent, buyer, stranger):
    pub, lid, key = sold
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    with reverts("NotLicenceHolder"):
        dispute_key(market, lid, key, wrap, pub.key_hash, stranger)
    for bad in (0, keywrap.N, 2**256 - 1):
        with reverts("InvalidScalar"):
            market.disputeKey(lid, bad, escrowed(wrap, pub.key_hash), {"from": buyer})
    with reverts(f"ProofMismatch: {lid}"):
        dispute_key(market, lid, DeliveryKey.random(), wrap, pub.key_hash, buyer)
    other = keywrap.Wrap(wrap.r_x, wrap.r_y, os.urandom(32))
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, other, pub.key_hash, buyer)
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, wrap, os.urandom(32), buyer)
    dispute_key(market, lid, key, wrap, pub.key_hash, buyer)


def test_key_dispute_needs_a_delivered_licence(market, sold, buyer):
    pub, lid, key = sold
    wrap = keywrap.wrap_key(pub.content_key, lid, key.x, key.y, 7)
    with reverts("WrongState"):
        dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    with reverts("NotLicenceHolder"):
        dispute_key(market, 999, key, wrap, pub.key_hash, buyer)


def test_dispute_window_closes(market, sold, agent, buyer):
    pub, lid, key = sold
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    sleep(2 * DAY + 1)
    with reverts("TooLate"):
        dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    with reverts("TooLate"):
        market.disputeData(lid, {"from": buyer, "value": BOND})


def test_rotation_refused_before_delivery(market, lens, sold, agent, buyer, stranger):
    """No rotation while Pending: a rotation in front of a delivery would make it fail after its calldata revealed
    K (see test_marketplace_attacks)."""
    pub, lid, key = sold
    new = DeliveryKey.random()
    with reverts("NotLicenceHolder"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": stranger})
    with reverts(f"WrongState: {lid}, {State.PENDING:d}"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})
    assert lens.pendingDeliveryKey(lid) == key.address
    _, wrap, _ = deliver(market, lid, pub, key, agent)
    assert keywrap.unwrap_key(wrap, lid, key.private) == pub.content_key
    # once delivered, the holder may name a new key for later deliveries; the checks apply
    with reverts("InvalidDeliveryKey"):
        market.rotateDeliveryKey(lid, (1).to_bytes(32, "big"), (1).to_bytes(32, "big"), {"from": buyer})
    mine = account_key(buyer)
    with reverts(f"DeliveryKeyIsAccount: {buyer.address}"):
        market.rotateDeliveryKey(lid, mine.x, mine.y, {"from": buyer})
    tx = market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})
    assert list(tx.events["DeliveryKeyRotated"].values()) == [lid, "0x" + new.x.hex(), "0x" + new.y.hex()]
    dispute_key(market, lid, key, wrap, pub.key_hash, buyer)  # the dispute is against the escrowed delivery's key
    assert licence_of(lens, lid).state == State.SETTLED


def test_rotation_after_delivery_keeps_the_escrowed_delivery(market, lens, sold, agent, buyer, arbiter):
    pub, lid, key = sold
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    record = lens.deliveryRecord(lid)
    new = DeliveryKey.random()
    market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})
    assert lens.deliveryRecord(lid) == record
    with reverts("ProofMismatch"):
        dispute_key(market, lid, new, wrap, pub.key_hash, buyer)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})  # allowed while data-disputed
    market.resolveData(lid, 5000, {"from": arbiter})
    with reverts("WrongState"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})


def test_rotation_refused_after_refund(market, sold, buyer):
    pub, lid, key = sold
    sleep(DAY + 1)
    market.refund(lid, {"from": buyer})
    new = DeliveryKey.random()
    with reverts(f"WrongState: {lid}, {State.REFUNDED:d}"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})


def test_data_dispute_split_by_the_arbiter(market, lens, sold, agent, buyer, seller, arbiter, stranger):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    with reverts("NotLicenceHolder"):
        market.disputeData(lid, {"from": stranger, "value": BOND})
    with reverts("WrongBond"):
        market.disputeData(lid, {"from": buyer, "value": BOND - 1})
    tx = market.disputeData(lid, {"from": buyer, "value": BOND})
    assert tx.events["DataDisputed"]["bond"] == BOND
    assert lens.bondOf(lid) == BOND
    assert licence_of(lens, lid).state == State.DATA_DISPUTED
    assert not market.isValid(lid)
    with reverts("NotArbiter"):
        market.resolveData(lid, 3000, {"from": stranger})
    with reverts("InvalidSplit"):
        market.resolveData(lid, 10001, {"from": arbiter})
    tx = market.resolveData(lid, 3000, {"from": arbiter})
    assert list(tx.events["DataDisputeResolved"].values()) == [lid, 3000, False]
    buyer_part = PRICE * 3000 // 10000
    seller_gross = PRICE - buyer_part
    fee = seller_gross * FEE_BPS // 10000
    assert market.balanceOwed(ZERO, buyer) == buyer_part + BOND
    assert market.balanceOwed(ZERO, seller) == seller_gross - fee
    assert lens.feesAccrued(ZERO) == fee
    assert lens.bondOf(lid) == 0
    assert licence_of(lens, lid).state == State.RESOLVED
    assert lens.deliveryRecord(lid) == ZERO32
    assert not market.isValid(lid)
    with reverts("WrongState"):
        market.resolveData(lid, 0, {"from": arbiter})
    with reverts("UnknownLicence"):
        market.resolveData(999, 0, {"from": arbiter})


def test_data_dispute_full_refund(market, sold, agent, buyer, seller, arbiter, lens):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    market.disputeData(lid, {"from": buyer, "value": BOND})
    market.resolveData(lid, 10000, {"from": arbiter})
    assert market.balanceOwed(ZERO, buyer) == PRICE + BOND
    assert market.balanceOwed(ZERO, seller) == 0
    assert lens.feesAccrued(ZERO) == 0


def test_data_dispute_lost_by_buyer_forfeits_bond_and_keeps_the_licence(market, lens, sold, agent, buyer, seller,
                                                                        arbiter):
    pub, lid, key = sold
    _, _, dtx = deliver(market, lid, pub, key, agent)
    sleep(DAY)
    ptx = market.disputeData(lid, {"from": buyer, "value": BOND})
    assert lens.disputeOpenedAt(lid) == ptx.timestamp
    assert licence_of(lens, lid).stamp == dtx.timestamp  # the stamp keeps the delivery time
    sleep(3 * DAY)
    tx = market.resolveData(lid, 0, {"from": arbiter})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE + BOND
    assert market.balanceOwed(ZERO, buyer) == 0
    assert licence_of(lens, lid).state == State.SETTLED
    assert market.isValid(lid)
    # the term is extended by the time spent in dispute (not restarted)
    assert lens.expiresAt(lid) == dtx.timestamp + (tx.timestamp - ptx.timestamp) + 30 * DAY
    assert lens.disputeOpenedAt(lid) == 0


def test_absent_arbiter_default(market, lens, sold, agent, buyer, seller, stranger):
    pub, lid, key = sold
    _, _, dtx = deliver(market, lid, pub, key, agent)
    ptx = market.disputeData(lid, {"from": buyer, "value": BOND})
    with reverts("TooEarly"):
        market.resolveDataByDefault(lid, {"from": stranger})
    sleep(market.ARBITER_WINDOW() + 1)
    tx = market.resolveDataByDefault(lid, {"from": stranger})
    assert list(tx.events["DataDisputeResolved"].values()) == [lid, 0, True]
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert market.balanceOwed(ZERO, buyer) == BOND
    assert lens.bondOf(lid) == 0
    assert market.isValid(lid)
    assert lens.expiresAt(lid) == dtx.timestamp + (tx.timestamp - ptx.timestamp) + 30 * DAY
    with reverts("WrongState"):
        market.resolveDataByDefault(lid, {"from": stranger})


def test_withdrawals(market, lens, sold, agent, buyer, seller, fee_recipient, stranger):
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
    assert list(tx.events["Withdrawn"].values()) == [ZERO, seller, stranger, PRICE - FEE]
    assert market.balanceOwed(ZERO, seller) == 0
    before = fee_recipient.balance()
    tx = market.withdrawFees(ZERO, {"from": stranger})
    assert list(tx.events["FeesWithdrawn"].values()) == [ZERO, fee_recipient, FEE]
    assert fee_recipient.balance() == before + FEE
    with reverts("NothingToWithdraw"):
        market.withdrawFees(ZERO, {"from": stranger})
    assert market.balance() == 0
    with reverts("AssetNotAllowed"):
        market.withdraw("0x" + "33" * 20, seller, {"from": seller})
    with reverts("AssetNotAllowed"):
        market.balanceOwed("0x" + "33" * 20, seller)


def test_token_escrow_round_trip(market, lens, seller, buyer, agent, token, fee_recipient, admin):
    pub = publish(market, seller, agent=agent, asset=token.address)
    lid, key, _ = buy_token(market, token, pub.dataset_id, buyer)
    assert lens.tokenHeld(token) == PRICE
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    market.setAssetAllowed(token, False, {"from": admin})  # delisting keeps balances withdrawable
    market.withdraw(token, seller, {"from": seller})
    market.withdrawFees(token, {"from": buyer})
    assert token.balanceOf(seller) == PRICE - FEE
    assert token.balanceOf(fee_recipient) == FEE
    assert token.balanceOf(market) == 0
    assert lens.tokenHeld(token) == 0


def test_token_refund_after_a_wrong_key(market, seller, buyer, agent, token):
    pub = publish(market, seller, agent=agent, asset=token.address)
    lid, key, _ = buy_token(market, token, pub.dataset_id, buyer)
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert market.balanceOwed(token, buyer) == PRICE
    before = token.balanceOf(buyer)
    market.withdraw(token, buyer, {"from": buyer})
    assert token.balanceOf(buyer) == before + PRICE


def test_dispute_against_shared_vectors(market, seller, buyer, agent):
    """The Python wrap and the contract agree on vectors computed independently of the contract."""
    vectors = json.loads((Path(__file__).parent / "vectors" / "keywrap.json").read_text())
    for v in vectors:
        content_key = bytes.fromhex(v["contentKey"])
        key = DeliveryKey(bytes.fromhex(v["deliveryPrivateKey"]), bytes.fromhex(v["deliveryKeyX"]),
                          bytes.fromhex(v["deliveryKeyY"]))
        pub = publish(market, seller, agent=agent)
        pub = Published(pub.dataset_id, content_key, bytes.fromhex(v["keyHash"]))
        market.publishVersion(pub.dataset_id, b"\x01", b"\x00" * 32, pub.key_hash, {"from": seller})
        while True:  # buy until the licence id matches the vector's
            lid, _, _ = buy(market, pub.dataset_id, buyer, key=key)
            if lid >= v["licenceId"]:
                break
        assert lid == v["licenceId"]
        wrap = keywrap.Wrap(bytes.fromhex(v["rX"]), bytes.fromhex(v["rY"]), bytes.fromhex(v["wrappedKey"]))
        market.deliverKey(lid, key.address, pub.key_hash, *wrap.as_args(), {"from": agent})
        tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
        assert tx.events["KeyDisputeDecided"]["keyCorrect"] is v["keyCorrect"]


def test_zero_fee_and_zero_bond(market, lens, seller, buyer, agent, admin, arbiter):
    market.setSettings(0, 0, {"from": admin})
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    with reverts("WrongBond: 0, 1"):
        market.disputeData(lid, {"from": buyer, "value": 1})
    market.disputeData(lid, {"from": buyer, "value": 0})
    assert lens.bondOf(lid) == 0
    market.resolveData(lid, 0, {"from": arbiter})
    assert market.balanceOwed(ZERO, seller) == PRICE
    assert lens.feesAccrued(ZERO) == 0


def test_payout_to_an_address_that_refuses_rbtc_fails_and_keeps_the_balance(market, sold, agent, buyer, seller,
                                                                            token):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    with reverts("TransferFailed"):
        market.withdraw(ZERO, token, {"from": seller})  # a token contract has no receive()
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE


def test_redelivery_of_a_new_version_to_a_settled_licence(market, lens, sold, agent, buyer, seller, stranger):
    pub, lid, key = sold
    deliver(market, lid, pub, key, agent)
    k2 = os.urandom(32)
    from eth_utils import keccak

    market.publishVersion(pub.dataset_id, b"\x01\x02", keccak(b"p2"), keccak(k2), {"from": seller})
    w = keywrap.wrap_key(k2, lid, key.x, key.y, 4242)
    with reverts(f"WrongState: {lid}, {State.DELIVERED:d}"):
        market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": agent})
    market.confirm(lid, {"from": buyer})
    with reverts("NotDeliverer"):
        market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": stranger})
    with reverts("KeyCommitmentChanged"):
        market.redeliverKey(lid, pub.key_hash, *w.as_args(), {"from": agent})
    with reverts("InvalidPoint"):
        market.redeliverKey(lid, keccak(k2), (1).to_bytes(32, "big"), (2).to_bytes(32, "big"), w.wrapped_key,
                            {"from": agent})
    tx = market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": agent})
    assert tx.events["KeyRedelivered"]["keyHash"] == "0x" + keccak(k2).hex()
    assert keywrap.unwrap_key(w, lid, key.private) == k2
    assert lens.deliveryRecord(lid) == ZERO32
    sleep(31 * DAY)  # expired: no more redeliveries
    with reverts(f"Expired: {lid}"):
        market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": agent})


def test_expired_licence_cannot_be_data_disputed(market, seller, buyer, agent):
    pub = publish(market, seller, agent=agent, duration=3600)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    sleep(3601)
    with reverts(f"Expired: {lid}"):
        market.disputeData(lid, {"from": buyer, "value": BOND})


def test_delivery_carries_the_version_bought(market, lens, seller, buyer, agent):
    from eth_utils import keccak

    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    assert lens.purchasedVersion(lid) == 1
    k2 = os.urandom(32)
    market.publishVersion(pub.dataset_id, b"\x02", keccak(b"p2"), keccak(k2), {"from": seller})
    assert lens.keyHashOfVersion(pub.dataset_id, 1) == "0x" + pub.key_hash.hex()
    assert lens.keyHashOf(pub.dataset_id) == "0x" + keccak(k2).hex()
    with reverts(f"KeyCommitmentChanged: {lid}"):
        deliver(market, lid, Published(pub.dataset_id, k2, keccak(k2)), key, agent)
    deliver(market, lid, pub, key, agent)
    assert lens.purchasedVersion(lid) == 1  # kept in the escrowed delivery's record
    market.confirm(lid, {"from": buyer})
    assert lens.purchasedVersion(lid) == 0

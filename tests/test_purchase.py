"""Purchases: RBTC, ERC-20, ERC-677; exact payment; named terms and version; gifts; caps; bad keys; wrong assets."""

import pytest
from brownie import TestToken

from helpers import (
    PRICE, ZERO, DeliveryKey, account_key, buy, buy_677, buy_token, current_purchase, dataset_of, licence_of, offer,
    publish, purchase, reverts, token_data,
)
from datalicense.protocol import keywrap
from datalicense.protocol.records import Licence, State

pytestmark = pytest.mark.chain

N = keywrap.N
P = keywrap.P_FIELD


def test_buy_with_rbtc_escrows_and_mints(market, lens, seller, buyer):
    pub = publish(market, seller)
    before = buyer.balance()
    lid, key, tx = buy(market, pub.dataset_id, buyer)
    assert buyer.balance() == before - PRICE - tx.gas_used * tx.gas_price
    assert market.balance() == PRICE
    assert market.ownerOf(lid) == buyer and market.balanceOf(buyer) == 1
    e = tx.events["LicencePurchased"]
    terms_id, version = offer(market, pub.dataset_id)
    assert (e["datasetId"], e["licensee"], e["payer"], e["price"], e["termsId"], e["version"], e["keyX"],
            e["keyY"]) == (pub.dataset_id, buyer, buyer, PRICE, terms_id, version, "0x" + key.x.hex(),
                           "0x" + key.y.hex())
    assert tx.events["Transfer"]["from"] == ZERO
    assert licence_of(lens, lid) == Licence(holder=buyer, terms_id=terms_id, stamp=tx.timestamp, state=State.PENDING,
                                            settings_id=1)
    # while pending: (version bought << 160) | delivery key address
    # the version bought in the top 32 bits, as in every state that keeps it (contracts/types/DeliveryRecord.sol)
    assert lens.deliveryRecord(lid) == "0x" + ((1 << 224) | int(key.address, 16)).to_bytes(32, "big").hex()
    assert lens.pendingDeliveryKey(lid) == key.address
    assert lens.purchasedVersion(lid) == version
    assert not market.isValid(lid)
    assert dataset_of(lens, pub.dataset_id).sold == 1


@pytest.mark.parametrize("value", [PRICE - 1, PRICE + 1, 5 * PRICE, 0])
def test_rbtc_payment_must_be_exactly_the_price(market, seller, buyer, value):
    pub = publish(market, seller)
    with reverts(f"WrongPayment: {PRICE}, {value}"):
        buy(market, pub.dataset_id, buyer, value=value)
    assert market.balance() == 0


def test_purchase_names_current_terms_and_version(market, seller, buyer):
    pub = publish(market, seller)
    terms_id, version = offer(market, pub.dataset_id)
    with reverts(f"TermsChanged: {pub.dataset_id}, {terms_id}, {terms_id + 1}"):
        buy(market, pub.dataset_id, buyer, terms_id=terms_id + 1)
    with reverts(f"VersionChanged: {pub.dataset_id}, {version}, 2"):
        buy(market, pub.dataset_id, buyer, version=2)
    with reverts("VersionChanged"):
        buy(market, pub.dataset_id, buyer, version=0)
    buy(market, pub.dataset_id, buyer)


def test_gift_licence_goes_to_the_named_licensee(market, lens, seller, buyer, stranger):
    pub = publish(market, seller)
    lid, _, tx = buy(market, pub.dataset_id, buyer, licensee=stranger)
    assert market.ownerOf(lid) == stranger
    assert (tx.events["LicencePurchased"]["licensee"], tx.events["LicencePurchased"]["payer"]) == (stranger, buyer)
    assert market.balanceOf(buyer) == 0


def test_supply_cap(market, seller, buyer):
    pub = publish(market, seller, cap=2)
    buy(market, pub.dataset_id, buyer)
    buy(market, pub.dataset_id, buyer)
    with reverts(f"SoldOut: {pub.dataset_id}, 2"):
        buy(market, pub.dataset_id, buyer)


def test_unknown_dataset(market, buyer):
    with reverts("UnknownDataset: 77"):
        buy(market, 77, buyer, terms_id=0, version=0)


@pytest.mark.parametrize(
    "x,y",
    [
        (1, 1),  # not on the curve
        (0, 0),
        (N, 0),  # x >= n: unusable by the ecrecover trick
        (P - 1, 0),
    ],
)
def test_delivery_key_off_the_curve_is_refused(market, seller, buyer, x, y):
    pub = publish(market, seller)
    key = DeliveryKey(b"", x.to_bytes(32, "big"), y.to_bytes(32, "big"))
    with reverts("InvalidDeliveryKey"):
        buy(market, pub.dataset_id, buyer, key=key)


def test_delivery_key_with_y_flipped_is_a_different_valid_point(market, seller, buyer):
    pub = publish(market, seller)
    key = DeliveryKey.random()
    neg_y = (P - int.from_bytes(key.y, "big")).to_bytes(32, "big")
    buy(market, pub.dataset_id, buyer, key=DeliveryKey(b"", key.x, neg_y))
    bad_y = ((int.from_bytes(key.y, "big") + 1) % P).to_bytes(32, "big")
    with reverts("InvalidDeliveryKey"):
        buy(market, pub.dataset_id, buyer, key=DeliveryKey(b"", key.x, bad_y))


def test_buy_with_erc20(market, seller, buyer, token):
    pub = publish(market, seller, asset=token.address)
    before = token.balanceOf(buyer)
    lid, _, tx = buy_token(market, token, pub.dataset_id, buyer)
    assert token.balanceOf(buyer) == before - PRICE
    assert token.balanceOf(market) == PRICE
    assert tx.events["LicencePurchased"]["price"] == PRICE
    assert market.ownerOf(lid) == buyer
    # no allowance left: the token refuses and nothing is recorded
    p, _ = current_purchase(market, pub.dataset_id)
    with reverts("ERC20InsufficientAllowance"):
        market.buyWithToken(p, {"from": buyer})


def test_rbtc_and_token_paths_do_not_mix(market, seller, buyer, token):
    rbtc = publish(market, seller)
    tok = publish(market, seller, asset=token.address)
    p, _ = current_purchase(market, rbtc.dataset_id)
    with reverts("NotSoldInToken"):
        market.buyWithToken(p, {"from": buyer})
    with reverts("UnknownDataset"):
        market.buyWithToken(purchase(999, DeliveryKey.random()), {"from": buyer})
    with reverts(f"WrongAsset: {token.address}, {ZERO}"):
        buy(market, tok.dataset_id, buyer)
    with reverts(f"WrongAsset: {ZERO}, {token.address}"):
        token.transferAndCall(market, PRICE, token_data(p), {"from": buyer})


def test_buy_with_erc677_transfer_and_call(market, seller, buyer, token, stranger):
    pub = publish(market, seller, asset=token.address)
    before = token.balanceOf(buyer)
    lid, _, tx = buy_677(market, token, pub.dataset_id, buyer, licensee=stranger)
    assert token.balanceOf(buyer) == before - PRICE
    assert token.balanceOf(market) == PRICE
    assert market.ownerOf(lid) == stranger
    assert tx.events["LicencePurchased"]["payer"] == buyer
    p, _ = current_purchase(market, pub.dataset_id)
    for amount in (PRICE - 1, PRICE + 1, 3 * PRICE):
        with reverts(f"WrongPayment: {PRICE}, {amount}"):
            token.transferAndCall(market, amount, token_data(p), {"from": buyer})
    with reverts("BadTokenData: 2"):
        token.transferAndCall(market, PRICE, b"\x01\x02", {"from": buyer})
    with reverts("BadTokenData: 256"):
        token.transferAndCall(market, PRICE, token_data(p) + b"\x00" * 32, {"from": buyer})


def test_token_fallback_only_from_allowed_tokens(market, seller, buyer, admin, token):
    pub = publish(market, seller, asset=token.address)
    p, _ = current_purchase(market, pub.dataset_id)
    data = token_data(p)
    rogue = TestToken.deploy("Rogue", "R", {"from": admin})
    rogue.mint(buyer, PRICE, {"from": admin})
    with reverts("AssetNotAllowed"):
        rogue.transferAndCall(market, PRICE, data, {"from": buyer})
    with reverts("AssetNotAllowed"):
        market.tokenFallback(buyer, PRICE, data, {"from": buyer})
    # a delisted token stops new sales, in both token paths
    market.setAssetAllowed(token, False, {"from": admin})
    with reverts("AssetNotAllowed"):
        token.transferAndCall(market, PRICE, data, {"from": buyer})
    token.approve(market, PRICE, {"from": buyer})
    with reverts("AssetNotAllowed"):
        market.buyWithToken(p, {"from": buyer})


def test_extreme_price(market, seller, admin, token, buyer):
    top = 2**96 - 1
    token.mint(buyer, top, {"from": admin})
    pub = publish(market, seller, asset=token.address, price=top)
    buy_token(market, token, pub.dataset_id, buyer, amount=top)
    assert token.balanceOf(market) == top


def test_free_dataset(market, seller, buyer):
    pub = publish(market, seller, price=0)
    lid, _, _ = buy(market, pub.dataset_id, buyer, value=0)
    assert market.ownerOf(lid) == buyer


def test_delivery_key_must_not_be_an_account_key(market, seller, buyer, stranger, token):
    """The one-time key is revealed in a dispute: never the payer's or the licensee's account key."""
    pub = publish(market, seller)
    mine = account_key(buyer)
    assert mine.address.lower() == buyer.address.lower()
    with reverts(f"DeliveryKeyIsAccount: {buyer.address}"):
        buy(market, pub.dataset_id, buyer, key=mine)
    with reverts("DeliveryKeyIsAccount"):
        buy(market, pub.dataset_id, stranger, key=mine, licensee=buyer)  # the licensee's key
    buy(market, pub.dataset_id, stranger, key=mine, licensee=stranger)  # anyone else's point is the buyer's risk
    tok = publish(market, seller, asset=token.address)
    with reverts("DeliveryKeyIsAccount"):
        buy_677(market, token, tok.dataset_id, buyer, key=mine)
    with reverts("DeliveryKeyIsAccount"):
        buy_token(market, token, tok.dataset_id, buyer, key=mine)


def test_erc677_y_out_of_field(market, seller, buyer, token):
    tok = publish(market, seller, asset=token.address)
    bad = DeliveryKey(b"", (1).to_bytes(32, "big"), P.to_bytes(32, "big"))
    with reverts("InvalidDeliveryKey"):
        buy_677(market, token, tok.dataset_id, buyer, key=bad)

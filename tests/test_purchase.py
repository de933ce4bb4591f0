"""Purchases: RBTC, ERC-20, ERC-677; maximum price; gifts; caps; bad keys; wrong assets."""

import pytest
from brownie import TestToken
from eth_abi import encode
from eth_utils import keccak

from conftest import PRICE, ZERO, DeliveryKey, buy, publish, reverts, terms
from datalicense import keywrap

N = keywrap.N
P = keywrap.P_FIELD


def test_buy_with_rbtc_escrows_and_mints(market, seller, buyer):
    pub = publish(market, seller)
    before = buyer.balance()
    lid, key, tx = buy(market, pub.dataset_id, buyer)
    assert buyer.balance() == before - PRICE - tx.gas_used * tx.gas_price
    assert market.balance() == PRICE
    assert market.ownerOf(lid) == buyer and market.balanceOf(buyer) == 1
    e = tx.events["LicencePurchased"]
    assert (e["datasetId"], e["licensee"], e["price"], e["keyX"], e["keyY"]) == (
        pub.dataset_id, buyer, PRICE, "0x" + key.x.hex(), "0x" + key.y.hex())
    assert tx.events["Transfer"]["from"] == ZERO
    l = market.licence(lid)
    assert (l[0], l[3]) == (buyer, 1)  # holder, Pending
    assert market.deliveryRecord(lid) == "0x" + keywrap.point_address(key.x, key.y).rjust(32, b"\0").hex()
    assert not market.isValid(lid)
    assert market.dataset(pub.dataset_id)[2] == 1


def test_excess_value_is_returned(market, seller, buyer):
    pub = publish(market, seller)
    before = buyer.balance()
    lid, _, tx = buy(market, pub.dataset_id, buyer, value=5 * PRICE, max_price=PRICE)
    assert buyer.balance() == before - PRICE - tx.gas_used * tx.gas_price
    assert market.balance() == PRICE


def test_underpayment_reverts(market, seller, buyer):
    pub = publish(market, seller)
    with reverts(f"WrongPayment: {PRICE}, {PRICE - 1}"):
        buy(market, pub.dataset_id, buyer, value=PRICE - 1, max_price=PRICE)


def test_price_raised_in_front_of_a_purchase_reverts_it(market, seller, buyer):
    """The owner front-runs a purchase with a higher price: the buyer's maximum protects it."""
    pub = publish(market, seller)
    market.setTerms(pub.dataset_id, keccak(b"t"), terms(price=10 * PRICE), {"from": seller})
    before = buyer.balance()
    with reverts(f"PriceAboveMax: {10 * PRICE}, {PRICE}"):
        buy(market, pub.dataset_id, buyer, value=10 * PRICE, max_price=PRICE)
    assert market.balance() == 0
    assert before - buyer.balance() < PRICE  # the reverted transaction cost gas, and nothing else


def test_gift_licence_goes_to_the_named_licensee(market, seller, buyer, stranger):
    pub = publish(market, seller)
    lid, _, tx = buy(market, pub.dataset_id, buyer, licensee=stranger)
    assert market.ownerOf(lid) == stranger
    assert tx.events["LicencePurchased"]["licensee"] == stranger


def test_supply_cap(market, seller, buyer):
    pub = publish(market, seller, cap=2)
    buy(market, pub.dataset_id, buyer)
    buy(market, pub.dataset_id, buyer)
    with reverts(f"SoldOut: {pub.dataset_id}, 2"):
        buy(market, pub.dataset_id, buyer)


def test_unknown_dataset(market, buyer):
    with reverts("UnknownDataset: 77"):
        buy(market, 77, buyer)


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
    key = DeliveryKey.random()
    token.approve(market, PRICE, {"from": buyer})
    before = token.balanceOf(buyer)
    tx = market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})
    assert token.balanceOf(buyer) == before - PRICE
    assert token.balanceOf(market) == PRICE
    assert tx.events["LicencePurchased"]["price"] == PRICE
    with reverts("PriceAboveMax"):
        market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE - 1, {"from": buyer})
    # no allowance left: the token refuses and nothing is recorded
    with reverts("ERC20InsufficientAllowance"):
        market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})


def test_rbtc_and_token_paths_do_not_mix(market, seller, buyer, token):
    rbtc = publish(market, seller)
    tok = publish(market, seller, asset=token.address)
    key = DeliveryKey.random()
    with reverts("NotSoldInToken"):
        market.buyWithToken(rbtc.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})
    with reverts("UnknownDataset"):
        market.buyWithToken(999, ZERO, key.x, key.y, PRICE, {"from": buyer})
    with reverts(f"WrongAsset: {token.address}, {ZERO}"):
        buy(market, tok.dataset_id, buyer)
    data = encode(["uint256", "address", "bytes32", "bytes32"], [rbtc.dataset_id, ZERO, key.x, key.y])
    with reverts("WrongAsset"):
        token.transferAndCall(market, PRICE, data, {"from": buyer})


def test_buy_with_erc677_transfer_and_call(market, seller, buyer, token, stranger):
    pub = publish(market, seller, asset=token.address)
    key = DeliveryKey.random()
    data = encode(["uint256", "address", "bytes32", "bytes32"], [pub.dataset_id, stranger.address, key.x, key.y])
    before = token.balanceOf(buyer)
    tx = token.transferAndCall(market, 3 * PRICE, data, {"from": buyer})
    # the excess comes back in the same token
    assert token.balanceOf(buyer) == before - PRICE
    assert token.balanceOf(market) == PRICE
    lid = tx.events["LicencePurchased"]["licenceId"]
    assert market.ownerOf(lid) == stranger
    with reverts("PriceAboveMax"):
        token.transferAndCall(market, PRICE - 1, data, {"from": buyer})
    with reverts("BadTokenData"):
        token.transferAndCall(market, PRICE, b"\x01\x02", {"from": buyer})


def test_token_fallback_only_from_allowed_tokens(market, seller, buyer, admin, token):
    pub = publish(market, seller, asset=token.address)
    key = DeliveryKey.random()
    data = encode(["uint256", "address", "bytes32", "bytes32"], [pub.dataset_id, ZERO, key.x, key.y])
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
        market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, PRICE, {"from": buyer})


def test_extreme_price(market, seller, admin, token, buyer):
    top = 2**96 - 1
    token.mint(buyer, top, {"from": admin})
    pub = publish(market, seller, asset=token.address, price=top)
    key = DeliveryKey.random()
    token.approve(market, top, {"from": buyer})
    market.buyWithToken(pub.dataset_id, ZERO, key.x, key.y, 2**256 - 1, {"from": buyer})
    assert token.balanceOf(market) == top


def test_free_dataset(market, seller, buyer):
    pub = publish(market, seller, price=0)
    lid, _, _ = buy(market, pub.dataset_id, buyer, value=0)
    assert market.ownerOf(lid) == buyer


def test_erc677_exact_amount_and_y_out_of_field(market, seller, buyer, token):
    pub = publish(market, seller, asset=token.address)
    key = DeliveryKey.random()
    data = encode(["uint256", "address", "bytes32", "bytes32"], [pub.dataset_id, ZERO, key.x, key.y])
    before = token.balanceOf(buyer)
    token.transferAndCall(market, PRICE, data, {"from": buyer})
    assert token.balanceOf(buyer) == before - PRICE
    rbtc = publish(market, seller)
    with reverts("InvalidDeliveryKey"):
        buy(market, rbtc.dataset_id, buyer, key=DeliveryKey(b"", (1).to_bytes(32, "big"), P.to_bytes(32, "big")))

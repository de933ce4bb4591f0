"""Platform administration: two-step ownership, fee, recipient, arbiter, bond, allow-list, emergency pause."""

import pytest
from brownie import DataLicense, TestToken

from conftest import BOND, DAY, FEE_BPS, PRICE, ZERO, buy, deliver, publish, reverts, sleep


def test_constructor_rejects_bad_settings(admin, fee_recipient, arbiter):
    with reverts("ZeroAddress"):
        DataLicense.deploy(admin, ZERO, arbiter, FEE_BPS, BOND, {"from": admin})
    with reverts("ZeroAddress"):
        DataLicense.deploy(admin, fee_recipient, ZERO, FEE_BPS, BOND, {"from": admin})
    with reverts("FeeTooHigh: 1001, 1000"):
        DataLicense.deploy(admin, fee_recipient, arbiter, 1001, BOND, {"from": admin})
    with reverts("BondTooHigh"):
        DataLicense.deploy(admin, fee_recipient, arbiter, FEE_BPS, 2**96, {"from": admin})


def test_settings_view(market, fee_recipient, arbiter):
    fee, recipient, arb, bond, paused = market.settings()
    assert (int(fee), recipient, arb, int(bond), paused) == (FEE_BPS, fee_recipient, arbiter, BOND, False)


@pytest.mark.parametrize(
    "call,args",
    [
        ("setFee", (100,)),
        ("setFeeRecipient", ("0x" + "11" * 20,)),
        ("setArbiter", ("0x" + "11" * 20,)),
        ("setDisputeBond", (1,)),
        ("setAssetAllowed", ("0x" + "11" * 20, True)),
        ("setEmergencyPause", (True,)),
        ("setBaseURI", ("ipfs://x/",)),
    ],
)
def test_admin_functions_are_owner_only(market, stranger, call, args):
    with reverts("OwnableUnauthorizedAccount"):
        getattr(market, call)(*args, {"from": stranger})


def test_admin_setters_validate_and_emit(market, admin, stranger):
    tx = market.setFee(500, {"from": admin})
    assert tx.events["FeeSet"]["feeBps"] == 500
    with reverts("FeeTooHigh"):
        market.setFee(1001, {"from": admin})
    with reverts("ZeroAddress"):
        market.setFeeRecipient(ZERO, {"from": admin})
    with reverts("ZeroAddress"):
        market.setArbiter(ZERO, {"from": admin})
    with reverts("BondTooHigh"):
        market.setDisputeBond(2**96, {"from": admin})
    with reverts("ZeroAddress"):
        market.setAssetAllowed(ZERO, True, {"from": admin})
    market.setFeeRecipient(stranger, {"from": admin})
    market.setArbiter(stranger, {"from": admin})
    market.setDisputeBond(7, {"from": admin})
    fee, recipient, arb, bond, paused = market.settings()
    assert (int(fee), recipient, arb, int(bond), paused) == (500, stranger, stranger, 7, False)


def test_ownership_moves_in_two_steps(market, admin, stranger):
    market.transferOwnership(stranger, {"from": admin})
    assert market.owner() == admin
    assert market.pendingOwner() == stranger
    with reverts("OwnableUnauthorizedAccount"):
        market.acceptOwnership({"from": admin})
    market.acceptOwnership({"from": stranger})
    assert market.owner() == stranger
    with reverts("OwnableUnauthorizedAccount"):
        market.setFee(1, {"from": admin})


def test_allow_list_assigns_stable_ids(market, admin):
    a = TestToken.deploy("A", "A", {"from": admin})
    b = TestToken.deploy("B", "B", {"from": admin})
    ta = market.setAssetAllowed(a, True, {"from": admin})
    tb = market.setAssetAllowed(b, True, {"from": admin})
    ida, idb = ta.events["AssetAllowed"]["assetId"], tb.events["AssetAllowed"]["assetId"]
    assert ida != idb and ida > 0 and idb > 0
    tx = market.setAssetAllowed(a, False, {"from": admin})
    assert tx.events["AssetAllowed"]["assetId"] == ida
    assert not market.isAssetAllowed(a)
    assert market.isAssetAllowed(b)
    assert market.isAssetAllowed(ZERO)
    assert market.assetAddress(ida) == a


def test_emergency_pause_stops_new_business_only(market, admin, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    l1, k1, _ = buy(market, pub.dataset_id, buyer)  # will be delivered and settled during the pause
    l2, k2, _ = buy(market, pub.dataset_id, buyer)  # will miss delivery and be refunded during the pause
    l3, k3, _ = buy(market, pub.dataset_id, buyer)  # will be key-disputed and proved during the pause
    r3, w3, _ = deliver(market, l3, pub, k3, agent)
    market.setEmergencyPause(True, {"from": admin})
    with reverts("EmergencyStopped"):
        publish(market, seller)
    with reverts("EmergencyStopped"):
        buy(market, pub.dataset_id, buyer)
    deliver(market, l1, pub, k1, agent)
    market.confirm(l1, {"from": buyer})
    market.disputeKey(l3, {"from": buyer, "value": BOND})
    market.proveKey(l3, (r3, w3.r_x, w3.r_y, w3.wrapped_key, k3.x, k3.y, pub.key_hash), {"from": agent})
    sleep(DAY + 1)
    market.refund(l2, {"from": buyer})
    market.withdraw(ZERO, seller, {"from": seller})
    market.withdraw(ZERO, buyer, {"from": buyer})
    market.withdrawFees(ZERO, {"from": admin})
    market.setEmergencyPause(False, {"from": admin})
    buy(market, pub.dataset_id, buyer)
    assert market.balance() == PRICE


def test_erc165(market):
    for iid, expected in [
        ("0x80ac58cd", True),  # ERC-721
        ("0x5b5e139f", True),  # ERC-721 Metadata
        ("0x2a55205a", True),  # ERC-2981
        ("0x01ffc9a7", True),  # ERC-165
        ("0xffffffff", False),
        ("0x780e9d63", False),  # ERC-721 Enumerable: not offered
    ]:
        assert market.supportsInterface(iid) == expected

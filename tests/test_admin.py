"""Platform administration: two-step ownership, fee, recipient, arbiter, bond, allow-list, emergency pause."""

import os

import pytest
from brownie import DataLicense, TestToken

from datalicense.protocol.records import Settings
from helpers import (BOND, DAY, FEE_BPS, PRICE, ZERO, buy, buy_677, deliver, dispute_key, publish, reverts, settings_of,
                     sleep)

pytestmark = pytest.mark.chain


def test_constructor_rejects_bad_settings(market, admin, fee_recipient, arbiter):
    max_fee = market.MAX_FEE_BPS()
    with reverts("ZeroAddress"):
        DataLicense.deploy(admin, ZERO, arbiter, FEE_BPS, BOND, {"from": admin})
    with reverts("ZeroAddress"):
        DataLicense.deploy(admin, fee_recipient, ZERO, FEE_BPS, BOND, {"from": admin})
    with reverts(f"FeeTooHigh: {max_fee + 1}, {max_fee}"):
        DataLicense.deploy(admin, fee_recipient, arbiter, max_fee + 1, BOND, {"from": admin})
    with reverts("BondTooHigh"):
        DataLicense.deploy(admin, fee_recipient, arbiter, FEE_BPS, 2**96, {"from": admin})


def test_platform_view(market, lens, admin, fee_recipient, arbiter):
    assert lens.platform().dict() == {"settingsId": 1, "feeBps": FEE_BPS, "disputeBond": BOND,
                                      "feeRecipient": fee_recipient, "arbiter": arbiter, "emergencyPaused": False,
                                      "assetCount": 0}
    assert lens.admin() == admin


@pytest.mark.parametrize(
    "call,args",
    [
        ("setSettings", (100, 1)),
        ("setFeeRecipient", ("0x" + "11" * 20,)),
        ("setArbiter", ("0x" + "11" * 20,)),
        ("setAssetAllowed", ("0x" + "11" * 20, True)),
        ("setEmergencyPause", (True,)),
        ("setBaseURI", ("ipfs://x/",)),
    ],
)
def test_admin_functions_are_owner_only(market, stranger, call, args):
    with reverts("OwnableUnauthorizedAccount"):
        getattr(market, call)(*args, {"from": stranger})


def test_admin_setters_validate_and_emit(market, lens, admin, stranger):
    max_fee = market.MAX_FEE_BPS()
    tx = market.setSettings(500, 7, {"from": admin})
    e = tx.events["SettingsSet"]
    assert (e["settingsId"], e["feeBps"], e["disputeBond"]) == (2, 500, 7)
    with reverts(f"FeeTooHigh: {max_fee + 1}, {max_fee}"):
        market.setSettings(max_fee + 1, 7, {"from": admin})
    with reverts("BondTooHigh"):
        market.setSettings(500, 2**96, {"from": admin})
    market.setSettings(max_fee, 2**96 - 1, {"from": admin})  # both bounds are allowed (the bond is a uint96)
    with reverts("ZeroAddress"):
        market.setFeeRecipient(ZERO, {"from": admin})
    with reverts("ZeroAddress"):
        market.setArbiter(ZERO, {"from": admin})
    with reverts("ZeroAddress"):
        market.setAssetAllowed(ZERO, True, {"from": admin})
    assert market.setFeeRecipient(stranger, {"from": admin}).events["FeeRecipientSet"]["recipient"] == stranger
    assert market.setArbiter(stranger, {"from": admin}).events["ArbiterSet"]["arbiter"] == stranger
    market.setSettings(500, 7, {"from": admin})
    p = lens.platform().dict()
    assert {k: p[k] for k in ("settingsId", "feeBps", "disputeBond", "feeRecipient", "arbiter", "emergencyPaused")} == {
        "settingsId": 4, "feeBps": 500, "disputeBond": 7, "feeRecipient": stranger, "arbiter": stranger,
        "emergencyPaused": False}
    # the earlier settings stay readable: licences bought under them keep them
    assert settings_of(lens, 1) == Settings(fee_bps=FEE_BPS, dispute_bond=BOND)
    assert settings_of(lens, 3) == Settings(fee_bps=max_fee, dispute_bond=2**96 - 1)


def test_ownership_moves_in_two_steps(market, admin, stranger):
    market.transferOwnership(stranger, {"from": admin})
    assert market.owner() == admin
    assert market.pendingOwner() == stranger
    with reverts("OwnableUnauthorizedAccount"):
        market.acceptOwnership({"from": admin})
    market.acceptOwnership({"from": stranger})
    assert market.owner() == stranger
    with reverts("OwnableUnauthorizedAccount"):
        market.setSettings(1, 1, {"from": admin})


def test_the_admin_role_cannot_be_renounced(market, admin, stranger):
    """Issue 21, item 5. Before, `renounceOwnership` left the seat empty for good: the pause, the allow-list, the
    arbiter's seat and the fee recipient frozen as they were (a marketplace paused at that moment paused forever).
    Now it is refused; the role still moves in two steps."""
    with reverts("RenounceRefused"):
        market.renounceOwnership({"from": admin})
    with reverts("RenounceRefused"):
        market.renounceOwnership({"from": stranger})
    assert market.owner() == admin
    market.setEmergencyPause(True, {"from": admin})
    market.setEmergencyPause(False, {"from": admin})


def test_the_protocol_doc_lists_every_power_of_the_admin():
    """docs/protocol.md's table of the admin's powers names every owner-only function of DataLicense (and the
    two-step handover), and says that renouncing is refused."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "contracts" / "DataLicense.sol").read_text()
    powers = set(re.findall(r"function (\w+)\([^)]*\) external onlyOwner", source)) | {"transferOwnership"}
    assert {"setSettings", "setBaseURI", "setEmergencyPause"} <= powers
    doc = (root / "docs" / "protocol.md").read_text()
    section = doc[doc.index("## Trust in the admin"):]
    table = set(re.findall(r"^\| `(\w+)\(", section, re.M))
    assert table == powers, (table ^ powers)
    assert "`renounceOwnership` is refused" in section


def test_allow_list_assigns_stable_ids(market, lens, admin):
    a = TestToken.deploy("A", "A", {"from": admin})
    b = TestToken.deploy("B", "B", {"from": admin})
    ta = market.setAssetAllowed(a, True, {"from": admin})
    tb = market.setAssetAllowed(b, True, {"from": admin})
    ida, idb = ta.events["AssetAllowed"]["assetId"], tb.events["AssetAllowed"]["assetId"]
    assert ida != idb and ida > 0 and idb > 0
    tx = market.setAssetAllowed(a, False, {"from": admin})
    assert tx.events["AssetAllowed"]["assetId"] == ida
    assert not lens.isAssetAllowed(a)
    assert lens.isAssetAllowed(b)
    assert lens.isAssetAllowed(ZERO)
    assert lens.assetAddress(ida) == a
    assert lens.platform()["assetCount"] == 2
    assert market.setAssetAllowed(a, True, {"from": admin}).events["AssetAllowed"]["assetId"] == ida


def test_emergency_pause_stops_new_business_only(market, lens, admin, seller, buyer, agent, token):
    pub = publish(market, seller, agent=agent)
    tok = publish(market, seller, asset=token.address)
    l1, k1, _ = buy(market, pub.dataset_id, buyer)  # will be delivered and settled during the pause
    l2, k2, _ = buy(market, pub.dataset_id, buyer)  # will miss delivery and be refunded during the pause
    l3, k3, _ = buy(market, pub.dataset_id, buyer)  # will be key-disputed during the pause
    _, w3, _ = deliver(market, l3, pub, k3, agent, content_key=os.urandom(32))
    assert market.setEmergencyPause(True, {"from": admin}).events["EmergencyPaused"]["paused"] is True
    assert lens.platform()["emergencyPaused"] is True
    assert lens.offer(pub.dataset_id)["onSale"] is False
    with reverts("EmergencyStopped"):
        publish(market, seller)
    with reverts("EmergencyStopped"):
        buy(market, pub.dataset_id, buyer)
    with reverts("EmergencyStopped"):
        buy_677(market, token, tok.dataset_id, buyer)
    deliver(market, l1, pub, k1, agent)
    market.confirm(l1, {"from": buyer})
    dispute_key(market, l3, k3, w3, pub.key_hash, buyer)
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

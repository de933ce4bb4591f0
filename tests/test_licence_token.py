"""Licences as ERC-721 tokens: ownership, soulbound and transferable rules, royalty, metadata, expiry."""

import pytest
from brownie import ReentrantToken

from helpers import DAY, ZERO, buy, deliver, publish, reverts, sleep

pytestmark = pytest.mark.chain


@pytest.fixture
def settled(market, seller, buyer, agent):
    def make(**kw):
        pub = publish(market, seller, agent=agent, **kw)
        lid, key, _ = buy(market, pub.dataset_id, buyer)
        deliver(market, lid, pub, key, agent)
        market.confirm(lid, {"from": buyer})
        return lid

    return make


def test_metadata(market, settled, admin):
    lid = settled()
    assert market.name() == "Data Licence"
    assert market.symbol() == "DLIC"
    assert market.tokenURI(lid) == ""
    market.setBaseURI("https://licences.example/", {"from": admin})
    assert market.tokenURI(lid) == f"https://licences.example/{lid}"
    with reverts("ERC721NonexistentToken"):
        market.tokenURI(999)
    with reverts("ERC721NonexistentToken"):
        market.ownerOf(999)
    with reverts("ERC721InvalidOwner"):
        market.balanceOf(ZERO)


def test_soulbound_licence_cannot_move(market, settled, buyer, stranger):
    lid = settled(transferable=False)
    with reverts(f"Soulbound: {lid}"):
        market.transferFrom(buyer, stranger, lid, {"from": buyer})
    with reverts("Soulbound"):
        market.safeTransferFrom(buyer, stranger, lid, {"from": buyer})
    receiver, amount = market.royaltyInfo(lid, 10**18)
    assert (receiver, int(amount)) == (ZERO, 0)


def test_transferable_licence_moves_only_once_settled(market, lens, seller, buyer, agent, stranger):
    pub = publish(market, seller, agent=agent, transferable=True, royalty=500)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    with reverts("NotTransferableNow"):
        market.transferFrom(buyer, stranger, lid, {"from": buyer})
    deliver(market, lid, pub, key, agent)
    with reverts("NotTransferableNow"):
        market.transferFrom(buyer, stranger, lid, {"from": buyer})
    market.confirm(lid, {"from": buyer})
    tx = market.transferFrom(buyer, stranger, lid, {"from": buyer})
    assert list(tx.events["Transfer"].values()) == [buyer, stranger, lid]
    assert market.ownerOf(lid) == stranger
    assert market.balanceOf(buyer) == 0 and market.balanceOf(stranger) == 1
    assert lens.hasValidLicence(stranger, pub.dataset_id, lid)
    assert not lens.hasValidLicence(buyer, pub.dataset_id, lid)
    receiver, amount = market.royaltyInfo(lid, 10**18)
    assert (receiver, int(amount)) == (seller, 5 * 10**16)


def test_approvals(market, settled, buyer, stranger, agent):
    lid = settled(transferable=True)
    with reverts("ERC721InsufficientApproval"):
        market.transferFrom(buyer, agent, lid, {"from": stranger})
    with reverts("ERC721InvalidApprover"):
        market.approve(stranger, lid, {"from": agent})
    market.approve(stranger, lid, {"from": buyer})
    assert market.getApproved(lid) == stranger
    market.transferFrom(buyer, agent, lid, {"from": stranger})
    assert market.getApproved(lid) == ZERO  # cleared by the transfer
    with reverts("ERC721InvalidOperator"):
        market.setApprovalForAll(ZERO, True, {"from": agent})
    market.setApprovalForAll(stranger, True, {"from": agent})
    assert market.isApprovedForAll(agent, stranger)
    market.approve(buyer, lid, {"from": stranger})  # an operator may approve
    market.safeTransferFrom(agent, buyer, lid, {"from": stranger})
    assert market.ownerOf(lid) == buyer
    with reverts("ERC721IncorrectOwner"):
        market.transferFrom(agent, buyer, lid, {"from": agent})
    with reverts("ERC721InvalidReceiver"):
        market.transferFrom(buyer, ZERO, lid, {"from": buyer})
    with reverts("ERC721NonexistentToken"):
        market.transferFrom(buyer, agent, 999, {"from": buyer})
    with reverts("ERC721NonexistentToken"):
        market.getApproved(999)


def test_safe_transfer_to_a_contract_that_cannot_hold_nfts(market, settled, buyer, admin):
    lid = settled(transferable=True)
    not_a_receiver = ReentrantToken.deploy({"from": admin})
    with reverts("ERC721InvalidReceiver"):
        market.safeTransferFrom(buyer, not_a_receiver, lid, {"from": buyer})
    market.transferFrom(buyer, not_a_receiver, lid, {"from": buyer})  # plain transfer is the caller's risk
    assert market.ownerOf(lid) == not_a_receiver


def test_expiry_starts_at_delivery_and_is_enforced_on_chain(market, lens, seller, buyer, agent):
    pub = publish(market, seller, agent=agent, duration=10 * DAY)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    sleep(DAY // 2)  # delivery half a day after payment
    assert lens.expiresAt(lid) == 0
    _, _, tx = deliver(market, lid, pub, key, agent)
    assert lens.expiresAt(lid) == tx.timestamp + 10 * DAY
    market.confirm(lid, {"from": buyer})
    assert lens.hasValidLicence(buyer, pub.dataset_id, lid)
    assert not lens.hasValidLicence(buyer, pub.dataset_id + 1, lid)
    assert not lens.hasValidLicence(ZERO, pub.dataset_id, lid)
    sleep(10 * DAY - 60)
    assert market.isValid(lid)
    sleep(120)
    assert not market.isValid(lid)
    assert not lens.hasValidLicence(buyer, pub.dataset_id, lid)


def test_perpetual_licence(market, lens, settled):
    lid = settled(duration=0)
    sleep(3650 * DAY)
    assert market.isValid(lid)
    assert lens.expiresAt(lid) == 0


def test_safe_transfer_to_receivers(market, settled, buyer, admin):
    from brownie import NftReceiver

    receiver = NftReceiver.deploy({"from": admin})
    lid = settled(transferable=True)
    receiver.setMode(1, {"from": admin})
    with reverts("ERC721InvalidReceiver"):
        market.safeTransferFrom(buyer, receiver, lid, {"from": buyer})
    receiver.setMode(2, {"from": admin})
    with reverts("NftReceiver: not today"):
        market.safeTransferFrom(buyer, receiver, lid, {"from": buyer})
    receiver.setMode(0, {"from": admin})
    market.safeTransferFrom(buyer, receiver, lid, {"from": buyer})
    assert market.ownerOf(lid) == receiver


def test_new_holder_rotates_and_gets_later_versions(market, lens, seller, buyer, agent, stranger):
    """A transferable licence changes hands; the new holder names its own key; redeliveries go to it."""
    import os

    from eth_utils import keccak

    from helpers import DeliveryKey
    from datalicense.protocol import keywrap

    pub = publish(market, seller, agent=agent, transferable=True)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    market.transferFrom(buyer, stranger, lid, {"from": buyer})
    new = DeliveryKey.random()
    with reverts("NotLicenceHolder"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})
    tx = market.rotateDeliveryKey(lid, new.x, new.y, {"from": stranger})
    assert tx.events["DeliveryKeyRotated"]["keyX"] == "0x" + new.x.hex()
    assert lens.deliveryRecord(lid) == "0x" + "00" * 32  # settled: nothing stored, the event is the record
    k2 = os.urandom(32)
    market.publishVersion(pub.dataset_id, b"\x01", keccak(b"p"), keccak(k2), {"from": seller})
    w = keywrap.wrap_key(k2, lid, new.x, new.y, 99)
    market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": agent})
    assert keywrap.unwrap_key(w, lid, new.private) == k2


def test_royalty_of_unknown_licence_is_nothing(market):
    receiver, amount = market.royaltyInfo(999, 10**18)
    assert (receiver, int(amount)) == (ZERO, 0)

"""Datasets: publish, terms for future sales, pause/resume/retire, versions, agent, two-step hand-over."""

import os

import pytest
from eth_utils import keccak

from helpers import (DAY, FEE_BPS, PRICE, ZERO, Published, buy, dataset_of, deliver, licence_of, publish, reverts, sleep,
                     terms, terms_of)
from datalicense.protocol import keywrap
from datalicense.protocol.records import TermsFlag

pytestmark = pytest.mark.chain


def test_publish_records_dataset_terms_and_commitments(market, lens, seller, agent):
    key = os.urandom(32)
    cid = b"\x01\x55\x12\x20" + os.urandom(32)
    tx = market.publish(cid, keccak(b"plain"), keccak(key), keccak(b"terms"), terms(cap=5), agent, {"from": seller})
    ds = tx.events["DatasetPublished"]["datasetId"]
    assert tx.events["DatasetPublished"]["owner"] == seller
    v = tx.events["VersionPublished"]
    assert (v["version"], v["manifestCid"], v["plaintextHash"], v["keyHash"]) == (
        1, "0x" + cid.hex(), "0x" + keccak(b"plain").hex(), "0x" + keccak(key).hex())
    t = tx.events["TermsSet"]
    assert (t["price"], t["supplyCap"], t["termsRef"]) == (PRICE, 5, "0x" + keccak(b"terms").hex())
    assert tx.events["DatasetPublished"]["agent"] == agent
    d = dataset_of(lens, ds)
    assert (d.owner, d.terms_id, d.sold, d.version) == (seller, t["termsId"], 0, 1)
    stored = terms_of(lens, d.terms_id)
    assert stored.price == PRICE and stored.dataset_id == ds and stored.supply_cap == 5
    assert lens.keyHashOf(ds) == "0x" + keccak(key).hex()
    assert lens.agentOf(ds) == agent


def limits(market) -> dict[str, int]:
    """The bounds the contract puts on terms, read from it (price and supply cap are bounded by their storage
    widths, uint96 and uint24, which the contract does not expose)."""
    return {name: getattr(market, name)() for name in ("MIN_WINDOW", "MAX_WINDOW", "MAX_DURATION", "MAX_ROYALTY_BPS")}


@pytest.mark.parametrize(
    "kw,error",
    [
        (lambda c: {"price": 2**96}, "PriceTooHigh"),
        (lambda c: {"duration": c["MAX_DURATION"] + 1}, "DurationTooLong"),
        (lambda c: {"cap": 2**24}, "SupplyCapTooHigh"),
        (lambda c: {"delivery": c["MIN_WINDOW"] - 1}, "DeliveryWindowOutOfRange"),
        (lambda c: {"delivery": c["MAX_WINDOW"] + 1}, "DeliveryWindowOutOfRange"),
        (lambda c: {"dispute": c["MIN_WINDOW"] - 1}, "DisputeWindowOutOfRange"),
        (lambda c: {"dispute": c["MAX_WINDOW"] + 1}, "DisputeWindowOutOfRange"),
        (lambda c: {"royalty": c["MAX_ROYALTY_BPS"] + 1, "transferable": True}, "RoyaltyTooHigh"),
        (lambda c: {"royalty": 100}, "RoyaltyOnSoulbound"),
        (lambda c: {"asset": "0x" + "22" * 20}, "AssetNotAllowed"),
    ],
    ids=["price", "duration", "cap", "delivery-short", "delivery-long", "dispute-short", "dispute-long", "royalty",
         "royalty-soulbound", "asset"],
)
def test_publish_rejects_terms_outside_bounds(market, seller, kw, error):
    with reverts(error):
        publish(market, seller, **kw(limits(market)))


def test_publish_accepts_extremes(market, lens, seller):
    """Terms at every bound are stored as given, not truncated by their packing (read back, field by field)."""
    c = limits(market)
    high = publish(market, seller, price=2**96 - 1, duration=c["MAX_DURATION"], cap=2**24 - 1,
                   delivery=c["MIN_WINDOW"], dispute=c["MAX_WINDOW"], royalty=c["MAX_ROYALTY_BPS"], transferable=True)
    t = terms_of(lens, dataset_of(lens, high.dataset_id).terms_id)
    assert (t.price, t.duration, t.supply_cap, t.delivery_window, t.dispute_window) == (
        2**96 - 1, c["MAX_DURATION"], 2**24 - 1, c["MIN_WINDOW"], c["MAX_WINDOW"])
    assert t.dataset_id == high.dataset_id and t.flags & TermsFlag.TRANSFERABLE
    low = publish(market, seller, price=0, duration=0)
    t = terms_of(lens, dataset_of(lens, low.dataset_id).terms_id)
    assert (t.price, t.duration) == (0, 0)


def test_publish_rejects_missing_commitments(market, seller):
    with reverts("EmptyManifest"):
        market.publish(b"", keccak(b"p"), keccak(b"k"), keccak(b"t"), terms(), ZERO, {"from": seller})
    with reverts("EmptyKeyCommitment"):
        market.publish(b"\x01", keccak(b"p"), b"\x00" * 32, keccak(b"t"), terms(), ZERO, {"from": seller})


def test_new_terms_apply_to_future_sales_only(market, lens, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    old, _, _ = buy(market, pub.dataset_id, buyer)
    tx = market.setTerms(pub.dataset_id, keccak(b"v2 terms"), terms(price=3 * PRICE, duration=DAY), {"from": seller})
    new_terms = tx.events["TermsSet"]["termsId"]
    assert dataset_of(lens, pub.dataset_id).terms_id == new_terms
    with reverts(f"WrongPayment: {3 * PRICE}, {PRICE}"):
        buy(market, pub.dataset_id, buyer)
    new, _, _ = buy(market, pub.dataset_id, buyer, value=3 * PRICE)
    assert licence_of(lens, old).terms_id != licence_of(lens, new).terms_id == new_terms
    # the old licence is still refunded at the old price
    sleep(DAY + 1)
    market.refund(old, {"from": buyer})
    assert market.balanceOwed(ZERO, buyer) == PRICE


def test_set_terms_cannot_cap_below_sales(market, seller, buyer):
    pub = publish(market, seller)
    buy(market, pub.dataset_id, buyer)
    buy(market, pub.dataset_id, buyer)
    with reverts("CapBelowSold"):
        market.setTerms(pub.dataset_id, keccak(b"t"), terms(cap=1), {"from": seller})
    market.setTerms(pub.dataset_id, keccak(b"t"), terms(cap=2), {"from": seller})
    with reverts("SoldOut"):
        buy(market, pub.dataset_id, buyer)


def test_pause_resume_and_retire(market, seller, buyer):
    pub = publish(market, seller)
    ds = pub.dataset_id
    tx = market.pauseSales(ds, {"from": seller})
    assert tx.events["SalesPaused"]["datasetId"] == ds
    with reverts(f"SalesClosed: {ds}"):
        buy(market, ds, buyer)
    # new terms keep the pause
    market.setTerms(ds, keccak(b"t"), terms(), {"from": seller})
    with reverts("SalesClosed"):
        buy(market, ds, buyer)
    assert "SalesResumed" in market.resumeSales(ds, {"from": seller}).events
    buy(market, ds, buyer)
    tx = market.retire(ds, {"from": seller})
    assert "DatasetRetired" in tx.events
    with reverts("SalesClosed"):
        buy(market, ds, buyer)
    for call, args in [
        (market.resumeSales, (ds,)),
        (market.pauseSales, (ds,)),
        (market.retire, (ds,)),
        (market.setTerms, (ds, keccak(b"t"), terms())),
        (market.publishVersion, (ds, b"\x01", keccak(b"p"), keccak(b"k"))),
    ]:
        with reverts("DatasetIsRetired"):
            call(*args, {"from": seller})


@pytest.mark.parametrize("fn", ["pauseSales", "resumeSales", "retire", "setAgent", "transferDataset",
                                "publishVersion", "setTerms"])
def test_owner_operations_are_owner_only(market, seller, stranger, fn):
    pub = publish(market, seller)
    args = {
        "pauseSales": (pub.dataset_id,),
        "resumeSales": (pub.dataset_id,),
        "retire": (pub.dataset_id,),
        "setAgent": (pub.dataset_id, stranger),
        "transferDataset": (pub.dataset_id, stranger),
        "publishVersion": (pub.dataset_id, b"\x01", keccak(b"p"), keccak(b"k")),
        "setTerms": (pub.dataset_id, keccak(b"t"), terms()),
    }[fn]
    with reverts(f"NotDatasetOwner: {pub.dataset_id}"):
        getattr(market, fn)(*args, {"from": stranger})
    unknown = (999,) + args[1:]
    with reverts("UnknownDataset: 999"):
        getattr(market, fn)(*unknown, {"from": seller})


def test_new_version_binds_later_deliveries_and_redelivery(market, lens, seller, buyer, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    k2 = os.urandom(32)
    tx = market.publishVersion(pub.dataset_id, b"\x01\x02", keccak(b"p2"), keccak(k2), {"from": seller})
    assert tx.events["VersionPublished"]["version"] == 2
    assert dataset_of(lens, pub.dataset_id).version == 2
    assert lens.keyHashOf(pub.dataset_id) == "0x" + keccak(k2).hex()
    # the settled licence covers version 2: the agent delivers its key without escrow
    w = keywrap.wrap_key(k2, lid, key.x, key.y, 4242)
    tx = market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": agent})
    assert tx.events["KeyRedelivered"]["keyHash"] == "0x" + keccak(k2).hex()
    assert keywrap.unwrap_key(w, lid, key.private) == k2
    # a pending licence bought now is delivered against version 2
    lid2, key2, tx = buy(market, pub.dataset_id, buyer)
    assert tx.events["LicencePurchased"]["version"] == 2
    v2 = Published(pub.dataset_id, k2, keccak(k2))
    _, _, tx = deliver(market, lid2, v2, key2, agent)
    assert tx.events["KeyDelivered"]["keyHash"] == "0x" + keccak(k2).hex()
    # redelivery needs a settled, valid licence and a deliverer
    with reverts("NotDeliverer"):
        market.redeliverKey(lid, keccak(k2), *w.as_args(), {"from": buyer})
    lid3, _, _ = buy(market, pub.dataset_id, buyer)
    with reverts("WrongState"):
        market.redeliverKey(lid3, keccak(k2), *w.as_args(), {"from": agent})
    with reverts("EmptyManifest"):
        market.publishVersion(pub.dataset_id, b"", keccak(b"p2"), keccak(k2), {"from": seller})
    with reverts("EmptyKeyCommitment"):
        market.publishVersion(pub.dataset_id, b"\x01", keccak(b"p2"), b"\x00" * 32, {"from": seller})


def test_agent_delivers_and_nothing_else(market, seller, buyer, agent, stranger):
    pub = publish(market, seller)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, agent)
    tx = market.setAgent(pub.dataset_id, agent, {"from": seller})
    assert tx.events["AgentSet"]["agent"] == agent
    deliver(market, lid, pub, key, agent)
    for call, args in [
        (market.setTerms, (pub.dataset_id, keccak(b"t"), terms())),
        (market.pauseSales, (pub.dataset_id,)),
        (market.setAgent, (pub.dataset_id, stranger)),
        (market.transferDataset, (pub.dataset_id, agent)),
    ]:
        with reverts("NotDatasetOwner"):
            call(*args, {"from": agent})
    market.setAgent(pub.dataset_id, ZERO, {"from": seller})
    lid2, key2, _ = buy(market, pub.dataset_id, buyer)
    with reverts("NotDeliverer"):
        deliver(market, lid2, pub, key2, agent)


def test_dataset_changes_hands_in_two_steps(market, lens, seller, buyer, stranger, agent):
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    tx = market.transferDataset(pub.dataset_id, stranger, {"from": seller})
    assert tx.events["DatasetTransferStarted"]["to"] == stranger
    assert lens.pendingDatasetOwner(pub.dataset_id) == stranger
    with reverts("NotPendingOwner"):
        market.acceptDataset(pub.dataset_id, {"from": buyer})
    tx = market.acceptDataset(pub.dataset_id, {"from": stranger})
    assert tx.events["DatasetTransferred"]["to"] == stranger
    assert tx.events["AgentSet"]["agent"] == ZERO  # the previous owner's agent goes with it
    assert dataset_of(lens, pub.dataset_id).owner == stranger
    assert lens.pendingDatasetOwner(pub.dataset_id) == ZERO
    assert lens.agentOf(pub.dataset_id) == ZERO
    with reverts("NotDatasetOwner"):
        market.pauseSales(pub.dataset_id, {"from": seller})
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, agent)
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, seller)
    # revenue of a sale settled after the hand-over goes to the new owner, who delivers (or appoints an agent)
    market.setAgent(pub.dataset_id, agent, {"from": stranger})
    deliver(market, lid, pub, key, agent)
    market.confirm(lid, {"from": buyer})
    assert market.balanceOwed(ZERO, stranger) == PRICE - PRICE * FEE_BPS // 10000
    assert market.balanceOwed(ZERO, seller) == 0


def test_accepting_a_dataset_without_an_agent(market, lens, seller, stranger):
    pub = publish(market, seller)
    market.transferDataset(pub.dataset_id, stranger, {"from": seller})
    tx = market.acceptDataset(pub.dataset_id, {"from": stranger})
    assert "AgentSet" not in tx.events
    assert dataset_of(lens, pub.dataset_id).owner == stranger

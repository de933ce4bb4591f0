"""The attacks of issue 10, each written as the attack: who gains, who loses, what it costs the attacker.

Every test here passed against the v1 marketplace (the attack worked) and must fail against v2 (the attack is
refused or gains nothing). Where v1's entry points no longer exist, the test performs the same attack with
v2's calls and asserts the v2 guard that stops it.
"""

import os

import pytest
from eth_utils import keccak

from helpers import (
    BOND, DAY, FEE_BPS, PRICE, ZERO, DeliveryKey, Published, account_key, buy, buy_677, current_purchase, dataset_of,
    deliver, dispute_key, escrowed, licence_of, publish, reverts, sleep, terms, token_data,
)
from datalicense.protocol import keywrap
from datalicense.protocol.records import State

pytestmark = pytest.mark.chain

FEE = PRICE * FEE_BPS // 10000
N, P = keywrap.N, keywrap.P_FIELD

#: What the front-running seller swaps in: a one-second, non-transferable licence under another licence text,
#: at the same price, so the buyer's price limit (v1's only protection) does not trip.
BAIT_TERMS = dict(duration=1, transferable=False)


def _swap_terms(market, seller, dataset_id, asset=ZERO):
    """The seller's front-running transaction (cost to the attacker: one setTerms, ~45,000 gas)."""
    return market.setTerms(dataset_id, keccak(b"other licence text"), terms(asset=asset, **BAIT_TERMS),
                           {"from": seller})


# --------------------------------------------------------------------------- a sale binds what the buyer saw

def test_seller_swaps_terms_in_front_of_an_rbtc_purchase(market, lens, seller, buyer):
    """Gain: the seller sells a 1-second licence at the 30-day price; loss: the buyer's payment."""
    pub = publish(market, seller, transferable=True, royalty=100)
    p, _ = current_purchase(market, pub.dataset_id)  # what the buyer saw and signed
    _swap_terms(market, seller, pub.dataset_id)  # mined first
    before = buyer.balance()
    with reverts(f"TermsChanged: {pub.dataset_id}, {p[1] + 1}, {p[1]}"):
        market.buy(p, {"from": buyer, "value": PRICE})
    assert market.balance() == 0 and market.balanceOf(buyer) == 0
    assert before - buyer.balance() < PRICE  # the failed transaction cost only gas
    assert dataset_of(lens, pub.dataset_id).sold == 0  # nothing sold


def test_seller_swaps_terms_in_front_of_an_erc20_purchase(market, seller, buyer, token):
    pub = publish(market, seller, asset=token.address)
    p, _ = current_purchase(market, pub.dataset_id)
    token.approve(market, PRICE, {"from": buyer})
    _swap_terms(market, seller, pub.dataset_id, asset=token.address)
    before = token.balanceOf(buyer)
    with reverts("TermsChanged"):
        market.buyWithToken(p, {"from": buyer})
    assert token.balanceOf(buyer) == before and token.balanceOf(market) == 0


def test_seller_swaps_terms_in_front_of_an_erc677_purchase(market, seller, buyer, token):
    pub = publish(market, seller, asset=token.address)
    p, _ = current_purchase(market, pub.dataset_id)
    _swap_terms(market, seller, pub.dataset_id, asset=token.address)
    before = token.balanceOf(buyer)
    with reverts("TermsChanged"):
        token.transferAndCall(market, PRICE, token_data(p), {"from": buyer})
    assert token.balanceOf(buyer) == before and token.balanceOf(market) == 0


def test_seller_publishes_a_new_version_in_front_of_a_purchase(market, seller, buyer, token):
    """The buyer saw version 1 (say, the full data); the seller swaps in a version 2 (an empty file) first."""
    rbtc = publish(market, seller)
    tok = publish(market, seller, asset=token.address)
    paid = {}
    for pub in (rbtc, tok):
        paid[pub.dataset_id] = current_purchase(market, pub.dataset_id)[0]
        market.publishVersion(pub.dataset_id, b"\x01empty", keccak(b""), keccak(os.urandom(32)), {"from": seller})
    with reverts(f"VersionChanged: {rbtc.dataset_id}, 2, 1"):
        market.buy(paid[rbtc.dataset_id], {"from": buyer, "value": PRICE})
    with reverts("VersionChanged"):
        token.transferAndCall(market, PRICE, token_data(paid[tok.dataset_id]), {"from": buyer})
    token.approve(market, PRICE, {"from": buyer})
    with reverts("VersionChanged"):
        market.buyWithToken(paid[tok.dataset_id], {"from": buyer})
    assert market.balance() == 0 and token.balanceOf(market) == 0


def test_new_version_between_building_and_mining_a_delivery(market, lens, seller, buyer, agent):
    """v1: the agent's delivery of K1 landed after the owner published v2, was bound to keccak(K2), and the buyer
    (holding K1) disputed and was refunded: the buyer keeps the data for free, the seller loses the sale.
    v2: a delivery names the commitment it carries and must carry the version bought, whatever was published
    since: the delivery of K1 is bound to keccak(K1), a dispute of it settles, and a delivery naming any other
    commitment is refused."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    stale = keywrap.wrap_key(pub.content_key, lid, key.x, key.y, 777)  # built by the agent for version 1
    k2 = os.urandom(32)
    market.publishVersion(pub.dataset_id, b"\x01v2", keccak(b"v2"), keccak(k2), {"from": seller})  # mined first
    v2 = Published(pub.dataset_id, k2, keccak(k2))
    with reverts(f"KeyCommitmentChanged: {lid}"):
        deliver(market, lid, v2, key, agent)  # the new version's key is not what was bought
    with reverts(f"KeyCommitmentChanged: {lid}"):
        market.deliverKey(lid, key.address, keccak(k2), *stale.as_args(), {"from": agent})  # K1 named as v2's
    market.deliverKey(lid, key.address, pub.key_hash, *stale.as_args(), {"from": agent})
    tx = dispute_key(market, lid, key, stale, pub.key_hash, buyer)
    assert tx.events["KeyDisputeDecided"]["keyCorrect"] is True  # never refunded while holding the key
    assert market.balanceOwed(ZERO, buyer) == 0
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    # the settled licence then gets version 2 by redelivery
    w2 = keywrap.wrap_key(k2, lid, key.x, key.y, 778)
    market.redeliverKey(lid, keccak(k2), *w2.as_args(), {"from": agent})
    assert keywrap.unwrap_key(w2, lid, key.private) == k2


def test_junk_redelivery_after_a_good_delivery_while_in_escrow(market, lens, seller, buyer, agent):
    """v1: the seller delivered correctly, then redelivered junk for the same version while in escrow; the buyer's
    client read the junk, disputed, and the seller proved the first (good) delivery and took the bond.
    v2: no redelivery while in escrow; the escrowed delivery stays what the dispute is checked against."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    _, good, _ = deliver(market, lid, pub, key, agent)
    record = lens.deliveryRecord(lid)
    junk = keywrap.wrap_key(os.urandom(32), lid, key.x, key.y, 31337)
    with reverts(f"WrongState: {lid}, {State.DELIVERED:d}"):
        market.redeliverKey(lid, pub.key_hash, *junk.as_args(), {"from": agent})
    with reverts(f"WrongState: {lid}, {State.DELIVERED:d}"):
        market.deliverKey(lid, key.address, pub.key_hash, *junk.as_args(), {"from": seller})
    assert lens.deliveryRecord(lid) == record
    # a client fooled by the junk anyway cannot dispute it: only the escrowed delivery opens a dispute
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, junk, pub.key_hash, buyer)
    # and no dispute of the key costs a bond any more
    market.confirm(lid, {"from": buyer})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert keywrap.unwrap_key(good, lid, key.private) == pub.content_key


def test_data_ruling_of_zero_leaves_a_valid_settled_licence(market, lens, seller, buyer, agent, arbiter):
    """v1: a ruling fully for the seller left the licence `Resolved` and invalid although fully paid: the buyer lost
    both the money and the licence. v2: the sale stands, the licence is valid, the seller paid plus the bond."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    _, _, dtx = deliver(market, lid, pub, key, agent)
    ptx = market.disputeData(lid, {"from": buyer, "value": BOND})
    sleep(DAY)
    tx = market.resolveData(lid, 0, {"from": arbiter})
    assert licence_of(lens, lid).state == State.SETTLED
    assert market.isValid(lid)
    assert lens.hasValidLicence(buyer, pub.dataset_id, lid)
    # the term runs from delivery, extended by the time spent in dispute (the licence gave no access meanwhile)
    assert lens.expiresAt(lid) == dtx.timestamp + (tx.timestamp - ptx.timestamp) + 30 * DAY
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE + BOND
    assert market.balanceOwed(ZERO, buyer) == 0


def test_old_agent_delivers_after_the_dataset_changed_hands(market, lens, seller, buyer, agent, stranger):
    """The previous owner keeps its hot agent key after selling the dataset: v1 let that agent go on delivering
    (junk) for licences the new owner is paid for, so buyers were refunded at the new owner's expense."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    market.transferDataset(pub.dataset_id, stranger, {"from": seller})
    market.acceptDataset(pub.dataset_id, {"from": stranger})
    assert lens.agentOf(pub.dataset_id) == ZERO
    with reverts(f"NotDeliverer: {pub.dataset_id}"):
        deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    with reverts("NotDeliverer"):
        deliver(market, lid, pub, key, seller, content_key=os.urandom(32))
    deliver(market, lid, pub, key, stranger)
    assert licence_of(lens, lid).state == State.DELIVERED


@pytest.mark.parametrize("new_bond", [0, 50 * BOND])
def test_admin_changes_the_bond_after_a_purchase(market, lens, seller, buyer, agent, admin, arbiter, new_bond):
    """Raising the bond after a sale priced a buyer out of disputing an open licence; lowering it cheapened a
    dispute (and what the seller stood to win). v2: the bond is the one the licence was bought under."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    market.setSettings(FEE_BPS, new_bond, {"from": admin})
    deliver(market, lid, pub, key, agent)
    with reverts(f"WrongBond: {BOND}, {new_bond}"):
        market.disputeData(lid, {"from": buyer, "value": new_bond})
    tx = market.disputeData(lid, {"from": buyer, "value": BOND})
    assert tx.events["DataDisputed"]["bond"] == BOND
    assert lens.bondOf(lid) == BOND
    market.resolveData(lid, 10000, {"from": arbiter})
    assert market.balanceOwed(ZERO, buyer) == PRICE + BOND


def test_buyer_rotates_its_key_right_before_the_delivery_lands(market, lens, seller, buyer, agent):
    """The rotation race: the buyer watches the mempool, rotates to a fresh key just before the agent's delivery
    (built for the old key) is mined, decrypts with the old key, then reveals the new key to prove the delivery
    "wrong" and is refunded: the data for free (cost to the attacker: one rotation, ~35,000 gas).
    v2: a delivery names the key it was built for (DeliveryKeyChanged otherwise), and no rotation is accepted
    while the licence is pending, so the race cannot start."""
    pub = publish(market, seller, agent=agent)
    lid, old, _ = buy(market, pub.dataset_id, buyer)
    built = keywrap.wrap_key(pub.content_key, lid, old.x, old.y, 4242)  # built by the agent
    new = DeliveryKey.random()
    with reverts(f"WrongState: {lid}, {State.PENDING:d}"):
        market.rotateDeliveryKey(lid, new.x, new.y, {"from": buyer})  # sent in front of the delivery
    with reverts(f"DeliveryKeyChanged: {lid}, {old.address}, {new.address}"):
        market.deliverKey(lid, new.address, pub.key_hash, *built.as_args(), {"from": agent})
    market.deliverKey(lid, old.address, pub.key_hash, *built.as_args(), {"from": agent})
    with reverts("ProofMismatch"):
        dispute_key(market, lid, new, built, pub.key_hash, buyer)  # the new key proves nothing
    tx = dispute_key(market, lid, old, built, pub.key_hash, buyer)
    assert tx.events["KeyDisputeDecided"]["keyCorrect"] is True  # the buyer gains nothing
    assert market.balanceOwed(ZERO, buyer) == 0


def _point_with_x_at_least_n():
    x = N
    while True:
        rhs = (x * x * x + 7) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return x, y
        x += 1


@pytest.mark.parametrize("case", ["off-curve", "x>=n", "zero", "y>=p"])
def test_delivered_point_must_be_usable(market, seller, buyer, agent, case):
    """A seller delivering an R the key dispute cannot multiply would make the buyer's proof impossible: junk that
    cannot be disputed. v2 refuses such an R at delivery (and at redelivery)."""
    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    x, y = {
        "off-curve": (1, 1),
        "x>=n": _point_with_x_at_least_n(),
        "zero": (0, 0),
        "y>=p": (1, P),
    }[case]
    if case == "x>=n":
        assert (y * y - x**3 - 7) % P == 0 and x >= N  # a real curve point, out of ecrecover's reach
    with reverts("InvalidPoint"):
        market.deliverKey(lid, key.address, pub.key_hash, x.to_bytes(32, "big"), y.to_bytes(32, "big"),
                          os.urandom(32), {"from": agent})


def test_delivery_key_equal_to_the_payer_or_licensee_account(market, seller, buyer, stranger, token):
    """A buyer's dispute reveals the delivery key's private key: were it the account key, a dispute would publish
    the buyer's wallet key (and a careless client would do so). Refused on every purchase path and rotation."""
    pub = publish(market, seller)
    tok = publish(market, seller, asset=token.address)
    payer_key, licensee_key = account_key(buyer), account_key(stranger)
    with reverts(f"DeliveryKeyIsAccount: {buyer.address}"):
        buy(market, pub.dataset_id, buyer, key=payer_key)
    with reverts(f"DeliveryKeyIsAccount: {stranger.address}"):
        buy(market, pub.dataset_id, buyer, key=licensee_key, licensee=stranger)
    with reverts("DeliveryKeyIsAccount"):
        buy_677(market, token, tok.dataset_id, buyer, key=payer_key)
    lid, key, _ = buy(market, pub.dataset_id, buyer, licensee=stranger)
    deliver(market, lid, pub, key, seller)
    with reverts(f"DeliveryKeyIsAccount: {stranger.address}"):
        market.rotateDeliveryKey(lid, licensee_key.x, licensee_key.y, {"from": stranger})


# ------------------------------------------------------------------------------------ the buyer's key dispute

@pytest.fixture
def delivered(market, seller, buyer, agent):
    def make(good: bool):
        pub = publish(market, seller, agent=agent)
        lid, key, _ = buy(market, pub.dataset_id, buyer)
        _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=None if good else os.urandom(32))
        return pub, lid, key, wrap

    return make


def test_seller_delivers_a_wrong_key_and_the_buyer_is_refunded_in_one_transaction(market, lens, delivered, buyer,
                                                                                  seller):
    """The seller's gain (keep the price, deliver nothing usable) is gone: one buyer transaction refunds it, with no
    bond, no seller response and no window to wait out."""
    pub, lid, key, wrap = delivered(good=False)
    tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert tx.events["KeyDisputeDecided"]["keyCorrect"] is False
    assert market.balanceOwed(ZERO, buyer) == PRICE
    assert market.balanceOwed(ZERO, seller) == 0
    assert licence_of(lens, lid).state == State.REFUNDED
    before = buyer.balance()
    wtx = market.withdraw(ZERO, buyer, {"from": buyer})
    assert buyer.balance() == before + PRICE - wtx.gas_used * wtx.gas_price


def test_buyer_disputes_a_right_key_and_gains_nothing(market, lens, delivered, buyer, seller):
    """A buyer who disputes a good delivery to get its money back settles the sale to the seller instead."""
    pub, lid, key, wrap = delivered(good=True)
    tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert tx.events["KeyDisputeDecided"]["keyCorrect"] is True
    assert "LicenceRefunded" not in tx.events
    assert market.balanceOwed(ZERO, buyer) == 0
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert licence_of(lens, lid).state == State.SETTLED


def test_buyer_reveals_someone_elses_key_or_another_delivery(market, delivered, buyer, seller, agent):
    """A buyer holding a junk delivery on another licence (or made up) tries to refund a good one with it."""
    pub, lid, key, wrap = delivered(good=True)
    pub2, lid2, key2, wrap2 = delivered(good=False)
    with reverts(f"ProofMismatch: {lid}"):
        dispute_key(market, lid, key2, wrap2, pub2.key_hash, buyer)  # the other licence's key and delivery
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key2, wrap, pub.key_hash, buyer)  # someone else's key, this delivery
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, wrap2, pub.key_hash, buyer)  # this key, another delivery
    junk = keywrap.wrap_key(os.urandom(32), lid, key.x, key.y, 99)
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, junk, pub.key_hash, buyer)  # a made-up delivery to this key
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, wrap, keccak(b"other"), buyer)  # another commitment
    # a negated point R' = -R (same x) is another delivery too
    neg = keywrap.Wrap(wrap.r_x, (P - int.from_bytes(wrap.r_y, "big")).to_bytes(32, "big"), wrap.wrapped_key)
    with reverts("ProofMismatch"):
        dispute_key(market, lid, key, neg, pub.key_hash, buyer)


@pytest.mark.parametrize("p", [0, N, N + 1, 2**256 - 1])
def test_revealed_scalar_out_of_range(market, delivered, buyer, p):
    """p = 0 or p >= n: the ecrecover trick is undefined; p + n would name the same point as p."""
    pub, lid, key, wrap = delivered(good=False)
    with reverts("InvalidScalar"):
        market.disputeKey(lid, p, escrowed(wrap, pub.key_hash), {"from": buyer})


def test_revealed_scalar_plus_n_is_refused(market, seller, buyer, agent):
    """p + n names the same point as p (the precompile reduces mod n); only the canonical scalar is accepted."""
    priv = (123456789).to_bytes(32, "big")
    key = DeliveryKey(priv, *keywrap.public_key(priv))
    pub = publish(market, seller, agent=agent)
    lid, _, _ = buy(market, pub.dataset_id, buyer, key=key)
    _, wrap, _ = deliver(market, lid, pub, key, agent, content_key=os.urandom(32))
    with reverts("InvalidScalar"):
        market.disputeKey(lid, key.scalar + N, escrowed(wrap, pub.key_hash), {"from": buyer})
    dispute_key(market, lid, key, wrap, pub.key_hash, buyer)


def test_only_the_holder_disputes(market, delivered, buyer, seller, agent, stranger):
    """Anyone who learns the one-time key (say, from a leaked client) cannot dispute for the holder, and the seller
    cannot "dispute" to settle early."""
    pub, lid, key, wrap = delivered(good=False)
    for who in (stranger, seller, agent):
        with reverts(f"NotLicenceHolder: {lid}"):
            dispute_key(market, lid, key, wrap, pub.key_hash, who)


def test_dispute_after_the_window(market, delivered, buyer, stranger, seller):
    """A buyer who waits out the window (using the data meanwhile) cannot dispute after it; the sale settles."""
    pub, lid, key, wrap = delivered(good=False)
    sleep(2 * DAY + 1)
    with reverts("TooLate"):
        dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    market.settle(lid, {"from": stranger})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE


def test_dispute_after_settlement_or_refund(market, delivered, buyer):
    """A second dispute of the same licence (double refund) is refused."""
    pub, lid, key, wrap = delivered(good=False)
    dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    with reverts(f"WrongState: {lid}, {State.REFUNDED:d}"):
        dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    with reverts("WrongState"):
        market.confirm(lid, {"from": buyer})
    assert market.balanceOwed(ZERO, buyer) == PRICE


def test_buyer_rotates_in_front_of_every_delivery_to_run_out_the_window(market, lens, seller, buyer, agent):
    """Found in review of v2 (also the red team's F1). A refused delivery still lands on-chain: its calldata wraps K
    to the key it was built for, which the buyer holds. A buyer who front-runs each delivery with a rotation reads K
    from the first refused one, keeps the deliveries failing until the window closes, and takes a refund: the data
    for free (cost: one rotation, ~35,000 gas, per delivery attempt). Fixed: no rotation while Pending."""
    pub = publish(market, seller, agent=agent)
    lid, key_a, buy_tx = buy(market, pub.dataset_id, buyer)
    d1 = keywrap.wrap_key(pub.content_key, lid, key_a.x, key_a.y, 1111)  # attempt 1, built for key A
    key_b = DeliveryKey.random()
    with reverts(f"WrongState: {lid}, {State.PENDING:d}"):
        market.rotateDeliveryKey(lid, key_b.x, key_b.y, {"from": buyer})
    sleep(DAY - 120)
    with reverts("WrongState"):
        market.rotateDeliveryKey(lid, key_b.x, key_b.y, {"from": buyer})  # not even at the end of the window
    market.deliverKey(lid, key_a.address, pub.key_hash, *d1.as_args(), {"from": agent})
    sleep(240)
    with reverts(f"WrongState: {lid}, {State.DELIVERED:d}"):
        market.refund(lid, {"from": buyer})
    market.confirm(lid, {"from": buyer})
    assert market.balanceOwed(ZERO, seller) == PRICE - FEE
    assert market.balanceOwed(ZERO, buyer) == 0

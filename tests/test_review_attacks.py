"""The independent review's proofs of concept against marketplace v2, kept in the suite.

Each test is written as the attack and asserts what the honest party should see. F2 (a reused key commitment) and
F5 (a version published after the purchase) worked before their fixes; the `held` tests are attacks that failed
from the start. F1 and F4 are in test_review_findings.py; F3 (an admin front-running a purchase with new
settings) is admin trust, documented in docs/protocol.md.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from brownie import chain
from eth_utils import keccak

from helpers import publish_file as _publish, DAY, PRICE, ZERO, DeliveryKey, buy, deliver, publish, reverts, sleep, terms
from datalicense.protocol import age as agecrypt, keywrap
from datalicense.services.agent import Agent
from datalicense.infra.chain import connect, load_account
from datalicense.client import Client
from datalicense.protocol.manifest import Manifest, now, parse
from datalicense.protocol.records import State
from datalicense.infra.ipfs import Storage, cid_to_bytes

pytestmark = pytest.mark.e2e


def _rpc(w3, method, params=()):
    res = w3.provider.make_request(method, list(params))
    assert "error" not in res, res
    return res.get("result")


def _pending_tx_to(w3, sender, to, timeout=30.0):
    """What any node's mempool shows: the first pending transaction of `sender` to `to`."""
    end = time.time() + timeout
    while time.time() < end:
        pool = _rpc(w3, "txpool_content")
        for addr, by_nonce in (pool.get("pending") or {}).items():
            if addr.lower() != sender.lower():
                continue
            for tx in by_nonce.values():
                if (tx.get("to") or "").lower() == to.lower():
                    return tx
        time.sleep(0.05)
    raise AssertionError("the agent's delivery never reached the mempool")


# ================================================ F2: a reused key commitment makes fetch verify the wrong version


def test_seller_reuses_a_key_commitment_and_the_client_confirms_an_older_version(make, tmp_path):
    """A malicious seller publishes version 1 (cheap junk, key K), then version 2 whose manifest promises the real
    thing (title, plaintext hash of good data) but carries the SAME key commitment keccak(K) and a ciphertext that
    is not that data. The buyer reads version 2, buys naming version 2, and the seller delivers K (a right key:
    no key dispute possible). The client's fetch looks the version up by commitment and takes the FIRST match,
    version 1: its junk verifies against version 1's hash, is written out, and the purchase is confirmed
    automatically -- the buyer loses its data dispute (and the escrow) without ever seeing version 2 fail.

    Attacker's cost: one publishVersion. Buyer loses PRICE and the right to a data dispute.
    Expected: fetch checks the version the licence bought (or a newer one) and confirms nothing else. FAILS today."""
    import hashlib

    seller, buyer = make(3), make(4, "buyer")
    v1 = _publish(seller, tmp_path, "junk\n", ZERO, name="v1.csv")
    good = b"the full 2025 clinic dataset\n" * 4
    m1 = parse(seller.conn.storage.cat_bytes(v1.manifest_cid))
    bogus = tmp_path / "v2.bin"
    bogus.write_bytes(os.urandom(300))  # not an encryption of `good`: version 2 is a lie
    m2 = Manifest("Clinic visits 2025 (full)", "everything, cleaned", "text/csv", len(good),
                  hashlib.sha256(good).hexdigest(), seller.conn.storage.add_file(bogus), 300, m1.recipient,
                  m1.licence_terms, seller.conn.account.address, now())
    seller.conn.tx.send(seller.conn.contract.functions.publishVersion(
        v1.dataset_id, cid_to_bytes(seller.conn.storage.add_bytes(m2.to_json())), hashlib.sha256(good).digest(),
        bytes.fromhex(v1.key_hash[2:])))  # the same commitment as version 1
    sale = buyer.buyer.buy(v1.dataset_id)
    assert sale.version == 2  # the buyer accepted version 2
    seller.seller.deliver(sale.licence_id)
    out = tmp_path / "got.csv"
    try:
        res = buyer.buyer.fetch(sale.licence_id, out)
    except Exception as exc:  # noqa: BLE001 - the honest outcome: version 2 fails and nothing is confirmed
        print("fetch refused:", exc)
        assert buyer.conn.market.licence(sale.licence_id).state == State.DELIVERED
        return
    assert res.confirmed_tx is None, (
        f"bought version 2, fetch wrote version 1 ({out.read_bytes()!r}) and confirmed the purchase")


# ==================================================================== attacks that held (these PASS)


def _data(p, licensee_word=None, length=None):
    from helpers import token_data

    d = bytearray(token_data(p))
    if licensee_word is not None:
        d[128:160] = licensee_word  # the licensee, fifth word of a Purchase
    if length is not None:
        d = (d + bytes(64))[:length]
    return bytes(d)


def test_held_erc677_dirty_licensee_short_and_long_data(market, seller, buyer, token):
    from helpers import current_purchase

    pub = publish(market, seller, asset=token.address)
    p, key = current_purchase(market, pub.dataset_id)
    dirty = b"\xff" * 12 + bytes.fromhex(buyer.address[2:])
    with reverts(""):
        token.transferAndCall(market, PRICE, _data(p, licensee_word=dirty), {"from": buyer})
    for n in (0, 192, 223, 225, 256):
        with reverts("BadTokenData"):
            token.transferAndCall(market, PRICE, _data(p, length=n), {"from": buyer})
    # an EOA (or any non-allowed contract) calling tokenFallback directly is refused
    with reverts("AssetNotAllowed"):
        market.tokenFallback(buyer, PRICE, _data(p), {"from": buyer})
    assert token.balanceOf(market) == 0


def test_held_key_dispute_with_malleated_delivery(market, seller, buyer, agent):
    from helpers import dispute_key, escrowed

    pub = publish(market, seller, agent=agent)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    _, wrap, _ = deliver(market, lid, pub, key, agent)
    P = keywrap.P_FIELD
    ry_neg = (P - int.from_bytes(wrap.r_y, "big")).to_bytes(32, "big")
    for bad in [
        (wrap.r_x, ry_neg, wrap.wrapped_key, pub.key_hash),  # -R: same x, other parity
        (wrap.r_x, wrap.r_y, bytes(32), pub.key_hash),  # another W
        (wrap.r_x, wrap.r_y, wrap.wrapped_key, keccak(b"x")),  # another commitment
    ]:
        with reverts("ProofMismatch"):
            market.disputeKey(lid, key.scalar, bad, {"from": buyer})
    for p in (0, keywrap.N, key.scalar + keywrap.N if key.scalar + keywrap.N < 2**256 else keywrap.N + 1):
        with reverts("InvalidScalar"):
            market.disputeKey(lid, p, escrowed(wrap, pub.key_hash), {"from": buyer})
    with reverts("ProofMismatch"):  # n - p is the key of -P: another address
        market.disputeKey(lid, keywrap.N - key.scalar, escrowed(wrap, pub.key_hash), {"from": buyer})
    tx = dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    assert tx.events["KeyDisputeDecided"]["keyCorrect"] is True


def test_held_generator_as_delivery_key(market, seller, buyer, agent):
    """p = 1 (P = G) is accepted: the buyer's own choice to make its delivery public; a dispute still settles."""
    from helpers import dispute_key

    class G:
        private = (1).to_bytes(32, "big")
        x = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798).to_bytes(32, "big")
        y = (0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8).to_bytes(32, "big")
        scalar = 1
        address = "0x" + keywrap.point_address(x, y).hex()

    pub = publish(market, seller, agent=agent)
    lid, _, _ = buy(market, pub.dataset_id, buyer, key=G)
    _, wrap, _ = deliver(market, lid, pub, G, agent)
    assert dispute_key(market, lid, G, wrap, pub.key_hash, buyer).events["KeyDisputeDecided"]["keyCorrect"]


def test_held_licence_transfers_only_when_settled(market, seller, buyer, agent, stranger):
    pub = publish(market, seller, agent=agent, transferable=True)
    lid, key, _ = buy(market, pub.dataset_id, buyer)
    market.approve(stranger, lid, {"from": buyer})
    with reverts("NotTransferableNow"):
        market.transferFrom(buyer, stranger, lid, {"from": stranger})
    deliver(market, lid, pub, key, agent)
    with reverts("NotTransferableNow"):
        market.transferFrom(buyer, stranger, lid, {"from": stranger})
    from helpers import BOND
    market.disputeData(lid, {"from": buyer, "value": BOND})
    with reverts("NotTransferableNow"):
        market.transferFrom(buyer, stranger, lid, {"from": buyer})
    with reverts("NotLicenceHolder"):
        market.rotateDeliveryKey(lid, key.x, key.y, {"from": stranger})


# ============================== F5: after the purchase the seller swaps the version the escrow is delivered for


def test_seller_publishes_junk_version_after_purchase_and_client_confirms_it(make, tmp_path):
    """Issue 10 makes a purchase name the version it accepts -- but only until the purchase is mined. The seller
    then publishes version 2 (junk, honestly encrypted and hashed) and delivers: `deliverKey` only accepts the
    *current* commitment, so the escrowed delivery is version 2's key, never version 1's. The buyer's fetch
    verifies version 2 against version 2's own hash, writes the junk and confirms automatically: the buyer paid
    for version 1, never had a chance to dispute, and the seller is paid.

    Attacker's cost: one publishVersion. Buyer loses PRICE (and the data-dispute remedy).
    Expected: the escrowed delivery is bound to the version the buyer named (newer versions come as redeliveries
    after settlement), or at least the client does not confirm a version other than the one bought. FAILS today."""
    seller, buyer = make(3), make(4, "buyer")
    good = "id,score\n1,98\n2,87\n"
    pub = _publish(seller, tmp_path, good, ZERO, name="v1.csv")
    sale = buyer.buyer.buy(pub.dataset_id)
    assert sale.version == 1
    junk = tmp_path / "v2.csv"
    junk.write_text("nothing here\n")
    seller.seller.publish_version(pub.dataset_id, junk, title="v1.csv")  # after the purchase is mined
    seller.seller.deliver(sale.licence_id)
    out = tmp_path / "got.csv"
    try:
        res = buyer.buyer.fetch(sale.licence_id, out)
    except Exception as exc:  # noqa: BLE001 - an acceptable outcome: nothing written, nothing confirmed
        print("fetch refused:", exc)
        assert buyer.conn.market.licence(sale.licence_id).state == State.DELIVERED
        return
    assert out.read_text() == good or res.confirmed_tx is None, (
        f"bought version 1, got {out.read_text()!r} and the purchase was confirmed ({res.confirmed_tx})")

"""What strangers can put on chain must not stop the agent or fool a buyer's fetch (real chain, real Kubo).

Each test is the attack: who tries what, and what the user checks afterwards.
"""

import hashlib
import sqlite3

import pyrage
import pytest

from datalicense import ChainError, Client, ConfigError
from datalicense.protocol import keywrap
from datalicense.services.agent import DEADLINE_MARGIN, Agent
from datalicense.infra.chain import connect, load_account
from datalicense.protocol.manifest import Manifest, now, parse
from datalicense.infra.market import Market
from datalicense.protocol.records import State
from datalicense.infra.ipfs import Storage, cid_to_bytes

from helpers import fetched, publish_file as _publish, publish_version_reusing_key

pytestmark = pytest.mark.e2e


def _delivered_to(client, lid):
    logs = client.conn.contract.events.KeyDelivered().get_logs(from_block=0, argument_filters={"licenceId": lid})
    return logs


def test_stranger_naming_our_agent_cannot_stop_real_deliveries(make, tmp_path):
    """A stranger publishes a free dataset naming our agent and buys it, before and after a real sale. Before
    the fix the agent exited on "no content key" at every restart and real buyers ran out into refunds."""
    seller, agent_c, buyer, stranger = make(3), make(5), make(4, "buyer"), make(6, "stranger")
    real = _publish(seller, tmp_path, "a\n1\n", agent_c.conn.account.address)
    fake = _publish(stranger, tmp_path, "x\n", agent_c.conn.account.address, price=0, name="free.csv")
    low = stranger.buyer.buy(fake.dataset_id).licence_id  # a stranger's job at a lower licence id
    sale = buyer.buyer.buy(real.dataset_id).licence_id
    high = stranger.buyer.buy(fake.dataset_id, again=True).licence_id  # and at a higher one
    stats = Agent(agent_c, tmp_path / "agent.sqlite").run(once=True)
    assert stats.delivered == 1
    assert len(_delivered_to(buyer, sale)) == 1
    assert not _delivered_to(buyer, low) and not _delivered_to(buyer, high)
    out = tmp_path / "got.csv"
    buyer.buyer.fetch(sale, out)
    assert out.read_text() == "a\n1\n"
    # a restart changes nothing: no exit, nothing sent twice
    assert Agent(agent_c, tmp_path / "agent.sqlite").run(once=True).delivered == 0


def test_one_failing_job_does_not_block_the_batch(make, tmp_path):
    """A dataset of ours whose content key went missing fails its own jobs only."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    broken = _publish(seller, tmp_path, "b\n", agent_c.conn.account.address, name="b.csv")
    good = _publish(seller, tmp_path, "g\n", agent_c.conn.account.address, name="g.csv")
    lost = buyer.buyer.buy(broken.dataset_id).licence_id
    sale = buyer.buyer.buy(good.dataset_id).licence_id
    for f in (seller.keys.keys_dir / str(broken.dataset_id)).glob("*.age"):
        f.write_text(f.read_text().replace("AGE-SECRET-KEY", "#"))  # corrupted, but the folder is there
    stats = Agent(agent_c, tmp_path / "agent.sqlite").run(once=True)
    assert stats.delivered == 1 and stats.failed == 1
    assert len(_delivered_to(buyer, sale)) == 1 and not _delivered_to(buyer, lost)
    db = sqlite3.connect(str(tmp_path / "agent.sqlite"))
    state, note = db.execute("SELECT state, note FROM jobs WHERE licence_id=?", (lost,)).fetchone()
    assert state == "failed" and note


def test_cross_dataset_version_with_our_commitment_is_never_fetched(make, tmp_path):
    """A stranger publishes a version of its own dataset carrying our dataset's key commitment, with its content
    encrypted to our dataset's recipient. Before the fix the buyer's fetch found that version by the commitment
    alone, decrypted the stranger's content and confirmed the purchase."""
    seller, buyer, stranger = make(3), make(4, "buyer"), make(6, "stranger")
    ours = _publish(seller, tmp_path, "ours\n", "0x" + "00" * 20)
    theirs = _publish(stranger, tmp_path, "bait\n", "0x" + "00" * 20, name="s.csv")
    # the stranger encrypts its content to our dataset's recipient (it cannot know K, but the recipient is public)
    our_manifest = parse(seller.conn.storage.cat_bytes(ours.manifest_cid))
    junk = tmp_path / "junk.age"
    plain = b"stranger content\n"
    junk.write_bytes(pyrage.encrypt(plain, [pyrage.x25519.Recipient.from_str(our_manifest.recipient)]))
    sha = hashlib.sha256(plain).hexdigest()
    cipher_cid = stranger.conn.storage.add_file(junk)
    m = Manifest("bait", "", "text/plain", len(plain), sha, cipher_cid, junk.stat().st_size,
                 our_manifest.recipient, "0x" + "11" * 32, stranger.conn.account.address, now())
    mcid = stranger.conn.storage.add_bytes(m.to_json())
    stranger.conn.tx.send(stranger.conn.contract.functions.publishVersion(
        theirs.dataset_id, cid_to_bytes(mcid), bytes.fromhex(sha), bytes.fromhex(ours.key_hash[2:])))
    lid = buyer.buyer.buy(ours.dataset_id).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "got.csv"
    res = buyer.buyer.fetch(lid, out)
    assert out.read_text() == "ours\n"  # our dataset's own version, never the stranger's
    assert res.confirmed_tx is not None


def test_junk_redelivery_after_a_good_delivery_still_fetches_with_the_escrowed_key(make, tmp_path):
    """The seller delivers correctly, settles, then posts junk for the same version to lead the buyer's client
    astray. Before the fix the client trusted the newest delivery and advised a dispute."""
    seller, buyer = make(3), make(4, "buyer")
    pub = _publish(seller, tmp_path, "k\n", "0x" + "00" * 20)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    fetched(buyer, lid, tmp_path / "first.csv", "k\n")  # confirmed: settled
    assert buyer.conn.market.licence(lid).state == State.SETTLED
    keys = buyer.reader.delivery_keys(lid)[-1]
    junk = keywrap.wrap_key(bytes(32), lid, keys["x"], keys["y"], 5)
    seller.conn.tx.send(seller.conn.contract.functions.redeliverKey(lid, bytes.fromhex(pub.key_hash[2:]), *junk.as_args()))
    out = tmp_path / "again.csv"
    buyer.buyer.fetch(lid, out)
    assert out.read_text() == "k\n"


def test_reorg_never_delivers_to_the_orphaned_key(make, tmp_path, market):
    """Buyer A's purchase is seen by the agent and then reorganised away; buyer B's purchase takes the same
    licence id in the new chain. The delivery must go to B's key (the licence's key on the canonical chain),
    never to A's orphaned one."""
    seller, agent_c, a, b = make(3), make(5), make(4, "a"), make(7, "b")
    pub = _publish(seller, tmp_path, "r\n", agent_c.conn.account.address)
    w3 = seller.conn.w3
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    lid_a = a.buyer.buy(pub.dataset_id).licence_id
    orphan = a.reader.delivery_keys(lid_a)[-1]
    agent = Agent(agent_c, tmp_path / "agent.sqlite")
    agent.scan()  # the agent saw A's purchase (and recorded its block hash)
    assert w3.provider.make_request("evm_revert", [snap])["result"] is True
    w3.provider.make_request("evm_mine", [])
    lid_b = b.buyer.buy(pub.dataset_id).licence_id
    assert lid_b == lid_a
    agent.run(once=True)
    logs = _delivered_to(seller, lid_b)
    assert len(logs) == 1
    record = seller.conn.market.licence(lid_b)
    assert record.holder == b.conn.account.address and record.state == State.DELIVERED
    out = tmp_path / "b.csv"
    b.buyer.fetch(lid_b, out)
    assert out.read_text() == "r\n"
    # the delivery was bound to B's key, not to A's orphaned one
    b_key = b.reader.delivery_keys(lid_b)[-1]
    assert keywrap.point_address(orphan["x"], orphan["y"]) != keywrap.point_address(b_key["x"], b_key["y"])


def test_two_agents_in_one_home_keep_their_own_cursors(make, tmp_path, market):
    """Before the fix another agent's scan moved a shared cursor past the owner's licences and the owner's
    `agent --once` reported `delivered 0`."""
    seller, buyer = make(3), make(4, "buyer")
    stranger_agent = make(6)  # same home, another key
    pub = _publish(seller, tmp_path, "c\n", "0x" + "00" * 20)  # no agent: the owner delivers
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    home = seller.conn.state_dir
    Agent(stranger_agent, home / f"agent-{stranger_agent.conn.account.address.lower()}.sqlite").run(once=True)
    stats = Agent(seller, home / f"agent-{seller.conn.account.address.lower()}.sqlite").run(once=True)
    assert stats.delivered == 1 and len(_delivered_to(seller, lid)) == 1


def test_a_journal_of_another_agent_or_contract_is_refused(make, tmp_path):
    seller, other = make(3), make(6)
    db = tmp_path / "journal.sqlite"
    Agent(seller, db).run(once=True)
    with pytest.raises(ConfigError, match="belongs to another agent"):
        Agent(other, db)


def test_a_delivery_signed_for_another_chain_is_signed_again_exactly_once(make, tmp_path):
    """A journal holds a signed delivery the node refuses (signed for another chain id): the agent recognises it
    and signs it again, with the same nonce, instead of halting."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    pub = _publish(seller, tmp_path, "n\n", agent_c.conn.account.address)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    db = tmp_path / "agent.sqlite"
    agent = Agent(agent_c, db)
    agent.scan()
    key = buyer.reader.delivery_keys(lid)[-1]
    call = agent_c.seller.delivery_call(lid, key=(key["x"], key["y"]))
    nonce = agent_c.conn.w3.eth.get_transaction_count(agent_c.conn.account.address)
    tx = call.build_transaction({"from": agent_c.conn.account.address, "nonce": nonce, "gas": 120_000,
                                 "gasPrice": agent_c.conn.w3.eth.gas_price, "chainId": 31})
    signed = agent_c.conn.account.sign_transaction(tx)
    agent.db.execute("UPDATE jobs SET state='signed', raw_tx=?, tx_hash=?, nonce=?, signed_at=? WHERE licence_id=?",
                     (bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(), nonce, 0.0 + 1e12, lid))
    stats = agent.run(once=True)
    assert stats.delivered == 1
    assert len(_delivered_to(seller, lid)) == 1
    assert agent_c.conn.w3.eth.get_transaction_count(agent_c.conn.account.address) == nonce + 1  # one transaction


def test_already_published_means_owned_by_this_account_on_this_chain(make, tmp_path):
    """An upload record says a manifest was published as dataset N; if N is not this account's dataset on this
    chain (a rehearsal on a fork, a stranger's copy), publishing again registers it for real."""
    seller, stranger = make(3), make(6, "stranger")
    src = tmp_path / "same.csv"
    src.write_text("same\n")
    first = stranger.seller.publish(src, title="same", price="0.001")
    second = seller.seller.publish(src, title="same", price="0.001")
    assert second.dataset_id != first.dataset_id and not second.reused
    assert seller.conn.market.dataset(second.dataset_id).owner == seller.conn.account.address


def test_a_rotation_in_front_of_a_delivery_is_refused(make, tmp_path):
    """A holder rotating its key in front of each delivery made it revert (its calldata revealing K to the
    holder's old key) and then ran out the window into a refund. Rotation is refused while Pending; the agent
    delivers to the purchase key."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    pub = _publish(seller, tmp_path, "rot\n", agent_c.conn.account.address)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with pytest.raises(ChainError, match="WrongState"):
        buyer.buyer.rotate_key(lid)
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce
    assert Agent(agent_c, tmp_path / "agent.sqlite").run(once=True).delivered == 1
    out = tmp_path / "rot.csv"
    buyer.buyer.fetch(lid, out)
    assert out.read_text() == "rot\n"


def test_a_version_published_after_the_purchase_is_not_what_escrow_delivers(make, tmp_path):
    """The seller publishes junk as a new version after the purchase and delivers: before the fix escrow was
    bound to the junk version and the client confirmed it. The escrowed delivery carries the version bought."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    pub = _publish(seller, tmp_path, "good\n", agent_c.conn.account.address)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.publish_version(pub.dataset_id, _write(tmp_path / "junk.csv", "junk\n"), title="junk")
    assert Agent(agent_c, tmp_path / "agent.sqlite").run(once=True).delivered == 1
    out = tmp_path / "got.csv"
    res = buyer.buyer.fetch(lid, out)
    assert out.read_text() == "good\n" and res.confirmed_tx


def test_a_reused_key_commitment_does_not_point_fetch_at_an_older_version(make, tmp_path):
    """The seller publishes version 2 reusing version 1's key commitment: the buyer of version 2 gets version 2
    (what it bought), never version 1 found by the commitment."""
    seller, buyer = make(3), make(4, "buyer")
    pub = _publish(seller, tmp_path, "v1\n", "0x" + "00" * 20)
    plain = b"v2 for real\n"  # version 2: same key, different content, encrypted by hand to the same recipient
    publish_version_reusing_key(seller, pub.dataset_id, plain, tmp_path)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "got.txt"
    buyer.buyer.fetch(lid, out)
    assert out.read_bytes() == plain


def _write(path, text):
    path.write_text(text)
    return path


def test_no_delivery_is_sent_that_may_land_after_the_deadline(make, tmp_path, market):
    """A delivery mined after the deadline reverts, but its calldata shows the wrapped key to the buyer, who is
    refunded anyway: the agent does not send one within its margin of the deadline."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    pub = _publish(seller, tmp_path, "late\n", agent_c.conn.account.address)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    w3 = seller.conn.w3
    m = Market(w3, market.address)
    window = m.terms(m.licence(lid).terms_id).delivery_window
    assert 60 < DEADLINE_MARGIN < window
    w3.provider.make_request("evm_increaseTime", [window - 60])  # a minute before the deadline
    w3.provider.make_request("evm_mine", [])
    before = w3.eth.get_transaction_count(agent_c.conn.account.address)
    stats = Agent(agent_c, tmp_path / "agent.sqlite").run(once=True)
    assert stats.delivered == 0 and stats.failed == 1
    assert w3.eth.get_transaction_count(agent_c.conn.account.address) == before  # nothing was broadcast

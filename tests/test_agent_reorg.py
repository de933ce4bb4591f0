"""The delivery agent follows reorganisations (issue 21, item 23), simulated on Ganache with evm_snapshot and
evm_revert: the chain after the revert is the new canonical chain, the blocks after the snapshot are gone.

Before the fix the agent's journal knew a delivery by its licence id alone: when a reorganisation gave licence id
L to another buyer, the row for L stayed "done" and the canonical buyer was never served; and a delivery whose
block left the chain stayed "done" while the licence waited for it again.
"""

from __future__ import annotations

import sqlite3

import pytest

from datalicense.services.agent import Agent
from datalicense.protocol.records import State

pytestmark = pytest.mark.e2e


def _dataset(seller, agent, tmp_path, text="visit,minutes\n1,12\n"):
    src = tmp_path / "reorg.csv"
    src.write_text(text)
    return seller.seller.publish(src, title="Reorg", price="0.001", agent=agent.conn.account.address).dataset_id


def _deliveries(client, lid):
    return client.conn.contract.events.KeyDelivered().get_logs(from_block=0, argument_filters={"licenceId": lid})


def test_a_reorganisation_that_gives_a_licence_to_another_buyer_is_delivered_to_that_buyer(make, tmp_path):
    seller, agent_c = make(3), make(5)
    ds = _dataset(seller, agent_c, tmp_path)
    w3 = seller.conn.w3
    db = tmp_path / "agent.sqlite"
    agent = Agent(agent_c, db, confirmations=0)
    agent.run(once=True)  # the journal's cursor is past the publish

    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    first = make(4, "first")
    lid = first.buyer.buy(ds).licence_id
    assert agent.run(once=True).delivered == 1
    assert first.conn.market.licence(lid).state == State.DELIVERED

    # the reorganisation: the first purchase and its delivery leave the chain; licence id L goes to another buyer
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    other = make(6, "other")
    assert other.buyer.buy(ds).licence_id == lid
    assert other.conn.market.licence(lid).state == State.PENDING

    stats = Agent(agent_c, db, confirmations=0).run(once=True)  # the same journal, as after a restart
    assert stats.delivered == 1
    assert other.conn.market.licence(lid).state == State.DELIVERED
    assert len(_deliveries(other, lid)) == 1
    out = tmp_path / "other.csv"
    other.buyer.fetch(lid, out)  # the key was wrapped to the canonical buyer's delivery key
    assert out.read_text() == "visit,minutes\n1,12\n"
    rows = sqlite3.connect(str(db)).execute(
        "SELECT state, note FROM jobs WHERE kind='deliver' AND licence_id=? ORDER BY rowid", (lid,)).fetchall()
    assert rows == [("skipped", "its event was reorganised away"), ("done", None)]
    # and nothing is left to do: a further pass sends nothing
    assert Agent(agent_c, db, confirmations=0).run(once=True).delivered == 0


def test_a_delivery_whose_block_left_the_chain_is_sent_again_with_the_same_bytes(make, tmp_path):
    """The purchase stays, the delivery's block goes: the licence is pending again. The agent sends the very
    transaction it signed (same hash, same nonce), so one delivery stands and none other was ever signed."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    ds = _dataset(seller, agent_c, tmp_path)
    w3 = seller.conn.w3
    db = tmp_path / "agent.sqlite"
    lid = buyer.buyer.buy(ds).licence_id
    agent = Agent(agent_c, db, confirmations=0)
    agent.scan()  # the purchase is recorded; nothing is signed yet
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    assert agent.run(once=True).delivered == 1
    sent = _deliveries(buyer, lid)[0]["transactionHash"]

    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    assert buyer.conn.market.licence(lid).state == State.PENDING
    nonce = w3.eth.get_transaction_count(agent_c.conn.account.address)

    assert Agent(agent_c, db, confirmations=0).run(once=True).delivered == 1
    assert buyer.conn.market.licence(lid).state == State.DELIVERED
    again = _deliveries(buyer, lid)
    assert [d["transactionHash"] for d in again] == [sent]  # the same signed bytes
    assert w3.eth.get_transaction_count(agent_c.conn.account.address) == nonce + 1
    out = tmp_path / "bought.csv"
    buyer.buyer.fetch(lid, out)
    assert out.read_text() == "visit,minutes\n1,12\n"


def test_a_journal_of_the_previous_version_is_upgraded_in_place(make, tmp_path):
    """Journals written before deliveries were keyed by purchase event keep their rows and cursor: nothing done is
    done again, nothing owed is forgotten."""
    seller, agent_c, buyer = make(3), make(5), make(4, "buyer")
    ds = _dataset(seller, agent_c, tmp_path)
    db = tmp_path / "agent.sqlite"
    done = buyer.buyer.buy(ds).licence_id
    assert Agent(agent_c, db, confirmations=0).run(once=True).delivered == 1
    # rewrite the journal as the previous version kept it: no event in the key, no mined block
    con = sqlite3.connect(str(db))
    con.executescript("""
        CREATE TABLE old AS SELECT kind, licence_id, key_hash, dataset_id, key_x, key_y, state, raw_tx, tx_hash, note,
            updated, block, block_hash, nonce, signed_at, attempts FROM jobs;
        DROP TABLE jobs;
        CREATE TABLE jobs (kind TEXT NOT NULL, licence_id INTEGER NOT NULL, key_hash TEXT NOT NULL,
            dataset_id INTEGER NOT NULL, key_x BLOB, key_y BLOB, state TEXT NOT NULL, raw_tx BLOB, tx_hash TEXT,
            note TEXT, updated REAL NOT NULL, block INTEGER, block_hash TEXT, nonce INTEGER, signed_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, licence_id, key_hash));
        INSERT INTO jobs SELECT * FROM old;
        DROP TABLE old;
        UPDATE meta SET value='2' WHERE name='version';
    """)
    con.commit()
    con.close()
    owed = buyer.buyer.buy(ds, again=True).licence_id
    stats = Agent(agent_c, db, confirmations=0).run(once=True)
    assert stats.delivered == 1  # the new purchase only
    assert len(_deliveries(buyer, done)) == 1 and len(_deliveries(buyer, owed)) == 1
    con = sqlite3.connect(str(db))
    assert con.execute("SELECT value FROM meta WHERE name='version'").fetchone() == ("3",)
    assert con.execute("SELECT licence_id, state FROM jobs ORDER BY licence_id").fetchall() == [(done, "done"),
                                                                                                (owed, "done")]

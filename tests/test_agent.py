"""The delivery agent on the real local stack: exactly once, even when killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import fetched

from datalicense import Client
from datalicense.services.agent import Agent
from datalicense.infra.chain import connect, load_account
from datalicense.protocol.records import State
from datalicense.infra.ipfs import Storage

pytestmark = pytest.mark.e2e


def _dataset(seller, tmp_path, agent_address):
    src = tmp_path / "d.csv"
    src.write_text("a,b\n1,2\n")
    return seller.seller.publish(src, title="Agent test", price="0.001", agent=agent_address).dataset_id


@pytest.fixture
def delivered(make, tmp_path):
    """(seller, buyer, agent client, dataset id, licence id, agent journal): a licence of version 1 bought and
    delivered by the agent (its key in the seller's home: content keys and the seller's secret)."""
    seller, buyer, agent_client = make(3), make(4, "buyer"), make(5)
    ds = _dataset(seller, tmp_path, agent_client.conn.account.address)
    lid = buyer.buyer.buy(ds).licence_id
    db = tmp_path / "agent.sqlite"
    assert Agent(agent_client, db).run(once=True).delivered == 1
    return seller, buyer, agent_client, ds, lid, db


def test_agent_delivers_with_its_own_key_and_buyer_fetches(make, tmp_path):
    seller, buyer = make(3), make(4, "buyer")
    agent_client = make(5)  # same home as the seller: content keys and seller secret
    ds = _dataset(seller, tmp_path, agent_client.conn.account.address)
    lids = [buyer.buyer.buy(ds, again=True).licence_id for _ in range(3)]
    stats = Agent(agent_client, tmp_path / "agent.sqlite").run(once=True)
    assert stats.delivered == 3
    for lid in lids:
        deliveries = buyer.reader.deliveries(lid)
        assert len(deliveries) == 1
        tx = buyer.conn.w3.eth.get_transaction(buyer.conn.contract.events.KeyDelivered().get_logs(
            from_block=0, argument_filters={"licenceId": lid})[0]["transactionHash"])
        assert tx["from"] == agent_client.conn.account.address  # the agent's key, not the owner's
        fetched(buyer, lid, tmp_path / f"out{lid}.csv", "a,b\n1,2\n", version=1)
    # a second pass does nothing
    assert Agent(agent_client, tmp_path / "agent.sqlite").run(once=True).delivered == 0


def test_agent_delivers_new_versions_to_settled_licences(delivered, tmp_path):
    seller, buyer, agent_client, ds, lid, db = delivered
    fetched(buyer, lid, tmp_path / "v1.out", "a,b\n1,2\n", version=1)  # verified, then confirmed: settled
    assert buyer.conn.market.licence(lid).state == State.SETTLED
    v2 = tmp_path / "v2.csv"
    v2.write_text("a,b\n1,2\n3,4\n")
    seller.seller.publish_version(ds, v2, title="Agent test v2")
    stats = Agent(agent_client, db).run(once=True)
    assert stats.redelivered == 1
    fetched(buyer, lid, tmp_path / "v2.out", v2.read_bytes(), version=2, confirm=False)


def test_a_licence_in_escrow_gets_the_new_version_when_it_settles(delivered, tmp_path):
    seller, buyer, agent_client, ds, lid, db = delivered
    v2 = tmp_path / "v2.csv"
    v2.write_text("a,b\n5,6\n")
    seller.seller.publish_version(ds, v2, title="Agent test v2")
    assert Agent(agent_client, db).run(once=True).redelivered == 0  # still in escrow: v1 is what was bought
    fetched(buyer, lid, tmp_path / "v1.out", "a,b\n1,2\n", version=1)  # the escrowed version, then confirmed
    assert buyer.conn.market.licence(lid).state == State.SETTLED
    assert Agent(agent_client, db).run(once=True).redelivered == 1
    fetched(buyer, lid, tmp_path / "v2.out", v2.read_bytes(), version=2)


def test_new_versions_go_to_the_rotated_key(delivered, make, tmp_path):
    seller, buyer, agent_client, ds, lid, db = delivered
    fetched(buyer, lid, tmp_path / "v1.out", "a,b\n1,2\n", version=1)
    buyer.buyer.rotate_key(lid)
    rotated = buyer.reader.delivery_keys(lid)[-1]
    seller.seller.publish_version(ds, _write(tmp_path / "v2.csv", "a,b\n7,8\n"), title="v2")
    assert Agent(agent_client, db).run(once=True).redelivered == 1
    fetched(buyer, lid, tmp_path / "v2.out", "a,b\n7,8\n", version=2)
    # the new version was wrapped to the rotated key, found again from the wallet and the chain alone
    fresh = make(4, "elsewhere")
    fetched(fresh, lid, tmp_path / "again.out", "a,b\n7,8\n", version=2)
    assert rotated["x"] != buyer.reader.delivery_keys(lid)[0]["x"]


def _write(path, text):
    path.write_text(text)
    return path


def test_agent_survives_sigkill_exactly_once(make, tmp_path, market, kubo):
    """Kill the agent process with SIGKILL repeatedly while it delivers; every licence is delivered once and
    the agent account sends exactly one transaction per licence."""
    seller, agent_client = make(3), make(5)
    buyers = [make(n, f"b{n}") for n in (4, 6, 7)]
    ds = _dataset(seller, tmp_path, agent_client.conn.account.address)
    lids = [buyers[i % 3].buyer.buy(ds, again=True).licence_id for i in range(24)]
    w3 = seller.conn.w3
    nonce_before = w3.eth.get_transaction_count(agent_client.conn.account.address)
    env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / "seller"), DATALICENSE_IPFS_API=kubo.api_multiaddr)
    cmd = [sys.executable, "-m", "datalicense.cli.main", "--address", market.address, "--account", "dev:5", "agent",
           "--poll", "0.2", "--db", str(tmp_path / "agent.sqlite")]

    log_path = tmp_path / "agent.log"

    def start():
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, env=env, stderr=log, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while "watching" not in log_path.read_text():
            assert time.time() < deadline and proc.poll() is None, "agent did not start"
            time.sleep(0.05)
        return proc

    def delivered():
        return sum(seller.conn.market.licence(lid).state == State.DELIVERED for lid in lids)

    kills, progress = 0, []
    for delay in (0.0, 0.15, 0.3, 0.45, 0.6, 0.75):
        p = start()
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        progress.append(delivered())
    # a final run to completion, then a clean SIGTERM stop
    p = start()
    deadline = time.time() + 120
    while time.time() < deadline and delivered() < len(lids):
        time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    err = log_path.read_text()
    assert p.returncode == 0, err
    assert "agent stopped" in err
    print("licences delivered after each kill:", progress)
    assert progress[0] < len(lids), "the kills came too late to test anything"
    for lid in lids:
        logs = seller.conn.contract.events.KeyDelivered().get_logs(from_block=0, argument_filters={"licenceId": lid})
        assert len(logs) == 1, f"licence {lid} delivered {len(logs)} times"
    sent = w3.eth.get_transaction_count(agent_client.conn.account.address) - nonce_before
    assert sent == len(lids), f"agent sent {sent} transactions for {len(lids)} licences"
    assert kills == 6

"""Replication on real Kubo daemons: three nodes on loopback (own repositories and ports, online, connected).

The publisher's node pins on the replicas over bitswap; a buyer fetches through another node after the
publisher's node is stopped; a replica down during a publish is reported, then `pins repair` fixes it.
"""

import json
import logging
import os
import subprocess
import sys

import pytest

from datalicense import Client
from datalicense.infra.chain import connect, load_account
from datalicense.services.localstack import KuboDaemon
from datalicense.infra.ipfs import Storage

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nodes():
    """Three online Kubo nodes on loopback, each connected to the others; routing only by those connections."""
    daemons = [KuboDaemon(offline=False, routing="none").start() for _ in range(3)]
    try:
        connect_all(daemons)
        yield daemons
    finally:
        for d in daemons:
            d.stop()


def connect_all(daemons):
    stores = [Storage(d.api_multiaddr, timeout=15, retries=0) for d in daemons if d.proc is not None]
    for a in stores:
        for b in stores:
            if a is not b:
                assert a.swarm_connect(b.addresses())


def ensure_running(daemons):
    for d in daemons:
        if d.proc is None:
            d.start()
    connect_all(daemons)


@pytest.fixture
def make_client(market, tmp_path):
    w3 = connect("local")

    def make(n, node, home=None):
        return Client(w3, load_account(f"dev:{n}", w3), Storage(node.api_multiaddr, timeout=20, retries=1),
                      market.address, home or tmp_path / f"home{n}")

    return make


@pytest.fixture
def cli(market, tmp_path):
    def run(*args, node, account="dev:3", home="home3", replicas="", check=True):
        env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / home), DATALICENSE_IPFS_API=node.api_multiaddr,
                   DATALICENSE_REPLICAS=replicas, DATALICENSE_REPLICA_WAIT="30")
        p = subprocess.run([sys.executable, "-m", "datalicense.cli.main", "--address", market.address, "--account",
                            account, *args], capture_output=True, text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return run


def _data(path, size=1_500_000):
    path.write_bytes(os.urandom(size))  # several 256 KiB chunks: a real DAG to fetch
    return path


def test_fetch_through_another_node_when_the_publishers_node_is_down(nodes, make_client, monkeypatch, tmp_path):
    publisher, replica, buyers_node = nodes
    ensure_running(nodes)
    monkeypatch.setenv("DATALICENSE_REPLICAS", replica.api_url)
    monkeypatch.setenv("DATALICENSE_REPLICA_WAIT", "30")
    seller = make_client(3, publisher)
    src = _data(tmp_path / "survey.bin")
    pub = seller.seller.publish(src, title="Survey", price="0.002")
    assert [(r["endpoint"], r["status"]) for r in pub.replicas] == [(replica.api_url, "pinned")]
    assert Storage(replica.api_multiaddr).pinned([pub.manifest_cid, pub.ciphertext_cid]) == {
        pub.manifest_cid: True, pub.ciphertext_cid: True}
    # the buyer's own node never held the data: it must come from the replica
    assert not Storage(buyers_node.api_multiaddr).has_local(pub.ciphertext_cid)

    buyer = make_client(4, buyers_node)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    publisher.stop(remove_repo=False)
    try:
        out = tmp_path / "got.bin"
        res = buyer.buyer.fetch(lid, out)
        assert out.read_bytes() == src.read_bytes()
        assert res.sha256 == pub.plaintext_sha256 and res.confirmed_tx
    finally:
        ensure_running(nodes)


def test_a_replica_down_during_publish_is_reported_then_pins_repair_fixes_it(nodes, make_client, cli, monkeypatch,
                                                                           tmp_path, caplog):
    publisher, replica_b, replica_c = nodes
    ensure_running(nodes)
    replicas = f"{replica_b.api_multiaddr},{replica_c.api_url}"
    monkeypatch.setenv("DATALICENSE_REPLICAS", replicas)
    monkeypatch.setenv("DATALICENSE_REPLICA_WAIT", "30")
    seller = make_client(3, publisher)
    replica_b.stop(remove_repo=False)
    try:
        pub = seller.seller.publish(_data(tmp_path / "v1.bin"), title="Readings", price="0.002")
        status = {r["endpoint"]: r for r in pub.replicas}
        assert pub.tx_hash and seller.reader.dataset(pub.dataset_id, with_manifest=False).manifest_cid == pub.manifest_cid
        assert status[replica_b.api_multiaddr]["status"] == "failed"
        assert "unreachable" in status[replica_b.api_multiaddr]["reason"]
        assert status[replica_c.api_url]["status"] == "pinned"
        # a new version is replicated too, and the gap is reported the same way
        v2 = seller.seller.publish_version(pub.dataset_id, _data(tmp_path / "v2.bin", 700_000), title="Readings v2")
        assert {r["endpoint"]: r["status"] for r in v2.replicas} == {replica_b.api_multiaddr: "failed",
                                                                     replica_c.api_url: "pinned"}

        # the CLI says which replicas lack it
        shown = json.loads(cli("--json", "pins", str(pub.dataset_id), node=publisher, replicas=replicas).stdout)
        assert [row["version"] for row in shown] == [1, 2]
        for row in shown:
            assert row["nodes"][publisher.api_multiaddr] == "pinned"
            assert row["nodes"][replica_c.api_url] == "pinned"
            assert row["nodes"][replica_b.api_multiaddr].startswith("unreachable")

        # the agent's scheduled check logs the gap
        from datalicense.services.agent import Agent

        with caplog.at_level(logging.WARNING, logger="datalicense.roles.replicas"):
            Agent(seller, tmp_path / "agent.sqlite").run(once=True)
        gaps = [r.getMessage() for r in caplog.records if "replication gap" in r.getMessage()]
        assert any(f"dataset {pub.dataset_id} version 1" in g and replica_b.api_multiaddr in g for g in gaps)
        assert any(f"dataset {pub.dataset_id} version 2" in g for g in gaps)
    finally:
        replica_b.start()  # same repository and ports: the configured endpoint works again
    connect_all(nodes)

    repaired = cli("pins", "repair", str(pub.dataset_id), node=publisher, replicas=replicas).stdout
    assert repaired.count(f"on {replica_b.api_multiaddr}: pinned") == 2, repaired
    after = json.loads(cli("--json", "pins", node=publisher, replicas=replicas).stdout)
    mine = [row for row in after if row["datasetId"] == pub.dataset_id]
    assert len(mine) == 2 and all(set(row["nodes"].values()) == {"pinned"} for row in mine)
    assert Storage(replica_b.api_multiaddr).pinned([v2.ciphertext_cid])[v2.ciphertext_cid]
    again = cli("pins", "repair", str(pub.dataset_id), node=publisher, replicas=replicas).stdout
    assert "nothing to repair" in again


def test_replica_configuration_from_the_home_folder(tmp_path, monkeypatch):
    from datalicense.roles import replicas
    from datalicense.errors import ConfigError

    monkeypatch.delenv("DATALICENSE_REPLICAS", raising=False)
    (tmp_path / "replicas").write_text("# mine\nhttp://127.0.0.1:5002 owned\n/ip4/10.0.0.9/tcp/5001  # a friend\n")
    got = replicas.configured(tmp_path)
    assert [(r.endpoint, r.owned) for r in got] == [("http://127.0.0.1:5002", True), ("/ip4/10.0.0.9/tcp/5001", False)]
    assert [r.endpoint for r in replicas.configured(tmp_path, exclude="/ip4/127.0.0.1/tcp/5002/http")] == [
        "/ip4/10.0.0.9/tcp/5001"]
    monkeypatch.setenv("DATALICENSE_REPLICAS", "")
    assert replicas.configured(tmp_path) == []
    monkeypatch.setenv("DATALICENSE_REPLICAS", "ftp://x")
    with pytest.raises(ConfigError, match="replica entry"):
        replicas.configured(tmp_path)

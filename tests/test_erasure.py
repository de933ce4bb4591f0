"""Erasure on real Kubo daemons: `retire --erase` stops sales, unpins every version everywhere, collects garbage
where the owner controls the node, deletes the local keys and upload records, and says what it cannot erase."""

import json
import os
import subprocess
import sys

import pytest

from datalicense import ChainError, Client
from datalicense.infra.chain import connect, load_account
from datalicense.infra.ipfs import Storage

from helpers import fetched
from test_replication import nodes  # noqa: F401 - the three connected Kubo nodes, shared

pytestmark = pytest.mark.e2e


@pytest.fixture
def setup(nodes, market, tmp_path, monkeypatch):
    publisher, owned, friend = nodes
    replicas = f"{owned.api_multiaddr} owned,{friend.api_url}"
    monkeypatch.setenv("DATALICENSE_REPLICAS", replicas)
    monkeypatch.setenv("DATALICENSE_REPLICA_WAIT", "30")
    w3 = connect("local")

    def client(n, node):
        return Client(w3, load_account(f"dev:{n}", w3), Storage(node.api_multiaddr, timeout=20, retries=1),
                      market.address, tmp_path / f"home{n}")

    def cli(*args, check=True):
        env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / "home3"), DATALICENSE_IPFS_API=publisher.api_multiaddr)
        p = subprocess.run([sys.executable, "-m", "datalicense.cli.main", "--address", market.address, "--account",
                            "dev:3", *args], capture_output=True, text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return client, cli


def _publish_two_versions(seller, tmp_path):
    v1 = seller.seller.publish(_data(tmp_path / "v1.bin"), title="Patients", price="0.002")
    v2 = seller.seller.publish_version(v1.dataset_id, _data(tmp_path / "v2.bin"), title="Patients v2")
    for v in (v1, v2):
        assert {r["status"] for r in v.replicas} == {"pinned"}
    return v1, v2


def _data(path, size=900_000):
    path.write_bytes(os.urandom(size))
    return path


def test_retire_erase_unpins_everywhere_collects_garbage_and_says_what_stays(nodes, setup, tmp_path):
    publisher, owned, friend = nodes
    client, cli = setup
    seller, buyer = client(3, publisher), client(4, friend)
    v1, v2 = _publish_two_versions(seller, tmp_path)
    ds = v1.dataset_id
    cids = [v1.manifest_cid, v1.ciphertext_cid, v2.manifest_cid, v2.ciphertext_cid]
    lid = buyer.buyer.buy(ds).licence_id
    seller.seller.deliver(lid)
    copy = tmp_path / "licensee-copy.bin"
    fetched(buyer, lid, copy, (tmp_path / "v2.bin").read_bytes(), version=2)  # what was bought: version 2
    stores = {d.api_multiaddr: Storage(d.api_multiaddr) for d in nodes}
    assert all(all(s.pinned(cids).values()) for s in stores.values())
    assert stores[publisher.api_multiaddr].has_local(v1.ciphertext_cid)
    uploads = list((seller.conn.state_dir / "uploads").glob("*.json"))
    assert len(uploads) == 2 and seller.keys.holds_keys_for(ds)

    out = cli("retire", str(ds), "--erase", "--yes").stdout
    # sales stopped
    assert seller.reader.dataset(ds, with_manifest=False).status == "retired"
    with pytest.raises(ChainError):
        buyer.buyer.buy(ds, again=True)  # (it holds a licence already: a second one, on purpose, is refused too)
    # unpinned from every configured node; gone from the nodes the owner controls
    for api, s in stores.items():
        assert not any(s.pinned(cids).values()), api
    for d in (publisher, owned):
        for cid in cids:
            assert not stores[d.api_multiaddr].has_local(cid), (d.api_multiaddr, cid)
    # local content keys and upload records deleted
    assert not seller.keys.holds_keys_for(ds)
    assert not list((seller.conn.state_dir / "uploads").glob("*.json"))
    assert not list((seller.conn.state_dir / "uploads" / "files").glob("*.json"))
    # and it says plainly what it could not erase
    assert "cannot be erased" in out
    assert "1 licence(s) were sold" in out
    assert "caches" in out and "on-chain record" in out
    assert f"{friend.api_url} is not marked owned" in out
    assert copy.exists()  # the licensee's copy is beyond reach, as printed

    # running it again is harmless and still reports
    again = json.loads(cli("--json", "retire", str(ds), "--erase", "--yes").stdout)
    assert again["retired_tx"] is None
    assert {u["result"] for u in again["unpinned"]} == {"was not pinned"}


def test_erasing_chosen_versions_keeps_the_others(nodes, setup, tmp_path):
    """What a pool curator does after publishing a version without a contributor who revoked consent."""
    from datalicense.roles import erasure

    publisher, owned, friend = nodes
    client, cli = setup
    seller = client(3, publisher)
    v1, v2 = _publish_two_versions(seller, tmp_path)
    report = erasure.erase_versions(seller, v1.dataset_id, [1])
    stores = [Storage(d.api_multiaddr) for d in nodes]
    for s in stores:
        assert s.pinned([v1.manifest_cid, v1.ciphertext_cid]) == {v1.manifest_cid: False, v1.ciphertext_cid: False}
        assert s.pinned([v2.manifest_cid, v2.ciphertext_cid]) == {v2.manifest_cid: True, v2.ciphertext_cid: True}
    assert not stores[0].has_local(v1.ciphertext_cid) and stores[0].has_local(v2.ciphertext_cid)
    keys = {p.stem for p in (seller.conn.state_dir / "keys" / str(v1.dataset_id)).glob("*.age")}
    assert keys == {v2.key_hash[2:]}
    assert seller.reader.dataset(v1.dataset_id, with_manifest=False).status == "on sale"
    assert any("on-chain record" in line for line in report.cannot_erase)
    with pytest.raises(Exception, match="no version 7"):
        erasure.erase_versions(seller, v1.dataset_id, [7])


def test_only_the_owner_retires_and_erases(nodes, setup, tmp_path):
    from datalicense.roles import erasure
    from datalicense.errors import ConfigError

    publisher, owned, friend = nodes
    client, _ = setup
    seller, stranger = client(3, publisher), client(6, publisher)
    pub = seller.seller.publish(_data(tmp_path / "mine.bin", 10_000), title="Mine", price="0.001")
    with pytest.raises(ConfigError, match="only its owner"):
        erasure.retire_and_erase(stranger, pub.dataset_id, erase=True)
    assert Storage(publisher.api_multiaddr).pinned([pub.ciphertext_cid])[pub.ciphertext_cid]
    assert seller.reader.dataset(pub.dataset_id, with_manifest=False).status == "on sale"

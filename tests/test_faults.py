"""Faults: Kubo dying during upload and download, the RPC node restarting under the agent, and a publish
transaction failing after its upload."""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from web3 import Web3

from datalicense import ChainError, Client, StorageError
from datalicense.services.agent import Agent
from datalicense.infra.chain import connect, load_account
from datalicense.services.localstack import KuboDaemon, find_ganache, _free_port
from datalicense.infra.ipfs import Storage

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent

from helpers import lens_of


def _big(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    return path


def _kill_midway(client, daemon, label, fraction=0.25):
    """Kill the daemon once `label` progress passes `fraction` of its total: mid-transfer however fast the
    machine is (a timer fired after a fast machine had finished)."""
    killed = threading.Event()

    def progress(what, total):
        seen = [0]

        def tick(n):
            seen[0] += n
            if what == label and total and seen[0] >= fraction * total and not killed.is_set():
                killed.set()
                daemon.kill()

        return tick

    client.conn.progress = progress
    return killed


@pytest.fixture
def own_kubo(tmp_path):
    d = KuboDaemon(repo=tmp_path / "kubo-repo").start()
    yield d
    d.stop(remove_repo=True)


def _clients(market, kubo, tmp_path):
    w3 = connect("local")
    storage = Storage(kubo.api_multiaddr, retries=1, backoff=0.1)
    seller = Client(w3, load_account("dev:3", w3), storage, market.address, tmp_path / "seller")
    buyer = Client(w3, load_account("dev:4", w3), Storage(kubo.api_multiaddr, retries=1, backoff=0.1),
                   market.address, tmp_path / "buyer")
    return seller, buyer


def _restart(kubo, seller, buyer):
    kubo.start()
    for c in (seller, buyer):
        c.conn.storage.api = kubo.api_multiaddr
        c.conn.storage._client = None


def test_kubo_killed_during_upload(own_kubo, market, tmp_path):
    seller, buyer = _clients(market, own_kubo, tmp_path)
    src = _big(tmp_path / "big.bin", 400)
    before = lens_of(market).counters()
    killed = _kill_midway(seller, own_kubo, "encrypt+upload")
    with pytest.raises(StorageError, match="IPFS"):
        seller.seller.publish(src, title="Interrupted", price="0.001")
    assert killed.is_set()
    assert lens_of(market).counters() == before  # no dataset was created
    _restart(own_kubo, seller, buyer)
    pub = seller.seller.publish(src, title="Interrupted", price="0.001")
    assert lens_of(market).counters()["lastDatasetId"] == before["lastDatasetId"] + 1
    assert seller.conn.storage.stat(pub.ciphertext_cid)["size"] > 400 << 20


def test_kubo_killed_during_download(own_kubo, market, tmp_path):
    seller, buyer = _clients(market, own_kubo, tmp_path)
    src = _big(tmp_path / "big.bin", 400)
    pub = seller.seller.publish(src, title="Download", price="0.001")
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "out" / "big.bin"
    out.parent.mkdir(exist_ok=True)
    killed = _kill_midway(buyer, own_kubo, "download+decrypt")
    with pytest.raises(StorageError):
        buyer.buyer.fetch(lid, out)
    assert killed.is_set()
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no partial file left behind
    _restart(own_kubo, seller, buyer)
    buyer.buyer.fetch(lid, out)
    assert out.stat().st_size == src.stat().st_size


def test_publish_transaction_failing_after_upload_is_rerun_without_duplicates(kubo, market, admin, tmp_path):
    w3 = connect("local")
    seller = Client(w3, load_account("dev:3", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / "s")
    src = tmp_path / "d.csv"
    src.write_text("a,b\n1,2\n")
    market.setEmergencyPause(True, {"from": admin})
    with pytest.raises(ChainError, match="EmergencyStopped"):
        seller.seller.publish(src, title="Retry", price="0.001")  # refused by the dry run, before any upload
    assert not list((seller.conn.state_dir / "uploads").glob("*.json"))
    market.setEmergencyPause(False, {"from": admin})
    # the transaction fails after the upload (the node refuses it): nothing on chain, the upload is recorded
    real_send = seller.conn.tx.send

    def refused(fn, *a, what="transaction", **kw):
        if what == "publish":
            raise ChainError("publish was refused by the node: connection reset")
        return real_send(fn, *a, what=what, **kw)

    seller.conn.tx.send = refused
    with pytest.raises(ChainError, match="refused by the node"):
        seller.seller.publish(src, title="Retry", price="0.001")
    seller.conn.tx.send = real_send
    uploads = list((seller.conn.state_dir / "uploads").glob("*.json"))
    assert len(uploads) == 1
    first_cid = json.loads(uploads[0].read_text())["manifestCid"]
    pub = seller.seller.publish(src, title="Retry", price="0.001")
    assert pub.manifest_cid == first_cid and not pub.reused
    again = seller.seller.publish(src, title="Retry", price="0.001")
    assert again.reused and again.dataset_id == pub.dataset_id and again.tx_hash is None
    assert lens_of(market).counters()["lastDatasetId"] == pub.dataset_id  # exactly one dataset


def test_rpc_node_restarted_while_the_agent_runs(kubo, tmp_path):
    """A Ganache with a persistent database is stopped and started again under a running agent."""
    port = _free_port()
    db = tmp_path / "chain-db"
    args = [find_ganache(), "--server.port", str(port), "--chain.chainId", "33", "--hardfork", "berlin",
            "--logging.quiet", "true", "--database.dbPath", str(db), "--miner.defaultGasPrice", "60000000",
            "--wallet.mnemonic", "test test test test test test test test test test test junk"]

    def start_chain():
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        for _ in range(150):
            try:
                w3.eth.block_number
                return proc, w3
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise AssertionError("ganache did not start")

    chain_proc, w3 = start_chain()
    try:
        build = json.loads((ROOT / "build" / "contracts" / "DataLicense.json").read_text())
        admin = load_account("dev:0", w3)
        factory = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"])
        from datalicense.infra.chain import Transactor

        rcpt = Transactor(w3, admin).send(factory.constructor(admin.address, admin.address, admin.address, 250, 10**15))
        address = rcpt.raw["contractAddress"]
        storage = Storage(kubo.api_multiaddr)
        seller = Client(w3, load_account("dev:3", w3), storage, address, tmp_path / "seller")
        agent_c = Client(w3, load_account("dev:5", w3), storage, address, tmp_path / "seller")
        buyer = Client(w3, load_account("dev:4", w3), storage, address, tmp_path / "buyer")
        (tmp_path / "d.txt").write_text("persistent")
        ds = seller.seller.publish(tmp_path / "d.txt", title="Restart", price="0.001", agent=agent_c.conn.account.address).dataset_id
        first = buyer.buyer.buy(ds).licence_id

        agent = Agent(agent_c, tmp_path / "agent.sqlite", poll_interval=0.2, max_backoff=1.0)
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        deadline = time.time() + 60
        while agent.stats.delivered < 1 and time.time() < deadline:
            time.sleep(0.1)
        assert agent.stats.delivered == 1
        chain_proc.terminate()
        chain_proc.wait(timeout=30)
        time.sleep(1.5)  # the agent sees the node gone and backs off
        chain_proc, _ = start_chain()
        second = buyer.buyer.buy(ds, again=True).licence_id
        deadline = time.time() + 60
        while agent.stats.delivered < 2 and time.time() < deadline:
            time.sleep(0.1)
        agent.stop()
        thread.join(timeout=30)
        assert agent.stats.delivered == 2
        for lid in (first, second):
            assert buyer.reader.licence(lid).state == "Delivered"
            assert len(buyer.reader.deliveries(lid)) == 1
    finally:
        chain_proc.terminate()
        chain_proc.wait(timeout=30)

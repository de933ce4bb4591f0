"""Spending caps hold for parallel `get`s from one home (issue 21 item 22): real processes (the `datalicense get`
command), the real chain, Kubo, the gateway and the delivery agent."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from datalicense.errors import ChainError
from datalicense.roles.paying import Caps, Ledger, PolicyError, SpendingPolicy

from agents import AgentThread
from helpers import publish_numbered as _publish

pytestmark = pytest.mark.e2e

ZERO = "0x" + "00" * 20


def _get(client, url, out, *caps):
    cmd = [sys.executable, "-m", "datalicense.cli.main", "--network", "local", "--account", "dev:4", "--ipfs",
           client.conn.storage.api, "--address", client.conn.address, "--home", str(client.conn.home), "--no-progress",
           "--json", "get", url, "-o", str(out), "--wait", "60", *caps]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_parallel_gets_from_one_home_never_pass_the_total_cap_together(make, gateway, tmp_path):
    """Four `get`s of four datasets at 0.001 RBTC start together under a total cap of 0.002. Before the fix each
    read the ledger before any wrote it (the ledger was written after the receipt) and all four paid. Now each
    reserves under a file lock before sending: two pay, two are refused before signing anything."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ids = [_publish(seller, tmp_path, n, agent.conn.account.address) for n in range(1, 5)]
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        procs = [_get(buyer, f"{gateway.url}/datasets/{d}", tmp_path / f"out{d}.csv", "--max-request", "0.001",
                      "--max-total", "0.002") for d in ids]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    paid = [json.loads(out) for code, out, _ in results if code == 0]
    refused = [err for code, _, err in results if code != 0]
    purchases = buyer.conn.contract.events.LicencePurchased().get_logs(
        from_block=0, argument_filters={"licensee": buyer.conn.account.address})
    assert len(purchases) == 2, (paid, refused)
    assert len(paid) == 2 and all(r["bought"] and r["paid"] == 10**15 for r in paid)
    assert len(refused) == 2 and all("total cap" in json.loads(e)["error"] for e in refused), refused
    assert Ledger(buyer.buyer).spent(ZERO) == 2 * 10**15
    assert not Ledger(buyer.buyer).read().get("reserved")  # nothing left reserved


def test_a_purchase_that_fails_releases_its_reservation(make, gateway, token, tmp_path):
    """The reservation is written before the purchase is sent and released when it fails: a wallet without the
    token's funds is refused by the chain, and the caps are as before."""
    seller, poor = make(3), make(6, "poor")
    ds = _publish(seller, tmp_path, 1, ZERO, price="1", asset=token.address)
    policy = SpendingPolicy(caps={token.address: Caps(per_request=10**18, total=10**18)})
    with pytest.raises(ChainError):
        poor.buyer.get(f"{gateway.url}/datasets/{ds}", tmp_path / "never.csv", policy)
    ledger = Ledger(poor.buyer).read()
    assert ledger.get("reserved") == {} and ledger["licences"] == {}
    assert Ledger(poor.buyer).spent(token.address) == 0


def test_a_reservation_left_by_a_run_that_died_is_settled_from_the_chain(make, gateway, tmp_path):
    """A run killed mid-purchase leaves its reservation on disk (it counts against the caps meanwhile). The next
    run records the licence the dead run bought, from the chain, and drops a reservation whose purchase never left;
    the caps then count exactly what was paid."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    sent, lost, wanted, over = (_publish(seller, tmp_path, n, agent.conn.account.address) for n in range(1, 5))
    block = buyer.conn.w3.eth.block_number
    lid = buyer.buyer.buy(sent).licence_id  # the dead run's purchase made it on chain
    ledger = Ledger(buyer.buyer)
    with ledger.locked() as data:  # what the dead runs left on disk
        data["reserved"] = {f"{n}-1": {"dataset": d, "amount": str(10**15), "asset": ZERO, "time": 0, "url": "u",
                                       "block": block} for n, d in ((1, sent), (2, lost))}
    policy = SpendingPolicy.rbtc(per_request="0.001", total="0.002", delivery_timeout=30)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(f"{gateway.url}/datasets/{wanted}", tmp_path / "w.csv", policy)
    data = Ledger(buyer.buyer).read()
    assert r.bought and data["reserved"] == {} and set(data["licences"]) == {str(lid), str(r.licence_id)}
    assert Ledger(buyer.buyer).spent(ZERO) == 2 * 10**15
    with pytest.raises(PolicyError, match="total cap"):
        buyer.buyer.get(f"{gateway.url}/datasets/{over}", tmp_path / "o.csv", policy)


def _in_pool(w3, account: str) -> list[int]:
    """The nonces of the account's transactions waiting in the node's pool (Ganache's `txpool_content`)."""
    pool = w3.provider.make_request("txpool_content", [])["result"]["pending"].get(account.lower(), {})
    return sorted(int(n) for n in pool)


def test_a_dead_runs_reservation_is_kept_while_its_purchase_is_unmined(make, gateway, tmp_path):
    """A run died after sending its purchase, before it was mined. Before the fix the next run found no purchase
    log, dropped the reservation and could pay past the total cap once the first purchase was mined. Now the
    reservation names the purchase's nonce and stays (counted against the caps) until that nonce is used; then it is
    settled from the chain."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    sent, wanted = (_publish(seller, tmp_path, n, agent.conn.account.address) for n in (1, 2))
    w3, me = buyer.conn.w3, buyer.conn.account.address
    block, nonce = w3.eth.block_number, w3.eth.get_transaction_count(me, "pending")
    ledger = Ledger(buyer.buyer)
    with ledger.locked() as data:  # what the dead run left on disk
        data["reserved"] = {"1-1": {"dataset": sent, "amount": str(10**15), "asset": ZERO, "time": 0, "url": "u",
                                    "block": block, "nonce": nonce}}
    assert w3.provider.make_request("miner_stop", []).get("error") is None
    try:
        failed: list[BaseException] = []

        def send() -> None:  # the dead run's purchase: sent, then waiting for its receipt
            try:
                buyer.buyer.buy(sent)
            except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
                failed.append(exc)

        sending = threading.Thread(target=send, daemon=True)
        sending.start()
        deadline = time.monotonic() + 30
        while not _in_pool(w3, me) and not failed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _in_pool(w3, me) == [nonce] and w3.eth.get_transaction_count(me) == nonce, failed  # sent, not mined
        with ledger.locked() as data:  # what the next run does first
            ledger.settle_stale(buyer.buyer, data)
        assert list(Ledger(buyer.buyer).read()["reserved"]) == ["1-1"]
        assert Ledger(buyer.buyer).spent(ZERO) == 10**15  # still counted against the caps
        policy = SpendingPolicy.rbtc(per_request="0.001", total="0.001", delivery_timeout=30)
        with pytest.raises(PolicyError, match="total cap"):
            buyer.buyer.get(f"{gateway.url}/datasets/{wanted}", tmp_path / "w.csv", policy)
    finally:
        w3.provider.make_request("miner_start", [])
    w3.provider.make_request("evm_mine", [])
    sending.join(timeout=60)
    with ledger.locked() as data:
        ledger.settle_stale(buyer.buyer, data)
    data = Ledger(buyer.buyer).read()
    assert data["reserved"] == {} and [e["dataset"] for e in data["licences"].values()] == [sent]
    assert Ledger(buyer.buyer).spent(ZERO) == 10**15

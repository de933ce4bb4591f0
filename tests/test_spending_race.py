"""Spending caps hold for parallel `get`s from one home (issue 21 item 22): real processes (the `datalicense get`
command), the real chain, Kubo, the gateway and the delivery agent."""

from __future__ import annotations

import json
import subprocess
import sys

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

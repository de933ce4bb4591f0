"""Paying per request over HTTP 402 on the real local stack: the seller's gateway on a loopback port, the buyer's
`Buyer.get` with spending caps, the delivery agent in a thread, Kubo."""

import base64
import json
import socket
import threading
import time

import httpx
import pytest
from brownie import chain

from agents import AgentThread
from helpers import publish_numbered as _publish

from datalicense.errors import ChainError
from datalicense.services.gateway import Gateway, Limits, Running
from datalicense.protocol.records import State
from datalicense.roles.paying import (PAYMENT_SIGNATURE_HEADER, Ledger, PayingAuth, PolicyError, SpendingPolicy,
                                encode_header, network_id, offer_from, payment_payload, sign_proof)

pytestmark = pytest.mark.e2e

DAY = 86400


def test_agent_script_buys_three_within_caps_and_a_fourth_above_the_cap_is_refused_before_any_transaction(
        make, gateway, tmp_path):
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ids = [_publish(seller, tmp_path, n, agent.conn.account.address) for n in range(1, 4)]
    dear = _publish(seller, tmp_path, 4, agent.conn.account.address, price="0.002")
    policy = SpendingPolicy.rbtc(per_request="0.0015", per_day="0.003", total="0.01", min_duration=DAY)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        results = [buyer.buyer.get(f"{gateway.url}/datasets/{d}", tmp_path / f"out{d}.csv", policy) for d in ids]
    for n, (d, r) in enumerate(zip(ids, results), start=1):
        assert (tmp_path / f"out{d}.csv").read_text() == f"n,v\n{n},{n * n}\n"
        assert r.bought and r.paid == 10**15 and r.confirmed_tx
        assert buyer.conn.market.licence(r.licence_id).state == State.SETTLED
    assert Ledger(buyer.buyer).spent("0x0000000000000000000000000000000000000000") == 3 * 10**15
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with pytest.raises(PolicyError, match="per-request cap"):
        buyer.buyer.get(f"{gateway.url}/datasets/{dear}", tmp_path / "dear.csv", policy)
    cheap = _publish(seller, tmp_path, 5, agent.conn.account.address)
    with pytest.raises(PolicyError, match="daily cap"):
        buyer.buyer.get(f"{gateway.url}/datasets/{cheap}", tmp_path / "cheap.csv", policy)
    with pytest.raises(PolicyError, match="allowed datasets"):
        buyer.buyer.get(f"{gateway.url}/datasets/{cheap}", tmp_path / "cheap.csv",
                  SpendingPolicy.rbtc(per_request="1", datasets={ids[0]}))
    cmd = _cli(buyer, "get", f"{gateway.url}/datasets/{dear}", "-o", str(tmp_path / "dear.csv"),
               "--max-request", "0.0015")
    assert cmd.returncode == 1 and cmd.stderr.count("\n") == 1 and "per-request cap" in cmd.stderr
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce  # nothing was signed or sent
    assert not (tmp_path / "dear.csv").exists()
    # a second request for a dataset already paid reuses the licence: no new purchase
    again = buyer.buyer.get(f"{gateway.url}/datasets/{ids[0]}", tmp_path / "again.csv", policy)
    assert not again.bought and again.licence_id == results[0].licence_id
    assert (tmp_path / "again.csv").read_text() == "n,v\n1,1\n"
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce


def test_a_seller_whose_agent_is_down_past_the_deadline_is_refunded_automatically_on_the_next_run(
        make, gateway, tmp_path):
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    down = _publish(seller, tmp_path, 1, agent.conn.account.address, delivery_window_hours=1)
    policy = SpendingPolicy.rbtc(per_request="0.001", total="0.002", delivery_timeout=1.5)
    before = buyer.conn.w3.eth.get_balance(buyer.conn.account.address)
    with pytest.raises(ChainError, match="refunded automatically"):
        buyer.buyer.get(f"{gateway.url}/datasets/{down}", tmp_path / "never.csv", policy)
    lid = max(int(i) for i in Ledger(buyer.buyer).read()["licences"])
    assert buyer.conn.market.licence(lid).state == State.PENDING
    listed = json.loads(_cli(buyer, "--json", "refunds", "--list").stdout)
    assert [(r["licence_id"], r["claimable"]) for r in listed] == [(lid, False)]  # not yet: before the deadline
    chain.sleep(3601)
    chain.mine()
    up = _publish(seller, tmp_path, 2, agent.conn.account.address)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(f"{gateway.url}/datasets/{up}", tmp_path / "up.csv", policy)  # total cap: the refund counts
    assert r.refunded == [lid]
    assert (tmp_path / "up.csv").read_text() == "n,v\n2,4\n"
    assert buyer.conn.market.licence(lid).state == State.REFUNDED
    gone = httpx.get(f"{gateway.url}/datasets/{down}", headers=_proof_headers(buyer, gateway.url, down, lid))
    assert gone.status_code == 402 and "refunded" in gone.json()["error"]
    assert (tmp_path / "up.csv").read_text() == "n,v\n2,4\n"
    assert buyer.reader.owed() == 0 or buyer.conn.w3.eth.get_balance(buyer.conn.account.address) < before  # paid back via escrow
    assert Ledger(buyer.buyer).read()["licences"][str(lid)]["refunded"]


def _cli(client, *args):
    import subprocess
    import sys

    base = [sys.executable, "-m", "datalicense.cli.main", "--network", "local", "--account", "dev:4", "--ipfs",
            client.conn.storage.api, "--address", client.conn.address, "--home", str(client.conn.home), "--no-progress"]
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=60)


def _proof_headers(client, gateway_url, dataset_id, lid, signer=None):
    required = offer_from(httpx.get(f"{gateway_url}/datasets/{dataset_id}"))
    payload = payment_payload(client.buyer, required, lid, "GET", f"/datasets/{dataset_id}")
    if signer is not None:
        payload.payload = sign_proof(signer, "GET", f"/datasets/{dataset_id}", client.conn.chain_id, client.conn.address, lid)
    return {PAYMENT_SIGNATURE_HEADER: encode_header(payload)}


def test_replayed_foreign_stale_and_expired_proofs_are_refused(make, gateway, tmp_path):
    seller, buyer, stranger, agent = make(3), make(4, "buyer"), make(6, "stranger"), make(5)
    ds = _publish(seller, tmp_path, 1, agent.conn.account.address)
    other = _publish(seller, tmp_path, 2, agent.conn.account.address)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(f"{gateway.url}/datasets/{ds}", tmp_path / "o.csv", SpendingPolicy.rbtc(per_request="0.001"))
    url = f"{gateway.url}/datasets/{ds}"
    offer = httpx.get(url)
    assert offer.status_code == 402
    req = offer.json()["accepts"][0]
    assert (req["network"], req["payTo"], req["amount"]) == (network_id(33), buyer.conn.address, str(10**15))
    assert req["extra"]["datasetId"] == str(ds) and req["extra"]["termsId"] and req["extra"]["version"] == "1"
    headers = _proof_headers(buyer, gateway.url, ds, r.licence_id)
    first = httpx.get(url, headers=headers)
    assert first.status_code == 200 and len(first.content) > 0
    hooked = httpx.get(url, auth=PayingAuth(buyer.buyer, SpendingPolicy.rbtc(per_request="0.001")))  # the httpx hook
    assert hooked.status_code == 200 and hooked.content == first.content  # the licence held: nothing bought
    replay = httpx.get(url, headers=headers)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]
    foreign = httpx.get(url, headers=_proof_headers(buyer, gateway.url, ds, r.licence_id, signer=stranger.conn.account))
    assert foreign.status_code == 403 and "not by the signer" in foreign.json()["error"]
    wrong = httpx.get(f"{gateway.url}/datasets/{other}",
                      headers=_proof_headers(buyer, gateway.url, other, r.licence_id))
    assert wrong.status_code == 403 and f"not {other}" in wrong.json()["error"]
    moved = httpx.get(f"{gateway.url}/datasets/{other}", headers=headers)  # a proof signed for another path
    assert moved.status_code == 403
    stale = _proof_headers(buyer, gateway.url, ds, r.licence_id)
    payload = json.loads(base64.b64decode(stale[PAYMENT_SIGNATURE_HEADER]))
    payload["payload"]["timestamp"] -= 3600
    stale_header = base64.b64encode(json.dumps(payload).encode()).decode()
    stale_resp = httpx.get(url, headers={PAYMENT_SIGNATURE_HEADER: stale_header})
    assert stale_resp.status_code == 403 and "stale" in stale_resp.json()["error"]
    chain.sleep(31 * DAY)
    chain.mine()
    expired = httpx.get(url, headers=_proof_headers(buyer, gateway.url, ds, r.licence_id))
    assert expired.status_code == 402 and "expired" in expired.json()["error"]


def _raw(url_port, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", url_port), timeout=timeout) as s:
        s.sendall(data)
        try:
            return s.recv(256)
        except OSError:
            return b""


def test_the_gateway_survives_a_burst_of_bad_requests_and_serves_a_good_one(make, tmp_path):
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ds = _publish(seller, tmp_path, 1, agent.conn.account.address)
    limits = Limits(per_ip_rate=50, per_ip_burst=100, header_timeout=2)
    with Running(Gateway(make(None, "gateway"), limits)) as gw, AgentThread(agent, tmp_path / "agent.sqlite"):
        port = int(gw.url.rsplit(":", 1)[1])
        url = f"{gw.url}/datasets/{ds}"
        bad = [
            lambda c: c.get(url, headers={PAYMENT_SIGNATURE_HEADER: "!!!not base64"}),
            lambda c: c.get(url, headers={PAYMENT_SIGNATURE_HEADER: "A" * 20000}),
            lambda c: c.get(url, headers={PAYMENT_SIGNATURE_HEADER: base64.b64encode(b'{"x402Version":2}').decode()}),
            lambda c: c.post(url, content=b"x" * 100_000),
            lambda c: c.get(f"{gw.url}/datasets/99999999999999999999999"),
            lambda c: c.get(f"{gw.url}/datasets/-1"),
            lambda c: c.get(f"{gw.url}/" + "a" * 5000),
            lambda c: c.get(url, headers={"X-Junk": "y" * 30000}),
        ]
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def hammer(k):
            with httpx.Client(timeout=10) as c:
                for i in range(40):
                    try:
                        code = bad[(k + i) % len(bad)](c).status_code
                    except httpx.HTTPError:
                        code = 0
                    with lock:
                        statuses[code] = statuses.get(code, 0) + 1

        threads = [threading.Thread(target=hammer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for k in range(30):  # malformed HTTP on raw sockets
            _raw(port, [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"H: " + b"z" * 40000 + b"\r\n\r\n",
                        b"\x00\xff" * 100][k % 3])
        # a slow sender that never finishes its request head is cut off after header_timeout
        t0 = time.monotonic()
        assert _raw(port, b"GET /datasets/1 HTTP/1.1\r\n", timeout=10) == b""
        assert time.monotonic() - t0 < 5
        for t in threads:
            t.join(60)
        assert sum(statuses.values()) == 320
        assert 200 not in statuses and statuses.get(429, 0) > 0  # refused, and rate limited
        assert set(statuses) <= {0, 400, 403, 404, 405, 413, 414, 429, 431}  # never an offer, never data, statuses
        time.sleep(limits.per_ip_burst / limits.per_ip_rate)  # the bucket refills
        r = buyer.buyer.get(url, tmp_path / "good.csv", SpendingPolicy.rbtc(per_request="0.001"))
        assert (tmp_path / "good.csv").read_text() == "n,v\n1,1\n" and r.bought
        assert httpx.get(f"{gw.url}/health").json()["ok"]

"""Overhead of the HTTP 402 round trip beside a plain `fetch` of the same dataset.

Run: make bench-gateway   (python bench/gateway.py [ROUNDS] [SIZE_KIB] [BROWNIE_NETWORK])

One dataset on a fresh marketplace, the seller's gateway on a loopback port, its delivery agent in a thread
(polling every 0.2 s), Kubo. Each round measures, median over the rounds:
  - first purchase, plain: `buy` + wait for the key + `fetch` from IPFS (verify, confirm);
  - first purchase, 402:   `Buyer.get(url)`: offer, policy, the same buy, the same wait, proof, gateway stream,
    the same checks and confirm;
  - repeat access, plain:  `fetch` of a licence already held (IPFS, verify, no confirm);
  - repeat access, 402:    `Buyer.get` of a licence already held (offer, proof, on-chain checks, stream, verify);
  - the unpaid request alone (GET -> 402 -> parsed x402 offer).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from brownie import network, project  # noqa: E402
import benchchain  # noqa: E402 - brownie's chain on a free port

from datalicense import Client  # noqa: E402
from datalicense.infra.chain import connect, load_account  # noqa: E402
from datalicense.services.gateway import Gateway, Running  # noqa: E402
from datalicense.services.localstack import KuboDaemon  # noqa: E402
from datalicense.roles.paying import SpendingPolicy, offer_from  # noqa: E402
from datalicense.infra.ipfs import Storage  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))


def wait_key(client: Client, lid: int, timeout: float = 60) -> None:
    """Poll as `Buyer.get` does (0.1 s, growing by half each time)."""
    end, pause = time.monotonic() + timeout, 0.1
    while not any(d["escrowed"] for d in client.reader.deliveries(lid)):
        if time.monotonic() > end:
            raise SystemExit(f"no delivery for licence {lid}")
        time.sleep(pause)
        pause = min(pause * 1.5, 2.0)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    size_kib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    net = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("BENCH_NETWORK", "development")
    p = project.load(ROOT, name="DataLicenseProject")
    p.load_config()
    benchchain.connect(net)
    from brownie import accounts, web3

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri
    from agents import AgentThread  # the same agent thread the tests use (tests/agents.py)

    try:
        with tempfile.TemporaryDirectory(prefix="datalicense-bench-") as tmp, KuboDaemon() as kubo:
            tmp = Path(tmp)
            market = p.DataLicense.deploy(accounts[0], accounts[1], accounts[2], 250, 10**15, {"from": accounts[0]})
            w3 = connect("local")
            storage = Storage(kubo.api_multiaddr)
            mk = lambda n, home: Client(w3, None if n is None else load_account(f"dev:{n}", w3), storage,  # noqa: E731
                                        market.address, tmp / home)
            seller, agent = mk(3, "seller"), mk(5, "seller")
            src = tmp / "d.bin"
            src.write_bytes(os.urandom(size_kib * 1024))
            policy = SpendingPolicy.rbtc(per_request="0.001")
            t: dict[str, list[float]] = {k: [] for k in ("plain1", "get1", "plain2", "get2", "offer")}
            with Running(Gateway(mk(None, "gateway"))) as gw, AgentThread(agent, tmp / "agent.sqlite"):
                for r in range(rounds):
                    # a dataset per round: the buyers hold none of it yet (a licence held is reused, never bought again)
                    ds = seller.seller.publish(src, title=f"bench {r}", price=10**12,
                                               agent=agent.conn.account.address).dataset_id
                    url = f"{gw.url}/datasets/{ds}"
                    plain = mk(4, f"plain{r}")
                    s = time.perf_counter()
                    lid = plain.buyer.buy(ds).licence_id
                    wait_key(plain, lid)
                    plain.buyer.fetch(lid, tmp / "plain.out")
                    t["plain1"].append(time.perf_counter() - s)
                    s = time.perf_counter()
                    plain.buyer.fetch(lid, tmp / "plain.out", confirm=False)
                    t["plain2"].append(time.perf_counter() - s)

                    paying = mk(6, f"paying{r}")
                    s = time.perf_counter()
                    res = paying.buyer.get(url, tmp / "get.out", policy)
                    t["get1"].append(time.perf_counter() - s)
                    assert res.bought and (tmp / "get.out").read_bytes() == src.read_bytes()
                    s = time.perf_counter()
                    res = paying.buyer.get(url, tmp / "get.out", policy)
                    t["get2"].append(time.perf_counter() - s)
                    assert not res.bought
                    s = time.perf_counter()
                    offer_from(httpx.get(url))
                    t["offer"].append(time.perf_counter() - s)
            ms = {k: statistics.median(v) * 1000 for k, v in t.items()}
            print(f"\nHTTP 402 gateway vs plain fetch: {size_kib} KiB dataset, median of {rounds} rounds (ms)\n")
            print(f"| {'path':<48} | {'plain fetch':>11} | {'402 get':>9} | {'overhead':>9} |")
            print(f"|{'-' * 50}|{'-' * 13}|{'-' * 11}|{'-' * 11}|")
            for label, a, b in (("first purchase (buy, key wait, fetch, confirm)", "plain1", "get1"),
                                ("repeat access (licence held)", "plain2", "get2")):
                print(f"| {label:<48} | {ms[a]:>11.1f} | {ms[b]:>9.1f} | {ms[b] - ms[a]:>+9.1f} |")
            print(f"| {'unpaid request -> 402 x402 offer':<48} | {'-':>11} | {ms['offer']:>9.1f} | {'-':>9} |")
    finally:
        network.disconnect()


if __name__ == "__main__":
    main()

"""Listing benchmark: `datalicense list` over N datasets (default 1,000), cold and warm.

    python bench/listing.py [N]        (make bench-listing, DATASETS=N)

Starts a stack of its own (Ganache, Kubo, the marketplace) in a temporary data folder on free ports, publishes
N datasets, each with its own valid manifest on IPFS, then measures:

- cold: a fresh data folder; the index is built from the chain's events and every manifest is fetched once
  (in parallel, bounded, validated) and cached;
- warm: a new client over the same data folder (index and manifests read from disk, new blocks only);
- warm, the command: the whole `datalicense list` process, Python start-up included;
- per-dataset chain reads: the listing as it was before the index kept terms and sales (one `offer` read per
  dataset), for comparison.

Measured on the 2-core development machine while other jobs ran (load average about 9, so every figure is
inflated; the warm library figures are what `list` costs beyond starting Python):

| case                                                               |  seconds | manifests fetched |
|--------------------------------------------------------------------|----------|-------------------|
| cold, the index alone (every event read and decoded)               |    1.251 |                 0 |
| cold: index built from the events, every manifest fetched          |    2.854 |             1,000 |
| warm: new client, index and manifests from disk                    |    0.040 |                 0 |
| warm, same client (a second listing)                               |    0.012 |                 0 |
| warm, the `datalicense list` process (Python start-up included)    |    2.306 |                 0 |
| for comparison: the `datalicense --help` process (start-up alone)  |    2.807 |                 0 |
| for comparison: one chain read (offer) per dataset                 |   75.868 |                 0 |
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="datalicense-bench-listing-"))
    for k in [k for k in os.environ if k.startswith("DATALICENSE_")]:
        del os.environ[k]
    rpc, ipfs, gateway, swarm = free_ports(4)
    os.environ.update(DATALICENSE_STACK_RPC_PORT=str(rpc), DATALICENSE_STACK_IPFS_PORT=str(ipfs),
                      DATALICENSE_STACK_GATEWAY_PORT=str(gateway), DATALICENSE_STACK_SWARM_PORT=str(swarm))
    from eth_utils import keccak

    from datalicense.protocol import age as agecrypt
    from datalicense.infra.chain import Transactor, load_account
    from datalicense.client import Client
    from datalicense.protocol.manifest import Manifest, now
    from datalicense.services.stack import Stack
    from datalicense.infra.ipfs import Storage, cid_to_bytes

    stack = Stack(tmp / "stack-home")
    try:
        t0 = time.perf_counter()
        stack.up()
        print(f"stack up in {time.perf_counter() - t0:.1f} s; publishing {n} datasets with their manifests ...",
              flush=True)
        os.environ["DATALICENSE_LOCAL_RPC"] = stack.rpc_url
        os.environ["DATALICENSE_DEPLOYMENTS"] = str(stack.deployments_dir)
        os.environ["DATALICENSE_IPFS_API"] = stack.ipfs_api
        storage = Storage(stack.ipfs_api)
        seller = Client.connect("local", account="dev:3", home=tmp / "seller")
        cipher_cid = storage.add_bytes(b"not really ciphertext")
        recipient = agecrypt.recipient_of(agecrypt.new_content_key())
        tx = Transactor(seller.conn.w3, seller.conn.account)
        nonce = seller.conn.w3.eth.get_transaction_count(seller.conn.account.address)
        terms = (2 * 10**15, "0x" + "00" * 20, 30 * 86400, 0, 86400, 2 * 86400, 0, False)
        last = None
        t0 = time.perf_counter()
        for i in range(n):
            m = Manifest(title=f"Dataset {i:04d}: clinic visits, region {i % 17}",
                         description=f"Synthetic benchmark dataset number {i}", media_type="text/csv",
                         plaintext_size=1000 + i, plaintext_sha256=keccak(text=str(i)).hex(), ciphertext_cid=cipher_cid,
                         ciphertext_size=1200 + i, recipient=recipient, licence_terms="0x" + "11" * 32,
                         publisher=seller.conn.account.address, created_at=now())
            cid = storage.add_bytes(m.to_json())
            fn = seller.conn.contract.functions.publish(cid_to_bytes(cid), keccak(text=f"p{i}"), keccak(text=f"k{i}"),
                                                        keccak(b"licence"), terms, "0x" + "00" * 20)
            raw, last = tx.sign(fn, nonce=nonce + i, gas=200_000)
            tx.broadcast(raw)
        seller.conn.w3.eth.wait_for_transaction_receipt(last, timeout=600)
        print(f"published in {time.perf_counter() - t0:.1f} s", flush=True)

        rows = []
        t0 = time.perf_counter()
        index_only = Client.connect("local", home=tmp / "index-only").datasets(with_manifest=False)
        assert len(index_only) == n
        rows.append(("cold, the index alone (every event read and decoded)", time.perf_counter() - t0, 0))
        home = tmp / "buyer"
        t0 = time.perf_counter()
        buyer = Client.connect("local", home=home)
        listed = buyer.reader.datasets()
        cold = time.perf_counter() - t0
        assert len(listed) == n and all(d.title for d in listed), "every dataset listed with its title"
        rows.append(("cold: index built from the events, every manifest fetched", cold, buyer.reader.index.manifests_fetched))

        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            again = Client.connect("local", home=home)
            listed = again.reader.datasets()
            warm.append(time.perf_counter() - t0)
            assert len(listed) == n and again.reader.index.manifests_fetched == 0
        rows.append(("warm: new client, index and manifests from disk", min(warm), 0))

        t0 = time.perf_counter()
        again.reader.datasets()
        rows.append(("warm, same client (a second listing)", time.perf_counter() - t0, 0))

        env = dict(os.environ, DATALICENSE_HOME=str(home))
        cli = []
        for _ in range(2):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "datalicense.cli.main", "list"], env=env, capture_output=True,
                               text=True, check=True)
            cli.append(time.perf_counter() - t0)
        assert len(p.stdout.splitlines()) == n
        rows.append(("warm, the `datalicense list` process (Python start-up included)", min(cli), 0))
        start = []
        for _ in range(2):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "datalicense.cli.main", "--help"], env=env, capture_output=True, check=True)
            start.append(time.perf_counter() - t0)
        rows.append(("for comparison: the `datalicense --help` process (start-up alone)", min(start), 0))

        t0 = time.perf_counter()
        for d in listed:
            buyer.conn.market.offer(d.dataset_id)
        rows.append(("for comparison: one chain read (offer) per dataset", time.perf_counter() - t0, 0))

        print(f"\nlisting {n:,} datasets (Ganache, Kubo on loopback; {os.cpu_count()} CPUs)\n")
        print(f"| {'case':<66} | {'seconds':>8} | {'manifests fetched':>17} |")
        print(f"|{'-' * 68}|{'-' * 10}|{'-' * 19}|")
        for name, secs, fetched in rows:
            print(f"| {name:<66} | {secs:>8.3f} | {fetched:>17,} |")
    finally:
        stack.down()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

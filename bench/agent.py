"""Delivery agent throughput: 1,000 purchases by 10 buyers against one running agent.

Run: make bench-agent   (python bench/agent.py [PURCHASES])

The agent runs as its own process (`datalicense agent`), as a seller would run it. Reported:
  - deliveries per second while draining the purchases (first purchase seen to last key delivered),
  - the raw rate of the same number of plain signed RBTC transfers on the same Ganache, sent the same way
    (sign, broadcast, wait for receipts at the end),
  - that every licence got exactly one delivery and the agent sent exactly one transaction per licence.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brownie import network, project  # noqa: E402
import benchchain  # noqa: E402 - brownie's chain on a free port
from eth_account import Account  # noqa: E402

from datalicense import Client  # noqa: E402
from datalicense.infra.chain import connect, gas_price, load_account  # noqa: E402
from datalicense.protocol.keywrap import public_key  # noqa: E402
from datalicense.services.localstack import KuboDaemon  # noqa: E402
from datalicense.protocol.records import State  # noqa: E402
from datalicense.infra.ipfs import Storage  # noqa: E402

ZERO = "0x0000000000000000000000000000000000000000"


def send_all(w3, signed: list[bytes]) -> float:
    t = time.perf_counter()
    hashes = [w3.eth.send_raw_transaction(raw) for raw in signed]
    for h in hashes:
        w3.eth.wait_for_transaction_receipt(h, timeout=300)
    return time.perf_counter() - t


def main() -> None:
    purchases = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    p = project.load(ROOT, name="DataLicenseProject")
    p.load_config()
    benchchain.connect("development")
    from brownie import accounts, web3

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri  # this run's chain, never a user's stack

    try:
        with tempfile.TemporaryDirectory(prefix="datalicense-bench-") as tmp, KuboDaemon() as kubo:
            tmp = Path(tmp)
            market = p.DataLicense.deploy(accounts[0], accounts[1], accounts[2], 250, 10**15, {"from": accounts[0]})
            w3 = connect("local")
            storage = Storage(kubo.api_multiaddr)
            seller = Client(w3, load_account("dev:3", w3), storage, market.address, tmp / "seller")
            agent_acct = load_account("dev:5", w3)
            src = tmp / "d.csv"
            src.write_text("x\n1\n")
            price = 10**12
            ds = seller.seller.publish(src, title="bench", price=price, agent=agent_acct.address).dataset_id

            buyers = [Account.create() for _ in range(10)]
            for b in buyers:
                accounts[0].transfer(b.address, 10**19, silent=True)
            gp = gas_price(w3)
            chain_id = w3.eth.chain_id
            fn = seller.conn.contract.functions

            def sign_purchases(round_: int) -> list[bytes]:
                out = []
                for i in range(purchases):
                    b = buyers[i % 10]
                    x, y = public_key(os.urandom(31) + bytes([i % 251 + 1]))  # a one-time delivery key
                    tx = fn.buy((ds, 1, 1, 1, ZERO, x, y)).build_transaction({
                        "from": b.address, "value": price, "gas": 200_000, "gasPrice": gp, "chainId": chain_id,
                        "nonce": round_ * (purchases // 10) + i // 10})
                    out.append(bytes(b.sign_transaction(tx).raw_transaction))
                return out

            signed = sign_purchases(0)

            env = dict(os.environ, DATALICENSE_HOME=str(tmp / "seller"), DATALICENSE_IPFS_API=kubo.api_multiaddr)
            nonce0 = w3.eth.get_transaction_count(agent_acct.address)
            agent_log = tmp / "agent.log"

            def start_agent() -> subprocess.Popen:
                with open(agent_log, "w") as logf:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "datalicense.cli.main", "--address", market.address, "--account", "dev:5",
                         "agent", "--poll", "0.2", "--db", str(tmp / "agent.sqlite")],
                        env=env, stderr=logf, stdout=subprocess.DEVNULL)
                while "watching" not in agent_log.read_text():
                    time.sleep(0.1)
                return proc

            agent = start_agent()
            t_buy = send_all(w3, signed)
            t0 = time.perf_counter() - t_buy
            delivered_event = seller.conn.contract.events.KeyDelivered()
            while seller.conn.market.licence(purchases).state != State.DELIVERED:  # the last licence id
                time.sleep(0.1)
            while len(delivered_event.get_logs(from_block=0)) < purchases:
                time.sleep(0.2)
            t_done = time.perf_counter()
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)

            # backlog: purchases made while no agent runs, then one agent drains them
            send_all(w3, sign_purchases(1))
            t_start = time.perf_counter()
            agent = start_agent()
            while seller.conn.market.licence(2 * purchases).state != State.DELIVERED:
                time.sleep(0.05)
            t_drain = time.perf_counter() - t_start
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)
            purchases *= 2
            logs = delivered_event.get_logs(from_block=0)
            per_licence: dict[int, int] = {}
            for log in logs:
                per_licence[log["args"]["licenceId"]] = per_licence.get(log["args"]["licenceId"], 0) + 1
            sent = w3.eth.get_transaction_count(agent_acct.address) - nonce0
            exactly_once = len(per_licence) == purchases and set(per_licence.values()) == {1} and sent == purchases

            # raw rate: the same number of plain transfers, signed and sent the same way
            raw_sender = Account.create()
            accounts[0].transfer(raw_sender.address, 10**19, silent=True)
            raw = [bytes(raw_sender.sign_transaction({
                "to": accounts[9].address, "value": 1, "gas": 21_000, "gasPrice": gp, "chainId": chain_id,
                "nonce": i}).raw_transaction) for i in range(purchases // 2)]
            t_raw = send_all(w3, raw)
    finally:
        network.disconnect()

    n = purchases // 2
    span = t_done - t0
    print(f"\nDelivery agent, {n} purchases by 10 buyers against one running agent, then {n} more as a backlog"
          " (Ganache, automine)\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| purchases sent while the agent runs | {n} in {t_buy:.1f}s ({n / t_buy:.0f} tx/s) |")
    print(f"| last key delivered after the last purchase | {span - t_buy:.1f}s |")
    print(f"| deliveries per second, agent running alongside purchases | {n / span:.1f} |")
    print(f"| deliveries per second, draining a backlog of {n} (start-up included) | {n / t_drain:.1f} |")
    print(f"| raw plain transfers per second (pre-signed, same chain, same sending pattern) | {n / t_raw:.0f} |")
    print(f"| every licence delivered exactly once, one agent transaction each ({purchases}) |"
          f" {'yes' if exactly_once else 'NO'} |")


if __name__ == "__main__":
    main()

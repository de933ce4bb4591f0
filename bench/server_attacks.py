"""Honest requests while strangers attack the two local servers (issue 21, items 15-19).

    python bench/server_attacks.py [LABEL]        (make bench-servers; LABEL: "before" or "after", default "after")

Its own Ganache on a free port, a Kubo that talks to peers (none to find: a CID nobody holds is searched for until a
deadline, as on a real network), the marketplace and a pools' factory; the HTTP 402 gateway and the page's server
in threads on free loopback ports, each built with its defaults. For each attack, one honest request timed while it
runs (what an honest user waits), and what the attack got. The table goes to docs/figures/server_attacks_<LABEL>.md
(`python bench/figures.py` copies it into docs/evidence.md). Run it on the code before a change to get the other
column: the script only uses what both have (constructors with their defaults, the HTTP API); BENCH_PACKAGE=DIR
measures the `datalicense` package in DIR instead of this checkout's (BENCH_PACKAGE_REV names it in the table):

    mkdir /tmp/before && git archive REV datalicense | tar -x -C /tmp/before
    cp -r datalicense/artifacts datalicense/webpage /tmp/before/datalicense/
    BENCH_PACKAGE=/tmp/before BENCH_PACKAGE_REV="commit REV" python bench/server_attacks.py before
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
if os.environ.get("BENCH_PACKAGE"):  # measure another copy of the package (e.g. `git archive` of an earlier commit)
    sys.path.insert(0, os.environ["BENCH_PACKAGE"])

import httpx  # noqa: E402
from brownie import network, project  # noqa: E402

from datalicense import Client  # noqa: E402
from datalicense.infra.chain import connect, load_account  # noqa: E402
from datalicense.services.gateway import Gateway, Limits, Running as RunningGateway  # noqa: E402
from datalicense.services.localstack import KuboDaemon, _free_port  # noqa: E402
from datalicense.roles.paying import PAYMENT_SIGNATURE_HEADER, encode_header, offer_from, payment_payload  # noqa: E402
from datalicense.infra.ipfs import Storage  # noqa: E402
from datalicense.services.web import Running as RunningPage, Web  # noqa: E402

TIMEOUT = 60.0  # seconds an honest request is given before it counts as failed


def timed(fn: Callable[[], httpx.Response]) -> str:
    """'<status> in <ms>' of one honest request, or what went wrong."""
    t0 = time.monotonic()
    try:
        r = fn()
    except httpx.TimeoutException:
        return f"no answer in {TIMEOUT:.0f} s"
    except httpx.HTTPError as exc:
        return f"failed ({type(exc).__name__})"
    took = time.monotonic() - t0
    return f"{r.status_code} in {took * 1000:,.0f} ms" if took < 10 else f"{r.status_code} in {took:,.1f} s"


def package() -> str:
    import datalicense

    return "this checkout" if Path(datalicense.__file__).resolve().is_relative_to(ROOT) else "BENCH_PACKAGE"


def rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


class Drip:
    """`count` connections from `source`: a first request answered, then a second head sent a byte at a time."""

    def __init__(self, port: int, source: str, count: int):
        self.socks = []
        self.refused = 0
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
                s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                if s.recv(4096).startswith(b"HTTP/1.1 200"):
                    s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Drip: ".encode())
                    self.socks.append(s)
                    continue
                s.close()
            except OSError:
                pass
            self.refused += 1
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(0.3):
            for s in self.socks:
                try:
                    s.sendall(b"a")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "after"
    p = project.load(ROOT, name="DataLicenseProject")
    p.load_config()
    p._add_to_main_namespace()  # tests/helpers.py imports the contracts from brownie
    from brownie._config import CONFIG

    CONFIG.networks["development"]["cmd_settings"]["port"] = _free_port()
    network.connect("development")
    from brownie import accounts, web3

    from helpers import buy, publish, publish_file

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri
    rows: list[tuple[str, str, str, str]] = []

    def add(row: tuple[str, str, str, str]) -> None:
        rows.append(row)
        print(" | ".join(row), flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="datalicense-bench-") as tmp_name, KuboDaemon(offline=False) as kubo:
            tmp = Path(tmp_name)
            os.environ["DATALICENSE_DEPLOYMENTS"] = str(tmp / "deployments")
            market = p.DataLicense.deploy(accounts[0], accounts[1], accounts[2], 250, 10**15, {"from": accounts[0]})
            w3 = connect("local")
            storage = Storage(kubo.api_multiaddr)

            def mk(n: int | None, home: str) -> Client:
                return Client(w3, None if n is None else load_account(f"dev:{n}", w3), storage, market.address,
                              tmp / home)

            seller, buyer = mk(3, "seller"), mk(4, "buyer")
            honest = publish_file(seller, tmp, "road,count\nA1,5\n", "0x" + "00" * 20, name="traffic.csv").dataset_id
            lid = buyer.buyer.buy(honest).licence_id
            with RunningGateway(Gateway(mk(None, "gateway"), Limits(per_ip_rate=1000, per_ip_burst=2000))) as gw, \
                    RunningPage(Web(mk(None, "page"), kubo.gateway_url, web3.provider.endpoint_uri)) as page:
                port = int(gw.url.rsplit(":", 1)[1])
                offer = lambda: httpx.get(f"{gw.url}/datasets/{honest}", timeout=TIMEOUT)  # noqa: E731
                one = lambda: httpx.get(f"{page.url}/api/datasets/{honest}", timeout=TIMEOUT)  # noqa: E731
                add(("none", "gateway: the 402 offer", timed(offer), ""))
                add(("none", "page: one dataset", timed(one), ""))

                # 15: 72 connections from one address dripping their second request head
                drip = Drip(port, "127.0.0.2", 72)
                time.sleep(1)
                add(("72 connections from one address drip their second request head (gateway)",
                             "gateway: the 402 offer", timed(offer),
                             f"{len(drip.socks)} connections held, {drip.refused} refused"))
                time.sleep(12)
                add(("... 13 s later", "gateway: the 402 offer", timed(offer), ""))
                drip.close()

                # 16: ten datasets whose manifests nobody has, the page listing them
                for _ in range(10):
                    publish(market, accounts[6], price=0)
                listing: dict[str, Any] = {}

                def list_all() -> None:
                    t0 = time.monotonic()
                    listing["status"] = timed(lambda: httpx.get(f"{page.url}/api/datasets", timeout=300))
                    listing["took"] = time.monotonic() - t0

                t = threading.Thread(target=list_all)
                t.start()
                time.sleep(0.5)
                add(("10 datasets whose manifests nobody has; a listing under way (page)",
                             "page: one dataset", timed(one), ""))
                t.join(300)
                add(("... the listing itself", "page: all datasets", listing["status"], ""))
                add(("... the next listing", "page: all datasets",
                             timed(lambda: httpx.get(f"{page.url}/api/datasets", timeout=TIMEOUT)), ""))

                # 16: 57 paid requests for three datasets whose manifests nobody has (free licences)
                strangers = [publish(market, accounts[6], price=0).dataset_id for _ in range(3)]
                proofs = []
                for n, ds in zip((6, 7, 8), strangers):
                    c = mk(n, f"stranger{n}")
                    sl = buy(market, ds, accounts[n], value=0)[0]
                    for _ in range(19):
                        req = offer_from(httpx.get(f"{gw.url}/datasets/{ds}"))
                        proofs.append((ds, {PAYMENT_SIGNATURE_HEADER: encode_header(
                            payment_payload(c.buyer, req, sl, "GET", f"/datasets/{ds}"))}))
                codes: list[int] = []

                def ask(k: int, ds: int, headers: dict[str, str]) -> None:
                    local = httpx.HTTPTransport(local_address=f"127.0.0.{2 + k % 4}")  # from four addresses
                    try:
                        with httpx.Client(transport=local, timeout=120) as c:
                            codes.append(c.get(f"{gw.url}/datasets/{ds}", headers=headers).status_code)
                    except httpx.HTTPError:
                        codes.append(0)

                req = offer_from(httpx.get(f"{gw.url}/datasets/{honest}"))  # signed before the attack starts
                paid = {PAYMENT_SIGNATURE_HEADER: encode_header(
                    payment_payload(buyer.buyer, req, lid, "GET", f"/datasets/{honest}"))}
                threads = [threading.Thread(target=ask, args=(k, *a)) for k, a in enumerate(proofs)]
                for t in threads:
                    t.start()
                time.sleep(0.5)
                add(("57 paid requests for 3 datasets whose manifests nobody has (gateway)",
                             "gateway: an honest paid download",
                             timed(lambda: httpx.get(f"{gw.url}/datasets/{honest}", headers=paid, timeout=TIMEOUT)),
                             ""))
                for t in threads:
                    t.join(180)
                rows[-1] = rows[-1][:3] + (f"statuses {sorted(set(codes))}",)

                # 17: a 256 MiB POST to /api/explain
                peak, stop = [rss()], threading.Event()

                def sample() -> None:
                    while not stop.is_set():
                        peak[0] = max(peak[0], rss())
                        time.sleep(0.005)

                base = peak[0]
                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                big: dict[str, str] = {}

                def post() -> None:
                    block = b"0" * (1 << 20)
                    big["status"] = timed(lambda: httpx.post(f"{page.url}/api/explain",
                                                             content=(block for _ in range(256)), timeout=300))

                t = threading.Thread(target=post)
                t.start()
                time.sleep(0.3)
                during = timed(lambda: httpx.get(f"{page.url}/api/config", timeout=TIMEOUT))
                t.join(300)
                stop.set()
                sampler.join(5)
                add(("a 256 MiB POST to /api/explain (page)", "page: config", during,
                             f"{big['status']}; server grew {(peak[0] - base) / (1 << 20):,.0f} MiB"))

                # 18: a stranger's PoolCreated look-alike naming an account
                from eth_utils import event_abi_to_log_topic

                event = next(e for e in p.RevenuePool.abi if e.get("type") == "event" and e["name"] == "PoolCreated")
                word = lambda b: b"\x7f" + b.rjust(32, b"\x00")  # noqa: E731
                code = (word(bytes.fromhex(accounts[6].address[2:])) + word(bytes.fromhex(accounts[7].address[2:]))
                        + word(event_abi_to_log_topic(event)) + b"\x60\x00\x60\x00\xa3\x00")
                w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
                    {"from": accounts[6].address, "data": "0x" + code.hex(), "gas": 200_000}))
                add(("a stranger's PoolCreated log naming an account (page)", "page: My pools",
                             timed(lambda: httpx.get(f"{page.url}/api/contributors/{accounts[7].address}",
                                                     timeout=TIMEOUT)), ""))

                # 19: a foreign Host header (DNS rebinding)
                for name, url in (("page", f"{page.url}/api/config"), ("gateway", f"{gw.url}/health")):
                    add((f"Host: evil.example ({name})", f"{name}: the stranger's request",
                                 timed(lambda: httpx.get(url, headers={"Host": "evil.example"}, timeout=TIMEOUT)),
                                 ""))
    finally:
        network.disconnect()
    measured = commit() if package() == "this checkout" else os.environ.get("BENCH_PACKAGE_REV", "BENCH_PACKAGE")
    table = [f"Honest requests under attack ({label}: {measured})", "",
             "| attack | honest request | answer | the attack |", "|---|---|---|---|"]
    table += [f"| {a} | {h} | {r} | {n} |" for a, h, r, n in rows]
    print("\n" + "\n".join(table))
    from figures import record

    print(f"\nrecorded in {record(f'server_attacks_{label}', chr(10).join(table)).relative_to(ROOT)}")


def commit() -> str:
    import subprocess

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "datalicense"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
        return f"commit {rev}" + (" with changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "this tree"


if __name__ == "__main__":
    main()

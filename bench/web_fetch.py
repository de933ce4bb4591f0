"""In-page fetch of a large dataset: the page buys it with the injected test wallet, the agent delivers, the page
downloads the ciphertext from the Kubo gateway, decrypts it as a stream, hashes it and offers the file. Reports
the time and the page's peak JS heap (sampled in the page every 20 ms with precise memory info), so the claim
"the file is not held in memory twice" is measured rather than assumed.

    python bench/web_fetch.py [SIZE_MIB]          (make bench-web; network: $BENCH_NETWORK, default development)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from brownie import network, project  # noqa: E402
import benchchain  # noqa: E402 - brownie's chain on a free port

from datalicense import Client  # noqa: E402
from datalicense.services.agent import Agent  # noqa: E402
from datalicense.infra.chain import connect, load_account  # noqa: E402
from datalicense.services.localstack import KuboDaemon  # noqa: E402
from datalicense.infra.ipfs import Storage  # noqa: E402
from datalicense.services.web import Running, Web  # noqa: E402
from webwallet import FLAGS, WALLET_JS, InjectedWallet  # noqa: E402

HEAP_SAMPLER = """
window.__peakHeap = 0;
setInterval(() => { const m = performance.memory; if (m && m.usedJSHeapSize > window.__peakHeap) window.__peakHeap = m.usedJSHeapSize; }, 20);
"""


def main() -> None:
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    p = project.load(ROOT, name="DataLicenseProject")
    p.load_config()
    benchchain.connect(os.environ.get("BENCH_NETWORK", "development"))
    from brownie import accounts, web3
    from playwright.sync_api import sync_playwright

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri
    try:
        with tempfile.TemporaryDirectory(prefix="datalicense-bench-web-") as tmp, KuboDaemon() as kubo:
            tmp = Path(tmp)
            market = p.DataLicense.deploy(accounts[0], accounts[1], accounts[2], 250, 10**15, {"from": accounts[0]})
            w3 = connect("local")
            storage = Storage(kubo.api_multiaddr)
            seller = Client(w3, load_account("dev:3", w3), storage, market.address, tmp / "seller")
            agent = Client(w3, load_account("dev:5", w3), storage, market.address, tmp / "seller")
            src = tmp / "big.bin"
            with open(src, "wb") as f:
                for _ in range(size_mib):
                    f.write(os.urandom(1 << 20))
            t = time.perf_counter()
            ds = seller.seller.publish(src, title="Large dataset", price="0.001", agent=agent.conn.account.address).dataset_id
            print(f"published {size_mib} MiB in {time.perf_counter() - t:.1f} s")
            reader = Client(w3, None, storage, market.address, tmp / "web")
            buyer_key = bytes(load_account("dev:4", w3).key)
            with Running(Web(reader, kubo.gateway_url, w3.provider.endpoint_uri)) as server, sync_playwright() as pw:
                ctx = pw.chromium.launch_persistent_context(
                    str(tmp / "profile"), executable_path=os.environ.get("DATALICENSE_CHROMIUM", "/usr/bin/chromium"),
                    headless=True, args=FLAGS + ["--enable-precise-memory-info"], accept_downloads=True)
                ctx.set_default_timeout(int(os.environ.get("BENCH_TIMEOUT_MS", "600000")))
                page = ctx.new_page()
                wallet = InjectedWallet(w3, buyer_key, w3.eth.chain_id)
                page.expose_function("__testWallet", wallet.handle)
                page.add_init_script(WALLET_JS)
                page.add_init_script(HEAP_SAMPLER)
                page.goto(f"{server.url}/#/dataset/{ds}")
                page.click("#buy")
                page.wait_for_selector("#licence-state")
                Agent(agent, tmp / "agent.sqlite").run(once=True)
                page.wait_for_function("() => (document.querySelector('#licence-state strong') || {}).textContent === 'Delivered'")
                base = page.evaluate("performance.memory.usedJSHeapSize")
                page.evaluate("window.__peakHeap = 0")
                t = time.perf_counter()
                page.click("#fetch")
                page.wait_for_selector("#verified")
                took = time.perf_counter() - t
                peak = page.evaluate("window.__peakHeap")
                with page.expect_download() as dl:
                    page.click("#download")
                same = os.path.getsize(dl.value.path()) == src.stat().st_size
                ctx.close()
            mib = 1 << 20
            print(f"in-page fetch of {size_mib} MiB: {took:.1f} s ({size_mib / took:.0f} MiB/s: download, age decrypt, "
                  f"SHA-256, checks); JS heap before {base / mib:.1f} MiB, peak during the fetch {peak / mib:.1f} MiB; "
                  f"saved file {'has the right size' if same else 'DIFFERS'}")
    finally:
        network.disconnect()


if __name__ == "__main__":
    main()

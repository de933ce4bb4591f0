"""What the page's tests share (tests/test_web*.py): the built page, Chromium with the injected test wallet
(webwallet.py), the page's server over a seller and its agent, the steps a buyer takes in the page, and a pool made
by the pools' factory the page knows. Fixtures are imported by the test modules that use them.

Screenshots of each page go to reports/web/ (kept out of git) for a reviewer to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from eth_utils import keccak

from datalicense.infra.chain import connect
from datalicense.infra.ipfs import Storage
from datalicense.services.web import Running, Web

from helpers import ZERO, Published, account_private_key, buy, buy_token, clients, deliver, terms
from webwallet import FLAGS, WALLET_JS, InjectedWallet

__all__ = ["ROOT", "SHOTS", "bundle", "browser_context", "stack", "page_for", "publish_titled", "wait_state",
           "buy_by_title", "store_tree", "factory_pool", "sold_and_settled", "api"]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DATALICENSE_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "reports" / "web"
WAIT = 20_000  # ms

# ------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def bundle():
    if not (ROOT / "datalicense" / "webpage" / "index.html").exists():
        subprocess.run([str(ROOT / "tools" / "web-build.sh")], check=True, timeout=120)
    return ROOT / "datalicense" / "webpage"


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory, bundle):
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or os.access(CHROMIUM, os.X_OK), "Chromium missing: run `make setup`"
    profile = tmp_path_factory.mktemp("chromium-profile")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                    args=FLAGS, accept_downloads=True,
                                                    viewport={"width": 1100, "height": 900})
        ctx.set_default_timeout(WAIT)
        yield ctx
        ctx.close()


@pytest.fixture
def stack(kubo, market, tmp_path):
    """Seller (dev:3) and its agent (dev:5, same home), the page's server, and a Client factory."""
    w3 = connect("local")
    client = clients(kubo.api_multiaddr, market.address, tmp_path)
    reader = client(None, "web")
    with Running(Web(reader, kubo.gateway_url, w3.provider.endpoint_uri)) as running:
        yield {"w3": w3, "url": running.url, "seller": client(3, "seller"), "agent": client(5, "seller"),
               "client": client}


@pytest.fixture
def page_for(browser_context, stack):
    pages = []

    def open_page(dev_index: int):
        from brownie import accounts

        w3 = stack["w3"]
        wallet = InjectedWallet(w3, account_private_key(accounts[dev_index]), w3.eth.chain_id)
        page = browser_context.new_page()
        page.on("console", lambda m: print("console:", m.type, m.text))
        page.on("pageerror", lambda e: print("page error:", e))
        page.expose_function("__testWallet", wallet.handle)
        page.add_init_script(WALLET_JS)
        page.goto(stack["url"] + "/#/")
        page.wait_for_selector("body[data-ready='1']")
        pages.append(page)
        return page, wallet

    yield open_page
    for p in pages:
        print("page error line:", p.inner_text("#error"), "| status:", p.inner_text("#status"))
        p.close()


def publish_titled(stack, tmp_path, title, body, agent=True):
    """The stack's seller publishes `body` as a CSV named after `title`, its agent delivering (unless agent=False)."""
    src = tmp_path / f"{title.split()[0].lower()}.csv"
    src.write_bytes(body)
    agent_address = stack["agent"].conn.account.address if agent else "0x0000000000000000000000000000000000000000"
    return stack["seller"].seller.publish(src, title=title, description=f"{title}, one row per record", price="0.002",
                                   agent=agent_address).dataset_id


def wait_state(page, state):
    """Wait until the licence page shows `state`."""
    page.wait_for_function(
        "s => (document.querySelector('#licence-state strong') || {}).textContent === s", arg=state)


def buy_by_title(page, title):
    """Search for `title`, open it and buy with the page's wallet: the licence id."""
    page.fill("#search", title.split()[0])
    page.click("form[role=search] button")
    page.click(f"a:text-is('{title}')")
    page.wait_for_selector("#buy")
    page.click("#buy")
    page.wait_for_selector("#licence-state")
    return int(page.inner_text("h1").split()[-1])


# ------------------------------------------------------------------------------------------------- pools


def store_tree(kubo, tmp_path, rows, name="contributors.csv"):
    """A contributor tree (rows: [(account, weight)]) on the test's Kubo: its TreeInfo (top, cid)."""
    from datalicense.roles.pool import PoolClient

    path = tmp_path / name
    path.write_text("account,weight\n" + "".join(f"{a},{w}\n" for a, w in rows))
    return PoolClient.build_and_store(Storage(kubo.api_multiaddr), path)


def factory_pool(market, kubo, tmp_path, monkeypatch, curator, rows, asset=ZERO):
    """A pool made by the pools' factory the page knows (RevenuePool in the deployments file), with tree `rows`,
    paid in `asset`."""
    from brownie import RevenuePool, accounts

    from datalicense.infra import deployments

    info = store_tree(kubo, tmp_path, rows)
    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    monkeypatch.setenv("DATALICENSE_DEPLOYMENTS", str(tmp_path / "deployments"))
    deployments.save(33, "RevenuePool", impl.address, 0, "0x")
    created = impl.create(curator, asset, info.top, info.cid.encode(), {"from": curator})
    return RevenuePool.at(created.events["PoolCreated"]["pool"])


def sold_and_settled(market, pool, curator, agent, buyer, token=None):
    """The pool's dataset published (version 1, in the pool's current epoch), one licence sold (in `token` if
    given), delivered and confirmed: (dataset id, licence id)."""
    content_key = os.urandom(32)
    ds = pool.publishDataset(b"\x01\x55\x12\x20" + os.urandom(32), keccak(b"p"), keccak(content_key), keccak(b"t"),
                             terms(asset=token.address if token else ZERO), agent, {"from": curator}).return_value
    lid, key, _ = buy(market, ds, buyer) if token is None else buy_token(market, token, ds, buyer)
    deliver(market, lid, Published(ds, content_key, keccak(content_key)), key, agent)
    market.confirm(lid, {"from": buyer})
    return ds, lid


def api(stack, path):
    with urllib.request.urlopen(f"{stack['url']}{path}", timeout=60) as resp:
        return json.loads(resp.read())

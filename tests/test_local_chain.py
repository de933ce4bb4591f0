"""The local chain of `datalicense up` lends nothing to a web page from elsewhere (issue 21, item 20).

The stack's chain holds the well-known development accounts (their keys follow from a public mnemonic), the
marketplace's admin among them. Ganache answers any Origin, so before the fix any web site open in the user's
browser could send transactions as the admin through the chain's RPC port. Now the RPC port is a small front
(datalicense.services.chainfront) that refuses foreign Origins and Hosts and forwards the rest to a Ganache that no one
finds (a private path on a loopback port, no WebSocket). The page, its wallet and the CLI keep working.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from eth_account import Account

from datalicense.infra.chain import load_account

from webwallet import FLAGS

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("DATALICENSE_CHROMIUM", "/usr/bin/chromium")
EVIL = "http://evil.example"
STRANGER = "0x000000000000000000000000000000000000dEaD"
EXTENSION = "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn"  # how a wallet extension's requests arrive


def call(url: str, method: str, params: list | None = None, **headers: str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return httpx.post(url, json=body, headers=headers, timeout=30)


def result(url: str, method: str, params: list | None = None) -> object:
    out = call(url, method, params).json()
    assert "result" in out, out
    return out["result"]


def chain_figures(rpc: str, admin: str) -> tuple[int, int, int]:
    """(admin's nonce, the stranger's balance, block number): what a transaction sent as the admin would move."""
    return (int(str(result(rpc, "eth_getTransactionCount", [admin, "latest"])), 16),
            int(str(result(rpc, "eth_getBalance", [STRANGER, "latest"])), 16),
            int(str(result(rpc, "eth_blockNumber")), 16))


def refused(r: httpx.Response) -> bool:
    """Refused as a browser sees it: an error status, no result, and no CORS permission for the asking origin."""
    try:
        body = r.json()
    except ValueError:
        body = {}
    return r.status_code >= 400 and "result" not in body and "access-control-allow-origin" not in r.headers


def ganache_port(user) -> int:
    """The port Ganache itself listens on, read from its command line (the test looks behind the front)."""
    pid = json.loads(user("datalicense --json status").stdout)["chain"]["pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        args = f.read().decode().split("\0")
    return int(args[args.index("--server.port") + 1])


def test_a_foreign_origin_cannot_use_the_local_chains_accounts(user):
    """Before the fix: eth_accounts from Origin http://evil.example listed the admin, eth_sendTransaction as the
    admin paid the stranger (Ganache reflected the Origin in Access-Control-Allow-Origin)."""
    user("datalicense up")
    rpc_port, web_port = user.ports[0], user.ports[4]
    rpc = f"http://127.0.0.1:{rpc_port}"
    admin = load_account("dev:0").address
    before = chain_figures(rpc, admin)
    send = [{"from": admin, "to": STRANGER, "value": hex(10**18)}]

    for method, params in (("eth_accounts", []), ("eth_sendTransaction", send), ("eth_sign", [admin, "0x01"]),
                           ("personal_unlockAccount", [admin, "", 0]), ("evm_mine", [])):
        for origin in (EVIL, "null", f"http://127.0.0.1:{web_port + 1}", f"http://localhost:{rpc_port}.evil.example"):
            r = call(rpc, method, params, Origin=origin)
            assert refused(r), (method, origin, r.status_code, r.text)
            assert "origin" in r.json()["error"]["message"]  # one line that says why
    # a browser request from another site that carries no Origin (only the browser's Sec-Fetch-Site mark)
    assert refused(call(rpc, "eth_sendTransaction", send, **{"Sec-Fetch-Site": "cross-site"}))
    # the browser's preflight for a JSON request gets no permission
    pre = httpx.options(rpc, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "content-type"})
    assert refused(pre), (pre.status_code, pre.headers)
    # DNS rebinding: the stranger's name resolved to 127.0.0.1, so the request is "same origin" to the browser
    rebound = call(rpc, "eth_sendTransaction", send, Host=f"evil.example:{rpc_port}",
                   Origin=f"http://evil.example:{rpc_port}")
    assert refused(rebound), rebound.text
    assert refused(call(rpc, "eth_accounts", Host=f"evil.example:{rpc_port}"))
    # no WebSocket on the RPC port (browsers do not apply CORS to WebSockets)
    ws = httpx.get(rpc, headers={"Origin": EVIL, "Connection": "Upgrade", "Upgrade": "websocket",
                                 "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert ws.status_code != 101 and refused(ws), (ws.status_code, ws.text)
    # and Ganache's own port is no back door: its RPC is not at the root, and it has no WebSocket server
    behind = f"http://127.0.0.1:{ganache_port(user)}"
    assert ganache_port(user) != rpc_port
    for method, params in (("eth_accounts", []), ("eth_sendTransaction", send)):
        r = call(behind, method, params, Origin=EVIL)
        assert r.status_code == 404 and admin.lower() not in r.text.lower(), r.text
    ws = httpx.get(behind + "/", headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert ws.status_code != 101

    assert chain_figures(rpc, admin)[:2] == before[:2]  # nothing was sent as the admin
    assert chain_figures(rpc, admin)[2] == before[2]  # nor a block mined


class _Page(BaseHTTPRequestHandler):
    """A web site from elsewhere (another origin) that tries to spend the admin's money on the local chain."""

    html = b""

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: object) -> None:
        pass


def test_a_page_from_elsewhere_in_chromium_cannot_send_as_the_admin_and_the_page_still_works(user):
    """Before the fix Chromium sent both the text/plain request (no preflight) and the JSON one (Ganache allowed the
    preflight) and the admin paid the stranger; the stack's own page, a wallet's requests and the CLI work after."""
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or os.access(CHROMIUM, os.X_OK), "Chromium missing: run `make setup`"
    user("datalicense up")
    rpc_port, web_port = user.ports[0], user.ports[4]
    rpc = f"http://127.0.0.1:{rpc_port}"
    admin = load_account("dev:0").address
    before = chain_figures(rpc, admin)

    tx = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                     "params": [{"from": admin, "to": STRANGER, "value": hex(10**18)}]})
    _Page.html = f"""<!doctype html><title>a site</title><script>
      const send = (type) => fetch({json.dumps(rpc)}, {{method: 'POST', headers: {{'Content-Type': type}},
                                                       body: {json.dumps(tx)}}})
        .then(r => r.text()).catch(e => 'blocked: ' + e);
      window.attempts = Promise.all([send('text/plain'), send('application/json')]);
    </script>""".encode()
    site = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{site.server_address[1]}/")
            attempts = page.evaluate("window.attempts")
            assert all("result" not in a for a in attempts), attempts
            assert chain_figures(rpc, admin)[:2] == before[:2], attempts

            # the stack's own page loads in the same browser and names the chain's RPC for the wallet
            page.goto(f"http://127.0.0.1:{web_port}/")
            page.wait_for_selector("main")
            config = page.evaluate("fetch('/api/config').then(r => r.json())")
            assert config["chain"]["rpcUrls"] == [rpc] and config["chainId"] == 33
            browser.close()
    finally:
        site.shutdown()

    # a wallet extension (what the page signs through) reads the chain and sends what it signed itself
    r = call(rpc, "eth_chainId", Origin=EXTENSION)
    assert r.status_code == 200 and r.json()["result"] == hex(33)
    assert r.headers["access-control-allow-origin"] == EXTENSION
    pre = httpx.options(rpc, headers={"Origin": EXTENSION, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code in (200, 204) and pre.headers["access-control-allow-origin"] == EXTENSION
    wallet = load_account("dev:6")
    signed = Account.sign_transaction({"to": STRANGER, "value": 12345, "gas": 21000, "gasPrice": 60_000_000,
                                       "nonce": int(str(result(rpc, "eth_getTransactionCount", [wallet.address, "pending"])), 16),
                                       "chainId": 33}, wallet.key)
    sent = call(rpc, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()], Origin=EXTENSION)
    assert "result" in sent.json(), sent.text
    assert chain_figures(rpc, admin)[1] == before[1] + 12345
    # but even an allowed browser origin never gets the node's own keys, nor rewrites the chain
    for method, params in (("eth_sendTransaction", [{"from": admin, "to": STRANGER, "value": "0x1"}]),
                           ("eth_accounts", []), ("evm_revert", ["0x1"])):
        r = call(rpc, method, params, Origin=EXTENSION)
        assert "result" not in r.json() and "browser" in r.json()["error"]["message"], r.text
    assert chain_figures(rpc, admin)[1] == before[1] + 12345
    # the terminal (no Origin) works as before
    assert "RBTC" in user("datalicense --account dev:4 whoami").stdout
    user("datalicense list")

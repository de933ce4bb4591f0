"""The web page in a real browser: Debian's Chromium driven by Playwright, with a test wallet injected as an
EIP-1193 provider (a local-chain account that signs legacy transactions through the local RPC); the fixtures are
tests/webpage.py's. Screenshots of each page go to reports/web/ for a reviewer to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_utils import keccak

from datalicense.services.agent import Agent
from datalicense.protocol.records import State
from datalicense.infra.ipfs import Storage

from helpers import DeliveryKey, Published, account_private_key, deliver
from webpage import (ROOT, SHOTS, browser_context, bundle, buy_by_title, page_for, publish_titled,  # noqa: F401
                     stack, wait_state)

pytestmark = pytest.mark.e2e

# ----------------------------------------------------------------------------------------------------- tests


def test_delivery_key_vectors_in_the_browser(page_for):
    """The page's derivation reproduces the shared vectors (message, seed, one-time key, its address)."""
    page, _ = page_for(4)
    vectors = json.loads((ROOT / "tests" / "vectors" / "delivery_keys.json").read_text())
    results = page.evaluate("""vs => vs.map(v => {
        const c = window.datalicenseCrypto;
        const seed = c.deliverySeed(c.hexToBytes(v.signature));
        const k = c.deliveryKey(seed, BigInt(v.index));
        return {message: c.deliveryKeyMessage(v.chainId, v.contract), seed: c.bytesToHex(seed),
                p: k.p.toString(16).padStart(64, '0'), x: c.bytesToHex(k.x), y: c.bytesToHex(k.y),
                address: c.bytesToHex(c.pointAddress(k.x, k.y))};
    })""", vectors)
    assert len(results) == len(vectors) > 0
    for got, v in zip(results, vectors):
        assert got == {k: v[k] for k in ("message", "seed", "p", "x", "y", "address")}


def test_buy_deliver_fetch_confirm_and_the_owners_page(page_for, stack, tmp_path, market):
    """A buyer finds a dataset by title, buys with the wallet, the agent delivers, the page fetches and decrypts
    the very bytes published, refuses a key dispute that would settle, confirms; the owner sees the sale and the
    money flow and withdraws."""
    body = b"visit,clinic,days\n" + b"".join(b"%d,c%d,%d\n" % (i, i % 7, i % 30) for i in range(5000))
    ds = publish_titled(stack, tmp_path, "Clinic visits 2025", body)
    publish_titled(stack, tmp_path, "Weather stations", b"station,temp\n1,20\n")
    page, wallet = page_for(4)
    page.screenshot(path=str(SHOTS / "listing.png"), full_page=True)
    assert page.locator("a:text-is('Weather stations')").count() == 1
    page.fill("#search", "clinic")
    page.click("form[role=search] button")
    page.wait_for_function("() => !document.body.innerText.includes('Weather stations')")
    page.click("a:text-is('Clinic visits 2025')")
    page.wait_for_selector("#buy")
    assert "0.002 RBTC" in page.inner_text("#app") and stack["seller"].conn.market.key_hash(ds).hex() in page.inner_text("#app")
    page.screenshot(path=str(SHOTS / "dataset.png"), full_page=True)
    page.click("#buy")
    wait_state(page, "Pending")
    lid = int(page.inner_text("h1").split()[-1])
    # the wallet was asked to add, then switch to, the marketplace's network; every transaction was legacy
    assert "wallet_addEthereumChain" in wallet.calls and "wallet_switchEthereumChain" in wallet.calls
    assert wallet.sent and all("gasPrice" in t for t in wallet.sent)
    lic = stack["seller"].conn.market.licence(lid)
    assert lic.state == State.PENDING and lic.holder == wallet.account.address

    assert Agent(stack["agent"], tmp_path / "agent.sqlite").run(once=True).delivered == 1
    wait_state(page, "Delivered")
    page.click("#fetch")
    page.wait_for_selector("#verified")
    with page.expect_download() as dl:
        page.click("#download")
    assert Path(dl.value.path()).read_bytes() == body
    page.screenshot(path=str(SHOTS / "licence-verified.png"), full_page=True)

    # a key dispute of a right key would settle the sale to the seller: refused, nothing sent
    sent = len(wallet.sent)
    page.click("#dispute")
    page.wait_for_function("() => document.querySelector('#error').textContent.includes('is right')")
    assert len(wallet.sent) == sent

    page.click("#confirm")
    wait_state(page, "Settled")
    assert stack["seller"].conn.market.licence(lid).state == State.SETTLED

    # the owner's page
    seller_key = account_private_key(stack["seller"].conn.account.address)
    wallet.use(seller_key)
    page.goto(stack["url"] + "/#/account")
    page.reload()
    page.wait_for_selector("#owed")
    text = page.inner_text("#app")
    assert "Clinic visits 2025" in text and f"#{lid}" in text and "Settled" in text
    assert "Buyers paid 0.002 RBTC" in text
    page.wait_for_selector(".chart canvas")
    page.screenshot(path=str(SHOTS / "owner.png"), full_page=True)
    owed = market.balanceOwed("0x0000000000000000000000000000000000000000", stack["seller"].conn.account.address)
    assert owed > 0
    page.click("#withdraw")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'withdrawn'")
    page.wait_for_function("() => document.querySelector('#owed').textContent.startsWith('0 ')")
    assert market.balanceOwed("0x0000000000000000000000000000000000000000", stack["seller"].conn.account.address) == 0


def test_wrong_key_is_proved_in_the_page_and_refunded(page_for, stack, tmp_path, market):
    ds = publish_titled(stack, tmp_path, "Sensor log", b"t,v\n1,2\n", agent=False)
    page, wallet = page_for(4)
    lid = buy_by_title(page, "Sensor log")
    wait_state(page, "Pending")
    key = stack["seller"].reader.delivery_keys(lid)[0]
    info = stack["seller"].reader.dataset(ds, with_manifest=False)
    pub = Published(ds, os.urandom(32), bytes.fromhex(info.key_hash[2:]))  # a wrong key, the right commitment
    deliver(market, lid, pub, DeliveryKey(b"", key["x"], key["y"]), stack["seller"].conn.account.address)
    wait_state(page, "Delivered")
    page.click("#fetch")
    page.wait_for_selector("#wrong-key")
    page.click("#dispute")
    wait_state(page, "Refunded")
    page.screenshot(path=str(SHOTS / "licence-refunded.png"), full_page=True)
    assert stack["seller"].conn.market.licence(lid).state == State.REFUNDED
    refunds = stack["seller"].conn.contract.events.LicenceRefunded().get_logs(from_block=0, argument_filters={"licenceId": lid})
    assert [(r["args"]["to"], r["args"]["amount"]) for r in refunds] == [(wallet.account.address, 2 * 10**15)]
    decided = stack["seller"].conn.contract.events.KeyDisputeDecided().get_logs(from_block=0, argument_filters={"licenceId": lid})
    assert [d["args"]["keyCorrect"] for d in decided] == [False]


def test_a_broken_manifest_shows_its_reason(page_for, stack, kubo, market):
    from brownie import accounts

    from datalicense.infra.ipfs import cid_to_bytes

    cid = Storage(kubo.api_multiaddr).add_bytes(b'{"schema": "datalicense/manifest", "version": 1}')
    market.publish(cid_to_bytes(cid), keccak(b"p"), keccak(b"k"), keccak(b"terms"),
                   (2 * 10**15, "0x0000000000000000000000000000000000000000", 86400, 0, 86400, 2 * 86400, 0, False),
                   "0x0000000000000000000000000000000000000000", {"from": accounts[3]})
    page, _ = page_for(4)
    assert "manifest problem" in page.inner_text("#app")
    page.click("table a")
    page.wait_for_selector("#manifest-error")
    assert "manifest has no" in page.inner_text("#manifest-error")
    assert page.is_disabled("#buy")
    page.screenshot(path=str(SHOTS / "broken-manifest.png"), full_page=True)


def test_a_contributor_claims_and_sees_every_sale_of_its_records(page_for, stack, tmp_path, market, kubo,
                                                                  monkeypatch):
    """A pool's contributor opens its pools page: what it earned per epoch, a claim through the wallet, the
    transparency list of licences sold (to whom, price, its share), and revoking consent."""
    from brownie import RevenuePool, accounts

    from helpers import buy, terms
    from datalicense.infra import deployments
    from datalicense.roles.pool import PoolClient

    contributor, other, curator = accounts[7], accounts[8], accounts[3]
    rows = tmp_path / "contributors.csv"
    rows.write_text(f"account,weight\n{contributor.address},1\n{other.address},3\n")
    info = PoolClient.build_and_store(Storage(kubo.api_multiaddr), rows)
    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    monkeypatch.setenv("DATALICENSE_DEPLOYMENTS", str(tmp_path / "deployments"))
    deployments.save(33, "RevenuePool", impl.address, 0, "0x")  # the page lists the pools its factory made
    pool = RevenuePool.at(impl.create(curator, "0x" + "00" * 20, info.top, info.cid.encode(),
                                      {"from": curator}).events["PoolCreated"]["pool"])
    content_key = os.urandom(32)
    ds = pool.publishDataset(b"\x01\x55\x12\x20" + os.urandom(32), keccak(b"p"), keccak(content_key), keccak(b"t"),
                             terms(), accounts[5], {"from": curator}).return_value
    lid, key, _ = buy(market, ds, accounts[4])
    deliver(market, lid, Published(ds, content_key, keccak(content_key)), key, accounts[5])
    market.confirm(lid, {"from": accounts[4]})

    page, wallet = page_for(7)
    page.goto(stack["url"] + "/#/pools")
    page.click("#app button")  # connect
    page.wait_for_selector("#pools button.claim")
    text = page.inner_text("#app")
    assert "1 of 4" in text and f"#{lid}" in text and accounts[4].address in text
    share = (2 * 10**15 - 2 * 10**15 * 250 // 10000) // 4
    before = contributor.balance()
    page.click("#pools button.claim")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('claimed')")
    page.wait_for_selector("#pools button.claim[disabled]")
    receipt = stack["w3"].eth.get_transaction_receipt(stack["w3"].eth.get_block("latest")["transactions"][-1])
    assert contributor.balance() - before + receipt["gasUsed"] * receipt["effectiveGasPrice"] == share
    page.screenshot(path=str(SHOTS / "pools.png"), full_page=True)
    page.click("#pools button.revoke")
    page.wait_for_function("() => document.querySelector('#app').innerText.includes('consent revoked')")
    assert pool.record(1, "0x" + "00" * 20, contributor)["revoked"] is True

    # the other contributor signs a revocation without gas; the curator sends it from its own page
    wallet.use(account_private_key(other))
    wallet.connected = False
    page.reload()
    page.click("#app button")
    sent = len(wallet.sent)
    page.click("#pools button.sign-revocation")
    signed = page.input_value("textarea.signed-revocation")
    assert len(wallet.sent) == sent  # signing costs the contributor nothing
    wallet.use(account_private_key(curator))
    page.reload()
    page.wait_for_selector("#revocation-input")
    page.fill("#revocation-input", signed)
    page.click("#send-revocation")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('consent of')")
    assert pool.record(1, "0x" + "00" * 20, other)["revoked"] is True


def test_a_revert_is_shown_as_one_line_and_nothing_is_sent(page_for, stack, tmp_path, market):
    """The seller changes the terms after the buyer opened the page: the purchase's simulation reverts and the page
    shows the CLI's one-line message, not revert data; the wallet sends nothing."""
    from helpers import terms

    ds = publish_titled(stack, tmp_path, "Traffic counts", b"road,count\nA1,5\n")
    page, wallet = page_for(4)
    page.click("a:text-is('Traffic counts')")
    page.wait_for_selector("#buy")
    market.setTerms(ds, keccak(b"other terms"), terms(price=2 * 10**15, duration=86400),
                    {"from": stack["seller"].conn.account.address})
    page.click("#buy")
    page.wait_for_selector("#error:not([hidden])")
    message = page.inner_text("#error")
    assert message.startswith("TermsChanged: the terms of dataset") and "0x" not in message, message
    assert wallet.sent == []


def _tab_to(page, condition: str, presses: int = 30) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return
    raise AssertionError(f"never reached with Tab: {condition}")


def test_keyboard_only_buy_and_a_data_dispute(page_for, stack, tmp_path):
    """Search, open and buy with the keyboard alone; after delivery the buyer opens a data dispute (with the
    licence's bond) for the arbiter."""
    publish_titled(stack, tmp_path, "Parking sensors", b"bay,free\n1,0\n")
    page, wallet = page_for(4)
    _tab_to(page, "document.activeElement.id === 'search'")
    page.keyboard.type("Parking")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('caption').textContent.includes('Parking')")
    _tab_to(page, "document.activeElement.textContent === 'Parking sensors'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#buy")
    _tab_to(page, "document.activeElement.id === 'buy'")
    page.keyboard.press("Enter")
    wait_state(page, "Pending")
    lid = int(page.inner_text("h1").split()[-1])
    assert Agent(stack["agent"], tmp_path / "agent.sqlite").run(once=True).delivered == 1
    wait_state(page, "Delivered")
    assert "bond 0.001 RBTC" in page.inner_text("#dispute-data")
    page.click("#dispute-data")
    wait_state(page, "DataDisputed")
    assert stack["seller"].conn.market.licence(lid).state == State.DATA_DISPUTED
    assert wallet.sent[-1]["value"] == 10**15

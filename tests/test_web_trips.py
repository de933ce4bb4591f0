"""What a stranger's walk through the page tripped over (issue 21, items 6 and 10-12: the page must look finished):
a refund and its withdrawal offered once the licence clock allows them, no literal `null`, the header that follows
the wallet, both disputes offered once a fetch connected the wallet, state lines said once, a licence naming its
dataset by title, a money-flow chart with distinct amount ticks, steps and no `--`, the search's one address rule,
an erased dataset said in words. Real Chromium with the injected test wallet, the real chain and Kubo; the fixtures
are tests/webpage.py's."""

from __future__ import annotations

import json
import urllib.error

import pytest

from datalicense.protocol.records import State

from helpers import ZERO, buy
from webpage import (SHOTS, api, browser_context, bundle, buy_by_title, page_for, publish_titled,  # noqa: F401
                     stack, wait_state)

pytestmark = pytest.mark.e2e

DAY = 86400


def _no_null(page):
    text = page.inner_text("#app")
    assert "null" not in text.split(), text


def test_a_licence_past_its_delivery_deadline_offers_refund_then_withdraw(page_for, stack, tmp_path, market):
    """Pending past its delivery deadline (nobody delivered): the page offers Refund (the licence clock's `refund`,
    through the API), then says that Withdraw pays it out and offers Withdraw, which pays the buyer."""
    from brownie import chain

    publish_titled(stack, tmp_path, "Late rivers", b"river,flow\n1,2\n", agent=False)
    page, wallet = page_for(4)
    lid = buy_by_title(page, "Late rivers")
    wait_state(page, "Pending")
    assert page.locator("#refund").count() == 0  # within the delivery window: no refund yet
    chain.sleep(DAY + 60)
    chain.mine()
    page.reload()
    page.wait_for_selector("#refund")
    assert "refund" in page.inner_text("#licence-state").lower()
    page.click("#refund")
    wait_state(page, "Refunded")
    assert stack["seller"].conn.market.licence(lid).state == State.REFUNDED
    line = page.inner_text("#licence-state")
    assert "Withdraw" in line and "0.002 RBTC" in line, line
    owed = market.balanceOwed(ZERO, wallet.account.address)
    assert owed == 2 * 10**15
    before = stack["w3"].eth.get_balance(wallet.account.address)
    page.click("#withdraw")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('withdrawn')")
    assert market.balanceOwed(ZERO, wallet.account.address) == 0
    assert stack["w3"].eth.get_balance(wallet.account.address) > before
    page.screenshot(path=str(SHOTS / "licence-refunded-withdrawn.png"), full_page=True)


def test_buying_shows_the_account_in_the_header_and_the_licence_names_its_dataset(page_for, stack, tmp_path):
    """Buy connects the wallet: the header shows the account, not "Connect wallet"; the dataset and licence pages
    show no literal `null`; the licence links its dataset by title, not "Dataset N"."""
    ds = publish_titled(stack, tmp_path, "Harbour tides", b"tide,height\n1,2\n")
    page, _ = page_for(4)
    assert page.locator("#connect").count() == 1
    page.fill("#search", "Harbour")
    page.click("form[role=search] button")
    page.click("a:text-is('Harbour tides')")
    page.wait_for_selector("#buy")
    _no_null(page)
    page.click("#buy")
    wait_state(page, "Pending")
    page.wait_for_selector("#account")
    assert page.locator("#connect").count() == 0
    _no_null(page)
    link = page.locator("#app dl a")
    assert link.inner_text() == "Harbour tides" and link.get_attribute("href") == f"#/dataset/{ds}"


def test_a_licence_opened_before_connecting_offers_both_disputes_after_fetch(page_for, stack, tmp_path):
    """A licence page opened without connecting first, once Fetch and verify connected the wallet: Confirm, and
    both disputes (key and data), as a connected holder sees them; then, once confirmed, the state line says
    "Settled" once (it said "Settled: settled: ...")."""
    from datalicense.services.agent import Agent

    publish_titled(stack, tmp_path, "Canal locks", b"lock,depth\n1,2\n")
    buyer_page, _ = page_for(4)
    lid = buy_by_title(buyer_page, "Canal locks")
    assert Agent(stack["agent"], tmp_path / "agent.sqlite").run(once=True).delivered == 1
    page, wallet = page_for(4)  # a new page: the wallet is not connected to it
    assert not wallet.connected
    page.goto(f"{stack['url']}/#/licence/{lid}")
    wait_state(page, "Delivered")
    assert page.locator("#dispute").count() == 0
    page.click("#fetch")
    page.wait_for_selector("#verified")
    page.wait_for_selector("#confirm")
    page.wait_for_selector("#dispute")
    page.wait_for_selector("#dispute-data")
    assert page.locator("#account").count() == 1
    page.screenshot(path=str(SHOTS / "licence-fetched-before-connect.png"), full_page=True)
    page.click("#confirm")
    wait_state(page, "Settled")
    line = page.inner_text("#licence-state")
    assert line.lower().count("settled") == 1, line
    _no_null(page)


def test_the_money_flow_chart_has_distinct_amount_ticks_steps_and_no_dashes(page_for, stack, tmp_path, market):
    """The owner's chart: y ticks are amounts of the asset's decimals, each label once (it showed 0.002, 0.002,
    0.001, 0.001); totals move in steps (a total holds until the block that changes it); the legend shows no `--`."""
    from brownie import accounts

    ds = publish_titled(stack, tmp_path, "Tram counts", b"stop,riders\n1,2\n")
    buy(market, ds, accounts[4])
    buy(market, ds, accounts[6])
    page, _ = page_for(3)
    page.goto(f"{stack['url']}/#/account")
    page.click("#app button")  # connect
    page.wait_for_selector(".chart .u-legend")
    page.wait_for_function("() => document.querySelector('.chart').dataset.yTicks")
    ticks = json.loads(page.get_attribute(".chart", "data-y-ticks"))
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
    assert all(len(t.split(".")[1]) <= 18 if "." in t else True for t in ticks), ticks
    assert "--" not in page.inner_text(".chart .u-legend")
    data = page.evaluate("() => document.querySelector('.chart').chart.data")
    xs, series = data[0], data[1:]
    assert len(xs) >= 3
    for i in range(1, len(xs)):  # every move is flat or vertical: a step, never a slope
        assert xs[i] == xs[i - 1] or all(s[i] == s[i - 1] for s in series), (i, xs, series)
    page.screenshot(path=str(SHOTS / "owner-chart.png"), full_page=True)


def _mistyped(address: str) -> str:
    """`address` (EIP-55) with the case of its first letter flipped: one mistyped character."""
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1:]


def test_the_search_refuses_a_mistyped_checksum_address(page_for, stack, tmp_path):
    """The search takes addresses by the one address rule (web/src/addresses.js; the API by
    datalicense/protocol/addresses.py): a mixed-case address with a wrong checksum is refused in one line, as
    `list --owner` does, instead of listing the lower-cased owner's datasets."""
    publish_titled(stack, tmp_path, "Ferry routes", b"route,minutes\n1,2\n")
    owner = stack["seller"].conn.account.address
    typo = _mistyped(owner)
    page, _ = page_for(4)
    page.fill("#search", typo)
    page.click("form[role=search] button")
    page.wait_for_function("() => !document.getElementById('error').hidden")
    assert "checksum does not match: mistyped?" in page.inner_text("#error")
    assert page.locator("a:text-is('Ferry routes')").count() == 0
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(stack, f"/api/datasets?q={typo}")
    assert refused.value.code == 400
    assert "checksum does not match: mistyped?" in json.loads(refused.value.read())["error"]
    page.fill("#search", owner)
    page.click("form[role=search] button")
    page.wait_for_selector("a:text-is('Ferry routes')")
    assert page.locator("#error").is_hidden()


def test_an_erased_dataset_says_so_in_words_and_no_agent_is_none(page_for, stack, tmp_path):
    """retire --erase: the listing and the dataset page say "the seller erased this dataset's data", never IPFS's
    raw error; a dataset without a delivery agent shows "none", not the zero address."""
    from datalicense.roles import erasure

    ds = publish_titled(stack, tmp_path, "Old buoys", b"buoy,wave\n1,2\n", agent=False)
    erasure.retire_and_erase(stack["seller"], ds, erase=True)
    page, _ = page_for(4)
    row = page.locator("tr", has=page.locator(f"a[href='#/dataset/{ds}']"))
    row.wait_for()
    text = row.inner_text()
    assert "the seller erased this dataset's data" in text, text
    for raw in ("ipld", "not found", "offline", "unreachable", "bafk"):
        assert raw not in text.lower(), text
    page.click(f"a[href='#/dataset/{ds}']")
    page.wait_for_selector("#buy")
    app = page.inner_text("#app")
    assert "the seller erased this dataset's data" in app and "ipld" not in app.lower(), app
    agent = page.locator("dt:text-is('Delivery agent') + dd").inner_text()
    assert agent == "none", agent
    _no_null(page)
    page.screenshot(path=str(SHOTS / "erased-dataset.png"), full_page=True)

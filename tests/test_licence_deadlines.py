"""Deadlines as people see them, on the real chain and Kubo: the CLI (`licences`, `resolve-default`, `refunds`) and
the page's API show the licence clock's dates (datalicense.protocol.lifecycle), and a command that the contract
would refuse at this time is refused before anything is sent (issue 21, items 13 and 14)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from brownie import chain, web3

from helpers import one_line_error

from datalicense.infra.chain import local_time

pytestmark = pytest.mark.e2e

DAY = 86400


@pytest.fixture
def run(run_inprocess):
    return run_inprocess


def _publish(run, tmp_path, name="d.csv"):
    src = tmp_path / name
    src.write_text(f"{name}\n1\n2\n")
    return json.loads(run("--json", "publish", str(src), "--title", name, "--price", "0.002").stdout)["dataset_id"]


def _block_time(tx_hash: str) -> int:
    return int(web3.eth.get_block(web3.eth.get_transaction_receipt(tx_hash)["blockNumber"])["timestamp"])


def _late_dispute(run, tmp_path):
    """A licence delivered, then disputed for its data a day later: (licence id, delivery time, dispute time)."""
    ds = _publish(run, tmp_path)
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    delivered = _block_time(json.loads(run("--json", "deliver", str(lid)).stdout)["tx"])
    chain.sleep(DAY)
    chain.mine()
    opened = _block_time(json.loads(run("--json", "dispute", str(lid), "--data", account="dev:4",
                                        home="buyer").stdout)["tx"])
    assert opened >= delivered + DAY
    return lid, delivered, opened


def test_arbiter_deadline_of_a_late_dispute_in_licences_and_resolve_default(run, tmp_path, market):
    lid, delivered, opened = _late_dispute(run, tmp_path)
    window = market.ARBITER_WINDOW()
    due = opened + window
    mine = {i["licence_id"]: i for i in json.loads(run("--json", "licences", account="dev:4", home="buyer").stdout)}
    assert mine[lid]["next"] == "arbiter rules by" and mine[lid]["next_at"] == due
    shown = {ln.split()[0]: ln for ln in run("licences", account="dev:4", home="buyer").stdout.splitlines()}
    assert f"arbiter rules by {local_time(due)}" in shown[str(lid)]

    # a day after the delivery's old date (delivery + window) the contract still refuses: so does the CLI, before
    # sending, with the dispute's date
    chain.sleep(delivered + window + 10 - int(web3.eth.get_block("latest")["timestamp"]))
    chain.mine()
    one_line_error(run("resolve-default", str(lid), account="dev:6", check=False),
                    f"the arbiter has until {local_time(due)}")
    chain.sleep(due + 10 - int(web3.eth.get_block("latest")["timestamp"]))
    chain.mine()
    assert "the sale stands" in run("resolve-default", str(lid), account="dev:6").stdout


def test_page_api_shows_the_arbiter_deadline_of_a_late_dispute(run, tmp_path, market, kubo):
    from datalicense import Client
    from datalicense.infra.chain import connect
    from datalicense.infra.ipfs import Storage
    from datalicense.services.web import Running, Web

    lid, _delivered, opened = _late_dispute(run, tmp_path)
    w3 = connect("local")
    reader = Client(w3, None, Storage(kubo.api_multiaddr), market.address, tmp_path / "web")
    with Running(Web(reader, kubo.gateway_url, w3.provider.endpoint_uri)) as running:
        with urllib.request.urlopen(f"{running.url}/api/licences/{lid}", timeout=30) as resp:
            body = json.loads(resp.read())
    assert body["state"] == "DataDisputed"
    assert body["deadline"] == opened + market.ARBITER_WINDOW()
    assert body["next"] == "arbiter rules by"


def _pending(run, tmp_path, name):
    """A licence bought with `buy` (not `get`) that nobody delivers: (licence id, its delivery deadline)."""
    src = tmp_path / name
    src.write_text(f"{name}\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", name, "--price", "0.002", "--delivery-hours", "1")
                    .stdout)["dataset_id"]
    bought = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)
    return bought["licence_id"], _block_time(bought["tx_hash"]) + 3600


def test_refunds_lists_licences_bought_with_buy_with_dates_and_claims_them(run, tmp_path):
    lid, deadline = _pending(run, tmp_path, "late.csv")
    listed = json.loads(run("--json", "refunds", "--list", account="dev:4", home="buyer").stdout)
    assert [(r["licence_id"], r["deadline"], r["claimable"]) for r in listed] == [(lid, deadline, False)]
    text = run("refunds", "--list", account="dev:4", home="buyer").stdout
    assert f"licence {lid}" in text and local_time(deadline) in text and str(deadline) not in text
    chain.sleep(3601)
    chain.mine()
    claimed = run("refunds", account="dev:4", home="buyer").stdout
    assert f"licence {lid}" in claimed and "refunded" in claimed and "datalicense withdraw" in claimed


def test_refund_says_that_withdraw_pays_it_out(run, tmp_path):
    lid, _ = _pending(run, tmp_path, "gone.csv")
    chain.sleep(3601)
    chain.mine()
    out = run("refund", str(lid), account="dev:4", home="buyer").stdout
    assert f"licence {lid} refunded" in out and "`datalicense withdraw`" in out

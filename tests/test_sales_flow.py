"""The owner's money flow as people see it, on the real chain and Kubo: the CLI's `sales` and the page's account API
count a split ruling and a default resolution (issue 21, item 12: "in escrow 0.01 RBTC" was shown for a sale the
arbiter split and both sides withdrew). One computation (MarketReader.money_flow) behind both; its property test
against the contract's balances is test_money_flow.py."""

from __future__ import annotations

import json
import urllib.request

import pytest
from brownie import chain

pytestmark = pytest.mark.e2e

PRICE = 10**16  # 0.01 RBTC
FEE_BPS = 250  # the `market` fixture's


@pytest.fixture
def run(run_inprocess):
    return run_inprocess


def _disputed_sale(run, tmp_path, name):
    src = tmp_path / name
    src.write_text(f"{name}\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", name, "--price", "0.01").stdout)["dataset_id"]
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    run("dispute", str(lid), "--data", account="dev:4", home="buyer")
    return ds, lid


def test_owner_money_flow_after_a_split_ruling_and_a_default_both_sides_withdrawn(run, tmp_path, market, kubo):
    split_ds, split_lid = _disputed_sale(run, tmp_path, "split.csv")
    run("rule", str(split_lid), "--buyer-bps", "5000", account="dev:2")
    late_ds, late_lid = _disputed_sale(run, tmp_path, "late.csv")
    chain.sleep(market.ARBITER_WINDOW() + 10)
    chain.mine()
    run("resolve-default", str(late_lid), account="dev:6")
    run("withdraw")
    run("withdraw", account="dev:4", home="buyer")

    to_buyer = PRICE // 2
    split_fee = (PRICE - to_buyer) * FEE_BPS // 10_000
    fee = split_fee + PRICE * FEE_BPS // 10_000
    want = {"paid": 2 * PRICE, "owner": 2 * PRICE - to_buyer - fee, "fee": fee, "refunded": 0, "to_buyer": to_buyer,
            "escrow": 0}
    sales = json.loads(run("--json", "sales").stdout)
    assert sales["flow"]["0x0000000000000000000000000000000000000000"] == want
    text = run("sales").stdout
    assert "in escrow 0 RBTC" in text and "to buyers by ruling 0.005 RBTC" in text and "paid in 0.02 RBTC" in text

    from datalicense import Client
    from datalicense.infra.chain import connect
    from datalicense.infra.ipfs import Storage
    from datalicense.services.web import Running, Web

    w3 = connect("local")
    owner = w3.eth.accounts[3]
    reader = Client(w3, None, Storage(kubo.api_multiaddr), market.address, tmp_path / "web")
    with Running(Web(reader, kubo.gateway_url, w3.provider.endpoint_uri)) as running:
        with urllib.request.urlopen(f"{running.url}/api/accounts/{owner}", timeout=30) as resp:
            body = json.loads(resp.read())
    flows = {d["id"]: d["flow"] for d in body["datasets"]}
    assert flows[split_ds]["escrow"] == "0" and flows[split_ds]["toBuyer"] == str(to_buyer)
    assert flows[split_ds]["owner"] == str(PRICE - to_buyer - split_fee)
    assert flows[late_ds]["escrow"] == "0" and flows[late_ds]["owner"] == str(PRICE - PRICE * FEE_BPS // 10_000)
    assert flows[split_ds]["series"][-1]["escrow"] == "0"

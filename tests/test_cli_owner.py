"""End-to-end CLI tests of the dataset lifecycle on the real chain and Kubo: an owner sets the agent, changes
terms for future sales, pauses and resumes, publishes a new version, sees its sales and hands the dataset over
in two steps; data disputes end by the arbiter's ruling and by default after the arbiter's deadline."""

import json

import pytest
from brownie import chain

from helpers import one_line_error

pytestmark = pytest.mark.e2e

AGENT = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # dev:5
DEV7 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"


@pytest.fixture
def run(run_inprocess, monkeypatch):
    """The `datalicense` entry point, in this process (conftest.run_inprocess)."""
    return run_inprocess


def _publish(run, tmp_path, name="d.csv", title="Owner's data", price="0.002"):
    src = tmp_path / name
    src.write_text(f"{name}\n1\n2\n")
    return json.loads(run("--json", "publish", str(src), "--title", title, "--price", price).stdout)["dataset_id"]


def test_owner_lifecycle_from_the_terminal(run, tmp_path):
    ds = _publish(run, tmp_path)
    shown = run("show", str(ds), account=None).stdout
    assert "none (the owner delivers keys)" in shown
    assert "platform fee 2.5% of the price, data-dispute bond 0.001 RBTC" in shown and "revenue pool" not in shown

    assert f"agent {AGENT}" in run("set-agent", str(ds), AGENT).stdout
    assert AGENT in run("show", str(ds), account=None).stdout
    one_line_error(run("set-agent", str(ds), AGENT, account="dev:6", check=False), "not by")

    out = run("set-terms", str(ds), "--price", "0.003", "--cap", "5").stdout
    assert "0.003 RBTC" in out and f"--terms 2 --version 1" in out
    shown = json.loads(run("--json", "show", str(ds), account=None).stdout)
    assert shown["price"] == 3 * 10**15 and shown["supply_cap"] == 5 and shown["terms_id"] == 2
    assert shown["duration"] == 30 * 86400  # what was not given stays
    assert "0.0025 RBTC" in run("set-price", str(ds), "0.0025").stdout
    shown = json.loads(run("--json", "show", str(ds), account=None).stdout)
    assert shown["price"] == 25 * 10**14 and shown["supply_cap"] == 5 and shown["terms_id"] == 3
    run("set-price", str(ds), "0.003")

    assert "paused" in run("pause", str(ds)).stdout
    one_line_error(run("buy", str(ds), account="dev:4", home="buyer", check=False), "SalesClosed")
    assert "paused" in run("list", account=None).stdout
    assert "on sale again" in run("resume", str(ds)).stdout
    bought = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)
    assert bought["price"] == 3 * 10**15
    mine = run("licences", account="dev:4", home="buyer").stdout
    assert "Pending" in mine and "refund possible from" in mine and "Owner's data" in mine

    v2 = tmp_path / "v2.csv"
    v2.write_text("new,version\n")
    assert "version 2 published" in run("new-version", str(ds), str(v2), "--title", "Owner's data, v2").stdout
    shown = json.loads(run("--json", "show", str(ds), account=None).stdout)
    assert shown["version"] == 2 and shown["manifest"]["title"] == "Owner's data, v2"

    sales = json.loads(run("--json", "sales").stdout)
    (sale,) = sales["sales"]
    assert sale["licence_id"] == bought["licence_id"] and sale["state"] == "Pending"
    assert sale["price"] == 3 * 10**15 and sale["fee"] == 3 * 10**15 * 250 // 10_000
    assert "dataset" in run("sales").stdout

    assert "offered to" in run("transfer", str(ds), DEV7).stdout
    one_line_error(run("accept", str(ds), account="dev:6", check=False), "NotPendingOwner")
    assert "is yours" in run("accept", str(ds), account="dev:7").stdout
    shown = json.loads(run("--json", "show", str(ds), account=None).stdout)
    assert shown["owner"] == DEV7 and int(shown["agent"], 16) == 0  # the previous owner's agent is gone
    one_line_error(run("pause", str(ds), check=False), "is owned by")


def _disputed(run, tmp_path, name):
    ds = _publish(run, tmp_path, name=name)
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    assert "dispute window closes" in run("licences", account="dev:4", home="buyer").stdout
    assert "data dispute opened" in run("dispute", str(lid), "--data", account="dev:4", home="buyer").stdout
    return lid


def test_data_disputes_end_by_ruling_and_by_default(run, tmp_path, market):
    ruled = _disputed(run, tmp_path, "a.csv")
    one_line_error(run("rule", str(ruled), "--buyer-bps", "0", account="dev:6", check=False), "NotArbiter")
    assert "the sale stands" in run("rule", str(ruled), "--buyer-bps", "0", account="dev:2").stdout
    mine = run("licences", account="dev:4", home="buyer").stdout
    assert any(ln.split()[0] == str(ruled) and "Settled" in ln for ln in mine.splitlines()), mine

    split = _disputed(run, tmp_path, "b.csv")
    assert "back and its bond" in run("rule", str(split), "--buyer-bps", "5000", account="dev:2").stdout

    late = _disputed(run, tmp_path, "c.csv")
    mine = json.loads(run("--json", "licences", account="dev:4", home="buyer").stdout)
    assert {i["licence_id"]: i["next"] for i in mine}[late] == "arbiter rules by"
    one_line_error(run("resolve-default", str(late), account="dev:6", check=False), "has until")
    chain.sleep(market.ARBITER_WINDOW() + 10)
    chain.mine()
    assert "the sale stands" in run("resolve-default", str(late), account="dev:6").stdout
    one_line_error(run("resolve-default", str(late), account="dev:6", check=False), "not in a data dispute")
    states = {ln.split()[0]: ln for ln in run("licences", account="dev:4", home="buyer").stdout.splitlines()}
    assert "Settled" in states[str(late)] and "Resolved" in states[str(split)]

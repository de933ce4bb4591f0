"""Buying what you already hold (issue 21 item 10): one rule in the buyer role (`Buyer.held`, `Buyer.buy(again=)`)
that the Python API, the CLI's `buy`, `get` and the page's API use. Real chain, Kubo, gateway and agent."""

from __future__ import annotations

import json

import pytest

from datalicense.errors import AlreadyHeldError

from helpers import publish_file
from agents import AgentThread
from datalicense.roles.paying import SpendingPolicy

pytestmark = pytest.mark.e2e

NONE = "0x" + "00" * 20


def test_python_buy_refuses_a_dataset_already_held_unless_told_again(make, tmp_path):
    """Before the fix `buyer.buy` paid a second time, silently."""
    seller, buyer = make(3), make(4, "buyer")
    ds = publish_file(seller, tmp_path, "held\n", NONE).dataset_id
    first = buyer.buyer.buy(ds).licence_id
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with pytest.raises(AlreadyHeldError, match=f"you already hold licence {first} for dataset {ds}") as exc:
        buyer.buyer.buy(ds)
    assert exc.value.licence_id == first
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce  # nothing was sent
    second = buyer.buyer.buy(ds, again=True).licence_id
    assert second != first and buyer.buyer.held(ds) == second


def test_get_reuses_a_licence_the_wallet_bought_outside_get(make, gateway, tmp_path):
    """Before the fix `get` reused only licences in its own ledger: a licence bought with `buy` was bought again."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ds = publish_file(seller, tmp_path, "n,v\n1,1\n", agent.conn.account.address).dataset_id
    lid = buyer.buyer.buy(ds).licence_id
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(f"{gateway.url}/datasets/{ds}", tmp_path / "got.csv",
                            SpendingPolicy.rbtc(per_request="0.001", delivery_timeout=30))
    assert (r.bought, r.licence_id, r.paid) == (False, lid, 0)
    assert (tmp_path / "got.csv").read_text() == "n,v\n1,1\n"
    # one transaction since: the confirmation, no second purchase
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce + 1


def test_cli_buy_refuses_a_licence_the_account_received_by_transfer(make, run_inprocess, tmp_path):
    """The CLI's `buy` asks the role's rule, which counts every licence the account holds now (its own copy counted
    only licences bought for it, and bought again one received by transfer)."""
    seller, friend, me = make(3), make(6, "friend"), make(4, "buyer")
    ds = seller.seller.publish(_file(tmp_path), title="Transferable", price="0.001", transferable=True).dataset_id
    lid = friend.buyer.buy(ds).licence_id
    seller.seller.deliver(lid)
    friend.buyer.confirm(lid)
    friend.conn.tx.send(friend.conn.contract.functions.transferFrom(friend.conn.account.address,
                                                                      me.conn.account.address, lid))
    p = run_inprocess("buy", str(ds), account="dev:4", home="buyer", check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert f"you already hold licence {lid} for dataset {ds}" in p.stderr and "--again" in p.stderr
    again = json.loads(run_inprocess("--json", "buy", str(ds), "--again", account="dev:4", home="buyer").stdout)
    assert again["licence_id"] != lid


def _file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("t\n")
    return path

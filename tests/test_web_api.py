"""The page's API answers in one JSON casing, camelCase (the page's and the contract ABI's): every route's answer for
a populated local stack (datasets sold and delivered, a licence, an owner's account, a buyer's, a pool's
contributor, the held check, config and explain) is walked, and any snake_case key fails (issue 22)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from datalicense.services.agent import Agent
from webpage import factory_pool, publish_titled, sold_and_settled, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def _keys(value, path="$"):
    """Every (path, key) of the objects in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k
            yield from _keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _keys(v, f"{path}[{i}]")


def _get(url, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}{path}", data=data), timeout=60) as resp:
        return json.loads(resp.read())


def test_every_api_answer_is_camel_case(stack, market, kubo, tmp_path, monkeypatch):
    from brownie import accounts

    seller, buyer = stack["seller"], stack["client"](4, "buyer")
    ds = publish_titled(stack, tmp_path, "Camel counts", b"a,b\n1,2\n")
    lid = buyer.buyer.buy(ds).licence_id
    assert Agent(stack["agent"], tmp_path / "agent.sqlite").run(once=True).delivered == 1
    contributor, curator = accounts[7], accounts[3]
    pool = factory_pool(market, kubo, tmp_path, monkeypatch, curator, [(contributor.address, 1), (accounts[8], 3)])
    pool_ds, _ = sold_and_settled(market, pool, curator, accounts[5], accounts[6])

    owner, holder = seller.conn.account.address, buyer.conn.account.address
    answers = {path: _get(stack["url"], path) for path in (
        "/api/config", "/api/datasets", "/api/datasets?q=camel", f"/api/datasets/{ds}", f"/api/datasets/{pool_ds}",
        f"/api/datasets/{ds}/held/{holder}", f"/api/datasets/{ds}/held/{owner}", f"/api/licences/{lid}",
        f"/api/accounts/{owner}", f"/api/accounts/{holder}", f"/api/contributors/{contributor.address}")}
    answers["/api/explain"] = _get(stack["url"], "/api/explain", {"data": "0x"})

    # the walk sees what it must: a sale, a delivery, a money flow with its series, a pool's rows and sales
    assert answers[f"/api/licences/{lid}"]["deliveries"] and answers[f"/api/accounts/{owner}"]["datasets"][0]["flows"]
    assert answers[f"/api/contributors/{contributor.address}"]["pools"][0]["sales"]
    snake = sorted({f"{path} {where}: {key}" for path, answer in answers.items()
                    for where, key in _keys(answer) if not CAMEL.match(key)})
    assert snake == [], "keys not in camelCase:\n" + "\n".join(snake)

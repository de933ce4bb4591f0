"""The owner's money flow (datalicense.protocol.flow through MarketReader.money_flow) against the contract's own
balances, on the real chain: random sales of two datasets, each ending one way (pending, delivered, confirmed,
settled after the window, a right or a wrong key proved, a missed delivery refunded, a data dispute open, ruled
with any split, or resolved by default), settings changed between purchases, then withdrawals by either side.

    paid in = to the owner + fees + refunded + to the buyer by ruling + in escrow

and each part is what the contract holds or has paid out: fees accrued, what the owner and the buyer are owed plus
what they withdrew (less the bonds, which the test tracks itself), the contract's balance. Small by default
(FLOW_EXAMPLES for more). Issue 21, item 12.
"""

from __future__ import annotations

import os

import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from helpers import BOND, DAY, ZERO, buy, deliver, dispute_key, publish, sleep

pytestmark = pytest.mark.chain

SIMPLE = ["pending", "delivered", "confirmed", "settled", "key_wrong", "key_right", "missed", "disputed", "default",
          "fee_change"]
OUTCOME = st.one_of(st.sampled_from(SIMPLE), st.tuples(st.just("rule"), st.integers(0, 10_000)))
SALES = st.lists(st.tuples(st.integers(0, 1), OUTCOME), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def reader(market, tmp_path_factory):
    from datalicense import Client
    from datalicense.infra.chain import connect
    from datalicense.infra.ipfs import Storage

    return Client(connect("local"), None, Storage(), market.address, tmp_path_factory.mktemp("flow")).reader


def _sell(market, pubs, seller, buyer, arbiter, stranger, admin, ds, outcome, model):
    """One sale of dataset `ds` ending as `outcome`; `model` tracks the bonds and prices the test expects."""
    if outcome == "fee_change":
        market.setSettings(model["fees"][len(model["fees"]) % 3], BOND, {"from": admin})
        model["fees"].append(None)
        return
    pub = pubs[ds]
    lid, key, _ = buy(market, pub.dataset_id, buyer, value=model["price"])
    model["paid"] += model["price"]
    kind = outcome[0] if isinstance(outcome, tuple) else outcome
    if kind in ("pending", "missed"):
        if kind == "missed":
            sleep(DAY + 1)
            market.refund(lid, {"from": stranger})
        return
    wrong = kind == "key_wrong"
    _, wrap, _ = deliver(market, lid, pub, key, seller, content_key=os.urandom(32) if wrong else None)
    if kind == "confirmed":
        market.confirm(lid, {"from": buyer})
    elif kind == "settled":
        sleep(2 * DAY + 1)
        market.settle(lid, {"from": stranger})
    elif kind in ("key_wrong", "key_right"):
        dispute_key(market, lid, key, wrap, pub.key_hash, buyer)
    elif kind in ("disputed", "rule", "default"):
        market.disputeData(lid, {"from": buyer, "value": BOND})
        if kind == "disputed":
            model["open_bonds"] += BOND
        elif kind == "default":
            sleep(market.ARBITER_WINDOW() + 1)
            market.resolveDataByDefault(lid, {"from": stranger})
            model["buyer_bonds"] += BOND
        elif outcome[1] == 0:
            market.resolveData(lid, 0, {"from": arbiter})
            model["seller_bonds"] += BOND
        else:
            market.resolveData(lid, outcome[1], {"from": arbiter})
            model["buyer_bonds"] += BOND


@given(sales=SALES, price=st.integers(1, 10**16), withdraw=st.tuples(st.booleans(), st.booleans()))
@settings(max_examples=int(os.environ.get("FLOW_EXAMPLES", 6)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_money_flow_adds_up_to_the_contracts_balances(market, reader, seller, buyer, arbiter, stranger, admin, sales,
                                                      price, withdraw):
    pubs = [publish(market, seller, price=price, delivery=DAY, dispute=2 * DAY) for _ in range(2)]
    model = {"price": price, "paid": 0, "open_bonds": 0, "seller_bonds": 0, "buyer_bonds": 0, "fees": [0, 700, 1000]}
    for ds, outcome in sales:
        _sell(market, pubs, seller, buyer, arbiter, stranger, admin, ds, outcome, model)
    withdrawn = {}
    for who, go in zip((seller, buyer), withdraw):
        owed = market.balanceOwed(ZERO, who)
        withdrawn[who] = owed if go and owed else 0
        if withdrawn[who]:
            market.withdraw(ZERO, who, {"from": who})

    ids = [p.dataset_id for p in pubs]
    flow = reader.money_flow(ids)[ZERO]
    parts = [reader.money_flow([i])[ZERO] for i in ids]
    for k in ("paid", "owner", "fee", "refunded", "to_buyer", "escrow"):
        assert getattr(flow, k) == sum(getattr(p, k) for p in parts), k  # datasets are counted apart
    assert flow.paid == model["paid"]
    assert flow.paid == flow.owner + flow.fee + flow.refunded + flow.to_buyer + flow.escrow and flow.escrow >= 0
    assert flow.fee == reader.conn.market.fees_accrued(0)
    assert flow.owner == market.balanceOwed(ZERO, seller) + withdrawn[seller] - model["seller_bonds"]
    assert flow.refunded + flow.to_buyer == market.balanceOwed(ZERO, buyer) + withdrawn[buyer] - model["buyer_bonds"]
    assert market.balance() == (flow.escrow + market.balanceOwed(ZERO, seller) + market.balanceOwed(ZERO, buyer)
                                + flow.fee + model["open_bonds"])
    series = flow.series()
    assert series[-1][1] == flow.totals() and [b for b, _ in series] == sorted({e.block for e in flow.entries})


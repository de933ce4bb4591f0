"""Rules that used to live in the command line now live in the roles, so the Python API (a notebook, an AI pipeline)
meets them too, on the real chain and Kubo (issue 22: one rule, one place):

- a dataset's owner acts (agent, terms, pause, resume, transfer) refuse a dataset the account does not own before
  any transaction, with the pool's own command for a pool's dataset (datalicense.roles.owner);
- the end of a data dispute: a ruling on a licence not in a data dispute, and a default before the arbiter's
  deadline, are refused before sending (datalicense.roles.arbiter);
- the owner's sales and their fees come from the role, the fee from the one split (datalicense.protocol.flow);
- buying for another address without its delivery key is refused: the key would be wrapped to the buyer's own;
- `get` and `fetch` refuse an output folder that does not exist before anything is paid or fetched.
"""

from __future__ import annotations

import pytest
from brownie import chain

from datalicense.errors import ChainError, ConfigError
from datalicense.infra.safefile import SafeFileError

pytestmark = pytest.mark.e2e

DEV6 = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


def _publish(client, tmp_path, name):
    src = tmp_path / name
    src.write_text(f"{name}\n1\n2\n")
    return client.seller.publish(src, title=name, price="0.002").dataset_id


def _sent(client):
    w3 = client.conn.w3
    return w3.eth.get_transaction_count(client.conn.tx.account.address)


def test_owner_role_refuses_a_dataset_it_does_not_own_before_sending(make, tmp_path):
    owner, stranger = make(3), make(6, "stranger")
    ds = _publish(owner, tmp_path, "owned.csv")
    before = _sent(stranger)
    for act in (lambda: stranger.owner.pause(ds), lambda: stranger.owner.set_agent(ds, DEV6),
                lambda: stranger.owner.transfer(ds, DEV6)):
        with pytest.raises(ConfigError, match="is owned by .*, not by .*use the owner's account"):
            act()
    assert _sent(stranger) == before  # refused before any transaction
    owner.owner.pause(ds)
    assert owner.reader.dataset(ds, with_manifest=False).status == "paused"
    owner.owner.resume(ds)
    from datalicense.roles.owner import TermsChange

    owner.owner.set_terms(ds, TermsChange(price="0.003", supply_cap=4))
    after = owner.reader.dataset(ds, with_manifest=False)
    assert (after.price, after.supply_cap, after.duration) == (3 * 10**15, 4, 30 * 86400)  # the rest stays


def test_owner_sales_and_fees_come_from_the_role(make, tmp_path):
    owner, buyer = make(3), make(4, "buyer")
    ds = _publish(owner, tmp_path, "sold.csv")
    lic = buyer.buyer.buy(ds)
    report = owner.owner.sales(ds)
    (sale,) = report.sales
    assert (sale.licence_id, sale.dataset_id, sale.state, sale.price) == (lic.licence_id, ds, "Pending", 2 * 10**15)
    assert sale.fee == 2 * 10**15 * 250 // 10_000  # the licence's settings: 2.5 %
    assert report.flows[sale.asset].escrow == 2 * 10**15


def test_arbiter_role_refuses_what_the_contract_would_before_sending(make, tmp_path, market):
    owner, buyer, arbiter, anyone = make(3), make(4, "buyer"), make(2, "arbiter"), make(6, "anyone")
    ds = _publish(owner, tmp_path, "disputed.csv")
    lid = buyer.buyer.buy(ds).licence_id
    with pytest.raises(ChainError, match="not in a data dispute: nothing to rule"):
        arbiter.arbiter.rule(lid, 0)
    owner.seller.deliver(lid)
    buyer.buyer.dispute(lid, data=True)
    before = _sent(anyone)
    with pytest.raises(ChainError, match="the arbiter has until .* try again after that"):
        anyone.arbiter.resolve_default(lid)
    assert _sent(anyone) == before
    ruling = arbiter.arbiter.rule(lid, 5000)
    assert ruling.buyer_part == 10**15 and ruling.receipt.tx_hash
    chain.sleep(market.ARBITER_WINDOW() + 10)
    chain.mine()
    with pytest.raises(ChainError, match="not in a data dispute"):
        anyone.arbiter.resolve_default(lid)


def test_buying_for_another_without_their_delivery_key_is_refused_in_the_api(make, tmp_path):
    owner, buyer = make(3), make(4, "buyer")
    ds = _publish(owner, tmp_path, "gift.csv")
    before = _sent(buyer)
    with pytest.raises(ConfigError, match="--for needs --delivery-key"):
        buyer.buyer.buy(ds, licensee=DEV6)
    assert _sent(buyer) == before and buyer.buyer.held(ds, DEV6) is None


def test_get_and_fetch_refuse_a_missing_output_folder_before_paying_or_fetching(make, tmp_path):
    from datalicense.roles.paying import Caps, SpendingPolicy, get
    from datalicense.protocol.records import ZERO

    buyer = make(4, "buyer")
    missing = tmp_path / "no-such-folder" / "data.csv"
    policy = SpendingPolicy(caps={ZERO: Caps(10**16, None, None)})
    with pytest.raises(SafeFileError, match="does not exist"):  # the URL is never asked: nothing to pay for
        get(buyer.buyer, "http://127.0.0.1:9/datasets/1", missing, policy)
    with pytest.raises(SafeFileError, match="does not exist"):  # before the licence is even read
        buyer.buyer.fetch(999, missing)

from conftest import BOND, FEE_BPS, PRICE, ZERO, buy, deliver, publish, proof
from datalicense import keywrap


def test_publish_buy_deliver_confirm_withdraw(market, seller, buyer, agent, fee_recipient):
    pub = publish(market, seller, agent=agent)
    lid, key, tx = buy(market, pub.dataset_id, buyer)
    assert market.ownerOf(lid) == buyer
    r, wrap, _ = deliver(market, lid, pub, key, agent)
    assert keywrap.unwrap_key(wrap, lid, key.private) == pub.content_key
    assert market.isValid(lid)
    market.confirm(lid, {"from": buyer})
    fee = PRICE * FEE_BPS // 10000
    assert market.balanceOwed(ZERO, seller) == PRICE - fee
    before = seller.balance()
    tx = market.withdraw(ZERO, seller, {"from": seller})
    assert seller.balance() == before + PRICE - fee - tx.gas_used * tx.gas_price

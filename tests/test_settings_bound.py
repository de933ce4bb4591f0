"""Issue 21, item 2: a purchase names the platform settings (fee, data-dispute bond) it was made under, as it
names the terms and the version; an admin change mined in front of it makes it revert. The attack before the fix,
then the same purchase through every way of paying and through the Python client."""

import pytest

from helpers import BOND, FEE_BPS, PRICE, current_purchase, licence_of, publish, reverts, settings_of, token_data

pytestmark = pytest.mark.chain

HUGE_BOND = 2**96 - 1


def test_settings_changed_in_front_of_a_purchase_make_it_revert(market, lens, admin, seller, buyer, token):
    """ATTACK (Medium). Gains: whoever holds the admin key (it can block every data dispute of the licences bought
    in its window); loses: the buyer, who can never open a data dispute (a bond of 2^96-1 wei). The buyer read the
    offer with a bond of 0.001 RBTC; `setSettings(fee, 2^96-1)` is mined in front of its purchase. Before: the
    licence was bought under the new settings. Now: the purchase names the settings it saw and reverts with
    SettingsChanged, paid in RBTC, with an ERC-20 or with ERC-677 alike."""
    rbtc = publish(market, seller)
    tok = publish(market, seller, asset=token.address)
    seen, _ = current_purchase(market, rbtc.dataset_id)  # what the buyer read: settings 1, bond 0.001 RBTC
    seen_tok, _ = current_purchase(market, tok.dataset_id)
    market.setSettings(FEE_BPS, HUGE_BOND, {"from": admin})  # mined in front of the purchase
    with reverts("SettingsChanged: 2, 1"):
        market.buy(seen, {"from": buyer, "value": PRICE})
    token.approve(market, PRICE, {"from": buyer})
    with reverts("SettingsChanged: 2, 1"):
        market.buyWithToken(seen_tok, {"from": buyer})
    with reverts("SettingsChanged: 2, 1"):
        token.transferAndCall(market, PRICE, token_data(seen_tok), {"from": buyer})
    # Looking again shows the new bond; a purchase naming it goes through under it.
    now, _ = current_purchase(market, rbtc.dataset_id)
    lid = market.buy(now, {"from": buyer, "value": PRICE}).events["LicencePurchased"]["licenceId"]
    assert settings_of(lens, licence_of(lens, lid).settings_id).dispute_bond == HUGE_BOND


def test_the_client_buys_under_the_settings_it_read_and_says_what_changed(market, admin, seller, buyer, tmp_path):
    """The Python buyer names the settings it read with the offer (`Offer.settings_id`); a buyer who pins older
    settings gets one line naming both and what to do, not a traceback, and nothing is paid."""
    from datalicense import Client
    from datalicense.infra.chain import connect, load_account
    from datalicense.errors import DataLicenseError

    pub = publish(market, seller)
    w3 = connect("local")
    client = Client(w3, load_account("dev:4", w3), None, market.address, tmp_path / "home")
    assert client.conn.address == market.address and client.conn.tx.account.address == buyer.address
    offer = client.conn.market.offer(pub.dataset_id)
    assert offer.settings_id == 1 and client.conn.market.current_settings().dispute_bond == BOND
    market.setSettings(FEE_BPS, HUGE_BOND, {"from": admin})
    balance = buyer.balance()
    with pytest.raises(DataLicenseError) as exc:
        client.buyer.buy(pub.dataset_id, settings_id=offer.settings_id)
    message = str(exc.value)
    assert "\n" not in message and "settings 2" in message and "you accepted 1" in message, message
    assert buyer.balance() == balance
    bought = client.buyer.buy(pub.dataset_id)  # reads the current settings again
    assert client.conn.market.licence(bought.licence_id).settings_id == 2

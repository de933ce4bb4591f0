"""Addresses typed by people, on the real chain and Kubo: one mistyped character in a checksummed address is refused
in one line before anything is sent, by the CLI (`withdraw --to`, `buy --for`), the Python API and the page's API;
an address in lower case, in EIP-55 or in the connected chain's EIP-1191 casing is taken (issue 21, item 11)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from brownie import web3

from helpers import one_line_error

from datalicense.errors import AddressError
from datalicense.protocol.addresses import eip55, eip1191

pytestmark = pytest.mark.e2e

DEV7 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # EIP-55
TYPO = DEV7[:-1] + "4"  # one digit mistyped, the casing kept: another account


@pytest.fixture
def run(run_inprocess):
    return run_inprocess


def _refused(p, address):
    one_line_error(p, "checksum does not match: mistyped?", address, prefix=None)


def _owed_sale(run, tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("a\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", "d", "--price", "0.002").stdout)["dataset_id"]
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    run("confirm", str(lid), account="dev:4", home="buyer")
    return ds


def test_withdraw_to_a_mistyped_checksummed_address_is_refused(run, tmp_path, market, seller):
    _owed_sale(run, tmp_path)
    owed = market.balanceOwed("0x" + "00" * 20, seller)
    nonce = web3.eth.get_transaction_count(str(seller))
    stranger = web3.eth.get_balance(eip55(TYPO))
    assert owed > 0
    _refused(run("withdraw", "--to", TYPO, check=False), TYPO)
    assert market.balanceOwed("0x" + "00" * 20, seller) == owed and web3.eth.get_transaction_count(str(seller)) == nonce
    assert web3.eth.get_balance(eip55(TYPO)) == stranger  # nothing paid to the stranger
    before = web3.eth.get_balance(DEV7)
    run("withdraw", "--to", eip1191(DEV7, 33))  # the connected chain's EIP-1191 casing is a checksum too
    assert web3.eth.get_balance(DEV7) == before + owed


def test_buy_for_a_mistyped_checksummed_address_is_refused(run, tmp_path, make):
    src = tmp_path / "g.csv"
    src.write_text("g\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", "g", "--price", "0.002").stdout)["dataset_id"]
    key = json.loads(run("--json", "delivery-key", account="dev:7", home="friend").stdout)["delivery_key"]
    nonce = web3.eth.get_transaction_count(web3.eth.accounts[4])
    _refused(run("buy", str(ds), "--for", TYPO, "--delivery-key", key, account="dev:4", home="buyer", check=False),
             TYPO)
    assert web3.eth.get_transaction_count(web3.eth.accounts[4]) == nonce
    with pytest.raises(AddressError, match="checksum does not match"):  # the Python API: the same parser
        make(4, "buyer").buyer.buy(ds, licensee=TYPO, delivery_key=(bytes.fromhex(key[-128:-64]),
                                                                    bytes.fromhex(key[-64:])))
    with pytest.raises(AddressError, match="checksum does not match"):
        make(3).seller.withdraw(to=TYPO)
    assert web3.eth.get_transaction_count(web3.eth.accounts[4]) == nonce
    gift = json.loads(run("--json", "buy", str(ds), "--for", DEV7.lower(), "--delivery-key", key, account="dev:4",
                          home="buyer").stdout)
    assert gift["licence_id"] > 0


def test_page_api_refuses_a_mistyped_checksummed_account(tmp_path, market, kubo):
    from datalicense import Client
    from datalicense.infra.chain import connect
    from datalicense.infra.ipfs import Storage
    from datalicense.services.web import Running, Web

    w3 = connect("local")
    reader = Client(w3, None, Storage(kubo.api_multiaddr), market.address, tmp_path / "web")
    with Running(Web(reader, kubo.gateway_url, w3.provider.endpoint_uri)) as running:
        for path in ("accounts", "contributors"):
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(f"{running.url}/api/{path}/{TYPO}", timeout=30)
            assert exc.value.code == 400
            assert "checksum does not match: mistyped?" in json.loads(exc.value.read())["error"]
            with urllib.request.urlopen(f"{running.url}/api/{path}/{DEV7}", timeout=30) as resp:
                assert json.loads(resp.read())["address"] == DEV7

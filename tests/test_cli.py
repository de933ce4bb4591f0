"""End-to-end CLI: the real `datalicense` command against Ganache and Kubo; bad input gives one line."""

import json
import os

import pytest

from helpers import one_line_error

pytestmark = pytest.mark.e2e


@pytest.fixture
def run(run_process):
    return run_process


def test_publish_list_show_buy_deliver_fetch(run, tmp_path):
    src = tmp_path / "clinic.csv"
    src.write_text("patient,visits\n1,3\n2,5\n")
    out = json.loads(run("--json", "publish", str(src), "--title", "Clinic visits", "--price", "0.002").stdout)
    ds = out["dataset_id"]
    listing = run("list").stdout
    assert "0.002 RBTC" in listing
    shown = run("show", str(ds), account="dev:4").stdout
    assert "Clinic visits" in shown and "text/csv" in shown
    bought = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)
    lid = bought["licence_id"]
    assert "delivered" in run("deliver", str(lid)).stdout
    dest = tmp_path / "got" / "clinic.csv"
    dest.parent.mkdir()  # fetch -o refuses a missing folder, as curl and wget do
    fetched = run("fetch", str(lid), "-o", str(dest), account="dev:4", home="buyer").stdout
    assert "matches the on-chain commitment" in fetched and "confirmed" in fetched
    assert dest.read_text() == src.read_text()
    mine = run("licences", account="dev:4", home="buyer").stdout
    assert f"{lid:>5}" in mine and "Settled" in mine and "valid" in mine
    withdrew = run("withdraw").stdout
    assert "withdrew 0.00195 RBTC" in withdrew


@pytest.mark.parametrize(
    "args,account,message",
    [
        (["show", "999"], "dev:4", "dataset 999 does not exist"),
        (["buy", "999"], "dev:4", "dataset 999 does not exist"),
        (["fetch", "999", "-o", "x"], "dev:4", "licence 999 does not exist"),
        (["publish", "/no/such/file", "--title", "t", "--price", "1"], "dev:3", "not a readable file"),
        (["publish", "README.md", "--title", "t", "--price", "cheap"], "dev:3", "not an amount"),
        (["--network", "rsk-mainnet", "list"], "dev:3", "cannot reach"),
        (["--network", "nowhere", "list"], "dev:3", "unknown network"),
        (["withdraw"], "dev:5", "NothingToWithdraw"),
        (["buy", "1"], "nobody", "no account 'nobody'"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(run, args, account, message):
    one_line_error(run(*args, account=account, check=False), message)


def _published_and_bought(run, tmp_path, **publish_args):
    src = tmp_path / "d.csv"
    src.write_text("a\n1\n")
    extra = []
    for k, v in publish_args.items():
        extra += [f"--{k.replace('_', '-')}", str(v)]
    ds = json.loads(run("--json", "publish", str(src), "--title", "t", "--price", "0.001", *extra).stdout)["dataset_id"]
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    return ds, lid


def test_expired_licence(run, tmp_path):
    from brownie import chain

    _, lid = _published_and_bought(run, tmp_path, duration_days=1)
    chain.sleep(2 * 86400)
    chain.mine()
    p = run("fetch", str(lid), "-o", str(tmp_path / "x"), account="dev:4", home="buyer", check=False)
    one_line_error(p, f"licence {lid} expired at")
    assert not (tmp_path / "x").exists()


def test_wrong_account(run, tmp_path):
    _, lid = _published_and_bought(run, tmp_path)
    p = run("fetch", str(lid), "-o", str(tmp_path / "x"), account="dev:6", home="other", check=False)
    one_line_error(p, f"licence {lid} is held by")


def test_insufficient_funds(run, tmp_path):
    from eth_account import Account

    src = tmp_path / "d.csv"
    src.write_text("a\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", "t", "--price", "0.001").stdout)["dataset_id"]
    ks = tmp_path / "poor.json"
    ks.write_text(json.dumps(Account.encrypt(Account.create().key, "pw")))
    os.environ["DATALICENSE_PASSWORD"] = "pw"
    try:
        p = run("buy", str(ds), account=str(ks), check=False)
    finally:
        del os.environ["DATALICENSE_PASSWORD"]
    one_line_error(p, "fund it first")


def test_malformed_cid_in_a_manifest(run, kubo, market, tmp_path):
    from eth_utils import keccak

    from datalicense.infra.chain import connect, load_account
    from datalicense.client import Client
    from datalicense.infra.ipfs import Storage, cid_to_bytes

    w3 = connect("local")
    seller = Client(w3, load_account("dev:3", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / "home")
    key = os.urandom(32)
    doc = {"schema": "datalicense/manifest", "version": 1, "title": "t", "mediaType": "text/csv",
           "plaintext": {"size": 1, "sha256": "ab" * 32}, "ciphertext": {"cid": "not-a-cid", "size": 10},
           "encryption": {"scheme": "age-x25519", "recipient": "age1x"}, "licenceTerms": "0x" + "11" * 32,
           "publisher": seller.conn.account.address, "createdAt": "2026-11-28T09:00:00Z"}
    cid = seller.conn.storage.add_bytes(json.dumps(doc).encode())
    terms = (10**15, "0x" + "00" * 20, 86400, 0, 86400, 86400, 0, False)
    rcpt = seller.conn.tx.send(seller.conn.contract.functions.publish(
        cid_to_bytes(cid), b"\xab" * 32, keccak(key), b"\x11" * 32, terms, "0x" + "00" * 20))
    ds = int(rcpt.logs[0]["topics"][1].hex(), 16)
    seller.keys.save_content_key(ds, key)
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    p = run("fetch", str(lid), "-o", str(tmp_path / "x"), account="dev:4", home="buyer", check=False)
    one_line_error(p, "not a valid IPFS CID")


def test_gift_to_another_account_who_fetches_it(run, tmp_path):
    from datalicense.infra.chain import DEV_MNEMONIC
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    friend = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/6")
    src = tmp_path / "gift.csv"
    src.write_text("a\n42\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", "Gift", "--price", "0.001").stdout)["dataset_id"]
    p = run("buy", str(ds), "--for", friend.address, account="dev:4", home="buyer", check=False)
    assert p.returncode != 0 and "--for needs --delivery-key" in p.stderr and "Traceback" not in p.stderr
    # the friend hands out a one-time delivery key derived from its wallet (its home folder may be lost after)
    key = json.loads(run("--json", "delivery-key", account="dev:6", home="friend-tmp").stdout)["delivery_key"]
    lid = json.loads(run("--json", "buy", str(ds), "--for", friend.address, "--delivery-key", key,
                         account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    run("fetch", str(lid), "-o", str(tmp_path / "got.csv"), account="dev:6", home="friend")
    assert (tmp_path / "got.csv").read_text() == "a\n42\n"


def test_rails_of_the_first_hour(run, tmp_path):
    """What a new user trips over: a re-run of publish with another price, a second purchase of a dataset held,
    a fetch that confirms, a dispute's bond and outcome; each is said before anything is sent."""
    src = tmp_path / "rails.csv"
    src.write_text("a\n1\n")
    first = run("publish", str(src), "--title", "Rails", "--price", "0.002")
    assert "no delivery agent" in first.stderr  # the owner must deliver by hand, or run the agent
    again = run("publish", str(src), "--title", "Rails", "--price", "0.003", check=False)
    assert again.returncode != 0 and "already published as dataset 1" in again.stderr
    assert "price 2000000000000000 (asked 3000000000000000)" in again.stderr and "set-terms" in again.stderr
    run("--json", "buy", "1", account="dev:4", home="buyer")
    twice = run("buy", "1", account="dev:4", home="buyer", check=False)
    assert twice.returncode != 0 and "already hold licence 1" in twice.stderr and "--again" in twice.stderr
    assert "licence 2 bought" in run("buy", "1", "--again", account="dev:4", home="buyer").stdout
    run("deliver", "1")
    fetched = run("fetch", "1", "-o", str(tmp_path / "r.csv"), account="dev:4", home="buyer")
    assert "it is confirmed and the seller paid" in fetched.stderr
    assert (tmp_path / "r.csv").read_text() == "a\n1\n"
    run("deliver", "2")
    run("fetch", "2", "-o", str(tmp_path / "r2.csv"), "--no-confirm", account="dev:4", home="buyer")
    assert (tmp_path / "r2.csv").read_text() == "a\n1\n"
    disputed = run("dispute", "2", "--data", account="dev:4", home="buyer")
    assert "posting the data-dispute bond of 0.001 RBTC" in disputed.stderr
    assert "data dispute opened for licence 2" in disputed.stdout


def test_whoami(run):
    out = json.loads(run("--json", "whoami", account="dev:4").stdout)
    assert out["address"] == "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" and out["chain_id"] == 33
    assert "RBTC" in run("whoami", account="dev:4").stdout

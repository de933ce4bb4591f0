"""Networks and accounts: forks, chain-id checks, keystores, EIP-1191 addresses, legacy gas pricing."""

import json
import os
import subprocess
import sys

import pytest
from eth_account import Account

from datalicense import Client, ConfigError
from datalicense.infra import chain as chainmod
from datalicense.infra import deployments
from datalicense.infra.chain import connect, display_address, gas_price, load_account, normalize_address
from datalicense.infra.ipfs import Storage

from helpers import lens_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(kubo, market, tmp_path):
    def run(*args, account="dev:4", check=True, env_extra=None):
        env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / "home"), DATALICENSE_IPFS_API=kubo.api_multiaddr)
        env.update(env_extra or {})
        cmd = [sys.executable, "-m", "datalicense.cli.main", "--address", market.address, "--account", account, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return run


def _sold_licence(kubo, market, tmp_path):
    w3 = connect("local")
    seller = Client(w3, load_account("dev:3", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / "s")
    buyer = Client(w3, load_account("dev:4", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / "b")
    (tmp_path / "d.txt").write_text("forked data")
    ds = seller.seller.publish(tmp_path / "d.txt", title="Fork", price="0.001").dataset_id
    return w3, ds, buyer.buyer.buy(ds).licence_id


def test_fork_sees_upstream_state_and_leaves_it_untouched(cli, kubo, market, tmp_path):
    w3, ds, lid = _sold_licence(kubo, market, tmp_path)
    upstream_block = w3.eth.block_number
    upstream_balance = w3.eth.get_balance(market.address)
    upstream_counters = lens_of(market).counters()
    mine = json.loads(cli("--fork", os.environ["DATALICENSE_LOCAL_RPC"], "--json", "licences").stdout)
    assert [m["licence_id"] for m in mine] == [lid]
    bought = json.loads(cli("--fork", os.environ["DATALICENSE_LOCAL_RPC"], "--json", "buy", str(ds), "--again").stdout)
    assert bought["licence_id"] == lid + 1
    # the upstream chain did not see the write
    assert lens_of(market).counters() == upstream_counters
    assert w3.eth.get_balance(market.address) == upstream_balance
    assert w3.eth.block_number == upstream_block
    # and no Ganache fork is left running
    out = subprocess.run(["pgrep", "-f", "fork.url " + os.environ["DATALICENSE_LOCAL_RPC"]], capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_chain_id_mismatch_is_refused(monkeypatch, tmp_path):
    monkeypatch.setitem(chainmod.NETWORKS, "rsk-testnet", (os.environ["DATALICENSE_LOCAL_RPC"], 31))
    with pytest.raises(ConfigError, match="chain id 33, but rsk-testnet is chain id 31"):
        connect("rsk-testnet")
    monkeypatch.setenv("DATALICENSE_DEPLOYMENTS", str(tmp_path))
    (tmp_path / "31.json").write_text(json.dumps({"chainId": 33, "contracts": {}}))
    with pytest.raises(ConfigError, match="is for chain id 33, not 31"):
        deployments.load(31)
    with pytest.raises(ConfigError, match="no deployment for chain id 30"):
        deployments.load(30)


def test_wrong_network_for_the_deployments_file_via_cli(kubo, tmp_path, market):
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "33.json").write_text(json.dumps({"chainId": 31, "contracts": {"DataLicense": {"address": market.address}}}))
    env = dict(os.environ, DATALICENSE_DEPLOYMENTS=str(deps), DATALICENSE_HOME=str(tmp_path / "h"))
    p = subprocess.run([sys.executable, "-m", "datalicense.cli.main", "--account", "dev:4", "list"], capture_output=True,
                       text=True, env=env)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "is for chain id 31, not 33" in p.stderr


def test_keystore_accounts_and_passwords(cli, tmp_path, market):
    key = Account.create()
    ks = tmp_path / "buyer.json"
    ks.write_text(json.dumps(Account.encrypt(key.key, "correct horse")))
    assert load_account(str(ks), password=lambda _: "correct horse").address == key.address
    with pytest.raises(ConfigError, match="wrong password"):
        load_account(str(ks), password=lambda _: "nope")
    # a brownie keystore id, found under ~/.brownie/accounts, with the password from the environment
    home = tmp_path / "fakehome"
    (home / ".brownie" / "accounts").mkdir(parents=True)
    (home / ".brownie" / "accounts" / "alice.json").write_text(ks.read_text())
    p = cli("--json", "licences", account="alice", env_extra={"HOME": str(home), "DATALICENSE_PASSWORD": "correct horse"})
    assert json.loads(p.stdout) == []
    assert key.key.hex() not in p.stdout + p.stderr  # keys are never printed
    bad = cli("licences", account="alice", check=False, env_extra={"HOME": str(home), "DATALICENSE_PASSWORD": "x"})
    assert bad.returncode != 0 and "wrong password" in bad.stderr


def test_dev_accounts_only_on_local_chains():
    w3 = connect("local")
    assert load_account("dev:4", w3).address == "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
    with pytest.raises(ConfigError, match="dev accounts are dev:0"):
        load_account("dev:x", w3)


def test_eip1191_addresses_are_accepted_and_shown(cli, kubo, market, tmp_path):
    lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    # EIP-1191 casing (the chain-30 form is the example in RSKIP-60 client docs)
    assert display_address(lower, 30) == "0x5aaEB6053f3e94c9b9a09f33669435E7ef1bEAeD"
    assert display_address(lower, 31) == "0x5aAeb6053F3e94c9b9A09F33669435E7EF1BEaEd"
    assert display_address(lower, 33) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 elsewhere
    for cased in (display_address(lower, 30), display_address(lower, 31), lower):
        assert normalize_address(cased) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # no chain: either network's
    assert normalize_address(display_address(lower, 30), 30) == normalize_address(lower)
    with pytest.raises(ConfigError, match="checksum does not match: mistyped"):  # the casing of another chain
        normalize_address(display_address(lower, 30), 31)
    with pytest.raises(ConfigError, match="not an address"):
        normalize_address("0x1234")
    # a gift through the CLI on the local chain (33): its EIP-1191 casing is taken, mainnet's is another checksum
    from datalicense.protocol.addresses import eip1191

    w3, ds, _ = _sold_licence(kubo, market, tmp_path)
    key = Account.create()
    pub = keywrap_public(key)
    refused = cli("buy", str(ds), "--for", display_address(lower, 30), "--delivery-key", pub, check=False)
    assert refused.returncode != 0 and "checksum does not match: mistyped?" in refused.stderr
    gift = json.loads(cli("--json", "buy", str(ds), "--for", eip1191(lower, 33), "--delivery-key", pub).stdout)
    assert market.ownerOf(gift["licence_id"]) == normalize_address(lower)


def keywrap_public(acct) -> str:
    from datalicense.protocol.keywrap import public_key

    x, y = public_key(bytes(acct.key))
    return (x + y).hex()


class _FakeEth:
    def __init__(self, price, minimum):
        self.gas_price = price
        self._minimum = minimum

    def get_block(self, _):
        return {"minimumGasPrice": hex(self._minimum)} if self._minimum is not None else {}


class _FakeW3:
    def __init__(self, price, minimum):
        self.eth = _FakeEth(price, minimum)


def test_gas_price_respects_rootstock_minimum_and_relay_cap():
    assert gas_price(connect("local")) == 60_000_000  # Ganache: the node's price
    assert gas_price(_FakeW3(66_000_000, 60_000_000)) == 66_000_000  # RSKj's eth_gasPrice is ~1.1x minimum
    assert gas_price(_FakeW3(1, 60_000_000)) == 60_000_000  # never below the block minimum
    assert gas_price(_FakeW3(20 * 10**9, 60_000_000)) == 80 * 60_000_000  # never above the relay cap


def test_a_rehearsal_on_a_fork_changes_nothing_real(cli, kubo, market, tmp_path):
    """Before the fix a `--fork` run shared the agent journal, the index and the upload records with the real
    network: a rehearsal agent marked real licences done (the real agent never delivered them) and a rehearsal
    publish made the real one answer "already published" for a dataset that did not exist."""
    from datalicense.services.agent import Agent

    w3, ds, lid = _sold_licence(kubo, market, tmp_path)  # the seller's home is tmp_path / "s"
    home = {"DATALICENSE_HOME": str(tmp_path / "s")}
    fork = os.environ["DATALICENSE_LOCAL_RPC"]
    rehearsal = json.loads(cli("--fork", fork, "--json", "agent", "--once", account="dev:3", env_extra=home).stdout)
    assert rehearsal["delivered"] == 1  # delivered on the fork only
    (tmp_path / "new.txt").write_text("rehearsed first")
    forked = json.loads(cli("--fork", fork, "--json", "publish", str(tmp_path / "new.txt"), "--title", "New",
                            "--price", "0.001", account="dev:3", env_extra=home).stdout)
    seller = Client(w3, load_account("dev:3", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / "s")
    real = Agent(seller, seller.conn.state_dir / "agent.sqlite").run(once=True)
    assert real.delivered == 1
    assert seller.conn.market.licence(lid).state.label == "Delivered"
    pub = seller.seller.publish(tmp_path / "new.txt", title="New", price="0.001")
    assert not pub.reused and pub.tx_hash is not None
    assert seller.conn.market.dataset(pub.dataset_id).owner == seller.conn.account.address
    assert forked["dataset_id"] == pub.dataset_id  # same id on both chains, but published for real only now
    assert not list((tmp_path / "s" / "chains").glob("fork-*"))  # the rehearsal's state is gone


def test_a_url_network_can_be_pinned_to_a_chain_id(cli):
    p = cli("--network", os.environ["DATALICENSE_LOCAL_RPC"], "--chain-id", "31", "licences", check=False)
    assert p.returncode != 0 and "chain id 33, but" in p.stderr and "Traceback" not in p.stderr
    ok = cli("--network", os.environ["DATALICENSE_LOCAL_RPC"], "--chain-id", "33", "--json", "licences")
    assert json.loads(ok.stdout) == []

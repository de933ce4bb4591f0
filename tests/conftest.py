"""Shared fixtures: the deployed marketplace on the local Rootstock look-alike, accounts, tokens, keys."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import brownie
import pytest
from brownie import DataLicense, DataLicenseLens, ReentrantToken, TestToken, accounts, chain
from eth_utils import keccak

from datalicense import keywrap

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
FEE_BPS = 250
BOND = 10**15
PRICE = 2 * 10**15  # 0.002 RBTC


def pytest_configure(config):
    """Brownie's throwaway chain for this run listens on a free port: two runs, or a run beside a user's stack
    (`make up`), never meet (brownie would otherwise attach to whatever answers on the fixed port)."""
    from brownie._config import CONFIG

    from datalicense.localstack import _free_port

    dev = CONFIG.networks.get("development")
    if dev and "cmd_settings" in dev:
        dev["cmd_settings"]["port"] = _free_port()


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the same chain state."""


@pytest.fixture(scope="session", autouse=True)
def local_rpc():
    """`--network local` (the client, the CLI, child processes) means the chain brownie started for this run."""
    from brownie import web3

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri


@pytest.fixture(scope="module")
def admin():
    return accounts[0]


@pytest.fixture(scope="module")
def fee_recipient():
    return accounts[1]


@pytest.fixture(scope="module")
def arbiter():
    return accounts[2]


@pytest.fixture(scope="module")
def seller():
    return accounts[3]


@pytest.fixture(scope="module")
def buyer():
    return accounts[4]


@pytest.fixture(scope="module")
def agent():
    return accounts[5]


@pytest.fixture(scope="module")
def stranger():
    return accounts[6]


#: The lens of each marketplace deployed by the fixtures (the buy helper reads current terms and version there).
LENSES: dict[str, object] = {}


@pytest.fixture(scope="module")
def market(admin, fee_recipient, arbiter):
    m = DataLicense.deploy(admin, fee_recipient, arbiter, FEE_BPS, BOND, {"from": admin})
    LENSES[m.address] = DataLicenseLens.deploy(m, {"from": admin})
    return m


@pytest.fixture(scope="module")
def lens(market):
    return LENSES[market.address]


def lens_of(market):
    if market.address not in LENSES:
        LENSES[market.address] = DataLicenseLens.deploy(market, {"from": accounts[0]})
    return LENSES[market.address]


@pytest.fixture(scope="module")
def token(admin, market, buyer):
    t = TestToken.deploy("Test RIF", "tRIF", {"from": admin})
    market.setAssetAllowed(t, True, {"from": admin})
    t.mint(buyer, 10**24, {"from": admin})
    return t


@pytest.fixture(scope="module")
def evil_token(admin, market, buyer):
    t = ReentrantToken.deploy({"from": admin})
    market.setAssetAllowed(t, True, {"from": admin})
    t.mint(buyer, 10**24, {"from": admin})
    return t


@dataclass
class DeliveryKey:
    """A buyer's delivery key pair."""

    private: bytes
    x: bytes
    y: bytes

    @classmethod
    def random(cls) -> "DeliveryKey":
        while True:
            priv = os.urandom(32)
            with contextlib.suppress(keywrap.KeyWrapError, ValueError):
                x, y = keywrap.public_key(priv)
                if keywrap.is_usable_key(x, y):
                    return cls(priv, x, y)

    @property
    def address(self) -> str:
        """The delivery key's Ethereum-style address (what the contract stores while a licence is pending)."""
        return "0x" + keywrap.point_address(self.x, self.y).hex()

    @property
    def scalar(self) -> int:
        return int.from_bytes(self.private, "big")


MNEMONIC = "test test test test test test test test test test test junk"


def account_private_key(account) -> bytes:
    """The private key of one of the local chain's unlocked accounts (derived from the network's mnemonic)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    for i in range(len(accounts)):
        acct = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        if acct.address.lower() == str(account).lower():
            return bytes(acct.key)
    raise LookupError(f"no key for {account}")


def account_key(account) -> "DeliveryKey":
    """The account's own key as a (forbidden) delivery key."""
    priv = account_private_key(account)
    return DeliveryKey(priv, *keywrap.public_key(priv))


@dataclass
class Published:
    dataset_id: int
    content_key: bytes
    key_hash: bytes


def terms(
    price=PRICE,
    asset=ZERO,
    duration=30 * DAY,
    cap=0,
    delivery=DAY,
    dispute=2 * DAY,
    royalty=0,
    transferable=False,
):
    """TermsInput tuple in ABI order."""
    return (price, asset, duration, cap, delivery, dispute, royalty, transferable)


def publish(market, owner, agent=ZERO, **kw) -> Published:
    content_key = os.urandom(32)
    key_hash = keccak(content_key)
    tx = market.publish(
        b"\x01\x55\x12\x20" + os.urandom(32),
        keccak(b"plaintext"),
        key_hash,
        keccak(b"licence text"),
        terms(**kw),
        agent,
        {"from": owner},
    )
    return Published(tx.events["DatasetPublished"]["datasetId"], content_key, key_hash)


def offer(market, dataset_id):
    """(termsId, version) a buyer names to buy `dataset_id` now."""
    terms_id, version, *_ = lens_of(market).offer(dataset_id)
    return terms_id, version


def purchase(dataset_id, key: "DeliveryKey", licensee=ZERO, terms_id=0, version=0):
    """A Purchase tuple in ABI order."""
    return (dataset_id, terms_id, version, licensee, key.x, key.y)


def buy(market, dataset_id, buyer, key: DeliveryKey | None = None, value=PRICE, licensee=ZERO, terms_id=None,
        version=None):
    """Buy with RBTC naming the current terms and version (or the ones given)."""
    key = key or DeliveryKey.random()
    cur_terms, cur_version = offer(market, dataset_id)
    p = purchase(dataset_id, key, licensee, cur_terms if terms_id is None else terms_id,
                 cur_version if version is None else version)
    tx = market.buy(p, {"from": buyer, "value": value})
    return tx.events["LicencePurchased"]["licenceId"], key, tx


def token_data(p) -> bytes:
    """ERC-677 `transferAndCall` data: the ABI encoding of a Purchase (192 bytes)."""
    from eth_abi import encode

    d, t, v, licensee, x, y = p
    return encode(["uint256", "uint256", "uint256", "address", "bytes32", "bytes32"], [d, t, v, str(licensee), x, y])


def current_purchase(market, dataset_id, key: DeliveryKey | None = None, licensee=ZERO):
    """(Purchase naming the current terms and version, key)."""
    key = key or DeliveryKey.random()
    return purchase(dataset_id, key, licensee, *offer(market, dataset_id)), key


def buy_token(market, token, dataset_id, buyer, key: DeliveryKey | None = None, licensee=ZERO, amount=PRICE):
    """Buy with an ERC-20 (approve, then buyWithToken) naming the current terms and version."""
    p, key = current_purchase(market, dataset_id, key, licensee)
    token.approve(market, amount, {"from": buyer})
    tx = market.buyWithToken(p, {"from": buyer})
    return tx.events["LicencePurchased"]["licenceId"], key, tx


def buy_677(market, token, dataset_id, buyer, key: DeliveryKey | None = None, licensee=ZERO, amount=PRICE):
    """Buy with ERC-677 transferAndCall naming the current terms and version."""
    p, key = current_purchase(market, dataset_id, key, licensee)
    tx = token.transferAndCall(market, amount, token_data(p), {"from": buyer})
    return tx.events["LicencePurchased"]["licenceId"], key, tx


def deliver(market, licence_id, pub: Published, key: DeliveryKey, sender, r=None, content_key=None, key_hash=None,
            key_address=None):
    """Post a delivery of `content_key` (default: the dataset's) wrapped to `key`, naming `key_hash` (default:
    the dataset's current commitment) and `key_address` (default: `key`'s address)."""
    r = r or int.from_bytes(os.urandom(31), "big") + 1
    wrap = keywrap.wrap_key(content_key or pub.content_key, licence_id, key.x, key.y, r)
    tx = market.deliverKey(licence_id, key_address or key.address, key_hash or pub.key_hash, *wrap.as_args(),
                           {"from": sender})
    return r, wrap, tx


def escrowed(wrap: keywrap.Wrap, key_hash: bytes):
    """The Delivery tuple a key dispute opens."""
    return (wrap.r_x, wrap.r_y, wrap.wrapped_key, key_hash)


def dispute_key(market, licence_id, key: DeliveryKey, wrap: keywrap.Wrap, key_hash: bytes, sender):
    """The buyer's one-transaction key dispute: reveal the one-time key and the escrowed delivery."""
    return market.disputeKey(licence_id, key.scalar, escrowed(wrap, key_hash), {"from": sender})


@contextlib.contextmanager
def reverts(name: str):
    """Expect a revert whose decoded custom error (or reason) starts with `name`."""
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc:
        yield exc
    msg = exc.value.revert_msg or ""
    assert msg.lower().startswith(name.lower()), f"expected revert {name!r}, got {msg!r}"


def sleep(seconds: int):
    chain.sleep(seconds)
    chain.mine()


@pytest.fixture(scope="session")
def kubo():
    """A throwaway Kubo daemon: own repository, loopback ports picked by the OS, offline; stopped after."""
    from datalicense.localstack import KuboDaemon

    daemon = KuboDaemon().start()
    yield daemon
    daemon.stop()


@pytest.fixture
def make(kubo, market, tmp_path):
    """make(n, home): a web3.py Client for the local chain's account dev:n, over this run's Kubo, with its own home."""
    from datalicense import Client
    from datalicense.chain import connect, load_account
    from datalicense.storage import Storage

    w3 = connect("local")

    def make(n, home="seller"):
        return Client(w3, load_account(f"dev:{n}", w3), Storage(kubo.api_multiaddr), market.address, tmp_path / home)

    return make


def publish_file(client, tmp_path, text, agent, price="0.001", name="d.csv"):
    """Publish a small text file through the client (title = file name)."""
    src = tmp_path / name
    src.write_text(text)
    return client.publish(src, title=name, price=price, agent=agent)


@pytest.fixture
def run_inprocess(kubo, market, tmp_path, monkeypatch, capsys):
    """The `datalicense` entry point (main: one-line errors, exit codes), run in this process to spare a Python
    start-up per command; the chain and Kubo are the real ones. Returns a CompletedProcess."""
    import subprocess
    import sys

    from datalicense import cli

    def run(*args, account="dev:3", check=True, home="home"):
        monkeypatch.setenv("DATALICENSE_HOME", str(tmp_path / home))
        monkeypatch.setenv("DATALICENSE_IPFS_API", kubo.api_multiaddr)
        argv = ["datalicense", "--address", market.address] + (["--account", account] if account else []) + list(args)
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        p = subprocess.CompletedProcess(argv, code, out, err)
        if check:
            assert p.returncode == 0, p.stderr
        assert "Traceback" not in p.stderr
        return p

    return run

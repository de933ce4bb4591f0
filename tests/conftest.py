"""Shared fixtures: the deployed marketplace on the local Rootstock look-alike, accounts, tokens, keys."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import brownie
import pytest
from brownie import DataLicense, ReentrantToken, TestToken, accounts, chain
from eth_utils import keccak

from datalicense import keywrap

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
FEE_BPS = 250
BOND = 10**15
PRICE = 2 * 10**15  # 0.002 RBTC


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the same chain state."""


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


@pytest.fixture(scope="module")
def market(admin, fee_recipient, arbiter):
    return DataLicense.deploy(admin, fee_recipient, arbiter, FEE_BPS, BOND, {"from": admin})


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


def buy(market, dataset_id, buyer, key: DeliveryKey | None = None, value=PRICE, licensee=ZERO, max_price=None):
    key = key or DeliveryKey.random()
    tx = market.buy(
        dataset_id, licensee, key.x, key.y, value if max_price is None else max_price, {"from": buyer, "value": value}
    )
    return tx.events["LicencePurchased"]["licenceId"], key, tx


def deliver(market, licence_id, pub: Published, key: DeliveryKey, sender, r=None, content_key=None):
    r = r or int.from_bytes(os.urandom(31), "big") + 1
    wrap = keywrap.wrap_key(content_key or pub.content_key, licence_id, key.x, key.y, r)
    tx = market.deliverKey(licence_id, *wrap.as_args(), {"from": sender})
    return r, wrap, tx


def proof(r, wrap: keywrap.Wrap, key: DeliveryKey, key_hash: bytes):
    return (r, wrap.r_x, wrap.r_y, wrap.wrapped_key, key.x, key.y, key_hash)


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

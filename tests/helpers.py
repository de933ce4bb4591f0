"""What the tests share besides fixtures: deployment constants, the buyer's delivery key, and helpers that publish,
buy, deliver and dispute through the contracts, plus typed reads of the lens.

Imported as `from helpers import ...` (pytest puts tests/ on `sys.path` for the modules in it, whatever the working
directory); conftest.py holds fixtures and hooks only. Needs the brownie project loaded, as under `brownie test`.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass

import brownie
import pytest
from brownie import DataLicenseLens, accounts, chain
from eth_utils import keccak

from datalicense.protocol import keywrap
from datalicense.infra.chain import DEV_MNEMONIC
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.records import Dataset, Licence, Settings, State, Terms, TermsFlag

__all__ = [
    "ZERO", "DAY", "FEE_BPS", "BOND", "PRICE", "MNEMONIC", "LENSES", "State", "TermsFlag",
    "DeliveryKey", "Published", "account_private_key", "account_key", "lens_of", "terms", "publish", "offer",
    "purchase", "buy", "token_data", "current_purchase", "buy_token", "buy_677", "deliver", "escrowed",
    "dispute_key", "reverts", "sleep", "publish_file", "licence_of", "dataset_of", "terms_of", "settings_of",
    "free_ports", "fetched", "one_line_error", "clients", "publish_numbered",
]

DAY = 86400
#: The deployment the `market` fixture makes: the fee and the dispute bond it is constructed with.
FEE_BPS = 250
BOND = 10**15
PRICE = 2 * 10**15  # 0.002 RBTC
MNEMONIC = DEV_MNEMONIC

#: The lens of each marketplace deployed by the fixtures (the buy helper reads current terms and version there).
LENSES: dict[str, object] = {}


def lens_of(market):
    if market.address not in LENSES:
        LENSES[market.address] = DataLicenseLens.deploy(market, {"from": accounts[0]})
    return LENSES[market.address]


# ----------------------------------------------------------------------------------------- typed lens reads


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _record(cls, value, **convert):
    """A record of datalicense.protocol.records from a lens result (brownie names a struct's fields after the ABI). Addresses
    stay brownie's, which compare equal to accounts."""
    fields = {_snake(k): v for k, v in value.dict().items()}
    for name, to in convert.items():
        fields[name] = to(fields[name])
    return cls(**fields)


def licence_of(lens, licence_id: int) -> Licence:
    return _record(Licence, lens.licence(licence_id), state=State)


def dataset_of(lens, dataset_id: int) -> Dataset:
    return _record(Dataset, lens.dataset(dataset_id))


def terms_of(lens, terms_id: int) -> Terms:
    return _record(Terms, lens.terms(terms_id), flags=TermsFlag)


def settings_of(lens, settings_id: int) -> Settings:
    return _record(Settings, lens.settingsOf(settings_id))


# ----------------------------------------------------------------------------------------- keys


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


# ----------------------------------------------------------------------------------------- the marketplace


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
    now = lens_of(market).offer(dataset_id)
    return now["termsId"], now["version"]


def purchase(dataset_id, key: "DeliveryKey", licensee=ZERO, terms_id=0, version=0, settings_id=1):
    """A Purchase tuple in ABI order (settings: the deployment's first, unless given)."""
    return (dataset_id, terms_id, version, settings_id, licensee, key.x, key.y)


def buy(market, dataset_id, buyer, key: DeliveryKey | None = None, value=PRICE, licensee=ZERO, terms_id=None,
        version=None):
    """Buy with RBTC naming the current terms and version (or the ones given)."""
    key = key or DeliveryKey.random()
    cur_terms, cur_version = offer(market, dataset_id)
    p = purchase(dataset_id, key, licensee, cur_terms if terms_id is None else terms_id,
                 cur_version if version is None else version, lens_of(market).offer(dataset_id)["settingsId"])
    tx = market.buy(p, {"from": buyer, "value": value})
    return tx.events["LicencePurchased"]["licenceId"], key, tx


def token_data(p) -> bytes:
    """ERC-677 `transferAndCall` data: the ABI encoding of a Purchase (224 bytes)."""
    from eth_abi import encode

    d, t, v, s, licensee, x, y = p
    return encode(["uint256", "uint256", "uint256", "uint256", "address", "bytes32", "bytes32"],
                  [d, t, v, s, str(licensee), x, y])


def current_purchase(market, dataset_id, key: DeliveryKey | None = None, licensee=ZERO):
    """(Purchase naming the current terms, version and settings, key)."""
    key = key or DeliveryKey.random()
    return purchase(dataset_id, key, licensee, *offer(market, dataset_id),
                    lens_of(market).offer(dataset_id)["settingsId"]), key


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


# ----------------------------------------------------------------------------------------- through the client


def publish_file(client, tmp_path, text, agent, price="0.001", name="d.csv"):
    """Publish a small text file through the client (title = file name)."""
    src = tmp_path / name
    src.write_text(text)
    return client.seller.publish(src, title=name, price=price, agent=agent)


def fetched(client, licence_id: int, out, plain: bytes | str, version: int | None = None, **kw):
    """`fetch` as a user checks it: the file written holds exactly `plain`, its SHA-256 is the one fetch reports and
    the one the chain committed to for the version written (VersionPublished), and that version is `version` when
    given. Returns the FetchResult."""
    import hashlib
    from pathlib import Path

    plain = plain.encode() if isinstance(plain, str) else plain
    result = client.buyer.fetch(licence_id, out, **kw)
    if not Path(out).is_dir():
        assert Path(result.path) == Path(out), f"licence {licence_id}: written to {result.path}, not {out}"
    assert Path(result.path).read_bytes() == plain, f"licence {licence_id}: the file written is not the plaintext"
    digest = hashlib.sha256(plain).hexdigest()
    assert result.sha256 == digest, f"licence {licence_id}: fetch reports {result.sha256}, the file is {digest}"
    if version is not None:
        assert result.version == version, f"licence {licence_id}: fetch wrote version {result.version}, not {version}"
    dataset_id = client.conn.market.dataset_of(licence_id)
    logs = client.conn.contract.events.VersionPublished().get_logs(
        from_block=0, argument_filters={"datasetId": dataset_id, "version": result.version})
    assert [bytes(e["args"]["plaintextHash"]).hex() for e in logs] == [digest], "not the plaintext the chain committed to"
    return result


def publish_version_reusing_key(client, dataset_id, plain: bytes, tmp_path, title="reused"):
    """Publish a new version of `dataset_id` whose content is `plain`, encrypted with the content key (and so the key
    commitment) of its current version, straight through the contract, as a seller's own code could (the package's
    publish refuses it). Returns the new version's number."""
    import hashlib

    import pyrage

    from datalicense.protocol import age as agecrypt
    from datalicense.protocol.manifest import Manifest, now
    from datalicense.infra.ipfs import cid_to_bytes

    key_hash = client.conn.market.key_hash(dataset_id)
    key = client.keys.content_key(dataset_id, key_hash)
    enc = tmp_path / f"reused-{dataset_id}-{hashlib.sha256(plain).hexdigest()[:8]}.age"
    enc.write_bytes(pyrage.encrypt(plain, [pyrage.x25519.Recipient.from_str(agecrypt.recipient_of(key))]))
    cid = client.conn.storage.add_file(enc)
    sha = hashlib.sha256(plain).hexdigest()
    m = Manifest(title, "", "text/plain", len(plain), sha, cid, enc.stat().st_size, agecrypt.recipient_of(key),
                 "0x" + "11" * 32, client.conn.account.address, now())
    rcpt = client.conn.tx.send(client.conn.contract.functions.publishVersion(
        dataset_id, cid_to_bytes(client.conn.storage.add_bytes(m.to_json())), bytes.fromhex(sha), key_hash))
    return int(client.conn.contract.events.VersionPublished().process_receipt(rcpt.raw)[0]["args"]["version"])


def clients(api_multiaddr: str, market_address: str, root):
    """make(n, home="seller"): a web3.py Client for the local chain's account dev:n (None: no account, reads only),
    over the Kubo whose API is `api_multiaddr`, with its home folder `root / home`."""
    from datalicense import Client
    from datalicense.infra.chain import connect, load_account
    from datalicense.infra.ipfs import Storage

    w3 = connect("local")

    def make(n, home="seller"):
        account = None if n is None else load_account(f"dev:{n}", w3)
        return Client(w3, account, Storage(api_multiaddr), market_address, root / home)

    return make


def publish_numbered(seller, tmp_path, n, agent, price="0.001", **kw) -> int:
    """Publish dataset number n ("n,v" then "n,n*n", titled "Gateway n") through the client; its id."""
    src = tmp_path / f"d{n}.csv"
    src.write_text(f"n,v\n{n},{n * n}\n")
    return seller.seller.publish(src, title=f"Gateway {n}", price=price, agent=agent, **kw).dataset_id


def one_line_error(p, *needles: str, prefix: str | None = "error:") -> str:
    """A command refused as the house rule says: a non-zero exit, no traceback, one line on stderr (starting with
    `prefix`, unless None) that holds every needle. Returns the line."""
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert prefix is None or lines[0].startswith(prefix), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (all held open while choosing, so none is picked twice)."""
    import socket

    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports

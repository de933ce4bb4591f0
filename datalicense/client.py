"""The Python API: publish a file, list and show datasets, buy, deliver, fetch, confirm.

    from datalicense import Client
    dl = Client.connect("local", account="dev:3", ipfs="/ip4/127.0.0.1/tcp/5001")
    ds = dl.publish("data.csv", title="Clinic visits 2025", price="0.002")
    lic = Client.connect("local", account="dev:4").buy(ds.dataset_id)

Runs on web3.py only (no brownie), so it is usable from a notebook, a script or an AI pipeline.
"""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from . import agecrypt, keywrap
from . import deployments as deployments_mod
from .chain import (
    CURRENCY,
    Receipt,
    Transactor,
    connect,
    format_amount,
    load_account,
    normalize_address,
    parse_amount,
)
from .contracts import abi
from .errors import ChainError, ConfigError, IntegrityError, NotFoundError, StorageError
from .index import EventIndex
from .manifest import Manifest, parse
from .safefile import atomic_output, cleanup_partials
from .market import Market, State, TermsFlag, purchase_args, purchase_data
from .manifest import now as manifest_now
from .storage import Storage, cid_from_bytes, cid_to_bytes
from .pipeline import decrypt_verify

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
GIFT_SCAN = 256  # gift delivery-key numbers tried when recovering a key without the home folder

Progress = Callable[[str, int | None], Callable[[int], None]]


def default_home() -> Path:
    return Path(os.environ.get("DATALICENSE_HOME", Path.home() / ".datalicense"))


def _no_progress(label: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class PublishResult:
    dataset_id: int
    version: int
    manifest_cid: str
    ciphertext_cid: str
    plaintext_sha256: str
    plaintext_size: int
    key_hash: str
    tx_hash: str | None
    gas_used: int | None
    reused: bool = False
    #: per configured replica node: {"endpoint", "status": pinned | fetching | failed, "reason", "cids"}
    replicas: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BuyResult:
    licence_id: int
    dataset_id: int
    price: int
    price_text: str
    tx_hash: str
    gas_used: int
    terms_id: int = 0
    version: int = 0
    delivery_key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FetchResult:
    licence_id: int
    path: str
    size: int
    sha256: str
    confirmed_tx: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LicenceInfo:
    licence_id: int
    dataset_id: int
    holder: str
    state: str
    price: int
    price_text: str
    purchased_block: int
    expires_at: int
    valid: bool
    key_x: str = ""
    key_y: str = ""
    terms_id: int = 0
    version: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DatasetInfo:
    dataset_id: int
    owner: str
    version: int
    manifest_cid: str
    plaintext_sha256: str
    key_hash: str
    terms_id: int
    price: int
    price_text: str
    asset: str
    duration: int
    supply_cap: int
    sold: int
    delivery_window: int
    dispute_window: int
    transferable: bool
    status: str
    terms_ref: str
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_error: str = ""  # why the manifest could not be used (unreachable, too large, not JSON, schema)
    agent: str = ZERO
    title: str = ""
    media_type: str = ""
    size: int | None = None  # plaintext bytes, from the manifest
    owner_is_pool: bool | None = None  # a contract (RevenuePool) owns it (None: not read, in listings)
    fee_bps: int | None = None  # platform fee and data-dispute bond of a purchase now (None: not read)
    dispute_bond: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Client:
    """One account on one deployment, with an IPFS endpoint."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | None = None,
        storage: Storage | None = None,
        address: str | None = None,
        home: Path | None = None,
        progress: Progress = _no_progress,
        namespace: str | None = None,
    ):
        self.w3 = w3
        self.chain_id = w3.eth.chain_id
        self.account = account
        self.storage = storage or Storage()
        dep = deployments_mod.load(self.chain_id) if address is None else None
        self.address = normalize_address(address or dep["contracts"]["DataLicense"]["address"])
        self.deploy_block = 0 if dep is None else int(dep["contracts"]["DataLicense"].get("block", 0))
        if not w3.eth.get_code(self.address):
            raise ConfigError(
                f"no contract at {self.address} on chain id {self.chain_id}: the deployments file does not match "
                "this network (redeploy, or pick the right --network)"
            )
        self.market = Market(w3, self.address)
        self.contract = self.market.contract
        self.home = Path(home) if home is not None else default_home()
        self.progress = progress
        self.currency = CURRENCY.get(self.chain_id, "RBTC")
        # Every piece of local state (content keys, upload records, the event index, agent journals) lives under
        # one folder per chain: chain id, genesis block and contract; a fork rehearsal gets its own.
        genesis = bytes(w3.eth.get_block(0)["hash"]).hex()[:12]
        real = f"{self.chain_id}-{genesis}-{self.address.lower()}"
        self.namespace = namespace or real
        self.state_dir = self.home / "chains" / self.namespace
        _private_dir(self.home)  # content keys and the seller secret live here: 0700, as ssh and gpg do
        # a rehearsal may read the real namespace's content keys (the datasets it forks are the real ones)
        self._key_dirs = [self.state_dir / "keys"] + ([self.home / "chains" / real / "keys"] if namespace else [])
        self.index = EventIndex(self, self.state_dir / "index.json")
        self._content_keys: dict[tuple[int, bytes], bytes] = {}
        self._seller_secret: bytes | None = None
        self._delivery_seed: bytes | None = None
        self._tx: Transactor | None = None

    @classmethod
    def connect(
        cls,
        network: str = "local",
        account: str | LocalAccount | None = None,
        ipfs: str | None = None,
        address: str | None = None,
        home: Path | None = None,
        progress: Progress = _no_progress,
        namespace: str | None = None,
        chain_id: int | None = None,
    ) -> "Client":
        if network == "local":  # the stack `datalicense up` keeps running, if any: its chain, contracts and Kubo
            from .stack import apply_defaults

            ipfs = apply_defaults(Path(home) if home is not None else None, ipfs)
        w3 = connect(network, expected_chain_id=chain_id)
        acct = load_account(account, w3) if isinstance(account, str) else account
        return cls(w3, acct, Storage(ipfs), address, home, progress, namespace)

    # ------------------------------------------------------------------------------------------ helpers

    @property
    def tx(self) -> Transactor:
        if self.account is None:
            raise ConfigError("this needs an account: pass --account (dev:N, a keystore file or a brownie id)")
        if self._tx is None:
            self._tx = Transactor(self.w3, self.account)
        return self._tx

    def asset_info(self, asset: str) -> tuple[int, str]:
        """(decimals, symbol) of a payment asset."""
        if int(asset, 16) == 0:
            return 18, self.currency
        erc20 = self.w3.eth.contract(address=asset, abi=abi("TestToken"))
        try:
            return int(erc20.functions.decimals().call()), str(erc20.functions.symbol().call())
        except Exception:  # noqa: BLE001 - a token without metadata is shown in raw units
            return 0, asset

    def amount_text(self, units: int, asset: str) -> str:
        decimals, symbol = self.asset_info(asset)
        return format_amount(units, decimals, symbol)

    def _keys_dir(self) -> Path:
        return self.state_dir / "keys"

    def _save_content_key(self, dataset_id: int, content_key: bytes) -> Path:
        path = self._keys_dir() / str(dataset_id) / f"{keccak(content_key).hex()}.age"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, f"# dataset {dataset_id} content key\n{agecrypt.identity_string(content_key)}\n")
        return path

    def holds_keys_for(self, dataset_id: int) -> bool:
        """Whether this home folder holds content keys of a dataset (it was published from here)."""
        return any((d / str(dataset_id)).is_dir() and any((d / str(dataset_id)).glob("*.age")) for d in self._key_dirs)

    def content_key(self, dataset_id: int, key_hash: bytes) -> bytes:
        """The seller's stored content key for a dataset version (by its commitment)."""
        if (dataset_id, key_hash) not in self._content_keys:
            self._content_keys[(dataset_id, key_hash)] = self._read_content_key(dataset_id, key_hash)
        return self._content_keys[(dataset_id, key_hash)]

    def _read_content_key(self, dataset_id: int, key_hash: bytes) -> bytes:
        found = [d / str(dataset_id) / f"{key_hash.hex()}.age" for d in self._key_dirs]
        path = next((f for f in found if f.exists()), found[0])
        if not path.exists():
            raise ConfigError(
                f"no content key for dataset {dataset_id} version {key_hash.hex()[:12]}… in {path.parent}: "
                "deliveries must run where the dataset was published (or copy that folder)"
            )
        lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
        try:
            return agecrypt.content_key_from_identity(lines[0])
        except (IndexError, ValueError) as exc:
            raise ConfigError(f"the content key file {path} is damaged: restore it from a backup") from exc

    def seller_secret(self) -> bytes:
        """Secret from which per-licence wrap scalars are derived (created once, kept in the home folder)."""
        if self._seller_secret is not None:
            return self._seller_secret
        path = self.home / "seller.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(path, secrets.token_hex(32) + "\n")
        self._seller_secret = bytes.fromhex(path.read_text().strip())
        return self._seller_secret

    def delivery_seed(self) -> bytes:
        """Seed of this wallet's one-time delivery keys on this marketplace: derived from the wallet's signature
        of a fixed message (the same derivation a browser wallet uses), so nothing needs to be stored."""
        if self._delivery_seed is None:
            msg = keywrap.delivery_key_message(self.chain_id, self.address)
            sig = self.tx.account.sign_message(encode_defunct(text=msg)).signature
            self._delivery_seed = keywrap.delivery_seed(bytes(sig))
        return self._delivery_seed

    def delivery_key(self, index: int) -> tuple[int, bytes, bytes]:
        """This wallet's one-time delivery key number `index`: (p, Px, Py)."""
        return keywrap.delivery_key(self.delivery_seed(), index)

    def gift_delivery_key(self) -> tuple[int, bytes, bytes, int]:
        """A fresh one-time delivery key to hand to someone who buys a licence for this wallet: (p, Px, Py, index).

        Gift keys are numbered from GIFT_INDEX_BASE; the next number is kept in the home folder, and a lost
        folder costs nothing: `recover_delivery_key` scans the first GIFT_SCAN numbers."""
        counter = self._keys_dir() / f"gift-index-{self.tx.account.address.lower()}"
        n = int(counter.read_text()) if counter.exists() else 0
        counter.parent.mkdir(parents=True, exist_ok=True)
        _write_private(counter, str(n + 1))
        index = keywrap.GIFT_INDEX_BASE + n
        return (*self.delivery_key(index), index)

    def recover_delivery_key(self, key_x: bytes, key_y: bytes, named_by_tx: str | None = None) -> int:
        """The private scalar of one of this wallet's delivery keys, from the wallet and the chain alone.

        A key the wallet named itself (in a purchase or a rotation) has the index of that transaction's nonce;
        a gift key has one of the first GIFT_SCAN gift numbers."""
        target = keywrap.point_address(key_x, key_y)
        me = self.tx.account.address
        candidates: list[int] = []
        if named_by_tx:
            tx = self.w3.eth.get_transaction(named_by_tx)
            if normalize_address(tx["from"]) == me:
                candidates.append(int(tx["nonce"]))
        candidates += [keywrap.GIFT_INDEX_BASE + i for i in range(GIFT_SCAN)]
        for index in candidates:
            p, x, y = self.delivery_key(index)
            if keywrap.point_address(x, y) == target:
                return p
        raise ConfigError(
            f"the delivery key 0x{target.hex()} is not one of {me}'s delivery keys: use the account that bought "
            "the licence or named the key (--account)"
        )

    # ----------------------------------------------------------------------------------------- publish

    def publish(
        self,
        path: str | Path,
        title: str,
        price: str | int,
        description: str = "",
        media_type: str | None = None,
        asset: str = ZERO,
        duration_days: float = 30,
        supply_cap: int = 0,
        delivery_window_hours: float = 24,
        dispute_window_hours: float = 48,
        transferable: bool = False,
        royalty_bps: int = 0,
        terms_ref: bytes | None = None,
        agent: str = ZERO,
        pool: str | None = None,
    ) -> PublishResult:
        """Encrypt a file, add it and its manifest to IPFS, and publish the dataset in one transaction.

        Re-running after a failed transaction reuses the upload (same CIDs) and never publishes twice.
        With `pool` (a RevenuePool address whose curator is this account) the pool owns the dataset and
        shares its revenue among the pool's contributors.
        """
        account = self.tx.account
        src = Path(path)
        if not src.is_file():
            raise ConfigError(f"{src} is not a readable file")
        try:
            size = src.stat().st_size
            with open(src, "rb"):
                pass
        except OSError as exc:
            raise ConfigError(f"cannot read {src}: {exc.strerror}") from exc
        asset = normalize_address(asset)
        decimals, _ = self.asset_info(asset)
        price_units = price if isinstance(price, int) else parse_amount(price, decimals)
        terms_ref = terms_ref or keccak(b"datalicense standard licence v1")
        terms = (
            price_units,
            asset,
            int(duration_days * DAY),
            supply_cap,
            int(delivery_window_hours * 3600),
            int(dispute_window_hours * 3600),
            royalty_bps,
            transferable,
        )
        # validate the terms on-chain (a dry run) before spending time on encryption and upload
        target = self.contract if pool is None else self.pool_contract(pool)
        probe = getattr(target.functions, "publish" if pool is None else "publishDataset")(
            b"\x01", b"\x00" * 32, b"\x01" * 32, terms_ref, terms, normalize_address(agent))
        try:
            probe.call({"from": account.address})
        except Exception as exc:  # noqa: BLE001 - decoded into the project's error
            from .chain import decode_error

            data = getattr(exc, "data", None)
            name, args, text = decode_error(data) if data else (None, (), str(exc))
            raise ChainError(f"publish would fail: {text}", name, args) from exc
        upload = self._upload(src, size, title, description, media_type, terms_ref, account.address)
        existing = self.index.find_version(upload["manifestCid"])
        owner = account.address if pool is None else normalize_address(pool)
        if existing is not None and self.market.dataset(existing["datasetId"]).owner == owner:
            self._same_terms_or_refuse(existing["datasetId"], terms, normalize_address(agent))
            return PublishResult(
                existing["datasetId"], existing["version"], upload["manifestCid"], upload["ciphertextCid"],
                upload["sha256"], upload["size"], upload["keyHash"], None, None, reused=True,
                replicas=self._replicate_upload(upload),
            )
        content_key = agecrypt.content_key_from_identity(upload["identity"])
        target = self.contract if pool is None else self.pool_contract(pool)
        fn = getattr(target.functions, "publish" if pool is None else "publishDataset")(
            cid_to_bytes(upload["manifestCid"]),
            bytes.fromhex(upload["sha256"]),
            keccak(content_key),
            terms_ref,
            terms,
            normalize_address(agent),
        )
        rcpt = self.tx.send(fn, what="publish")
        ev = self.contract.events.DatasetPublished().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
        dataset_id = int(ev["datasetId"])
        self._save_content_key(dataset_id, content_key)
        return PublishResult(
            dataset_id, 1, upload["manifestCid"], upload["ciphertextCid"], upload["sha256"], upload["size"],
            "0x" + keccak(content_key).hex(), rcpt.tx_hash, rcpt.gas_used, replicas=self._replicate_upload(upload),
        )

    def _replicate_upload(self, upload: dict[str, Any]) -> list[dict[str, Any]]:
        """Pin an upload's manifest and ciphertext on every configured replica (datalicense.replicas): a report
        per replica, never an error (a replica that is down does not undo a publish)."""
        from . import replicas

        try:
            nodes = replicas.configured(self.home, exclude=self.storage.api)
        except ConfigError as exc:
            return [{"endpoint": "(replica list)", "status": replicas.FAILED, "reason": str(exc), "cids": []}]
        cids = [upload["manifestCid"], upload["ciphertextCid"]]
        return [r.as_dict() for r in replicas.replicate(self.storage, cids, nodes)] if nodes else []

    def _same_terms_or_refuse(self, dataset_id: int, terms: tuple[Any, ...], agent: str) -> None:
        """A re-run of `publish` for a dataset that exists: refuse, saying what differs and which command changes
        it, unless the terms and agent asked for are the ones on chain."""
        offer = self.market.offer(dataset_id)
        t = offer.terms
        now = (t.price, offer.asset, t.duration, t.supply_cap, t.delivery_window, t.dispute_window, None,
               bool(t.flags & TermsFlag.TRANSFERABLE))
        names = ("price", "asset", "duration", "cap", "delivery window", "dispute window", "royalty", "transferable")
        differ = [f"{n} {a} (asked {b})" for n, a, b in zip(names, now, terms) if a is not None and a != b]
        current_agent = self.market.agent_of(dataset_id)
        if int(agent, 16) and current_agent != agent:
            differ.append(f"agent {current_agent} (asked {agent})")
        if differ:
            raise ConfigError(
                f"this file is already published as dataset {dataset_id}, with " + "; ".join(differ)
                + f": change it with `datalicense set-terms {dataset_id} …` or `datalicense set-agent {dataset_id} …`"
            )

    def _upload(
        self, src: Path, size: int, title: str, description: str, media_type: str | None, terms_ref: bytes,
        publisher: str,
    ) -> dict[str, Any]:
        """Encrypt and add to IPFS once per (file content, publisher, title, terms); remembered in the home."""
        uploads = self.state_dir / "uploads"
        (uploads / "files").mkdir(parents=True, exist_ok=True)
        # A re-run on the same file (same path, inode, size and times) finds its record without reading the
        # file again; anything else is read once, encrypted into the add request and hashed beside it.
        try:
            before = src.stat()
        except OSError as exc:
            raise ConfigError(f"cannot read {src}: {exc.strerror}") from exc
        common = f"{publisher}|{title}|{description}|{terms_ref.hex()}|{self.chain_id}"
        stamp = f"{src.resolve()}|{before.st_dev}|{before.st_ino}|{before.st_size}|{before.st_mtime_ns}|{before.st_ctime_ns}"
        file_path = uploads / "files" / f"{keccak(text=stamp + '|' + common).hex()}.json"

        def usable(path: Path) -> dict[str, Any] | None:
            try:
                record = json.loads(path.read_text())
                if self.storage.stat(record["ciphertextCid"]) and self.storage.stat(record["manifestCid"]):
                    return record
            except (OSError, ValueError, KeyError, StorageError):
                pass  # missing, damaged, or the earlier upload is gone from IPFS: upload again
            return None

        if file_path.exists():
            pointer = json.loads(file_path.read_text()).get("record", "")
            found = usable(uploads / f"{pointer}.json") if pointer.isalnum() else None
            if found is not None:
                return found
        from .pipeline import encrypt_and_add

        content_key = agecrypt.new_content_key()
        with open(src, "rb") as fin:
            plain_size, digest, cipher_cid, cipher_size = encrypt_and_add(
                fin, self.storage, content_key, name=src.name, progress=self.progress("encrypt+upload", size))
        after = src.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or plain_size != after.st_size:
            raise IntegrityError(f"{src} changed while it was being published: try again")
        sha = digest.hex()
        record_key = keccak(text=f"{sha}|{common}").hex()
        record_path = uploads / f"{record_key}.json"
        earlier = usable(record_path) if record_path.exists() else None
        if earlier is not None:
            # the same content was uploaded before (another path or a touched file): keep that upload, whose
            # manifest may already be on chain, and drop the one just made
            if earlier["ciphertextCid"] != cipher_cid:
                try:
                    self.storage.unpin_cid(cipher_cid)
                except StorageError:
                    pass
            _write_private(file_path, json.dumps({"record": record_key}))
            return earlier
        manifest = Manifest(
            title=title,
            description=description,
            media_type=media_type or mimetypes.guess_type(src.name)[0] or "application/octet-stream",
            plaintext_size=plain_size,
            plaintext_sha256=sha,
            ciphertext_cid=cipher_cid,
            ciphertext_size=cipher_size,
            recipient=agecrypt.recipient_of(content_key),
            licence_terms="0x" + terms_ref.hex(),
            publisher=publisher,
            created_at=manifest_now(),
        )
        manifest_cid = self.storage.add_bytes(manifest.to_json())
        record = {
            "sha256": sha,
            "size": plain_size,
            "ciphertextCid": cipher_cid,
            "manifestCid": manifest_cid,
            "identity": agecrypt.identity_string(content_key),
            "keyHash": "0x" + keccak(content_key).hex(),
        }
        _write_private(record_path, json.dumps(record, indent=2))
        _write_private(file_path, json.dumps({"record": record_key}))
        return record

    def publish_version(self, dataset_id: int, path: str | Path, title: str, description: str = "",
                        media_type: str | None = None) -> PublishResult:
        """Publish a new version of a dataset: new key, new ciphertext, new manifest."""
        account = self.tx.account
        src = Path(path)
        if not src.is_file():
            raise ConfigError(f"{src} is not a readable file")
        info = self.dataset(dataset_id, with_manifest=False)
        upload = self._upload(src, src.stat().st_size, title, description, media_type,
                              bytes.fromhex(info.terms_ref[2:]), account.address)
        content_key = agecrypt.content_key_from_identity(upload["identity"])
        fn = self.contract.functions.publishVersion(
            dataset_id, cid_to_bytes(upload["manifestCid"]), bytes.fromhex(upload["sha256"]), keccak(content_key)
        )
        rcpt = self.tx.send(fn, what="publish version")
        ev = self.contract.events.VersionPublished().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
        self._save_content_key(dataset_id, content_key)
        return PublishResult(dataset_id, int(ev["version"]), upload["manifestCid"], upload["ciphertextCid"],
                             upload["sha256"], upload["size"], "0x" + keccak(content_key).hex(), rcpt.tx_hash,
                             rcpt.gas_used, replicas=self._replicate_upload(upload))

    def pool_contract(self, address: str) -> Any:
        return self.w3.eth.contract(address=normalize_address(address), abi=abi("RevenuePool"))

    # ----------------------------------------------------------------------------------------- reading

    def datasets(
        self,
        with_manifest: bool = True,
        text: str | None = None,
        owner: str | None = None,
        min_price: str | int | None = None,
        max_price: str | int | None = None,
        asset: str | None = None,
    ) -> list[DatasetInfo]:
        """All datasets, from the local index alone (incremental: only new blocks are read; no per-dataset chain
        read), with their manifests (fetched once, bounded in size and time, validated, cached); optionally only
        those whose title, description or media type contains `text`, owned by `owner`, priced in `asset`
        ("RBTC" or a token address) within [min_price, max_price] (human units of each dataset's asset)."""
        self.index.update()
        recs = [(int(i), r) for i, r in self.index.datasets.items() if r.get("version") and r.get("termsId")]
        recs.sort(key=lambda x: x[0])
        want_owner = normalize_address(owner) if owner else None
        want_asset = None
        if asset:
            want_asset = ZERO if asset.strip().upper() in ("RBTC", "TRBTC") else normalize_address(asset)
        picked = []
        for ds_id, rec in recs:
            t = self.index.terms.get(str(rec["termsId"]), {})
            if want_owner and normalize_address(rec["owner"]) != want_owner:
                continue
            if want_asset and normalize_address(t.get("asset", ZERO)) != want_asset:
                continue
            if min_price is not None or max_price is not None:
                decimals, _ = self.index.asset_info(t.get("asset", ZERO))
                low = min_price if isinstance(min_price, int) or min_price is None else parse_amount(min_price, decimals)
                high = max_price if isinstance(max_price, int) or max_price is None else parse_amount(max_price, decimals)
                if (low is not None and t.get("price", 0) < low) or (high is not None and t.get("price", 0) > high):
                    continue
            picked.append((ds_id, rec))
        manifests = {}
        if with_manifest or text:
            manifests = self.index.manifests_for([r["versions"][str(r["version"])]["manifestCid"] for _, r in picked])
        out = [self._index_info(ds_id, rec, manifests) for ds_id, rec in picked]
        if text:
            needle = text.casefold()
            out = [d for d in out if needle in " ".join(
                str(d.manifest.get(k, "")) for k in ("title", "description", "media_type")).casefold()]
        return out

    def dataset(self, dataset_id: int, with_manifest: bool = True) -> DatasetInfo:
        self.index.update()
        if str(dataset_id) not in self.index.datasets or not self.index.datasets[str(dataset_id)].get("version"):
            raise NotFoundError(f"dataset {dataset_id} does not exist on chain id {self.chain_id}: see `datalicense list`")
        return self._dataset_info(dataset_id, with_manifest)

    def _dataset_info(self, dataset_id: int, with_manifest: bool) -> DatasetInfo:
        """One dataset as the chain has it now (terms, owner, version and sales read from the contract), its
        versions and manifest from the index."""
        rec = self.index.datasets[str(dataset_id)]
        offer = self.market.offer(dataset_id)
        t = offer.terms
        latest = rec["versions"][str(offer.version)]
        terms_rec = self.index.terms.get(str(offer.terms_id), {})
        manifests = self.index.manifests_for([latest["manifestCid"]]) if with_manifest else {}
        info = self._index_info(dataset_id, rec, manifests)
        info.owner, info.version, info.terms_id, info.sold = offer.dataset.owner, offer.version, offer.terms_id, \
            offer.dataset.sold
        info.manifest_cid, info.plaintext_sha256, info.key_hash = (latest["manifestCid"], latest["plaintextHash"],
                                                                   latest["keyHash"])
        info.price, info.asset, info.price_text = t.price, offer.asset, self.amount_text(t.price, offer.asset)
        info.duration, info.supply_cap, info.status = t.duration, t.supply_cap, t.status
        info.delivery_window, info.dispute_window = t.delivery_window, t.dispute_window
        info.transferable, info.terms_ref = bool(t.flags & TermsFlag.TRANSFERABLE), terms_rec.get("termsRef", "")
        info.agent = self.market.agent_of(dataset_id)
        settings = self.market.current_settings()
        info.fee_bps, info.dispute_bond = settings.fee_bps, settings.dispute_bond
        info.owner_is_pool = bool(self.w3.eth.get_code(info.owner))
        return info

    def _index_info(self, dataset_id: int, rec: dict[str, Any], manifests: dict[str, dict[str, Any]]) -> DatasetInfo:
        """A dataset from the index alone (no chain read)."""
        version = int(rec["version"])
        latest = rec["versions"][str(version)]
        t = self.index.terms.get(str(rec["termsId"]), {})
        asset = t.get("asset", ZERO)
        decimals, symbol = self.index.asset_info(asset)
        m = manifests.get(latest["manifestCid"], {})
        manifest = m.get("manifest", {})
        status = "retired" if rec.get("retired") else ("paused" if rec.get("paused") else "on sale")
        return DatasetInfo(
            dataset_id=dataset_id, owner=rec["owner"], version=version, manifest_cid=latest["manifestCid"],
            plaintext_sha256=latest["plaintextHash"], key_hash=latest["keyHash"], terms_id=int(rec["termsId"]),
            price=int(t.get("price", 0)), price_text=format_amount(int(t.get("price", 0)), decimals, symbol),
            asset=asset, duration=int(t.get("duration", 0)), supply_cap=int(t.get("supplyCap", 0)),
            sold=int(rec.get("sold", 0)), delivery_window=int(t.get("deliveryWindow", 0)),
            dispute_window=int(t.get("disputeWindow", 0)), transferable=bool(t.get("transferable", False)),
            status=status, terms_ref=t.get("termsRef", ""), manifest=manifest, manifest_error=m.get("error", ""),
            agent=rec.get("agent", ZERO), title=str(manifest.get("title", "")),
            media_type=str(manifest.get("media_type", "")), size=manifest.get("plaintext_size"),
        )

    def licence(self, licence_id: int) -> LicenceInfo:
        lic = self.market.licence(licence_id)
        if lic.state == State.NONE:
            raise NotFoundError(
                f"licence {licence_id} does not exist on chain id {self.chain_id}: see `datalicense licences`")
        t = self.market.terms(lic.terms_id)
        asset = self.market.asset_address(t.asset_id)
        purchase = self._purchase_event(licence_id)
        return LicenceInfo(
            licence_id=licence_id, dataset_id=t.dataset_id, holder=lic.holder, state=lic.state.label, price=t.price,
            price_text=self.amount_text(t.price, asset), purchased_block=purchase["blockNumber"],
            expires_at=self.market.expires_at(licence_id), valid=self.market.is_valid(licence_id),
            key_x="0x" + bytes(purchase["args"]["keyX"]).hex(), key_y="0x" + bytes(purchase["args"]["keyY"]).hex(),
            terms_id=lic.terms_id, version=int(purchase["args"]["version"]),
        )

    def licences(self, holder: str | None = None) -> list[LicenceInfo]:
        """Licences bought for `holder` (default: this account), with state and expiry."""
        who = normalize_address(holder or self.tx.account.address)
        logs = self.contract.events.LicencePurchased().get_logs(
            from_block=self.deploy_block, argument_filters={"licensee": who}
        )
        return [self.licence(int(log["args"]["licenceId"])) for log in logs]

    def _purchase_event(self, licence_id: int) -> Any:
        logs = self.contract.events.LicencePurchased().get_logs(
            from_block=self.deploy_block, argument_filters={"licenceId": licence_id}
        )
        if not logs:
            raise NotFoundError(f"licence {licence_id} does not exist on chain id {self.chain_id}")
        return logs[0]

    def delivery_keys(self, licence_id: int) -> list[dict[str, Any]]:
        """The delivery keys a licence has named, oldest first: the purchase's, then each rotation's."""
        purchase = self._purchase_event(licence_id)
        logs = [purchase] + list(self.contract.events.DeliveryKeyRotated().get_logs(
            from_block=purchase["blockNumber"], argument_filters={"licenceId": licence_id}))
        return [{"block": lg["blockNumber"], "logIndex": lg["logIndex"], "tx": lg["transactionHash"].to_0x_hex(),
                 "x": bytes(lg["args"]["keyX"]), "y": bytes(lg["args"]["keyY"])} for lg in logs]

    def deliveries(self, licence_id: int) -> list[dict[str, Any]]:
        """Key deliveries of a licence, oldest first: the escrowed one, then deliveries of newer versions."""
        out = []
        for ev in (self.contract.events.KeyDelivered(), self.contract.events.KeyRedelivered()):
            for log in ev.get_logs(from_block=self.deploy_block, argument_filters={"licenceId": licence_id}):
                a = log["args"]
                out.append({
                    "block": log["blockNumber"], "logIndex": log["logIndex"], "escrowed": ev.event_name == "KeyDelivered",
                    "wrap": keywrap.Wrap(bytes(a["rX"]), bytes(a["rY"]), bytes(a["wrappedKey"])),
                    "keyHash": bytes(a["keyHash"]),
                })
        return sorted(out, key=lambda d: (d["block"], d["logIndex"]))

    def _key_at(self, keys: list[dict[str, Any]], block: int, log_index: int) -> dict[str, Any]:
        """The delivery key in force at a log position (the last one named before it)."""
        named = [k for k in keys if (k["block"], k["logIndex"]) < (block, log_index)]
        return named[-1] if named else keys[0]

    # ---------------------------------------------------------------------------------------------- buy

    def buy(
        self,
        dataset_id: int,
        max_price: str | int | None = None,
        licensee: str | None = None,
        delivery_key: tuple[bytes, bytes] | None = None,
        erc677: bool = False,
        terms_id: int | None = None,
        version: int | None = None,
    ) -> BuyResult:
        """Pay into escrow for the terms and version named (default: the current ones, as `show` prints them)
        and receive a licence. The content key is delivered to a one-time key derived from this wallet (index:
        the purchase transaction's nonce), or to `delivery_key` (the recipient's, for a gift)."""
        account = self.tx.account
        offer = self.market.offer(dataset_id)
        if not offer.dataset.exists:
            raise NotFoundError(f"dataset {dataset_id} does not exist on chain id {self.chain_id}: see `datalicense list`")
        terms_id = offer.terms_id if terms_id is None else terms_id
        version = offer.version if version is None else version
        price, asset = offer.price, offer.asset
        if max_price is not None:
            decimals, _ = self.asset_info(asset)
            limit = max_price if isinstance(max_price, int) else parse_amount(max_price, decimals)
            if price > limit:
                raise ChainError(
                    f"the price of dataset {dataset_id} is {self.amount_text(price, asset)}, above your maximum "
                    f"{self.amount_text(limit, asset)}: raise --max-price if you agree"
                )
        to = normalize_address(licensee) if licensee else ZERO
        token = None if int(asset, 16) == 0 else self.w3.eth.contract(address=asset, abi=abi("TestToken"))
        if token is not None and not erc677:
            self.tx.send(token.functions.approve(self.address, price), what="approve")
        nonce = self.w3.eth.get_transaction_count(account.address, "pending")
        if delivery_key is None:
            _, key_x, key_y = self.delivery_key(nonce)
        else:
            key_x, key_y = delivery_key
        args = purchase_args(dataset_id, terms_id, version, to, key_x, key_y)
        if token is None:
            rcpt = self.tx.send(self.contract.functions.buy(args), value=price, what="buy", nonce=nonce)
        elif erc677:
            rcpt = self.tx.send(token.functions.transferAndCall(self.address, price, purchase_data(*args)),
                                what="buy", nonce=nonce)
        else:
            rcpt = self.tx.send(self.contract.functions.buyWithToken(args), what="buy", nonce=nonce)
        ev = self.contract.events.LicencePurchased().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
        return BuyResult(int(ev["licenceId"]), dataset_id, int(ev["price"]), self.amount_text(int(ev["price"]), asset),
                         rcpt.tx_hash, rcpt.gas_used, terms_id, version,
                         "0x" + keywrap.point_address(key_x, key_y).hex())

    def rotate_key(self, licence_id: int, delivery_key: tuple[bytes, bytes] | None = None) -> Receipt:
        """Name a new one-time delivery key for a licence this account holds (after a transfer, or a lost key).
        Deliveries from now on go to it; the escrowed delivery stays what it was."""
        nonce = self.w3.eth.get_transaction_count(self.tx.account.address, "pending")
        if delivery_key is None:
            _, key_x, key_y = self.delivery_key(nonce)
        else:
            key_x, key_y = delivery_key
        return self.tx.send(self.contract.functions.rotateDeliveryKey(licence_id, key_x, key_y),
                            what="rotate delivery key", nonce=nonce)

    # ------------------------------------------------------------------------------------------ deliver

    def delivery_call(
        self,
        licence_id: int,
        redeliver: bool = False,
        dataset_id: int | None = None,
        key: tuple[bytes, bytes] | None = None,
        key_hash: bytes | None = None,
    ) -> Any:
        """The deliverKey (or redeliverKey) call wrapping the dataset's current content key to the licence's
        current delivery key, naming both. Callers that already know the dataset, the delivery key or the current
        key commitment (the agent) pass them to save the look-ups."""
        if dataset_id is None:
            dataset_id = self.market.dataset_of(licence_id)
        if key is None:
            latest = self.delivery_keys(licence_id)[-1]
            key = (latest["x"], latest["y"])
        if key_hash is None:
            if redeliver:
                key_hash = self.market.key_hash(dataset_id)  # the current version's
            else:  # the escrowed delivery carries the version the buyer bought
                pending = self.market.pending_delivery(licence_id)
                bought = pending[1] if pending else int(self._purchase_event(licence_id)["args"]["version"])
                key_hash = self.market.key_hash(dataset_id, bought)
        r = keywrap.derive_r(self.seller_secret(), self.chain_id, self.address, licence_id, key_hash)
        wrap = keywrap.wrap_key(self.content_key(dataset_id, key_hash), licence_id, key[0], key[1], r)
        if redeliver:
            return self.contract.functions.redeliverKey(licence_id, key_hash, *wrap.as_args())
        key_address = normalize_address("0x" + keywrap.point_address(*key).hex())
        return self.contract.functions.deliverKey(licence_id, key_address, key_hash, *wrap.as_args())

    def deliver(self, licence_id: int, redeliver: bool = False) -> Receipt:
        """Wrap the current content key to the licence's delivery key and post it (owner or agent)."""
        return self.tx.send(self.delivery_call(licence_id, redeliver), what="deliver key")

    # -------------------------------------------------------------------------------------------- fetch

    def _open_delivery(self, licence_id: int, d: dict[str, Any], keys: list[dict[str, Any]],
                       private_key: bytes | None) -> tuple[bytes, int]:
        """(K', p) for one delivery: unwrap with the key in force when it was posted."""
        named = self._key_at(keys, d["block"], d["logIndex"])
        if private_key is not None:
            p = int.from_bytes(private_key, "big")
        else:
            p = self.recover_delivery_key(named["x"], named["y"], named["tx"])
        return keywrap.unwrap_key(d["wrap"], licence_id, p.to_bytes(32, "big")), p

    def escrowed_key(self, licence_id: int, private_key: bytes | None = None) -> tuple[bytes, bytes]:
        """(content key, key commitment) of the escrowed delivery, checked against the commitment it was
        bound to. A wrong key raises IntegrityError: prove it with `datalicense dispute`."""
        escrowed = [d for d in self.deliveries(licence_id) if d["escrowed"]]
        if not escrowed:
            info = self.licence(licence_id)
            raise ChainError(
                f"licence {licence_id} has no key delivery yet (state {info.state}): wait for the seller's agent, "
                "or claim a refund with `datalicense refund` after the delivery deadline"
            )
        d = escrowed[0]
        content_key, _ = self._open_delivery(licence_id, d, self.delivery_keys(licence_id), private_key)
        if keccak(content_key) != d["keyHash"]:
            raise IntegrityError(
                f"the key delivered for licence {licence_id} does not open its commitment: prove it with "
                f"`datalicense dispute {licence_id}` (one transaction; you are refunded at once)"
            )
        return content_key, d["keyHash"]

    def unwrap(self, licence_id: int, private_key: bytes | None = None) -> tuple[bytes, bytes]:
        """(content key, key commitment) of the newest version this licence has a good key for."""
        content_key, key_hash, _version = self.best_key(licence_id, private_key)
        return content_key, key_hash

    def best_key(self, licence_id: int, private_key: bytes | None = None) -> tuple[bytes, bytes, int]:
        """(content key, key commitment, version) of the newest version this licence has a good key for: the
        escrowed delivery first (always checked; it carries the version bought), then deliveries of newer versions
        of the licence's own dataset, each matched to the version that was current when it was made; a delivery
        that does not open its commitment is ignored."""
        content_key, key_hash = self.escrowed_key(licence_id, private_key)
        dataset_id = self.market.dataset_of(licence_id)
        bought = int(self._purchase_event(licence_id)["args"]["version"])
        versions = self._versions(dataset_id)
        if versions.get(str(bought), {}).get("keyHash") != "0x" + key_hash.hex():
            raise IntegrityError(f"the escrowed delivery of licence {licence_id} is not for version {bought} it bought")
        best = bought
        keys = self.delivery_keys(licence_id)
        for d in self.deliveries(licence_id):
            if d["escrowed"]:
                continue
            # the version current at the delivery's block (a reused commitment cannot point at an older version)
            at = max((int(n) for n, v in versions.items() if v.get("block", 0) <= d["block"]), default=0)
            if at <= best or versions[str(at)]["keyHash"] != "0x" + d["keyHash"].hex():
                continue
            try:
                k, _ = self._open_delivery(licence_id, d, keys, private_key)
            except (ConfigError, keywrap.KeyWrapError):
                continue
            if keccak(k) == d["keyHash"]:
                content_key, key_hash, best = k, d["keyHash"], at
        return content_key, key_hash, best

    def _versions(self, dataset_id: int) -> dict[str, dict[str, Any]]:
        self.index.update()
        rec = self.index.datasets.get(str(dataset_id))
        if rec is None:
            raise NotFoundError(f"dataset {dataset_id} does not exist on chain id {self.chain_id}")
        return rec["versions"]

    def fetch(
        self,
        licence_id: int,
        out: str | Path,
        confirm: bool = True,
        private_key: bytes | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> FetchResult:
        """Download, decrypt and verify a licensed dataset; the output appears only when it matches.
        `on_start` is called once every check before the download has passed (the CLI says what will happen).

        Only versions of the licence's own dataset are considered; the manifest must name the recipient the
        content key opens; a licence is confirmed only after its escrowed version verified."""
        info = self.licence(licence_id)
        account = self.tx.account
        if info.holder != account.address and private_key is None:
            raise ConfigError(
                f"licence {licence_id} is held by {info.holder}, not {account.address}: use that account (--account)"
            )
        if info.state not in ("Delivered", "Settled", "Pending"):
            raise ChainError(f"licence {licence_id} is {info.state}: it gives no access to the data")
        if info.state in ("Delivered", "Settled") and not info.valid:
            raise ChainError(f"licence {licence_id} expired at {info.expires_at} (unix time): buy a new one")
        escrowed_key, escrowed_hash = self.escrowed_key(licence_id, private_key)
        bought = info.version
        if info.state == "Delivered":
            # what escrow is bound to (the version bought) is what gets verified before confirming
            content_key, key_hash, number = escrowed_key, escrowed_hash, bought
        else:
            content_key, key_hash, number = self.best_key(licence_id, private_key)
        versions = self._versions(info.dataset_id)
        version = dict(versions.get(str(number), {}), version=number)
        if version.get("keyHash") != "0x" + key_hash.hex():
            raise IntegrityError(
                f"dataset {info.dataset_id} version {number} does not carry key commitment 0x{key_hash.hex()}: "
                "nothing was written and nothing confirmed"
            )
        manifest = parse(self.storage.cat_bytes(version["manifestCid"]))
        if manifest.plaintext_sha256 != version["plaintextHash"][2:]:
            raise IntegrityError("the manifest's plaintext hash differs from the on-chain commitment")
        if manifest.recipient != agecrypt.recipient_of(content_key):
            raise IntegrityError(
                f"the manifest of dataset {info.dataset_id} version {version['version']} names a recipient the "
                "delivered key does not open: nothing was written and nothing confirmed"
            )
        dest = Path(out)
        if dest.is_dir():
            raise ConfigError(f"{dest} is a folder: give a file name with -o")
        dest.parent.mkdir(parents=True, exist_ok=True)
        cleanup_partials(dest)  # leftovers of an interrupted fetch
        # the ciphertext is read against the size the manifest promises, through the temporary file's own
        # descriptor; the destination appears only when everything matched
        if on_start is not None:
            on_start()
        with atomic_output(dest) as fout:
            with self.storage.open_stream(manifest.ciphertext_cid, exact_size=manifest.ciphertext_size) as stream:
                size, digest = decrypt_verify(
                    _Counting(stream, self.progress("download+decrypt", manifest.ciphertext_size)), fout, content_key
                )
            if digest.hex() != version["plaintextHash"][2:] or size != manifest.plaintext_size:
                raise IntegrityError(
                    f"the decrypted data does not match the on-chain plaintext hash (got {digest.hex()[:16]}…): "
                    "nothing was written; open a data dispute with `datalicense dispute --data`"
                )
        confirmed = None
        if confirm and info.state == "Delivered" and info.holder == account.address and number == bought:
            confirmed = self.tx.send(self.contract.functions.confirm(licence_id), what="confirm").tx_hash
        return FetchResult(licence_id, str(dest), size, digest.hex(), confirmed)

    # -------------------------------------------------------------------------------- buyer / seller acts

    def confirm(self, licence_id: int) -> Receipt:
        return self.tx.send(self.contract.functions.confirm(licence_id), what="confirm")

    def settle(self, licence_id: int) -> Receipt:
        return self.tx.send(self.contract.functions.settle(licence_id), what="settle")

    def key_dispute_call(self, licence_id: int, private_key: bytes | None = None) -> tuple[Any, bool]:
        """(the disputeKey call, whether the delivered key is right). The buyer's proof: the one-time key p of the
        escrowed delivery, and that delivery; the contract recomputes K' from them."""
        escrowed = [d for d in self.deliveries(licence_id) if d["escrowed"]]
        if not escrowed:
            raise ChainError(f"licence {licence_id} has no key delivery to dispute")
        d = escrowed[0]
        content_key, p = self._open_delivery(licence_id, d, self.delivery_keys(licence_id), private_key)
        w = d["wrap"]
        call = self.contract.functions.disputeKey(licence_id, p, (w.r_x, w.r_y, w.wrapped_key, d["keyHash"]))
        return call, keccak(content_key) == d["keyHash"]

    def dispute(self, licence_id: int, data: bool = False, private_key: bytes | None = None,
                on_send: Callable[[str], None] | None = None) -> Receipt:
        """A key dispute proves a wrong key in one transaction (refunded at once); it is refused when the key is
        right (it would settle the sale to the seller). A data dispute posts the licence's bond for the arbiter."""
        if data:
            lic = self.market.licence(licence_id)
            bond = self.market.settings(lic.settings_id).dispute_bond
            fn = self.contract.functions.disputeData(licence_id)
            self.tx._build(fn, bond, "data dispute")  # simulated first: a dispute that would revert is not sent
            if on_send is not None:
                on_send(f"licence {licence_id}: posting the data-dispute bond of {self.amount_text(bond, ZERO)}; the "
                        "arbiter splits the price (after 14 days without a ruling the sale stands and the bond "
                        "comes back)")
            return self.tx.send(fn, value=bond, what="data dispute")
        call, key_correct = self.key_dispute_call(licence_id, private_key)
        if key_correct:
            raise ChainError(
                f"the key delivered for licence {licence_id} is right: a key dispute would settle the sale to the "
                "seller, so it was not sent (if the data is not as described, use `datalicense dispute --data`)"
            )
        try:  # simulate first: a dispute that would revert or settle is never sent
            call.call({"from": self.tx.account.address})
        except Exception as exc:  # noqa: BLE001 - decoded into the project's error below
            from .chain import decode_revert

            data_ = getattr(exc, "data", None)
            raise ChainError(f"key dispute would fail: {decode_revert(data_) if data_ else exc}") from exc
        if on_send is not None:
            on_send(f"licence {licence_id}: the delivered key does not open its commitment; the proof refunds you in "
                    "this one transaction")
        return self.tx.send(call, what="key dispute")

    def refund(self, licence_id: int) -> Receipt:
        return self.tx.send(self.contract.functions.refund(licence_id), what="refund")

    def get(self, url: str, out: str | Path, policy: Any, confirm: bool = True) -> Any:
        """Fetch a dataset from a seller's HTTP 402 gateway, paying through escrow within `policy` (a
        datalicense.paying.SpendingPolicy); verified like `fetch`. See datalicense/paying.py."""
        from .paying import get

        return get(self, url, out, policy, confirm=confirm)

    def owed(self, asset: str = ZERO) -> int:
        return self.market.balance_owed(normalize_address(asset), self.tx.account.address)

    def withdraw(self, asset: str = ZERO, to: str | None = None) -> Receipt:
        account = self.tx.account
        target = normalize_address(to or account.address)
        return self.tx.send(self.contract.functions.withdraw(normalize_address(asset), target), what="withdraw")


# -------------------------------------------------------------------------------------------- internals


class _Counting:
    def __init__(self, src: Any, tick: Callable[[int], None]):
        self.src = src
        self.tick = tick

    def read(self, n: int = -1) -> bytes:
        chunk = self.src.read(n)
        self.tick(len(chunk))
        return chunk


def _sha256_file(path: Path, tick: Callable[[int], None]) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            tick(len(chunk))
    return h.hexdigest()


def _private_dir(path: Path) -> None:
    """Create a folder readable by its owner only (and tighten an existing one we own)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise ConfigError(f"cannot use the data folder {path}: {exc.strerror}") from exc


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(path.suffix + ".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(path.with_suffix(path.suffix + ".tmp"), path)


@contextmanager
def _temp_in(folder: Path, suffix: str) -> Iterator[Path]:
    """A temporary file in `folder` (same file system as the destination), removed unless moved away."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".datalicense-", suffix=suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


__all__ = ["Client", "PublishResult", "BuyResult", "FetchResult", "LicenceInfo", "DatasetInfo", "cid_from_bytes"]

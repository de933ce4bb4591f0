"""The secrets and caches a wallet keeps in its home folder, per chain: content keys of the datasets it published,
the seller secret the wrap scalars derive from, its one-time delivery keys (derived from the wallet, nothing
stored but a gift counter) and the records of its uploads (so a re-run of publish reuses them)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.messages import encode_defunct
from eth_utils import keccak

from datalicense.protocol import age as agecrypt, keywrap
from datalicense.infra.chain import normalize_address
from datalicense.errors import ConfigError
from datalicense.infra.home import private_dir, write_private

if TYPE_CHECKING:
    from datalicense.infra.connection import Connection

GIFT_SCAN = 256  # gift delivery-key numbers tried when recovering a key without the home folder


class KeyStore:
    """Content keys, the seller secret, delivery keys and upload records of one connection's account."""

    def __init__(self, conn: "Connection"):
        self.conn = conn
        keys = conn.state_dir / "keys"
        # a rehearsal may read the real namespace's content keys (the datasets it forks are the real ones)
        real = conn.real_state_dir / "keys"
        self._key_dirs = [keys] + ([real] if real != keys else [])
        self._content_keys: dict[tuple[int, bytes], bytes] = {}
        self._seller_secret: bytes | None = None
        self._delivery_seed: bytes | None = None

    def __repr__(self) -> str:
        return f"<KeyStore {self.keys_dir}>"

    @property
    def keys_dir(self) -> Path:
        return self.conn.state_dir / "keys"

    # ------------------------------------------------------------------------------------ content keys

    def save_content_key(self, dataset_id: int, content_key: bytes) -> Path:
        path = self.keys_dir / str(dataset_id) / f"{keccak(content_key).hex()}.age"
        private_dir(path.parent)
        write_private(path, f"# dataset {dataset_id} content key\n{agecrypt.identity_string(content_key)}\n")
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
        path = self.conn.home / "seller.secret"
        if not path.exists():
            private_dir(path.parent)
            write_private(path, secrets.token_hex(32) + "\n")
        self._seller_secret = bytes.fromhex(path.read_text().strip())
        return self._seller_secret

    # ---------------------------------------------------------------------------------- delivery keys

    def delivery_seed(self) -> bytes:
        """Seed of this wallet's one-time delivery keys on this marketplace: derived from the wallet's signature
        of a fixed message (the same derivation a browser wallet uses), so nothing needs to be stored."""
        if self._delivery_seed is None:
            msg = keywrap.delivery_key_message(self.conn.chain_id, self.conn.address)
            sig = self.conn.tx.account.sign_message(encode_defunct(text=msg)).signature
            self._delivery_seed = keywrap.delivery_seed(bytes(sig))
        return self._delivery_seed

    def delivery_key(self, index: int) -> tuple[int, bytes, bytes]:
        """This wallet's one-time delivery key number `index`: (p, Px, Py)."""
        return keywrap.delivery_key(self.delivery_seed(), index)

    def gift_delivery_key(self) -> tuple[int, bytes, bytes, int]:
        """A fresh one-time delivery key to hand to someone who buys a licence for this wallet: (p, Px, Py, index).

        Gift keys are numbered from GIFT_INDEX_BASE; the next number is kept in the home folder, and a lost
        folder costs nothing: `recover_delivery_key` scans the first GIFT_SCAN numbers."""
        counter = self.keys_dir / f"gift-index-{self.conn.tx.account.address.lower()}"
        n = int(counter.read_text()) if counter.exists() else 0
        private_dir(counter.parent)
        write_private(counter, str(n + 1))
        index = keywrap.GIFT_INDEX_BASE + n
        return (*self.delivery_key(index), index)

    def recover_delivery_key(self, key_x: bytes, key_y: bytes, named_by_tx: str | None = None) -> int:
        """The private scalar of one of this wallet's delivery keys, from the wallet and the chain alone.

        A key the wallet named itself (in a purchase or a rotation) has the index of that transaction's nonce;
        a gift key has one of the first GIFT_SCAN gift numbers."""
        target = keywrap.point_address(key_x, key_y)
        me = self.conn.tx.account.address
        candidates: list[int] = []
        if named_by_tx:
            tx = self.conn.w3.eth.get_transaction(named_by_tx)
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

    # -------------------------------------------------------------------------------- upload records

    @property
    def uploads_dir(self) -> Path:
        return self.conn.state_dir / "uploads"

    def upload_pointer(self, file_key: str) -> str | None:
        """The upload record a file (by its stamp: path, inode, size, times and publish parameters) was last
        published with, if any."""
        path = self.uploads_dir / "files" / f"{file_key}.json"
        if not path.exists():
            return None
        pointer = json.loads(path.read_text()).get("record", "")
        return pointer if pointer.isalnum() else None

    def upload_record(self, record_key: str) -> Any:
        """An upload record (CIDs, plaintext hash and size, the content key's identity), None if missing or
        damaged."""
        try:
            return json.loads((self.uploads_dir / f"{record_key}.json").read_text())
        except (OSError, ValueError):
            return None

    def save_upload(self, file_key: str, record_key: str, record: dict[str, Any] | None = None) -> None:
        """Remember an upload record (if given) and that the file `file_key` was published with it."""
        if record is not None:
            write_private(self.uploads_dir / f"{record_key}.json", json.dumps(record, indent=2))
        write_private(self.uploads_dir / "files" / f"{file_key}.json", json.dumps({"record": record_key}))

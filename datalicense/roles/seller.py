"""Selling: publish a file (encrypt, add to IPFS, one transaction), publish new versions, deliver content keys to
buyers' delivery keys, withdraw what the marketplace owes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3.logs import DISCARD

from datalicense.protocol import keywrap
from datalicense.infra.chain import Receipt, normalize_address, parse_amount
from datalicense.roles.role import Role
from datalicense.errors import ConfigError
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.records import TermsFlag
from datalicense.protocol import delivery as rule
from datalicense.protocol.results import PublishResult
from datalicense.infra.ipfs import cid_to_bytes
from datalicense.roles import replicas
from datalicense.roles.upload import Upload, publishable_size, upload
from datalicense.infra.interrupts import interrupts_kept
from datalicense.roles.pool import require_pool

DAY = 86400


class Seller(Role):
    """A seller's (or its agent's) acts over one connection: publish, publish_version, deliver, withdraw."""

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

        Steps: the file is readable, the terms are built and dry-run on chain (before any encryption), the upload
        is made or reused, a dataset already published from it is returned as it is, else the transaction is sent
        and the content key kept, and the upload is pinned on the replicas."""
        conn = self.conn
        account = conn.tx.account
        src = Path(path)
        size = publishable_size(src)
        terms_ref = terms_ref or keccak(b"datalicense standard licence v1")
        terms = self._terms(price, asset, duration_days, supply_cap, delivery_window_hours, dispute_window_hours,
                            royalty_bps, transferable)
        agent = normalize_address(agent, conn.chain_id)
        target = conn.contract if pool is None else conn.pool_contract(pool)
        if pool is not None:
            require_pool(target, conn.address)
        publish_fn = getattr(target.functions, "publish" if pool is None else "publishDataset")
        # validate the terms on-chain (a dry run) before spending time on encryption and upload
        conn.tx.simulate(publish_fn(b"\x01", b"\x00" * 32, b"\x01" * 32, terms_ref, terms, agent), what="publish")
        try:  # Ctrl-C before the transaction is sent: one line saying nothing was published (cli.main prints it)
            with interrupts_kept() as interrupt:
                upload = self.upload(src, size, title, description, media_type, terms_ref, account.address)
            interrupt.raise_if_seen()  # one swallowed by a library on the way still stops the publish here
            existing = self.reader.index.find_version(upload.manifest_cid)
            owner = account.address if pool is None else normalize_address(pool, conn.chain_id)
            ours = existing is not None and conn.market.dataset(existing["datasetId"]).owner == owner
            if ours:
                self._same_terms_or_refuse(existing["datasetId"], terms, agent)
            fn = publish_fn(cid_to_bytes(upload.manifest_cid), bytes.fromhex(upload.sha256),
                            keccak(upload.content_key), terms_ref, terms, agent)
            nonce = conn.w3.eth.get_transaction_count(account.address, "pending")
        except KeyboardInterrupt as exc:
            said = str(exc)
            raise KeyboardInterrupt(said if "nothing was published" in said else
                                    "interrupted before the publish transaction was sent: nothing was published"
                                    ) from None
        if ours:
            if existing["version"] == 1:  # a run interrupted after its transaction: keep the key where it belongs
                self.keys.save_content_key(existing["datasetId"], upload.content_key)
            return PublishResult(
                existing["datasetId"], existing["version"], upload.manifest_cid, upload.ciphertext_cid,
                upload.sha256, upload.size, upload.key_hash, None, None, reused=True,
                replicas=self._replicate_upload(upload),
            )
        rcpt = self._send_publish(fn, nonce)
        dataset_id = self._keep_published_key(rcpt, upload.content_key)
        try:
            replicated = self._replicate_upload(upload)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"interrupted after dataset {dataset_id} was published: its replicas may be "
                                    "incomplete (`datalicense pins repair`)") from None
        return PublishResult(dataset_id, 1, upload.manifest_cid, upload.ciphertext_cid, upload.sha256, upload.size,
                             upload.key_hash, rcpt.tx_hash, rcpt.gas_used, replicas=replicated)

    def _terms(self, price: str | int, asset: str, duration_days: float, supply_cap: int,
               delivery_window_hours: float, dispute_window_hours: float, royalty_bps: int,
               transferable: bool) -> tuple[Any, ...]:
        """The contract's terms tuple; a price typed as text is read in the asset's own decimals."""
        asset = normalize_address(asset, self.conn.chain_id)
        decimals, _ = self.reader.asset_info(asset)
        price_units = price if isinstance(price, int) else parse_amount(price, decimals)
        return (price_units, asset, int(duration_days * DAY), supply_cap, int(delivery_window_hours * 3600),
                int(dispute_window_hours * 3600), royalty_bps, transferable)

    def _send_publish(self, fn: Any, nonce: int) -> Receipt:
        """Send the publish transaction; Ctrl-C says whether it was sent."""
        conn = self.conn
        try:
            return conn.tx.send(fn, what="publish", nonce=nonce)
        except KeyboardInterrupt:
            if conn.w3.eth.get_transaction_count(conn.tx.account.address, "pending") <= nonce:
                raise KeyboardInterrupt("interrupted before the publish transaction was sent: nothing was published"
                                        ) from None
            raise KeyboardInterrupt("interrupted after the publish transaction was sent: it may be mined, and "
                                    "`datalicense list` then shows the dataset; run the same command again to "
                                    "finish (it never publishes twice)") from None

    def _keep_published_key(self, rcpt: Receipt, content_key: bytes) -> int:
        """The new dataset's id from the receipt; its content key saved under it."""
        try:
            ev = self.conn.contract.events.DatasetPublished().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
            dataset_id = int(ev["datasetId"])
            self.keys.save_content_key(dataset_id, content_key)
            return dataset_id
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"interrupted after the publish transaction {rcpt.tx_hash} was mined: run the "
                                    "same command again to finish (it never publishes twice)") from None

    def _replicate_upload(self, upload: Upload) -> list[dict[str, Any]]:
        """Pin an upload's manifest and ciphertext on every configured replica (datalicense.roles.replicas): a report
        per replica, never an error (a replica that is down does not undo a publish)."""
        try:
            nodes = replicas.configured(self.conn.home, exclude=self.conn.storage.api)
        except ConfigError as exc:
            return [{"endpoint": "(replica list)", "status": replicas.FAILED, "reason": str(exc), "cids": []}]
        cids = [upload.manifest_cid, upload.ciphertext_cid]
        return [r.as_dict() for r in replicas.replicate(self.conn.storage, cids, nodes)] if nodes else []

    def _same_terms_or_refuse(self, dataset_id: int, terms: tuple[Any, ...], agent: str) -> None:
        """A re-run of `publish` for a dataset that exists: refuse, saying what differs and which command changes
        it, unless the terms and agent asked for are the ones on chain."""
        market = self.conn.market
        offer = market.offer(dataset_id)
        t = offer.terms
        now = (t.price, offer.asset, t.duration, t.supply_cap, t.delivery_window, t.dispute_window, None,
               bool(t.flags & TermsFlag.TRANSFERABLE))
        names = ("price", "asset", "duration", "cap", "delivery window", "dispute window", "royalty", "transferable")
        differ = [f"{n} {a} (asked {b})" for n, a, b in zip(names, now, terms) if a is not None and a != b]
        current_agent = market.agent_of(dataset_id)
        if int(agent, 16) and current_agent != agent:
            differ.append(f"agent {current_agent} (asked {agent})")
        if differ:
            raise ConfigError(
                f"this file is already published as dataset {dataset_id}, with " + "; ".join(differ)
                + f": change it with `datalicense set-terms {dataset_id} …` or `datalicense set-agent {dataset_id} …`"
            )

    def upload(
        self, src: Path, size: int, title: str, description: str, media_type: str | None, terms_ref: bytes,
        publisher: str,
    ) -> Upload:
        """Encrypt and add to IPFS once per (file content, publisher, title, terms); remembered in the key store
        (datalicense.roles.upload)."""
        return upload(self.conn, self.keys, src, size, title, description, media_type, terms_ref, publisher)

    def publish_version(self, dataset_id: int, path: str | Path, title: str, description: str = "",
                        media_type: str | None = None) -> PublishResult:
        """Publish a new version of a dataset: new key, new ciphertext, new manifest."""
        conn = self.conn
        account = conn.tx.account
        src = Path(path)
        size = publishable_size(src)
        info = self.reader.dataset(dataset_id, with_manifest=False)
        upload = self.upload(src, size, title, description, media_type,
                             bytes.fromhex(info.terms_ref[2:]), account.address)
        content_key = upload.content_key
        self.check_fresh_key(dataset_id, content_key)
        fn = conn.contract.functions.publishVersion(
            dataset_id, cid_to_bytes(upload.manifest_cid), bytes.fromhex(upload.sha256), keccak(content_key)
        )
        rcpt = conn.tx.send(fn, what="publish version")
        ev = conn.contract.events.VersionPublished().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
        self.keys.save_content_key(dataset_id, content_key)
        return PublishResult(dataset_id, int(ev["version"]), upload.manifest_cid, upload.ciphertext_cid,
                             upload.sha256, upload.size, "0x" + keccak(content_key).hex(), rcpt.tx_hash,
                             rcpt.gas_used, replicas=self._replicate_upload(upload))

    def check_fresh_key(self, dataset_id: int, content_key: bytes) -> None:
        """Refuse (before anything is sent) a new version whose key commitment another version of the dataset uses:
        the same key would open both (datalicense.protocol.delivery). A re-run of a file and title already published
        as a version reuses its upload, and so its key."""
        versions = self.reader.dataset_versions(dataset_id)
        rule.check_fresh_commitment(dataset_id, keccak(content_key), versions)

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
        conn = self.conn
        market = conn.market
        if dataset_id is None:
            dataset_id = market.dataset_of(licence_id)
        if key is None:
            latest = self.reader.delivery_keys(licence_id)[-1]
            key = (latest["x"], latest["y"])
        if key_hash is None:
            if redeliver:
                key_hash = market.key_hash(dataset_id)  # the current version's
            else:  # the escrowed delivery carries the version the buyer bought
                pending = market.pending_delivery(licence_id)
                bought = pending[1] if pending else int(self.reader.purchase_event(licence_id)["args"]["version"])
                key_hash = market.key_hash(dataset_id, bought)
        r = keywrap.derive_r(self.keys.seller_secret(), conn.chain_id, conn.address, licence_id, key_hash)
        wrap = keywrap.wrap_key(self.keys.content_key(dataset_id, key_hash), licence_id, key[0], key[1], r)
        if redeliver:
            return conn.contract.functions.redeliverKey(licence_id, key_hash, *wrap.as_args())
        key_address = normalize_address("0x" + keywrap.point_address(*key).hex())
        return conn.contract.functions.deliverKey(licence_id, key_address, key_hash, *wrap.as_args())

    def deliver(self, licence_id: int, redeliver: bool = False) -> Receipt:
        """Wrap the current content key to the licence's delivery key and post it (owner or agent)."""
        return self.conn.tx.send(self.delivery_call(licence_id, redeliver), what="deliver key")

    # ----------------------------------------------------------------------------------------- withdraw

    def withdraw(self, asset: str = ZERO, to: str | None = None) -> Receipt:
        account = self.conn.tx.account
        target = normalize_address(to, self.conn.chain_id) if to else account.address
        asset = normalize_address(asset, self.conn.chain_id)
        return self.conn.tx.send(self.conn.contract.functions.withdraw(asset, target),
                                 what="withdraw")

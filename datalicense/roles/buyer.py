"""Buying: pay into escrow for a licence, receive the content key on a one-time delivery key, fetch, decrypt and
verify the data, then confirm (or dispute, or claim a refund). `get` does it all over a seller's HTTP 402 gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from eth_utils import keccak
from web3.logs import DISCARD

from datalicense.protocol import age as agecrypt, keywrap
from datalicense.infra.chain import Receipt, local_time, normalize_address, parse_amount
from datalicense.roles.reader import KeyDelivery
from datalicense.roles.role import Role
from datalicense.errors import (AlreadyHeldError, ChainError, ConfigError, DeliveryError, IntegrityError,
                                NotAllowedNowError, NotFoundError)
from datalicense.protocol.manifest import parse
from datalicense.protocol.addresses import ZERO
from datalicense.protocol.records import State, purchase_args, purchase_data
from datalicense.infra.pipeline import decrypt_verify
from datalicense.protocol import delivery as rule
from datalicense.protocol.results import BuyResult, FetchResult, LicenceInfo
from datalicense.infra.safefile import atomic_output, cleanup_partials, dataset_output, output_path


class Buyer(Role):
    """A buyer's acts over one connection: buy, rotate_key, fetch (escrowed_key, opened), confirm, settle,
    dispute, refund, get."""

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
        again: bool = False,
        settings_id: int | None = None,
    ) -> BuyResult:
        """Pay into escrow for the terms, version and platform settings named (default: the current ones, as
        `show` prints them) and receive a licence. The content key is delivered to a one-time key derived from this
        wallet (index: the purchase transaction's nonce), or to `delivery_key` (the recipient's, for a gift). Refused
        (AlreadyHeldError, nothing sent) when the licence's holder-to-be already holds one for the dataset that gives
        access or will (`held`), unless `again`."""
        if licensee and delivery_key is None:  # the key would be wrapped to this wallet's, not the recipient's
            raise ConfigError("--for needs --delivery-key (licensee needs delivery_key): the recipient's public key, "
                              "so that the recipient can decrypt")
        conn, reader = self.conn, self.reader
        account = conn.tx.account
        offer = conn.market.offer(dataset_id)
        if not offer.dataset.exists:
            raise NotFoundError(
                f"dataset {dataset_id} does not exist on chain id {conn.chain_id}: see `datalicense list`")
        if not again:
            self.refuse_if_held(dataset_id, licensee)
        terms_id = offer.terms_id if terms_id is None else terms_id
        version = offer.version if version is None else version
        price, asset = offer.price, offer.asset
        if max_price is not None:
            decimals, _ = reader.asset_info(asset)
            limit = max_price if isinstance(max_price, int) else parse_amount(max_price, decimals)
            if price > limit:
                raise ChainError(
                    f"the price of dataset {dataset_id} is {reader.amount_text(price, asset)}, above your maximum "
                    f"{reader.amount_text(limit, asset)}: raise --max-price if you agree"
                )
        to = normalize_address(licensee, conn.chain_id) if licensee else ZERO
        token = None if int(asset, 16) == 0 else conn.token_contract(asset)
        if token is not None and not erc677:
            conn.tx.send(token.functions.approve(conn.address, price), what="approve")
        nonce = conn.w3.eth.get_transaction_count(account.address, "pending")
        if delivery_key is None:
            _, key_x, key_y = self.keys.delivery_key(nonce)
        else:
            key_x, key_y = delivery_key
        settings_id = offer.settings_id if settings_id is None else settings_id
        args = purchase_args(dataset_id, terms_id, version, settings_id, to, key_x, key_y)
        if token is None:
            rcpt = conn.tx.send(conn.contract.functions.buy(args), value=price, what="buy", nonce=nonce)
        elif erc677:
            rcpt = conn.tx.send(token.functions.transferAndCall(conn.address, price, purchase_data(*args)),
                                what="buy", nonce=nonce)
        else:
            rcpt = conn.tx.send(conn.contract.functions.buyWithToken(args), what="buy", nonce=nonce)
        ev = conn.contract.events.LicencePurchased().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]
        return BuyResult(int(ev["licenceId"]), dataset_id, int(ev["price"]),
                         reader.amount_text(int(ev["price"]), asset), rcpt.tx_hash, rcpt.gas_used, terms_id, version,
                         "0x" + keywrap.point_address(key_x, key_y).hex())

    def held(self, dataset_id: int, holder: str | None = None) -> int | None:
        """The newest licence for `dataset_id` that `holder` (default: this account) holds now and that gives access or
        will: Pending, or Delivered or Settled and still valid. Licences received by transfer count; licences given
        away do not. The buyer's rule before paying again (`buy`, `get`, the page's API)."""
        conn, market = self.conn, self.conn.market
        who = normalize_address(holder) if holder else conn.tx.account.address
        logs = conn.contract.events.Transfer().get_logs(from_block=conn.deploy_block, argument_filters={"to": who})
        for lid in sorted({int(lg["args"]["tokenId"]) for lg in logs}, reverse=True):
            lic = market.licence(lid)
            if lic.holder != who or market.terms(lic.terms_id).dataset_id != dataset_id:
                continue
            if lic.state == State.PENDING or (lic.state in (State.DELIVERED, State.SETTLED) and market.is_valid(lid)):
                return lid
        return None

    def refuse_if_held(self, dataset_id: int, holder: str | None = None) -> None:
        """AlreadyHeldError (one line: which licence, what to do) when `held` finds one."""
        lid = self.held(dataset_id, holder)
        if lid is not None:
            who = "you already hold" if holder is None else f"{normalize_address(holder)} already holds"
            state = self.conn.market.licence(lid).state
            use = (f"its key is on the way (`datalicense licences`; `datalicense refund {lid}` after the delivery "
                   "deadline)" if state == State.PENDING else f"fetch it with `datalicense fetch {lid}`")
            raise AlreadyHeldError(f"{who} licence {lid} for dataset {dataset_id} ({state.label}): {use}, or pass "
                                   "--again (again=True) to buy another", lid)

    def rotate_key(self, licence_id: int, delivery_key: tuple[bytes, bytes] | None = None) -> Receipt:
        """Name a new one-time delivery key for a licence this account holds (after a transfer, or a lost key).
        Deliveries from now on go to it; the escrowed delivery stays what it was."""
        conn = self.conn
        nonce = conn.w3.eth.get_transaction_count(conn.tx.account.address, "pending")
        if delivery_key is None:
            _, key_x, key_y = self.keys.delivery_key(nonce)
        else:
            key_x, key_y = delivery_key
        return conn.tx.send(conn.contract.functions.rotateDeliveryKey(licence_id, key_x, key_y),
                            what="rotate delivery key", nonce=nonce)

    # -------------------------------------------------------------------------------------- content key

    @staticmethod
    def _key_at(keys: list[dict[str, Any]], block: int, log_index: int) -> dict[str, Any]:
        """The delivery key in force at a log position (the last one named before it)."""
        named = [k for k in keys if (k["block"], k["logIndex"]) < (block, log_index)]
        return named[-1] if named else keys[0]

    def _open_delivery(self, licence_id: int, d: KeyDelivery, keys: list[dict[str, Any]],
                       private_key: bytes | None) -> tuple[bytes, int]:
        """(K', p) for one delivery: unwrap with the key in force when it was posted."""
        named = self._key_at(keys, d.block, d.log_index)
        if private_key is not None:
            p = int.from_bytes(private_key, "big")
        else:
            p = self.keys.recover_delivery_key(named["x"], named["y"], named["tx"])
        return keywrap.unwrap_key(d.wrap, licence_id, p.to_bytes(32, "big")), p

    def escrowed_key(self, licence_id: int, private_key: bytes | None = None) -> tuple[bytes, bytes]:
        """(content key, key commitment) of the escrowed delivery, checked against the commitment it was
        bound to. A wrong key raises IntegrityError: prove it with `datalicense dispute`."""
        escrowed = [d for d in self.reader.deliveries(licence_id) if d.escrowed]
        if not escrowed:
            info = self.reader.licence(licence_id)
            raise ChainError(
                f"licence {licence_id} has no key delivery yet (state {info.state}): wait for the seller's agent, "
                "or claim a refund with `datalicense refund` after the delivery deadline"
            )
        d = escrowed[0]
        content_key, _ = self._open_delivery(licence_id, d, self.reader.delivery_keys(licence_id), private_key)
        if keccak(content_key) != d.key_hash:
            raise IntegrityError(
                f"the key delivered for licence {licence_id} does not open its commitment: prove it with "
                f"`datalicense dispute {licence_id}` (one transaction; you are refunded at once)"
            )
        return content_key, d.key_hash

    def opened(self, licence_id: int, private_key: bytes | None = None,
               info: LicenceInfo | None = None) -> tuple[bytes, rule.Target]:
        """(content key, target) of what this licence fetches: its escrowed delivery, bound to the version bought
        (always opened and checked first: a wrong key raises, to be proved with a key dispute), or once settled the
        newest delivery of a newer version of its own dataset whose key opens that version's commitment. Which
        delivery opens which version is datalicense.protocol.delivery's rule (the page's too)."""
        reader = self.reader
        info = info or reader.licence(licence_id)
        raw = reader.deliveries(licence_id)
        if not any(d.escrowed for d in raw):
            raise ChainError(
                f"licence {licence_id} has no key delivery yet (state {info.state}): wait for the seller's agent, "
                "or claim a refund with `datalicense refund` after the delivery deadline"
            )
        versions = reader.dataset_versions(info.dataset_id)
        found = rule.targets(info.state, info.dataset_id, info.version, versions,
                             [rule.Delivery(d.escrowed, d.block, d.log_index, d.key_hash) for d in raw])
        keys = reader.delivery_keys(licence_id)
        escrowed = found[-1]
        content_key, _ = self._open_delivery(licence_id, raw[escrowed.index], keys, private_key)
        try:
            rule.check_key(content_key, escrowed.version)
        except DeliveryError as exc:
            raise DeliveryError(exc.code, f"the key delivered for licence {licence_id} does not open its commitment: "
                                          f"prove it with `datalicense dispute {licence_id}` (one transaction; you "
                                          "are refunded at once)") from exc
        for t in found[:-1]:
            try:
                k, _ = self._open_delivery(licence_id, raw[t.index], keys, private_key)
                rule.check_key(k, t.version)
            except (ConfigError, keywrap.KeyWrapError, DeliveryError):
                continue  # a junk delivery, or one to a key this wallet did not name
            return k, t
        return content_key, escrowed

    def unwrap(self, licence_id: int, private_key: bytes | None = None) -> tuple[bytes, bytes]:
        """(content key, key commitment) of the newest version this licence has a good key for."""
        content_key, target = self.opened(licence_id, private_key)
        return content_key, bytes.fromhex(target.version.key_hash[2:])

    # -------------------------------------------------------------------------------------------- fetch

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
        output_path(out, "")  # a missing folder is refused before anything is fetched
        info = self._usable_licence(licence_id, private_key)
        content_key, target = self.opened(licence_id, private_key, info)
        version = target.version
        manifest = parse(self.conn.storage.cat_bytes(version.manifest_cid))
        rule.check_manifest(version, manifest.plaintext_sha256, manifest.recipient, agecrypt.recipient_of(content_key))
        dest = dataset_output(out, info.dataset_id, version.number, manifest.media_type)  # the rule `get` uses
        cleanup_partials(dest)  # leftovers of an interrupted fetch
        if on_start is not None:
            on_start()
        size, digest = self._download_verified(manifest, version, content_key, dest)
        shared = rule.reused_commitments(info.dataset_id, self.reader.dataset_versions(info.dataset_id)).get(
            version.number, ())
        confirmed = None
        if confirm and info.holder == self.conn.tx.account.address and rule.may_confirm(info.state, target,
                                                                                       info.version):
            confirmed = self.confirm(licence_id).tx_hash
        return FetchResult(licence_id, str(dest), size, digest, confirmed, list(shared), version.number)

    def _usable_licence(self, licence_id: int, private_key: bytes | None) -> LicenceInfo:
        """The licence, refused in one line unless this account holds it (or brings its delivery key) and it gives
        access: pending (its key may be delivered), or delivered or settled and not expired."""
        info = self.reader.licence(licence_id)
        me = self.conn.tx.account.address
        if info.holder != me and private_key is None:
            raise ConfigError(f"licence {licence_id} is held by {info.holder}, not {me}: use that account (--account)")
        if info.state not in ("Delivered", "Settled", "Pending"):
            raise NotAllowedNowError(f"licence {licence_id} is {info.state}: it gives no access to the data")
        if info.state in ("Delivered", "Settled") and not info.valid:
            raise NotAllowedNowError(f"licence {licence_id} expired at {local_time(info.expires_at)}: buy a new one")
        return info

    def _download_verified(self, manifest: Any, version: Any, content_key: bytes, dest: Path) -> tuple[int, str]:
        """(plaintext size, sha256 hex) of the ciphertext streamed, decrypted and checked into `dest`. The ciphertext
        is read against the size the manifest promises, through the temporary file's own descriptor; `dest` appears
        only when everything matched."""
        storage = self.conn.storage
        with atomic_output(dest) as fout:
            with storage.open_stream(manifest.ciphertext_cid, exact_size=manifest.ciphertext_size) as stream:
                size, digest = decrypt_verify(
                    _Counting(stream, self.conn.progress("download+decrypt", manifest.ciphertext_size)), fout,
                    content_key)
            rule.check_plaintext(version, digest.hex(), size, manifest.plaintext_size)
        return size, digest.hex()

    def get(self, url: str, out: str | Path, policy: Any, confirm: bool = True) -> Any:
        """Fetch a dataset from a seller's HTTP 402 gateway, paying through escrow within `policy` (a
        datalicense.roles.paying.SpendingPolicy); verified like `fetch`. See datalicense/roles/paying.py."""
        from datalicense.roles.paying import get  # start-up: paying loads x402 and httpx, only `get` needs them

        return get(self, url, out, policy, confirm=confirm)

    # ----------------------------------------------------------------------------------- after delivery

    def confirm(self, licence_id: int) -> Receipt:
        return self.conn.tx.send(self.conn.contract.functions.confirm(licence_id), what="confirm")

    def settle(self, licence_id: int) -> Receipt:
        return self.conn.tx.send(self.conn.contract.functions.settle(licence_id), what="settle")

    def key_dispute_call(self, licence_id: int, private_key: bytes | None = None) -> tuple[Any, bool]:
        """(the disputeKey call, whether the delivered key is right). The buyer's proof: the one-time key p of the
        escrowed delivery, and that delivery; the contract recomputes K' from them."""
        escrowed = [d for d in self.reader.deliveries(licence_id) if d.escrowed]
        if not escrowed:
            raise ChainError(f"licence {licence_id} has no key delivery to dispute")
        d = escrowed[0]
        content_key, p = self._open_delivery(licence_id, d, self.reader.delivery_keys(licence_id), private_key)
        w = d.wrap
        call = self.conn.contract.functions.disputeKey(licence_id, p, (w.r_x, w.r_y, w.wrapped_key, d.key_hash))
        return call, keccak(content_key) == d.key_hash

    def dispute(self, licence_id: int, data: bool = False, private_key: bytes | None = None,
                on_send: Callable[[str], None] | None = None) -> Receipt:
        """A key dispute proves a wrong key in one transaction (refunded at once); it is refused when the key is
        right (it would settle the sale to the seller). A data dispute posts the licence's bond for the arbiter."""
        conn = self.conn
        if data:
            lic = conn.market.licence(licence_id)
            bond = conn.market.settings(lic.settings_id).dispute_bond
            fn = conn.contract.functions.disputeData(licence_id)
            conn.tx.simulate(fn, bond, "data dispute")  # first: a dispute that would revert is not sent
            if on_send is not None:
                on_send(f"licence {licence_id}: posting the data-dispute bond of "
                        f"{self.reader.amount_text(bond, ZERO)}; the arbiter splits the price (after 14 days without "
                        "a ruling the sale stands and the bond comes back)")
            return conn.tx.send(fn, value=bond, what="data dispute")
        call, key_correct = self.key_dispute_call(licence_id, private_key)
        if key_correct:
            raise ChainError(
                f"the key delivered for licence {licence_id} is right: a key dispute would settle the sale to the "
                "seller, so it was not sent (if the data is not as described, use `datalicense dispute --data`)"
            )
        conn.tx.simulate(call, what="key dispute")  # first: a dispute that would revert or settle is never sent
        if on_send is not None:
            on_send(f"licence {licence_id}: the delivered key does not open its commitment; the proof refunds you in "
                    "this one transaction")
        return conn.tx.send(call, what="key dispute")

    def refund(self, licence_id: int) -> Receipt:
        return self.conn.tx.send(self.conn.contract.functions.refund(licence_id), what="refund")


class _Counting:
    """A stream that reports how much was read through it."""

    def __init__(self, src: Any, tick: Callable[[int], None]):
        self.src = src
        self.tick = tick

    def read(self, n: int = -1) -> bytes:
        chunk = self.src.read(n)
        self.tick(len(chunk))
        return chunk

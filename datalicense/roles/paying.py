"""Paying per request over HTTP 402 (x402 v2 shapes), backed by the marketplace's escrow.

The scheme, "datalicense-escrow", is this project's own: the buyer submits the purchase itself (no facilitator
holds funds), naming the terms and version the offer's `extra` carries; the money sits in escrow until the key
is delivered and checked. The proof of payment the buyer then sends is the licence id and an EIP-191 signature
by the licence holder over the request (method, path), the chain, the contract, a fresh nonce and a timestamp.

    from datalicense import Client
    from datalicense.roles.paying import SpendingPolicy
    dl = Client.connect("local", account="dev:4")
    policy = SpendingPolicy.rbtc(per_request="0.002", per_day="0.01", total="0.05")
    result = dl.buyer.get("http://127.0.0.1:8402/datasets/1", "data.csv", policy)

What `get` may spend and did spend (the policy, the ledger under the connection's state folder, the purchase under
the ledger's lock, refunds of licences whose seller did not deliver before the deadline, claimed at the start of
the next `get` and by `datalicense refunds`) is datalicense/roles/spending.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from x402 import x402ClientSync
from x402.http.constants import PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER
from x402.schemas import AssetAmount, PaymentPayload, PaymentRequired, PaymentRequirements

from datalicense.protocol import age as agecrypt
from datalicense.infra.chain import normalize_address
from datalicense.errors import ChainError, DataLicenseError, IntegrityError, PolicyError, StorageError
from datalicense.protocol.manifest import Manifest, parse
from datalicense.protocol.records import State, TermsFlag
from datalicense.protocol import delivery as rule
from datalicense.protocol.offer import bind_offer
from datalicense.roles.spending import Caps, Ledger, RefundRow, SpendingPolicy, licence_for, refunds
from datalicense.infra.safefile import atomic_output, cleanup_partials, dataset_output, output_path
from datalicense.protocol.textsafe import escape

if TYPE_CHECKING:
    from datalicense.roles.buyer import Buyer
    from datalicense.infra.connection import Connection
    from datalicense.protocol.results import LicenceInfo

SCHEME = "datalicense-escrow"
PROOF_WINDOW = 120  # seconds a proof's timestamp may differ from the gateway's clock
MAX_OFFER_BYTES = 64 * 1024  # a 402 body the client reads at most
MAX_PROOF_HEADER = 4096  # an encoded proof header the gateway reads at most
MANIFEST_HEADER = "Datalicense-Manifest"
VERSION_HEADER = "Datalicense-Version"


class PaymentError(DataLicenseError):
    """The gateway refused a proof, or answered something the client cannot use."""


def network_id(chain_id: int) -> str:
    """The CAIP-2 id of an EVM chain (Rootstock mainnet eip155:30, testnet eip155:31, local eip155:33)."""
    return f"eip155:{chain_id}"


# ---------------------------------------------------------------------------------------------- the proof


def proof_message(method: str, path: str, chain_id: int, contract: str, licence_id: int, nonce: str,
                  timestamp: int) -> str:
    """The text a licence holder signs (EIP-191) to prove payment for one request."""
    return (
        "datalicense x402 proof\n"
        f"method: {method.upper()}\npath: {path}\nchain: {chain_id}\ncontract: {normalize_address(contract)}\n"
        f"licence: {licence_id}\nnonce: {nonce}\ntimestamp: {timestamp}"
    )


def sign_proof(account: Any, method: str, path: str, chain_id: int, contract: str, licence_id: int) -> dict[str, Any]:
    nonce, ts = secrets.token_hex(16), int(time.time())
    msg = proof_message(method, path, chain_id, contract, licence_id, nonce, ts)
    sig = account.sign_message(encode_defunct(text=msg)).signature
    return {"licenceId": str(licence_id), "nonce": nonce, "timestamp": ts, "signer": account.address,
            "signature": "0x" + bytes(sig).hex()}


def recover_proof(proof: dict[str, Any], method: str, path: str, chain_id: int, contract: str) -> tuple[int, str]:
    """(licence id, signer) of a well-formed proof; ValueError with the reason otherwise."""
    try:
        lid = int(str(proof["licenceId"]))
        nonce, ts, sig = str(proof["nonce"]), int(proof["timestamp"]), str(proof["signature"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("malformed proof: needs licenceId, nonce, timestamp and signature") from exc
    if not (0 < lid < 2**64) or not (8 <= len(nonce) <= 64) or not all(c in "0123456789abcdef" for c in nonce):
        raise ValueError("malformed proof: bad licence id or nonce (8-64 lowercase hex digits)")
    if abs(time.time() - ts) > PROOF_WINDOW:
        raise ValueError(f"stale proof: its timestamp is more than {PROOF_WINDOW} s from the gateway's clock")
    try:
        raw = bytes.fromhex(sig.removeprefix("0x"))
        if len(raw) != 65:
            raise ValueError
        signer = Account.recover_message(encode_defunct(text=proof_message(method, path, chain_id, contract, lid,
                                                                           nonce, ts)), signature=raw)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the same bad signature
        raise ValueError("bad signature") from exc
    return lid, normalize_address(signer)


def encode_header(model: Any) -> str:
    return base64.b64encode(model.model_dump_json(by_alias=True, exclude_none=True).encode()).decode()


def decode_payment(header: str) -> PaymentPayload:
    if len(header) > MAX_PROOF_HEADER:
        raise ValueError(f"proof header longer than {MAX_PROOF_HEADER} characters")
    try:
        return PaymentPayload.model_validate_json(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("malformed PAYMENT-SIGNATURE header (base64 JSON of an x402 v2 PaymentPayload)") from exc


# -------------------------------------------------------------------------------- the scheme, both sides


class EscrowSchemeServer:
    """Server side of the scheme, shaped as x402's SchemeNetworkServer (scheme, parse_price,
    enhance_payment_requirements). The SDK's resource server is not used: it verifies and settles through a
    facilitator, and here there is nothing to settle (the buyer's own purchase did) and verification is reading
    the licence on chain, which the gateway does itself."""

    scheme = SCHEME
    default_asset_transfer_method = "default"
    payment_flows = {"default": {"supported": ["escrow"], "default": "escrow"}}

    def __init__(self, conn: "Connection"):
        self.conn = conn

    def parse_price(self, price: Any, network: str) -> AssetAmount:
        if isinstance(price, AssetAmount):
            return price
        raise ValueError("prices come from the chain: pass an AssetAmount")

    def enhance_payment_requirements(self, requirements: PaymentRequirements, supported_kind: Any = None,
                                     extensions: Any = None) -> PaymentRequirements:
        return requirements

    def requirements(self, dataset_id: int) -> PaymentRequirements:
        """The offer of a dataset now, as the chain has it; ValueError if it is not on sale."""
        offer = self.conn.market.offer(dataset_id)
        if not offer.dataset.exists:
            raise LookupError(f"dataset {dataset_id} does not exist")
        t = offer.terms
        if t.flags & (TermsFlag.PAUSED | TermsFlag.RETIRED):
            raise LookupError(f"dataset {dataset_id} is not on sale ({t.status})")
        amount = self.parse_price(AssetAmount(amount=str(offer.price), asset=offer.asset),
                                  network_id(self.conn.chain_id))
        req = PaymentRequirements(
            scheme=SCHEME, network=network_id(self.conn.chain_id), asset=amount.asset, amount=amount.amount,
            pay_to=self.conn.address, max_timeout_seconds=int(t.delivery_window),
            extra={"datasetId": str(dataset_id), "termsId": str(offer.terms_id), "version": str(offer.version),
                   "settingsId": str(offer.settings_id), "seller": offer.dataset.owner, "durationSeconds": t.duration,
                   "transferable": bool(t.flags & TermsFlag.TRANSFERABLE), "deliveryWindowSeconds": t.delivery_window,
                   "proof": "EIP-191 signature by the licence holder; see datalicense.roles.paying.proof_message"},
        )
        return self.enhance_payment_requirements(req)


class EscrowSchemeClient:
    """Client side of the scheme, registered with x402's client (SchemeNetworkClient): `create_payment_payload`
    returns the proof for a licence this wallet already bought (the purchase itself is made before, once the
    spending policy accepted the offer)."""

    scheme = SCHEME

    def __init__(self, buyer: "Buyer", licence_id: int, method: str, path: str):
        self.buyer, self.licence_id, self.method, self.path = buyer, licence_id, method, path

    def create_payment_payload(self, requirements: PaymentRequirements, context: Any = None) -> dict[str, Any]:
        conn = self.buyer.conn
        return sign_proof(conn.tx.account, self.method, self.path, conn.chain_id, conn.address, self.licence_id)


def payment_payload(buyer: "Buyer", required: PaymentRequired, licence_id: int, method: str,
                    path: str) -> PaymentPayload:
    """The x402 PaymentPayload carrying a fresh proof, made through the SDK's client with our scheme registered."""
    x = x402ClientSync().set_spend_controls(False)
    x.register(network_id(buyer.conn.chain_id), EscrowSchemeClient(buyer, licence_id, method, path))
    mine = PaymentRequired(x402_version=2, accepts=[_ours(buyer, required)], resource=required.resource)
    return x.create_payment_payload(mine)


def _ours(buyer: "Buyer", required: PaymentRequired) -> PaymentRequirements:
    for req in required.accepts:
        if req.scheme == SCHEME and req.network == network_id(buyer.conn.chain_id):
            if normalize_address(req.pay_to, buyer.conn.chain_id) != buyer.conn.address:
                raise PolicyError(f"the offer pays {req.pay_to}, not the marketplace {buyer.conn.address}: refused")
            return req
    raise PolicyError(f"the server offers no {SCHEME} payment on {network_id(buyer.conn.chain_id)}: refused")


# ------------------------------------------------------------------------------------------------- get


@dataclass
class GetResult:
    path: str
    licence_id: int
    dataset_id: int
    version: int
    paid: int
    asset: str
    bought: bool
    size: int
    sha256: str
    confirmed_tx: str | None
    refunded: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_bounded(resp: httpx.Response, limit: int) -> bytes:
    body = b""
    for chunk in resp.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise PaymentError(f"the server's answer is larger than {limit} bytes: refused")
    return body


def offer_from(resp: httpx.Response) -> PaymentRequired:
    """The x402 v2 PaymentRequired of a 402 answer (body, or the PAYMENT-REQUIRED header)."""
    try:
        header = resp.headers.get(PAYMENT_REQUIRED_HEADER)
        raw = base64.b64decode(header) if header else _read_bounded(resp, MAX_OFFER_BYTES)
        return PaymentRequired.model_validate_json(raw)
    except (ValueError, binascii.Error) as exc:
        raise PaymentError(f"the 402 answer is not an x402 v2 offer ({type(exc).__name__})") from exc


def _reason(resp: httpx.Response) -> str:
    try:
        body = json.loads(_read_bounded(resp, MAX_OFFER_BYTES))
        return str(body.get("error") or body.get("reason") or resp.reason_phrase)
    except (ValueError, PaymentError, AttributeError):
        return resp.reason_phrase


def get(buyer: "Buyer", url: str, out: str | Path, policy: SpendingPolicy, confirm: bool = True,
        http: httpx.Client | None = None, timeout: float = 60.0) -> GetResult:
    """Fetch a dataset from a seller's gateway, paying through escrow when the policy accepts the offer."""
    output_path(out, "")  # the output rule, before anything is paid: a folder that is missing or not writable
    own = http is None
    http = http or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        refunded = [r.licence_id for r in refunds(buyer) if r.claimed_tx]  # money stranded by an earlier run
        path = urlsplit(url).path
        with http.stream("GET", url) as resp:
            if resp.status_code != 402:
                raise PaymentError(f"{url} answered {resp.status_code} {escape(_reason(resp))}, not 402 with an offer")
            required = offer_from(resp)
        req = _ours(buyer, required)
        dataset_id = bind_offer(path, req.extra)
        ledger = Ledger(buyer)
        lid, bought = licence_for(buyer, policy, req, dataset_id, url)  # reused if held, else bought within the caps
        key, target, info = _await_key(buyer, lid, policy.delivery_timeout)
        version = target.version  # the version this delivery opens (datalicense.protocol.delivery), never a lookup
        payload = payment_payload(buyer, required, lid, "GET", path)
        with http.stream("GET", url, params={"version": str(version.number)},
                         headers={PAYMENT_SIGNATURE_HEADER: encode_header(payload)}) as resp:
            if resp.status_code != 200:
                raise PaymentError(f"the gateway refused licence {lid}: {resp.status_code} {escape(_reason(resp))}")
            dest, size, digest = _verify_into(version, lid, key, resp, out)
        ledger.mark(lid, delivered=True)
        mine = info.holder == buyer.conn.tx.account.address
        confirmed = buyer.confirm(lid).tx_hash if confirm and mine and rule.may_confirm(info.state, target,
                                                                                        info.version) else None
        entry = ledger.entry(lid)
        return GetResult(str(dest), lid, dataset_id, version.number, entry.amount if bought and entry else 0,
                         normalize_address(req.asset), bought, size, digest, confirmed, refunded)
    except httpx.HTTPError as exc:
        raise PaymentError(f"cannot talk to {url}: {type(exc).__name__}") from exc
    finally:
        if own:
            http.close()


def _await_key(buyer: "Buyer", lid: int, timeout: float) -> tuple[bytes, rule.Target, "LicenceInfo"]:
    """(content key, what it opens, the licence) once the licence's key is delivered; bounded by `timeout`. A
    Delivered licence opens its escrowed delivery, bound to the version bought (what confirming pays for); a
    Settled one the newest good delivery of its own dataset (`Buyer.opened`)."""
    deadline, pause = time.monotonic() + timeout, 0.1
    while True:
        state = buyer.conn.market.licence(lid).state
        if state in (State.DELIVERED, State.SETTLED):
            info = buyer.reader.licence(lid)
            return (*buyer.opened(lid, info=info), info)
        if state != State.PENDING:
            raise ChainError(f"licence {lid} is {state.label}: it gives no access to the data")
        if time.monotonic() > deadline:
            raise ChainError(
                f"no key delivered for licence {lid} within {timeout:.0f} s: it is refunded automatically after its "
                "delivery deadline at the next run (or `datalicense refunds`)"
            )
        time.sleep(pause)
        pause = min(pause * 1.5, 2.0)  # prompt on a local chain, gentle on a 30 s block time


def _verify_into(version: rule.Version, lid: int, key: bytes, resp: httpx.Response,
                 out: str | Path) -> tuple[Path, int, str]:
    """The checks of `Buyer.fetch` (datalicense.protocol.delivery) on what the server sent: the manifest is the one
    the chain records for the version and names the key's recipient, the ciphertext has the manifest's size, the
    plaintext the on-chain hash; the file (`-o` by fetch's rule, `dataset_output`) appears only then. The server's
    word on the version is never used. (path written, size, sha256 hex)"""
    try:
        raw = base64.b64decode(resp.headers.get(MANIFEST_HEADER, ""), validate=True)
        rule.check_manifest_bytes(version, raw)
        manifest: Manifest = parse(raw)
    except (binascii.Error, ValueError) as exc:
        raise IntegrityError(f"the server sent no readable manifest for dataset {version.dataset_id}") from exc
    rule.check_manifest(version, manifest.plaintext_sha256, manifest.recipient, agecrypt.recipient_of(key))
    dest = dataset_output(out, version.dataset_id, version.number, manifest.media_type)
    cleanup_partials(dest)
    with atomic_output(dest) as fout:
        size, digest = agecrypt.decrypt_stream(_Exact(resp, manifest.ciphertext_size), fout, key)
        rule.check_plaintext(version, digest.hex(), size, manifest.plaintext_size)
    return dest, size, digest.hex()


class _Exact:
    """A reader over an httpx response body that must be exactly `size` bytes."""

    def __init__(self, resp: httpx.Response, size: int):
        self.it, self.left, self.buf = resp.iter_raw(1 << 18), size, b""

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self.buf) < n) and self.left >= 0:
            chunk = next(self.it, None)
            if chunk is None:
                if self.left > 0:
                    raise StorageError(f"the gateway's ciphertext ended {self.left} bytes short")
                self.left = -1
                break
            self.left -= len(chunk)
            if self.left < 0:
                raise StorageError("the gateway sent more ciphertext than the manifest promises")
            self.buf += chunk
        out, self.buf = (self.buf, b"") if n < 0 else (self.buf[:n], self.buf[n:])
        return out


# ------------------------------------------------------------------------------------------ httpx hook


class PayingAuth(httpx.Auth):
    """An httpx auth hook: a 402 from a datalicense gateway is paid within the policy (the purchase and the key
    wait happen here) and the request is retried with the proof. The response body is the *ciphertext*; use
    `Buyer.get` to have it verified and decrypted."""

    def __init__(self, buyer: "Buyer", policy: SpendingPolicy):
        self.buyer, self.policy = buyer, policy

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        resp = yield request
        if resp.status_code != 402:
            return
        resp.read()
        required = offer_from(resp)
        req = _ours(self.buyer, required)
        lid, _ = licence_for(self.buyer, self.policy, req, bind_offer(request.url.path, req.extra), str(request.url))
        payload = payment_payload(self.buyer, required, lid, request.method, request.url.path)
        request.headers[PAYMENT_SIGNATURE_HEADER] = encode_header(payload)
        yield request


__all__ = ["SCHEME", "SpendingPolicy", "Caps", "Ledger", "RefundRow", "PolicyError", "PaymentError", "get", "refunds",
           "PayingAuth", "EscrowSchemeServer", "EscrowSchemeClient", "proof_message", "network_id",
           "PAYMENT_RESPONSE_HEADER"]

"""What `get` may spend, and what it spent: the spending policy (checked before anything is signed), the ledger
of purchases per account in the home folder, the purchase itself under the ledger's lock, and refunds of
licences whose seller never delivered.

Parallel `get`s from one home (several processes of an AI pipeline) share the ledger: the policy check, a
reservation written before the purchase is sent, the purchase and its record run under one file lock, so each
sees what the others spent, and a dataset one of them bought is reused by the others. A reservation left by a run
that died mid-purchase names the nonce its purchase was sent with: it keeps counting until that nonce is used on
chain (the purchase mined, or replaced), then the next run settles it (the licence it bought is recorded, or the
reservation dropped).

The ledger's file is JSON; each licence it holds is a `Paid` record and each reservation a `Reservation`, read and
written through them only (an older ledger's partial entries read as what they say: nothing paid).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterator

from datalicense.infra.chain import normalize_address, parse_amount
from datalicense.errors import PolicyError
from datalicense.protocol.addresses import ZERO, parse_address
from datalicense.protocol.records import State, TermsFlag
from datalicense.protocol.lifecycle import Action
from datalicense.infra.home import private_dir

if TYPE_CHECKING:
    from x402.schemas import PaymentRequirements

    from datalicense.roles.buyer import Buyer

DAY = 86400


@dataclass
class Caps:
    per_request: int | None = None
    per_day: int | None = None  # rolling 24 hours
    total: int | None = None


@dataclass
class SpendingPolicy:
    """What an agent may spend, checked before anything is signed. Amounts are in the asset's smallest unit;
    an offer in an asset without caps is refused."""

    caps: dict[str, Caps] = field(default_factory=dict)  # asset address (ZERO: RBTC) -> caps
    sellers: set[str] | None = None  # allowed dataset owners (None: any)
    datasets: set[int] | None = None  # allowed dataset ids (None: any)
    min_duration: int = 0  # seconds; 0 accepts any (a perpetual licence, duration 0, is always accepted)
    transferable: bool | None = None  # require (True) or refuse (False) transferable licences
    delivery_timeout: float = 120.0  # seconds to wait for the key after buying

    def __post_init__(self) -> None:
        """The allowed sellers are parsed here, by the one address rule: a mistyped checksum is refused now, in one
        line, not later inside `get`."""
        if self.sellers is not None:
            given = [self.sellers] if isinstance(self.sellers, str) else list(self.sellers)
            self.sellers = {parse_address(s) for s in given}

    @classmethod
    def rbtc(cls, per_request: str | None = None, per_day: str | None = None, total: str | None = None,
             **kw: Any) -> "SpendingPolicy":
        amt = lambda s: None if s is None else parse_amount(s, 18)  # noqa: E731
        return cls(caps={ZERO: Caps(amt(per_request), amt(per_day), amt(total))}, **kw)

    def check(self, buyer: "Buyer", req: "PaymentRequirements", ledger: "Ledger",
              data: dict[str, Any] | None = None) -> None:
        """Raise PolicyError with the reason if the offer is outside the policy (the chain's terms are read, not
        the server's word: they must agree with the offer too). `data`: the ledger as read under its lock."""
        dataset_id, terms_id, version = (int(req.extra[k]) for k in ("datasetId", "termsId", "version"))
        offer = buyer.conn.market.offer(dataset_id)
        asset, amount = normalize_address(req.asset, buyer.conn.chain_id), int(req.amount)
        if (offer.terms_id, offer.version, offer.price, offer.asset) != (terms_id, version, amount, asset):
            raise PolicyError(f"the offer for dataset {dataset_id} differs from the chain's terms, version or price: "
                              "refused")
        if self.datasets is not None and dataset_id not in self.datasets:
            raise PolicyError(f"dataset {dataset_id} is not in the allowed datasets: refused")
        allowed = None if self.sellers is None else {normalize_address(s, buyer.conn.chain_id) for s in self.sellers}
        if allowed is not None and offer.dataset.owner not in allowed:
            raise PolicyError(f"seller {offer.dataset.owner} is not in the allowed sellers: refused")
        t = offer.terms
        if self.min_duration and t.duration != 0 and t.duration < self.min_duration:
            raise PolicyError(f"the licence lasts {t.duration} s, under the minimum {self.min_duration} s: refused")
        transferable = bool(t.flags & TermsFlag.TRANSFERABLE)
        if self.transferable is not None and transferable != self.transferable:
            raise PolicyError(f"the licence is {'' if transferable else 'not '}transferable: refused by policy")
        caps = self.caps.get(asset) or self.caps.get(asset.lower())
        if caps is None:
            symbol = buyer.reader.amount_text(0, asset).split()[-1]
            raise PolicyError(f"no spending cap for asset {symbol} ({asset}): refused")
        text = lambda n: buyer.reader.amount_text(n, asset)  # noqa: E731
        if caps.per_request is not None and amount > caps.per_request:
            raise PolicyError(f"price {text(amount)} is above the per-request cap {text(caps.per_request)}: refused")
        day, total = ledger.spent(asset, since=time.time() - DAY, data=data), ledger.spent(asset, data=data)
        if caps.per_day is not None and day + amount > caps.per_day:
            raise PolicyError(f"price {text(amount)} would bring the last 24 h to {text(day + amount)}, above the "
                              f"daily cap {text(caps.per_day)}: refused")
        if caps.total is not None and total + amount > caps.total:
            raise PolicyError(f"price {text(amount)} would bring the total to {text(total + amount)}, above the "
                              f"total cap {text(caps.total)}: refused")


@dataclass(frozen=True)
class Paid:
    """A licence `get` bought, as the ledger keeps it (JSON keys as the fields)."""

    dataset: int
    amount: int  # the asset's smallest unit
    asset: str
    time: float  # unix seconds of the purchase
    url: str = ""
    tx: str | None = None
    delivered: bool = False
    refunded: bool = False
    settled_from: str | None = None  # the reservation of a run that died, when settled from the chain

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Paid":
        """An entry as written by any version: missing fields (a flag-only entry an older `get` wrote for a licence
        it reused) read as nothing paid."""
        return cls(int(raw.get("dataset", 0)), int(raw.get("amount", 0)), str(raw.get("asset", ZERO)),
                   float(raw.get("time", 0)), str(raw.get("url", "")), raw.get("tx"), bool(raw.get("delivered")),
                   bool(raw.get("refunded")), raw.get("settled_from"))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "amount": str(self.amount)}


@dataclass(frozen=True)
class Reservation:
    """A purchase being sent: counted against the caps until it becomes a `Paid` or is dropped. `nonce`: the
    account's next nonce when it was reserved (None in ledgers written before it was kept); `block`: the chain's
    height then, where its purchase log is looked for."""

    dataset: int
    amount: int
    asset: str
    time: float
    url: str
    block: int
    nonce: int | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Reservation":
        nonce = raw.get("nonce")
        return cls(int(raw["dataset"]), int(raw["amount"]), str(raw["asset"]), float(raw["time"]),
                   str(raw.get("url", "")), int(raw["block"]), None if nonce is None else int(nonce))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "amount": str(self.amount)}


class Ledger:
    """What this account paid through `get`, per licence (`Paid`), in the connection's state folder; reservations
    of purchases being sent (`Reservation`). Written under a file lock (concurrent agents sharing a home)."""

    def __init__(self, buyer: "Buyer"):
        self.path = buyer.conn.state_dir / "x402" / f"spending-{buyer.conn.tx.account.address.lower()}.json"

    @classmethod
    def at(cls, path: Path) -> "Ledger":
        """The ledger kept in the file `path` (to read one without a connection)."""
        ledger = cls.__new__(cls)
        ledger.path = path
        return ledger

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """The ledger, read under its lock and written back when the block ends without an error."""
        private_dir(self.path.parent)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.path)

    def read(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {"licences": {}}

    @staticmethod
    def paid(data: dict[str, Any]) -> dict[int, Paid]:
        """The licences of a ledger read (`read`, `locked`), by id."""
        return {int(lid): Paid.from_json(e) for lid, e in data["licences"].items()}

    @staticmethod
    def reserved(data: dict[str, Any]) -> dict[str, Reservation]:
        return {key: Reservation.from_json(r) for key, r in data.get("reserved", {}).items()}

    def entry(self, licence_id: int) -> Paid | None:
        return self.paid(self.read()).get(licence_id)

    def spent(self, asset: str, since: float = 0, data: dict[str, Any] | None = None) -> int:
        """Paid in `asset` since `since` (licences not refunded, and purchases reserved)."""
        data = self.read() if data is None else data
        paid = [(p.amount, p.asset, p.time) for p in self.paid(data).values() if not p.refunded]
        held = [(r.amount, r.asset, r.time) for r in self.reserved(data).values()]
        return sum(amount for amount, a, t in paid + held if a == asset and t >= since)

    def mark(self, licence_id: int, delivered: bool | None = None, refunded: bool | None = None) -> None:
        """Set the flags of a licence `get` bought; a licence the ledger does not hold (reused, bought elsewhere) is
        left out: the ledger is what `get` paid."""
        with self.locked() as data:
            old = self.paid(data).get(licence_id)
            if old is None:
                return
            new = replace(old, delivered=old.delivered if delivered is None else delivered,
                          refunded=old.refunded if refunded is None else refunded)
            data["licences"][str(licence_id)] = new.to_json()

    def settle_stale(self, buyer: "Buyer", data: dict[str, Any]) -> None:
        """Reservations found under the lock belong to runs that died mid-purchase (a live run holds the lock until
        its reservation becomes a record). One whose nonce the chain has not used yet may still be mined: it stays
        and keeps counting. The others are settled: the licences they bought are recorded, from the chain, and the
        reservation dropped."""
        conn = buyer.conn
        me = conn.tx.account.address
        used = conn.w3.eth.get_transaction_count(me, "latest")  # nonces below this are mined (ours or replaced)
        for key, r in self.reserved(data).items():
            if r.nonce is not None and r.nonce >= used:
                continue
            logs = conn.contract.events.LicencePurchased().get_logs(
                from_block=r.block, argument_filters={"datasetId": r.dataset, "licensee": me})
            for log in logs:
                lid = str(int(log["args"]["licenceId"]))
                if lid not in data["licences"] and log["args"]["payer"] == me:
                    data["licences"][lid] = Paid(r.dataset, int(log["args"]["price"]), r.asset, r.time, r.url,
                                                 log["transactionHash"].to_0x_hex(), settled_from=key).to_json()
            del data["reserved"][key]


def licence_for(buyer: "Buyer", policy: SpendingPolicy, req: "PaymentRequirements", dataset_id: int,
                url: str) -> tuple[int, bool]:
    """(licence id, bought): a licence the wallet holds for the dataset (reused, whoever bought it), else one bought
    within the policy. The check, a reservation written before anything is sent, the purchase and its record run
    under the ledger's lock; on failure the reservation is released."""
    lid = buyer.held(dataset_id)
    if lid is not None:
        return lid, False
    ledger = Ledger(buyer)
    with ledger.locked() as data:
        ledger.settle_stale(buyer, data)
        lid = buyer.held(dataset_id)  # bought by a parallel run while this one waited for the lock
        if lid is not None:
            return lid, False
        policy.check(buyer, req, ledger, data)  # nothing is signed before this
        asset, key = normalize_address(req.asset, buyer.conn.chain_id), f"{os.getpid()}-{time.time_ns()}"
        w3, me = buyer.conn.w3, buyer.conn.tx.account.address
        data.setdefault("reserved", {})[key] = Reservation(  # the purchase is sent with the next nonce (`Transactor`)
            dataset_id, int(req.amount), asset, time.time(), url, w3.eth.block_number,
            w3.eth.get_transaction_count(me, "pending")).to_json()
        ledger._write(data)  # on disk before the purchase is sent: a run that dies now still counts it
        try:
            settings = str(req.extra.get("settingsId", ""))  # the platform fee and bond the offer was made under
            res = buyer.buy(dataset_id, max_price=int(req.amount), terms_id=int(req.extra["termsId"]),
                            version=int(req.extra["version"]), again=True,  # `held` was asked under the lock
                            settings_id=int(settings) if settings.isdigit() else None)
        except BaseException:
            del data["reserved"][key]
            ledger._write(data)
            raise
        del data["reserved"][key]
        data["licences"][str(res.licence_id)] = Paid(dataset_id, int(res.price), asset, time.time(), url,
                                                     res.tx_hash).to_json()
    return res.licence_id, True


# ---------------------------------------------------------------------------------------------- refunds


@dataclass
class RefundRow:
    licence_id: int
    dataset_id: int
    state: str
    deadline: int
    claimable: bool
    claimed_tx: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def refunds(buyer: "Buyer", claim: bool = True, licence_ids: list[int] | None = None) -> list[RefundRow]:
    """This account's pending licences (the ids given, else every pending licence it holds and those `get` bought)
    with their delivery deadline (the licence clock's); those past it are refunded when `claim`."""
    ledger = Ledger(buyer)
    if licence_ids is None:  # those `get` bought (its ledger) and every other pending licence held (bought by `buy`)
        held = {i.licence_id for i in buyer.reader.licences() if i.state == State.PENDING.label}
        licence_ids = sorted(held | {i for i, p in Ledger.paid(ledger.read()).items()
                                     if not p.refunded and not p.delivered})
    ids = licence_ids
    now = buyer.conn.market.now()
    rows = []
    known = Ledger.paid(ledger.read())
    for lid in ids:
        lic = buyer.conn.market.licence(lid)
        if lic.state != State.PENDING:
            if lid in known and lic.state != State.NONE:  # settled elsewhere: no longer a candidate
                ledger.mark(lid, delivered=lic.state != State.REFUNDED, refunded=lic.state == State.REFUNDED)
            continue
        t = buyer.conn.market.terms(lic.terms_id)
        clock = buyer.conn.market.clock(lid, lic)
        row = RefundRow(lid, t.dataset_id, lic.state.label, clock.deliver_by or 0, clock.may(Action.REFUND, now))
        if claim and row.claimable:
            row.claimed_tx = buyer.refund(lid).tx_hash
            row.state = State.REFUNDED.label
            if lid in known:
                ledger.mark(lid, refunded=True)
        rows.append(row)
    return rows


__all__ = ["Caps", "SpendingPolicy", "Ledger", "Paid", "Reservation", "licence_for", "RefundRow", "refunds", "PolicyError"]

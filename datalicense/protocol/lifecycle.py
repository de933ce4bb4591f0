"""The licence clock: every deadline of a licence and every action its state allows, computed in one place.

The CLI (`licences`, `resolve-default`, `refunds`), the page's API, the HTTP 402 client (`get`), the delivery
agent and the market's reads ask this module; nothing else in the package adds a window to a stamp
(tests/test_clock_policy.py greps for it). Pure: no I/O. The caller reads the licence, its terms, its dispute and
the contract's own windows (`Market.clock`), and the chain's time (the latest block's timestamp, which is what
the contract compares with).

The rules restated from contracts/DataLicense.sol (`now` is block.timestamp; `stamp` is the purchase time while
Pending, the delivery time while Delivered and DataDisputed, the delivery time plus any time spent in a dispute
ruled for the seller once Settled, the time of the refund or ruling once Refunded or Resolved):

| state        | action          | who          | when                                           |
|--------------|-----------------|--------------|------------------------------------------------|
| Pending      | deliver         | agent, owner | now <= stamp + deliveryWindow                  |
| Pending      | refund          | anyone       | now >  stamp + deliveryWindow                  |
| Delivered    | confirm         | holder       | any time                                       |
| Delivered    | dispute (key)   | holder       | now <= stamp + disputeWindow                   |
| Delivered    | dispute (data)  | holder       | now <= stamp + disputeWindow, and still valid  |
| Delivered    | settle          | anyone       | now >  stamp + disputeWindow                   |
| DataDisputed | rule            | arbiter      | any time                                       |
| DataDisputed | resolve-default | anyone       | now >  disputeOpened + ARBITER_WINDOW          |
| Settled      | redeliver       | agent, owner | while valid                                    |
| Delivered, Settled, DataDisputed | rotate key | holder | any time                               |
| Settled      | transfer        | holder       | transferable terms                             |

Valid: Delivered or Settled, and perpetual (duration 0) or now < stamp + duration. The arbiter's window counts from
the dispute, never from the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class State(IntEnum):
    """IDataLicense.State."""

    NONE = 0
    PENDING = 1
    DELIVERED = 2
    SETTLED = 3
    DATA_DISPUTED = 4
    REFUNDED = 5
    RESOLVED = 6

    @property
    def label(self) -> str:
        return {State.DATA_DISPUTED: "DataDisputed"}.get(self, self.name.capitalize())


class Action(Enum):
    """What can be done to a licence (the contract function in the value)."""

    DELIVER = "deliverKey"
    REFUND = "refund"
    CONFIRM = "confirm"
    DISPUTE_KEY = "disputeKey"
    DISPUTE_DATA = "disputeData"
    SETTLE = "settle"
    RULE = "resolveData"
    RESOLVE_DEFAULT = "resolveDataByDefault"
    REDELIVER = "redeliverKey"
    ROTATE_KEY = "rotateDeliveryKey"
    TRANSFER = "transferFrom"


class Role(Enum):
    """Who may take an action."""

    HOLDER = "holder"
    DELIVERER = "deliverer"  # the dataset's owner or its agent
    ARBITER = "arbiter"
    ANYONE = "anyone"


#: Who may take each action (the contract checks the caller; the clock checks the state and the time).
WHO: dict[Action, Role] = {
    Action.DELIVER: Role.DELIVERER, Action.REFUND: Role.ANYONE, Action.CONFIRM: Role.HOLDER,
    Action.DISPUTE_KEY: Role.HOLDER, Action.DISPUTE_DATA: Role.HOLDER, Action.SETTLE: Role.ANYONE,
    Action.RULE: Role.ARBITER, Action.RESOLVE_DEFAULT: Role.ANYONE, Action.REDELIVER: Role.DELIVERER,
    Action.ROTATE_KEY: Role.HOLDER, Action.TRANSFER: Role.HOLDER,
}


@dataclass(frozen=True)
class Windows:
    """The contract's own constants (read from the deployed contract, never copied into Python)."""

    arbiter_window: int


@dataclass(frozen=True)
class Deadline:
    """The next time that matters for a licence: `label` says what happens then (`at` is a unix time, 0: none)."""

    label: str
    at: int


@dataclass(frozen=True)
class LicenceClock:
    """One licence's deadlines, from its record (state, stamp), its terms, its dispute and the contract's windows.
    A deadline that does not apply in the licence's state is None."""

    state: State
    stamp: int
    delivery_window: int
    dispute_window: int
    duration: int
    dispute_opened: int
    windows: Windows
    transferable: bool = False

    # ------------------------------------------------------------------------------------- deadlines

    @property
    def deliver_by(self) -> int | None:
        """Last second a delivery is accepted (Pending)."""
        return self.stamp + self.delivery_window if self.state == State.PENDING else None

    @property
    def refund_from(self) -> int | None:
        """First second a missed delivery can be refunded (Pending)."""
        return None if self.deliver_by is None else self.deliver_by + 1

    @property
    def dispute_by(self) -> int | None:
        """Last second the holder can open a dispute (Delivered): the escrow's dispute window closes then."""
        return self.stamp + self.dispute_window if self.state == State.DELIVERED else None

    @property
    def settle_from(self) -> int | None:
        """First second anyone can settle the sale to the seller (Delivered)."""
        return None if self.dispute_by is None else self.dispute_by + 1

    @property
    def arbiter_by(self) -> int | None:
        """Last second before the default applies to a data dispute: counted from the dispute, not the delivery."""
        if self.state != State.DATA_DISPUTED:
            return None
        return self.dispute_opened + self.windows.arbiter_window

    @property
    def default_from(self) -> int | None:
        """First second anyone can resolve a data dispute by default (the sale stands, the bond goes back)."""
        return None if self.arbiter_by is None else self.arbiter_by + 1

    @property
    def expires_at(self) -> int | None:
        """When the licence stops being valid (Delivered, Settled with a term); None if perpetual or not valid in
        its state. A dispute ruled for the seller extends the term by the time spent in dispute, once ruled."""
        if self.duration == 0 or self.state not in (State.DELIVERED, State.SETTLED):
            return None
        return self.stamp + self.duration

    # ------------------------------------------------------------------------------------- actions

    def valid(self, now: int) -> bool:
        """DataLicense.isValid at time `now`."""
        if self.state not in (State.DELIVERED, State.SETTLED):
            return False
        return self.duration == 0 or now < self.stamp + self.duration

    def gives_access(self, now: int) -> bool:
        """Whether the licence opens its data: in escrow (Pending: what it bought, once delivered) or valid."""
        return self.state == State.PENDING or self.valid(now)

    def allowed(self, now: int) -> frozenset[Action]:
        """The actions the contract accepts at time `now` from the right caller (`WHO`)."""
        s = self.state
        out: set[Action] = set()
        if s == State.PENDING:
            out.add(Action.DELIVER if now <= self.stamp + self.delivery_window else Action.REFUND)
        elif s == State.DELIVERED:
            out.add(Action.CONFIRM)
            if now <= self.stamp + self.dispute_window:
                out.add(Action.DISPUTE_KEY)
                if self.valid(now):
                    out.add(Action.DISPUTE_DATA)
            else:
                out.add(Action.SETTLE)
        elif s == State.DATA_DISPUTED:
            out.add(Action.RULE)
            if now > self.dispute_opened + self.windows.arbiter_window:
                out.add(Action.RESOLVE_DEFAULT)
        elif s == State.SETTLED:
            if self.valid(now):
                out.add(Action.REDELIVER)
            if self.transferable:
                out.add(Action.TRANSFER)
        if s in (State.DELIVERED, State.SETTLED, State.DATA_DISPUTED):
            out.add(Action.ROTATE_KEY)
        return frozenset(out)

    def may(self, action: Action, now: int) -> bool:
        return action in self.allowed(now)

    def next_deadline(self) -> Deadline:
        """The next deadline that matters to the holder, as `licences` and the page show it."""
        if self.refund_from is not None:
            return Deadline("refund possible from", self.refund_from)
        if self.dispute_by is not None:
            return Deadline("dispute window closes", self.dispute_by)
        if self.arbiter_by is not None:
            return Deadline("arbiter rules by", self.arbiter_by)
        if self.state == State.SETTLED:
            return Deadline("expires", self.expires_at) if self.expires_at else Deadline("perpetual", 0)
        return Deadline("", 0)

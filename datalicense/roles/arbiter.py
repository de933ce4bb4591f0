"""The end of a data dispute: the arbiter's ruling (`rule`), and the default anyone may send once the arbiter's
deadline has passed without one (`resolve_default`). Both check the licence's state and clock
(datalicense.protocol.lifecycle) before sending, so a refusal is one line and no gas; the contract checks again.
"""

from __future__ import annotations

from dataclasses import dataclass

from datalicense.errors import ChainError
from datalicense.infra.chain import Receipt, local_time
from datalicense.roles.role import Role
from datalicense.protocol.flow import split
from datalicense.protocol.lifecycle import Action
from datalicense.protocol.records import State


@dataclass(frozen=True)
class Ruling:
    """A ruling sent: the buyer's share in basis points, the buyer's part of the price in `asset`, the receipt."""

    licence_id: int
    buyer_bps: int
    buyer_part: int
    asset: str
    receipt: Receipt


class Arbiter(Role):
    """Data disputes over one connection: rule (the arbiter's account), resolve_default (anyone's)."""

    def rule(self, licence_id: int, buyer_bps: int) -> Ruling:
        """Refund `buyer_bps` of the price to the buyer (0: the sale stands and the seller takes the bond)."""
        market = self.conn.market
        lic = market.licence(licence_id)
        if lic.state != State.DATA_DISPUTED:
            raise ChainError(f"licence {licence_id} is {lic.state.label}, not in a data dispute: nothing to rule")
        terms = market.terms(lic.terms_id)
        part = split(terms.price, buyer_bps, market.settings(lic.settings_id).fee_bps).to_buyer
        r = self.conn.tx.send(self.conn.contract.functions.resolveData(licence_id, buyer_bps), what="rule")
        return Ruling(licence_id, buyer_bps, part, market.asset_address(terms.asset_id), r)

    def resolve_default(self, licence_id: int) -> Receipt:
        """After the arbiter's deadline without a ruling: the sale stands and the buyer's bond is returned."""
        market = self.conn.market
        clock = market.clock(licence_id)
        if clock.state != State.DATA_DISPUTED:
            raise ChainError(f"licence {licence_id} is {clock.state.label}, not in a data dispute")
        now = market.now()
        if not clock.may(Action.RESOLVE_DEFAULT, now):
            due = clock.arbiter_by or 0
            raise ChainError(f"the arbiter has until {local_time(due)} to rule on licence {licence_id} "
                             f"({(due + 1 - now) / 3600:.1f} h from now): try again after that")
        return self.conn.tx.send(self.conn.contract.functions.resolveDataByDefault(licence_id),
                                 what="resolve by default")

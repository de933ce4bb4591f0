"""The spending policy and the ledger of `get`, as pure rules (no chain): the typed ledger records read ledgers any
earlier version wrote, and the policy's allowed sellers are parsed by the one address rule when it is made."""

from __future__ import annotations

import json

import pytest

from datalicense.errors import AddressError, RefusedError
from datalicense.roles.spending import Ledger, Paid, Reservation, SpendingPolicy

pytestmark = pytest.mark.unit

ZERO = "0x" + "00" * 20
SELLER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example


def test_a_ledger_with_an_entry_a_reused_licence_left_reads_as_nothing_paid(tmp_path):
    """An older `get` that reused licence 12 wrote `{"delivered": true}` alone; `spent` then raised KeyError 'asset'
    on every later `get` from that wallet. Such an entry reads as a `Paid` of nothing; the others as written."""
    path = tmp_path / "spending.json"
    path.write_text(json.dumps({"licences": {
        "12": {"delivered": True},
        "3": {"dataset": 4, "amount": "1000", "asset": ZERO, "time": 5.0, "url": "u", "tx": "0x1", "delivered": True},
    }, "reserved": {"7-1": {"dataset": 9, "amount": "20", "asset": ZERO, "time": 6.0, "url": "u", "block": 3}}}))
    ledger = Ledger.at(path)
    assert ledger.spent(ZERO) == 1020 and ledger.spent(ZERO, since=5.5) == 20
    paid = Ledger.paid(ledger.read())
    assert paid[12] == Paid(0, 0, ZERO, 0.0, delivered=True) and paid[3].amount == 1000
    assert Ledger.reserved(ledger.read())["7-1"] == Reservation(9, 20, ZERO, 6.0, "u", 3, None)


def test_a_licence_the_ledger_does_not_hold_is_not_written_into_it(tmp_path):
    """Marking a licence delivered that `get` did not buy (reused) adds nothing: the ledger is what `get` paid."""
    ledger = Ledger.at(tmp_path / "spending.json")
    ledger.mark(12, delivered=True)
    assert ledger.read() == {"licences": {}}
    with ledger.locked() as data:
        data["licences"]["3"] = Paid(4, 1000, ZERO, 5.0).to_json()
    ledger.mark(3, delivered=True)
    assert Ledger.paid(ledger.read())[3] == Paid(4, 1000, ZERO, 5.0, delivered=True)


def test_a_mistyped_seller_in_the_policy_is_refused_when_the_policy_is_made():
    """One character of a checksummed seller changed in case: the policy took it and `get` failed later with an
    AddressError. It is refused at once, in one line, a refusal (nothing was sent)."""
    typo = SELLER[:-1] + SELLER[-1].swapcase()
    with pytest.raises(AddressError, match="checksum does not match") as err:
        SpendingPolicy.rbtc(per_request="0.001", sellers={typo})
    assert isinstance(err.value, RefusedError) and "\n" not in str(err.value)
    with pytest.raises(AddressError, match="not an address"):
        SpendingPolicy(sellers={"0x1234"})
    assert SpendingPolicy(sellers={SELLER.lower()}).sellers == {SELLER}
    assert SpendingPolicy(sellers=SELLER).sellers == {SELLER}  # one address given as a string, not its characters

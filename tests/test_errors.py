"""Errors: one base class, decoded custom errors by name, and every revert hint consistent with the ABI."""

import re
import string

import pytest

from datalicense import CryptoError, DataLicenseError, NotFoundError
from datalicense.protocol import age as agecrypt, keywrap
from datalicense.infra.chain import HINTS, decode_error
from datalicense.protocol.abi import abi

pytestmark = pytest.mark.unit

ERRORS = {item["name"]: item for name in ("DataLicense", "RevenuePool", "TestToken") for item in abi(name)
          if item["type"] == "error"}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_hint_names_an_error_and_uses_each_argument(name):
    """A hint that formats the wrong argument misleads (one said `the deadline was {0}` with the licence id)."""
    assert name in ERRORS, f"hint for {name}, which no contract raises"
    inputs = ERRORS[name]["inputs"]
    used = {int(f) for _, f, _, _ in string.Formatter().parse(HINTS[name]) if f not in (None, "")}
    assert used <= set(range(len(inputs))), f"{name} hint uses an argument the error does not have"
    assert used == set(range(len(inputs))), (
        f"{name} hint leaves out {[inputs[i]['name'] for i in set(range(len(inputs))) - used]}")


def test_decoded_errors_carry_name_and_arguments():
    from eth_abi import encode
    from eth_utils import keccak

    data = keccak(text="TooLate(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [7, 1_800_000_000])
    name, args, text = decode_error("0x" + data.hex())
    assert (name, args) == ("TooLate", (7, 1_800_000_000))
    assert "licence 7" in text and "1800000000" not in text and "the deadline was 20" in text  # a date, not unix time


def test_crypto_and_not_found_errors_are_the_packages():
    assert issubclass(NotFoundError, DataLicenseError)
    with pytest.raises(DataLicenseError):
        keywrap.public_key(b"short")
    with pytest.raises(CryptoError) as caught:
        agecrypt.content_key_from_identity("AGE-SECRET-KEY-1NOTVALID")
    message = str(caught.value)  # what the user reads: one line naming what is wrong, no library dump
    assert message in ("malformed age identity", "not an age X25519 identity (AGE-SECRET-KEY-1...)"), message


@pytest.mark.parametrize("contract", ["DataLicense", "RevenuePool"])
def test_every_contract_error_has_a_hint(contract):
    """A revert of the marketplace or of a pool reads as one line saying what to do, never as raw error data
    (a second pool revocation printed `the transaction reverted (error data 0x094b3c1d…)`)."""
    names = {item["name"] for item in abi(contract) if item["type"] == "error"}
    assert not names - set(HINTS), f"{contract} errors without a hint: {sorted(names - set(HINTS))}"


_SAMPLES = {"address": "0x90f79bf6eb2c4f870365e785982e1f101e93b906", "uint256": 7, "uint8": 1, "bytes32": b"\x11" * 32}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_revert_hint_formats_against_the_abi_arguments(name):
    """Encode each error as the contract would, decode it as the client does: one line, the name, the hint with
    every argument filled in, addresses checksummed."""
    from eth_abi import encode
    from eth_utils import keccak

    types = [i["type"] for i in ERRORS[name]["inputs"]]
    data = keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, [_SAMPLES[t] for t in types])
    decoded, args, text = decode_error("0x" + data.hex())
    assert decoded == name and len(args) == len(types)
    assert text.startswith(f"{name}: ") and "\n" not in text and "{" not in text
    if name in HINTS:
        assert text != f"{name}: " + ", ".join(str(a) for a in args)
    if "address" in types:
        assert "0x90F79bf6EB2c4f870365E785982E1f101E93b906" in text or "RBTC" in text, text


def test_hints_speak_in_dates_hours_percent_and_rbtc():
    from eth_abi import encode
    from eth_utils import keccak

    def text(sig, values):
        types = sig[sig.index("(") + 1:-1].split(",")
        return decode_error("0x" + (keccak(text=sig)[:4] + encode(types, values)).hex())[2]

    early = text("TooEarly(uint256,uint256)", [1, 1_795_964_955])
    assert re.search(r"possible from \d{4}-\d\d-\d\d \d\d:\d\d", early) and "1795964955" not in early
    assert "0.5 h is outside 1 h .. 720 h" in text("DeliveryWindowOutOfRange(uint256,uint256,uint256)",
                                                    [1800, 3600, 720 * 3600])
    assert "royalty 200% is above the largest allowed, 25%" in text("RoyaltyTooHigh(uint256,uint256)", [20000, 2500])
    assert "the price is 0.002 RBTC but 0.001 RBTC was sent" in text("WrongPayment(uint256,uint256)",
                                                                     [2 * 10**15, 10**15])
    assert "nothing to withdraw in RBTC" in text("NothingToWithdraw(address,address)", ["0x" + "00" * 20, _SAMPLES["address"]])
    assert "already revoked consent" in text("AlreadyRevoked(address)", [_SAMPLES["address"]])

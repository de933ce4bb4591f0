"""Errors: one base class, decoded custom errors by name, and every revert hint consistent with the ABI."""

import re
import string

import pytest

from datalicense import CryptoError, DataLicenseError, NotFoundError, agecrypt, keywrap
from datalicense.chain import HINTS, decode_error
from datalicense.contracts import abi

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
    assert "licence 7" in text and "1800000000" in text


def test_crypto_and_not_found_errors_are_the_packages():
    assert issubclass(NotFoundError, DataLicenseError)
    with pytest.raises(DataLicenseError):
        keywrap.public_key(b"short")
    with pytest.raises(CryptoError):
        agecrypt.content_key_from_identity("AGE-SECRET-KEY-1NOTVALID")
    assert re.match(r"^\w", str(CryptoError("x")))

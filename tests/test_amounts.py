"""The one amounts rule (datalicense/protocol/amounts.py) on the shared vectors (tests/vectors/amounts.json, which the
page's JavaScript runs in Chromium too: test_web_amounts.py): an amount is shown in its asset's own units and
decimals, exactly, and typed text is read back exactly (issue 22, "amounts formatted by asset and decimals")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalicense.errors import ConfigError
from datalicense.infra import chain
from datalicense.protocol.amounts import MAX_PRICE_UNITS, format_amount, parse_amount

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "amounts.json").read_text())


def test_amount_vectors_in_python():
    assert len(VECTORS) > 20 and {c["ok"] for c in VECTORS} == {True, False}
    for case in VECTORS:
        if case["ok"]:
            assert format_amount(int(case["units"]), case["decimals"], case["symbol"]) == case["text"], case
        else:
            with pytest.raises(ConfigError):
                format_amount(int(case["units"]), case["decimals"], case["symbol"])


def test_a_six_decimal_token_is_shown_in_its_own_units():
    assert format_amount(1_500_000, 6, "USDT") == "1.5 USDT"
    assert parse_amount("1.5", 6) == 1_500_000


def test_the_largest_price_is_shown_and_read_back_with_every_digit():
    """A 28-digit decimal context rounded 2**96 - 1 wei (29 digits) when shown, and read its text back as more than
    the contracts store."""
    for decimals in (18, 6, 0):
        shown = format_amount(MAX_PRICE_UNITS, decimals, "")
        assert parse_amount(shown, decimals) == MAX_PRICE_UNITS
        assert format_amount(parse_amount(shown, decimals), decimals, "") == shown
    with pytest.raises(ConfigError, match="above the largest the contracts accept, 79228162514.264337593543950335$"):
        parse_amount("79228162514.264337593543950336")


@pytest.mark.parametrize("text, decimals, why", [
    ("1.0000001", 6, "has more than 6 decimals"), ("1e-999999999", 18, "has more than 18 decimals"),
    ("0." + "1" * 5000, 18, "has more than 18 decimals"), ("9" * 5000, 18, "above the largest"),
    ("1e999999999", 0, "above the largest"), ("-0.5", 18, "is negative"), ("abc", 18, "is not an amount"),
])
def test_a_bad_amount_is_refused_in_one_short_line(text, decimals, why):
    with pytest.raises(ConfigError) as exc:
        parse_amount(text, decimals)
    message = str(exc.value)
    assert why in message and "\n" not in message and len(message) < 200


def test_the_chain_module_uses_the_one_rule():
    assert chain.format_amount is format_amount and chain.parse_amount is parse_amount

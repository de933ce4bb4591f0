"""Amounts: an asset's smallest units shown in its own units, and text typed by a person read back into them.

One rule for every surface (CLI, Python API, the page's API) and mirrored by the page's JavaScript
(web/src/amounts.js), which runs the same vectors (tests/vectors/amounts.json) in Chromium:

- `format_amount(units, decimals, symbol)`: the exact decimal value of `units` / 10**decimals, no rounding and no
  exponent, trailing zeros of the fraction dropped, then a space and the asset's symbol ("1.5 USDT" for 1,500,000
  units of a 6-decimal token, "0.002 RBTC" for 2e15 wei; "0 tRIF"). Integer arithmetic only: a uint256 balance
  keeps every digit (a decimal context of 28 digits once rounded the largest price). An empty symbol shows the
  number alone;
- `parse_amount(text, decimals)`: "0.002" -> smallest units, refusing binary floats, negative amounts, more
  decimals than the asset has and amounts beyond what the contracts store.

`decimals` is an ERC-20's uint8 (0 to 255); RBTC has 18. Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from datalicense.errors import ConfigError

__all__ = ["MAX_DECIMALS", "MAX_PRICE_UNITS", "format_amount", "parse_amount"]

MAX_PRICE_UNITS = 2**96 - 1  # the largest price the contract stores
MAX_DECIMALS = 255  # ERC-20 decimals() is a uint8


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise ConfigError(f"an asset has 0 to {MAX_DECIMALS} decimals, not {decimals!r}")


def _shown(text: object) -> str:
    """An amount as typed, cut short for a one-line message."""
    s = str(text).strip()
    return s if len(s) <= 40 else s[:37] + "..."


def format_amount(units: int, decimals: int = 18, symbol: str = "RBTC") -> str:
    """`units` of an asset with `decimals` decimals, in the asset's own units: format_amount(1_500_000, 6, "USDT")
    is "1.5 USDT"."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise ConfigError(f"an amount is a whole number of the asset's smallest units, not {units!r}")
    if units < 0:
        raise ConfigError(f"amount {units} is negative")
    _check_decimals(decimals)
    whole, frac = divmod(units, 10**decimals)
    digits = str(frac).rjust(decimals, "0").rstrip("0") if decimals else ""
    text = f"{whole}.{digits}" if digits else str(whole)
    return f"{text} {symbol}" if symbol else text


def parse_amount(text: str | int | Decimal, decimals: int = 18) -> int:
    """'0.002' (or a Decimal, or an int of whole units) -> smallest units; refuses more decimals than the asset
    has, binary floats (0.1 is not 0.1) and amounts beyond what the contracts store."""
    _check_decimals(decimals)
    if isinstance(text, float):
        raise ConfigError(f"amount {text!r} is a binary float: pass it as a string, e.g. '{text}'")
    try:
        value = Decimal(text.strip()) if isinstance(text, str) else Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise ConfigError(f"{_shown(text)!r} is not an amount (e.g. 0.002)") from exc
    if not value.is_finite():
        raise ConfigError(f"{_shown(text)!r} is not an amount (e.g. 0.002)")
    if value < 0:
        raise ConfigError(f"amount {_shown(text)} is negative")
    largest = format_amount(MAX_PRICE_UNITS, decimals, "")
    if value.adjusted() > len(largest):  # far beyond it: refused before any arithmetic on its exponent
        raise ConfigError(f"amount {_shown(text)} is above the largest the contracts accept, {largest}")
    _, digit_tuple, exponent = value.as_tuple()
    digits, shift = list(digit_tuple), int(exponent) + decimals
    while len(digits) > 1 and digits[-1] == 0:  # "1.500" is 15 at exponent -1
        digits.pop()
        shift += 1
    if shift < 0 and (len(digits) > len(largest) + MAX_DECIMALS or -shift > len(digits)) and any(digits):
        raise ConfigError(f"amount {_shown(text)} has more than {decimals} decimals")
    coefficient = int("".join(map(str, digits)) or "0")
    if not coefficient:
        units = 0
    elif shift >= 0:
        units = coefficient * 10**shift
    else:
        units, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise ConfigError(f"amount {_shown(text)} has more than {decimals} decimals")
    if units > MAX_PRICE_UNITS:
        raise ConfigError(f"amount {_shown(text)} is above the largest the contracts accept, {largest}")
    return units

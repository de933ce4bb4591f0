"""Generate tests/vectors/amounts.json: amounts in an asset's smallest units, and the text every formatter of the
project (the Python one, datalicense/protocol/amounts.py, and the page's, web/src/amounts.js) must show for them.

The rule: the exact value units / 10**decimals, no rounding, no exponent, the fraction's trailing zeros dropped,
then a space and the symbol (none when the symbol is empty); negative units and decimals outside 0..255 are
refused. The texts here come from Python's decimal module with a context wide enough for a uint256 at 255
decimals, not from the package.

    python tests/vectors/make_amount_vectors.py > tests/vectors/amounts.json
"""

import json
from decimal import Context, Decimal

EXACT = Context(prec=1000)

CASES = [  # units, decimals, symbol, what it is
    (0, 18, "RBTC", "nothing"),
    (0, 0, "tRIF", "nothing, no decimals"),
    (1, 18, "RBTC", "one wei"),
    (2 * 10**15, 18, "RBTC", "the usual price"),
    (10**18, 18, "RBTC", "one whole RBTC"),
    (25 * 10**17, 18, "RBTC", "two and a half"),
    (1_500_000, 6, "USDT", "a 6-decimal token: 1.5, not 0.0000000000015"),
    (1, 6, "USDT", "the smallest unit of a 6-decimal token"),
    (123_456_789, 6, "USDT", "a 6-decimal token, every digit"),
    (10**6, 6, "USDT", "one whole 6-decimal token"),
    (5, 8, "BTC", "8 decimals"),
    (120, 2, "EUR", "2 decimals, a trailing zero"),
    (100, 2, "EUR", "2 decimals, whole"),
    (1000, 0, "PTS", "no decimals: no point"),
    (7, 0, "", "no decimals, no symbol"),
    (2**96 - 1, 18, "RBTC", "the largest price the contracts store, every digit (29 significant digits)"),
    (2**96 - 1, 6, "USDT", "the largest price of a 6-decimal token"),
    (2**256 - 1, 18, "tRIF", "a uint256 balance"),
    (2**256 - 1, 0, "tRIF", "a uint256 balance, no decimals"),
    (2**256 - 1, 77, "X", "a uint256 at 77 decimals: one whole digit"),
    (2**256 - 1, 78, "X", "a uint256 at 78 decimals: below one"),
    (1, 255, "X", "the most decimals an ERC-20 can have"),
    (10**255, 255, "X", "one whole at 255 decimals"),
    (10**18 + 1, 18, "RBTC", "one and one wei"),
    (999_999_999_999_999_999, 18, "RBTC", "just under one"),
    (1_500_000, 6, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "a token without a symbol is named by address"),
]
REFUSED = [  # units, decimals, why
    (-1, 18, "negative units"),
    (1, -1, "negative decimals"),
    (1, 256, "more decimals than a uint8 holds"),
]


def text(units: int, decimals: int, symbol: str) -> str:
    value = EXACT.divide(Decimal(units), EXACT.power(Decimal(10), decimals))
    shown = format(value, "f")
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"{shown} {symbol}" if symbol else shown


def main() -> None:
    out = [{"units": str(u), "decimals": d, "symbol": s, "ok": True, "text": text(u, d, s), "note": note}
           for u, d, s, note in CASES]
    out += [{"units": str(u), "decimals": d, "symbol": "RBTC", "ok": False, "note": note} for u, d, note in REFUSED]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

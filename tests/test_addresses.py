"""The one address parser (datalicense/protocol/addresses.py) on the shared vectors (tests/vectors/addresses.json,
which the page's JavaScript runs in Chromium too: test_web_addresses.py), and the inputs read without a chain:
pool CSVs (issue 21, item 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalicense.errors import AddressError, ConfigError
from datalicense.protocol.addresses import display, parse_address

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "addresses.json").read_text())


def _parsed(case):
    try:
        return {"ok": True, "address": parse_address(case["input"], case["chainId"])}
    except AddressError as exc:
        assert "\n" not in str(exc)
        if exc.code == "checksum":
            assert "checksum does not match: mistyped?" in str(exc) and case["input"].strip() in str(exc)
        return {"ok": False, "error": exc.code}


def test_address_vectors_in_python():
    assert len(VECTORS) > 200 and {c["ok"] for c in VECTORS} == {True, False}
    for case in VECTORS:
        want = {k: case[k] for k in ("ok", "address", "error") if k in case}
        assert _parsed(case) == want, case


def test_display_is_the_networks_casing_and_parses_back():
    a = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"
    assert display(a, 30) == "0xFb6916095cA1Df60bb79ce92cE3EA74c37c5d359"  # EIP-1191's own test case
    assert display(a, 33) == "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"  # EIP-55's own test case
    for chain_id in (30, 31, 33):
        assert parse_address(display(a, chain_id), chain_id) == display(a, 33)


def test_pool_csv_refuses_a_mistyped_checksummed_address(tmp_path):
    """A contributor list with one mistyped character in a checksummed address is refused, naming the line."""
    from datalicense.roles.pool import _parse_rows

    good = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # dev:7, EIP-55
    typo = good[:-1] + "4"
    src = tmp_path / "contributors.csv"
    src.write_text(f"account,weight\n{good},3\n{typo},2\n")
    with pytest.raises(ConfigError, match=r"contributors.csv:3: .*checksum does not match: mistyped\?"):
        list(_parse_rows(src))
    src.write_text(f"account,weight\n{good},3\n{typo.lower()},2\n")  # lower case: no checksum, taken as is
    assert [w for _, w in _parse_rows(src)] == [3, 2]

"""Tokens are read and approved through a standard ERC-20 ABI (datalicense/abi/ERC20.json: OpenZeppelin's IERC20,
IERC20Metadata and the ERC-6093 errors of IERC20Errors), never through the project's TestToken, whose extra
functions (mint, transferAndCall) a production token does not have."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def _export_abi():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import export_abi
    finally:
        sys.path.pop(0)
    return export_abi


def test_the_erc20_abi_is_openzeppelins_interfaces_as_built():
    shipped = json.loads((ROOT / "datalicense" / "abi" / "ERC20.json").read_text())
    ex = _export_abi()
    assert shipped == json.loads(json.dumps(ex.interface_abi(ex.INTERFACES["ERC20"]), sort_keys=True)), (
        "datalicense/abi/ERC20.json is stale: run `brownie run scripts/export_abi.py`")
    names = {(item["type"], item.get("name")) for item in shipped}
    for fn in ("name", "symbol", "decimals", "totalSupply", "balanceOf", "allowance", "approve", "transfer",
               "transferFrom"):
        assert ("function", fn) in names
    assert {("event", "Transfer"), ("event", "Approval"), ("error", "ERC20InsufficientBalance")} <= names
    assert not {("function", "mint"), ("function", "transferAndCall")} & names  # TestToken's own


def test_the_package_reads_no_token_through_the_test_tokens_abi():
    used = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "datalicense").rglob("*.py"))
            for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"""abi\(\s*["']TestToken""", line)]
    assert used == [], "token ABI of the test token used in production code:\n" + "\n".join(used)

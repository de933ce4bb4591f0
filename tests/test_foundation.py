"""The local stack is what the README promises: a Rootstock look-alike chain and a real Kubo daemon."""

import json
import urllib.request
from pathlib import Path

import pytest
from brownie import chain, web3

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
ROOTSTOCK_CODE_CAP = 24_576
#: Our own cap: 2 KB of headroom below Rootstock's, so fixes and new capabilities still fit.
SIZE_BUDGET = 22_500


def test_chain_is_a_rootstock_regtest_look_alike():
    assert chain.id == 33
    block = web3.eth.get_block("latest")
    assert block["gasLimit"] == 6_800_000
    # legacy transactions only: no EIP-1559 base fee on blocks
    assert "baseFeePerGas" not in block
    assert web3.eth.gas_price == 60_000_000


def test_contracts_fit_rootstock_code_size_cap():
    for name in ["DataLicense", "DataLicenseLens", "RevenuePool"]:
        build = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
        size = len(bytes.fromhex(build["deployedBytecode"]))
        assert 0 < size <= SIZE_BUDGET <= ROOTSTOCK_CODE_CAP, f"{name} is {size} bytes (budget {SIZE_BUDGET})"


def test_exported_abi_matches_the_build():
    for name in ["DataLicense", "DataLicenseLens", "TestToken", "RevenuePool"]:
        build = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
        shipped = json.loads((ROOT / "datalicense" / "abi" / f"{name}.json").read_text())
        assert shipped == json.loads(json.dumps(build["abi"], sort_keys=True)), (
            f"datalicense/abi/{name}.json is stale: run `brownie run scripts/export_abi.py`"
        )


def test_packaged_contracts_match_the_build():
    """datalicense/artifacts (package data the wheel carries; what `datalicense up` deploys) is this build's."""
    for name in ["DataLicense", "DataLicenseLens", "TestToken", "RevenuePool"]:
        build = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
        path = ROOT / "datalicense" / "artifacts" / f"{name}.json"
        assert path.is_file(), f"{path} missing: run `make setup` (it compiles and exports the contracts)"
        packaged = json.loads(path.read_text())
        assert packaged["abi"] == build["abi"] and packaged["bytecode"].removeprefix("0x") == build["bytecode"], (
            f"datalicense/artifacts/{name}.json is stale: run `make setup` (or `python scripts/export_abi.py artifacts`)"
        )


def test_kubo_daemon_serves_its_rpc_api(kubo):
    req = urllib.request.Request(f"{kubo.api_url}/api/v0/version", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        version = json.loads(resp.read())["Version"]
    major, minor = (int(x) for x in version.split(".")[:2])
    assert (major, minor) >= (0, 28)
    # The daemon's own configuration, not the harness's URL: its RPC API (which can pin, unpin and read keys) and
    # its gateway listen on loopback only, never on an address another machine can reach.
    for key in ("Addresses.API", "Addresses.Gateway"):
        req = urllib.request.Request(f"{kubo.api_url}/api/v0/config?arg={key}", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            value = json.loads(resp.read())["Value"]
        addresses = value if isinstance(value, list) else [value]
        assert addresses and all(a.startswith(("/ip4/127.0.0.1/", "/ip6/::1/")) for a in addresses), (key, value)


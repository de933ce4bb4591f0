"""Slither over the contracts: no High or Medium finding, every Low/Informational one triaged."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLITHER = ROOT / ".venv-slither" / "bin" / "slither"


def _solc() -> str:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx"))
    return str(folder / "solc-v0.8.24")


CONTRACTS = ["contracts/DataLicense.sol", "contracts/RevenuePool.sol"]


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    if not SLITHER.exists():
        pytest.fail("slither is not installed: run `make setup`")
    env = dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}")
    results = []
    for contract in CONTRACTS:
        out = tmp_path_factory.mktemp("slither") / "slither.json"
        subprocess.run(
            [str(SLITHER), contract, "--compile-force-framework", "solc", "--solc", _solc(),
             "--solc-remaps", "@openzeppelin=node_modules/@openzeppelin", "--solc-args",
             "--evm-version paris --optimize", "--filter-paths", "node_modules", "--json", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        data = json.loads(out.read_text())
        assert data["success"], data.get("error")
        results += data["results"].get("detectors", [])
    return results


def _function(result) -> str:
    m = re.match(r"(?:Reentrancy in |Low level call in )?([\w.]+)\(", result["description"].strip())
    return m.group(1) if m else result["description"].split()[0]


def test_no_high_or_medium_findings(findings):
    serious = [f"{r['impact']} {r['check']}: {r['description'].strip()}" for r in findings
               if r["impact"] in ("High", "Medium")]
    assert not serious, "\n".join(serious)


def test_every_low_or_informational_finding_is_triaged(findings):
    triage = (ROOT / "SLITHER_TRIAGE.md").read_text()
    rows = set(re.findall(r"^\| ([\w-]+) \| `([\w.]+)` \|", triage, re.M))
    missing = [f"{r['check']} in {_function(r)}" for r in findings if r["impact"] in ("Low", "Informational")
               and (r["check"], _function(r)) not in rows]
    assert not missing, "not explained in SLITHER_TRIAGE.md: " + "; ".join(missing)

"""Slither over the contracts: no High or Medium finding, every Low/Informational one triaged.

Findings silenced in the source (`slither-disable-next-line`) are listed in SLITHER_TRIAGE.md with their reason;
`test_every_inline_suppression_is_explained` keeps the two in step."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
SLITHER = ROOT / ".venv-slither" / "bin" / "slither"


def _solc() -> str:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx"))
    return str(folder / "solc-v0.8.24")


CONTRACTS = ["contracts/DataLicense.sol", "contracts/DataLicenseLens.sol", "contracts/RevenuePool.sol"]


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
    """The function a finding is about (for pragma findings, the floating version constraint, e.g. `0.8.20`)."""
    if result["check"] in ("pragma", "solc-version"):
        m = re.search(r"\^(\d+\.\d+\.\d+)", result["description"])
        if m:
            return m.group(1)
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


def test_every_inline_suppression_is_explained():
    triage = (ROOT / "SLITHER_TRIAGE.md").read_text()
    explained = set(re.findall(r"^\| ([\w-]+) \| `([\w.]+)` \| suppressed inline", triage, re.M))
    found = set()
    for contract in CONTRACTS + ["contracts/LicenceToken.sol", "contracts/KeyProof.sol"]:
        source = (ROOT / contract).read_text()
        name = Path(contract).stem
        function = None
        lines = source.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"\s*function (\w+)\(", line)
            if m:
                function = m.group(1)
            for check in re.findall(r"slither-disable-next-line ([\w-]+)", line):
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                var = re.match(r"\s*(?:mapping\(.*\)|[\w.]+)(?:\s+(?:internal|private|public|immutable|constant))*"
                               r"\s+(\w+)\s*(?:=[^;]*)?;", nxt)
                where = var.group(1) if var and function is None else function  # a state variable, or the function
                found.add((check, f"{name}.{where}"))
    assert found <= explained, f"suppressed but not explained in SLITHER_TRIAGE.md: {sorted(found - explained)}"

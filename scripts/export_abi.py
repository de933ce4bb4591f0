"""Export the ABIs the Python package needs from brownie's build into datalicense/abi/.

Run: brownie run scripts/export_abi.py   (a test fails when the exported ABI is out of date)
"""

import json
from pathlib import Path

EXPORTED = ["DataLicense", "DataLicenseLens", "TestToken", "RevenuePool"]
ROOT = Path(__file__).resolve().parent.parent


def export() -> list[Path]:
    written = []
    for name in EXPORTED:
        build = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
        out = ROOT / "datalicense" / "abi" / f"{name}.json"
        out.write_text(json.dumps(build["abi"], indent=1, sort_keys=True) + "\n")
        written.append(out)
    return written


def main():
    for path in export():
        print(f"wrote {path.relative_to(ROOT)}")

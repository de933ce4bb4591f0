#!/usr/bin/env bash
# Branch coverage of the contracts: `make coverage`, or `tools/coverage.sh NETWORK [brownie test options]` to run on
# another brownie development network than `development` (e.g. one of your own, on its own port).
#
# brownie 1.22.2 ships its coverage modules compiled with mypyc, and the compiled build fails when it merges
# or prints coverage ("TypeError: dict object expected; got list"). The same modules' Python sources are
# installed beside them; moving the two compiled files aside makes brownie use the sources. The compiled
# files are kept in .venv/brownie-compiled-aside/ so `make setup` from scratch restores the original state.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DIR=".venv/lib/python3.11/site-packages/brownie/test"
ASIDE=".venv/brownie-compiled-aside"
mkdir -p "$ASIDE"
for mod in coverage output; do
  for so in "$TEST_DIR/$mod".cpython-*.so; do
    [[ -e "$so" ]] && mv "$so" "$ASIDE/"
  done
done
NETWORK="development"
if [[ $# -gt 0 && "$1" != -* ]]; then
  NETWORK="$1"
  shift
fi
rm -f reports/coverage.json
brownie test tests/test_admin.py tests/test_datasets.py tests/test_purchase.py tests/test_delivery.py \
  tests/test_licence_token.py tests/test_reentrancy.py tests/test_marketplace_attacks.py tests/test_lens.py \
  ${COVERAGE_EXTRA_TESTS-tests/test_pool.py tests/test_pool_redteam.py} --network "$NETWORK" --coverage "$@" | grep -v "^    " || true
python - <<'PY'
"""Per-contract statement and branch coverage from brownie's reports/coverage.json."""
import json
from collections import defaultdict
from pathlib import Path

OURS = ("DataLicense", "LicenceToken", "KeyProof", "DataLicenseLens", "RevenuePool")
report = json.loads(Path("reports/coverage.json").read_text())["coverage"]
stmts = defaultdict(lambda: [0, 0])
branches = defaultdict(lambda: [0, 0])
for deployed, data in report.items():
    # The pool is measured on its implementation deployed directly (the test harness), not through clones
    if deployed == "RevenuePool":
        continue
    for fn, (hit, total) in data["statements"].items():
        owner = fn.split(".")[0]
        stmts[owner][0] += hit
        stmts[owner][1] += total
    for fn, (true_hits, false_hits, total) in data["branches"].items():
        owner = fn.split(".")[0]
        branches[owner][0] += true_hits + false_hits
        branches[owner][1] += 2 * total
print("\n| contract | statements | branches (each direction) |\n|---|---:|---:|")
for name in OURS:
    s_hit, s_all = stmts[name]
    b_hit, b_all = branches[name]
    if not s_all:
        why = ("views only, and brownie measures transactions, not calls (tests/test_lens.py checks every view)"
               if name == "DataLicenseLens" else "no pool test ran")
        print(f"| {name} | not measured: {why} | |")
        continue
    s_pct = f"{100 * s_hit / s_all:.1f}% ({s_hit}/{s_all})"
    b_pct = f"{100 * b_hit / b_all:.1f}% ({b_hit}/{b_all})" if b_all else "-"
    print(f"| {name} | {s_pct} | {b_pct} |")
PY

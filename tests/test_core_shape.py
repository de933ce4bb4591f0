"""The package's core keeps one place for each fact (issue 22, "The layout"):

- one zero address (datalicense.protocol.addresses.ZERO): no module spells it again;
- one simulate-and-decode path for transactions (datalicense.infra.chain.Transactor.simulate / refusal, over the
  revert decoding of datalicense.protocol.reverts): no role dry-runs a call or decodes revert data itself, and
  nothing outside the chain adapter reaches into the transaction sender's private builder.

Each check reads the sources and is first shown to catch a planted offender.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "datalicense"

ZERO_LITERAL = re.compile(r"""["']0x0{40}["']|["']0x["']\s*\+\s*["']00["']\s*\*\s*20""")
ZERO_HOME = "datalicense/protocol/addresses.py"
#: a dry run (`fn.call({"from": ...})`), revert data decoded by hand, or the sender's private builder
OWN_SIMULATION = re.compile(r"""\.call\(\s*\{\s*["']from["']|\bdecode_error\(|\bdecode_revert\(|\btx\._build\(""")
SIMULATION_HOMES = {"datalicense/infra/chain.py", "datalicense/protocol/reverts.py"}


def offenders(root: Path, pattern: re.Pattern[str], allowed: set[str]) -> list[str]:
    base = root.parent
    return [f"{p.relative_to(base).as_posix()}:{n}" for p in sorted(root.rglob("*.py"))
            if p.relative_to(base).as_posix() not in allowed
            for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line.split("#", 1)[0])]


def test_the_checks_see_planted_copies(tmp_path):
    pkg = tmp_path / "datalicense"
    (pkg / "roles").mkdir(parents=True)
    (pkg / "protocol").mkdir()
    (pkg / "protocol" / "addresses.py").write_text('ZERO = "0x' + "0" * 40 + '"\n')
    (pkg / "roles" / "a.py").write_text('NONE = "0x" + "00" * 20\nX = "0x' + "0" * 40 + '"\n')
    (pkg / "roles" / "b.py").write_text('fn.call({"from": me})\nname, args, text = decode_error(data)\n'
                                        'conn.tx._build(fn, 0, "x")\nconn.tx.simulate(fn)  # decode_error( in a comment\n')
    assert offenders(pkg, ZERO_LITERAL, {ZERO_HOME}) == ["datalicense/roles/a.py:1", "datalicense/roles/a.py:2"]
    assert offenders(pkg, OWN_SIMULATION, SIMULATION_HOMES) == [
        "datalicense/roles/b.py:1", "datalicense/roles/b.py:2", "datalicense/roles/b.py:3"]


def test_one_zero_address():
    found = offenders(PACKAGE, ZERO_LITERAL, {ZERO_HOME})
    assert found == [], "the zero address spelled again (import ZERO from datalicense.protocol.addresses):\n" + \
        "\n".join(found)


def test_one_simulate_and_decode_path():
    # the page's API decodes revert data a wallet returned (no transaction of the package's own): the one other user
    found = [f for f in offenders(PACKAGE, OWN_SIMULATION, SIMULATION_HOMES) if not f.startswith("datalicense/services/web.py")]
    assert found == [], "dry runs or revert decoding outside Transactor.simulate / refusal:\n" + "\n".join(found)

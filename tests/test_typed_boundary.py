"""The contracts are read through datalicense/protocol/records.py's records and enums: nothing in the package, the tests,
the benchmarks or the scripts indexes a contract call's result by position or compares a licence state or terms
flags with a bare number."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
POSITIONAL = re.compile(r"\.call\(\)\s*\[\s*\d")
BARE_STATE = re.compile(r"\bstate\s*(==|!=|<|>|<=|>=)\s*\d|\bflags\s*&\s*\d")


def _sources():
    for folder in ("datalicense", "tests", "bench", "scripts"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_contract_result_is_read_by_position_and_no_state_is_a_bare_number():
    found = []
    for path in _sources():
        if path.name == Path(__file__).name:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if POSITIONAL.search(line) or BARE_STATE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "read these through datalicense.protocol.records's records and enums:\n" + "\n".join(found)


def test_the_check_sees_what_it_forbids():
    assert POSITIONAL.search("root = contract.functions.epochInfo(1).call()[0]")
    assert BARE_STATE.search("if lic.state == 2:") and BARE_STATE.search("paused = flags & 2")
    assert not POSITIONAL.search("pool_epoch(contract, 1).root") and not BARE_STATE.search("state == State.SETTLED")

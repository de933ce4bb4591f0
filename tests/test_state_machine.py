"""The licence state machine in one place (issue 22, contracts): the transition table in DataLicense's NatSpec is
the table in docs/protocol.md, and each function's one guard (`_licenceIn`, the set of states it allows) is the set
of states the table moves it from; every custom error documents every parameter (the compiler's NatSpec)."""

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "contracts" / "DataLicense.sol").read_text()
DOC = (ROOT / "docs" / "protocol.md").read_text()
HEADER = "| from | to | function | caller | time |"


def _rows(lines):
    """The rows of the transition table that starts at HEADER, as tuples of cells."""
    lines = [ln.strip() for ln in lines]
    start = lines.index(HEADER)
    rows = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        rows.append(tuple(c.strip() for c in ln.strip("|").split("|")))
    return rows


def natspec_table():
    return _rows(ln.strip().removeprefix("///") for ln in SOURCE.splitlines() if ln.strip().startswith("///"))


def test_the_transition_table_is_the_same_in_the_contract_and_in_the_protocol_doc():
    table = natspec_table()
    assert len(table) == 9 and all(len(r) == 5 for r in table)
    assert _rows(DOC.splitlines()) == table


def _body(function: str) -> str:
    m = re.search(rf"\n    function {function}\(.*?\n    }}\n", SOURCE, re.S)
    assert m, f"no function {function} in DataLicense"
    return m.group(0)


def _guard(function: str) -> set[str]:
    """The states a function's guard allows, read from its source (through `_openDispute` for the disputes)."""
    body = _body(function)
    if "_openDispute(" in body and function != "_openDispute":
        return _guard("_openDispute")
    m = re.search(r"_(?:held)?[lL]icenceIn\(licenceId, ([A-Z_ |]+)\)", body)
    assert m, f"{function} has no state guard"
    names = {"PENDING": "Pending", "DELIVERED": "Delivered", "SETTLED": "Settled", "DATA_DISPUTED": "DataDisputed"}
    return {names[c.strip()] for c in m.group(1).split("|")}


def test_each_functions_guard_allows_exactly_the_states_the_table_moves_it_from():
    sources: dict[str, set[str]] = {}
    for frm, _to, functions, _caller, _time in natspec_table():
        for f in (x.strip() for x in functions.split(",")):
            sources.setdefault(f, set()).add(frm)
    checked = 0
    for function, states in sources.items():
        if states == {"None"}:  # purchases create the licence: no state to guard
            continue
        assert _guard(function) == states, function
        checked += 1
    assert checked == 8
    # the functions that change no state: their guards are the ones the NatSpec names
    assert _guard("rotateDeliveryKey") == {"Delivered", "Settled", "DataDisputed"}
    assert _guard("redeliverKey") == {"Settled"}


def test_windows_are_added_in_one_place():
    """One deadline helper: no code adds a delivery, dispute or arbiter window to a time except `_clock`."""
    before, rest = SOURCE.split("function _clock(")
    after = rest.split("\n    }\n", 1)[1]
    code = [ln for ln in (before + after).splitlines() if not ln.strip().startswith("/")]
    adding = [ln for ln in code if re.search(r"\+\s*[\w.\[\]]*(Window|WINDOW)\b|(Window|WINDOW)\s*\+", ln)]
    assert not adding, adding
    assert "_clock(licenceId, " in before + after


def test_every_custom_error_documents_every_parameter():
    ours = set()
    for path in [ROOT / "interfaces" / "IDataLicense.sol", *(ROOT / "contracts").glob("*.sol")]:
        ours |= set(re.findall(r"^\s*error (\w+)\(", path.read_text(), re.M))
    missing = []
    for name in ("DataLicense", "RevenuePool", "DataLicenseLens"):
        build = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
        docs = build["natspec"].get("errors", {})
        for item in build["abi"]:
            if item["type"] != "error" or item["name"] not in ours:
                continue
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            entry = (docs.get(signature) or [{}])[0]
            for i in item["inputs"]:
                if i["name"] not in entry.get("params", {}):
                    missing.append(f"{name}.{item['name']}: {i['name']}")
    assert not missing, missing

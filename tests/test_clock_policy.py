"""House rule: one licence clock. Nothing in the package or the page adds a licence window, a term or the arbiter's
window to a stamp outside datalicense/protocol/lifecycle.py, and nothing copies the contract's windows into a
constant: every deadline comes from the clock, which reads the windows from the contract (issue 22)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
CLOCK = ROOT / "datalicense" / "protocol" / "lifecycle.py"

#: Names of the licence's times and windows, in Python and in the page's JSON (camelCase).
_TIME = r"(?:delivery_?[wW]indow|dispute_?[wW]indow|arbiter_?[wW]indow|ARBITER_WINDOW|duration|stamp)"
PATTERNS = [
    re.compile(rf"\+\s*[\w.()\[\]'\"]*?\b{_TIME}\b"),  # ... + t.delivery_window
    re.compile(rf"\b{_TIME}\b[\w.()\[\]'\"]*\s*\+(?!\s*['\"])"),  # lic.stamp + ... (not a string concatenation)
    re.compile(r"\bARBITER_WINDOW\s*=\s*\d"),  # a copy of the contract's constant
]


def window_arithmetic(text: str) -> list[str]:
    """The lines of `text` that do licence-window arithmetic (comments and docstrings aside: code only)."""
    found = []
    for line in text.splitlines():
        code = line.split("#", 1)[0] if not line.lstrip().startswith("//") else ""
        if any(p.search(code) for p in PATTERNS):
            found.append(line.strip())
    return found


def test_the_detector_finds_the_arithmetic_it_forbids():
    """Planted: the lines this rule removed (cli_owner, web.py, paying.py, agent.py, market.py, the page)."""
    planted = [
        "due = lic.stamp + ARBITER_WINDOW",
        "what, at = 'refund possible from', lic.stamp + t.delivery_window + 1",
        "deadline = lic.stamp + self.c.market.terms(lic.terms_id).delivery_window",
        "return lic.stamp + duration",
        "ARBITER_WINDOW = 14 * 86400  # DataLicense.ARBITER_WINDOW",
        "const due = lic.stamp + lic.disputeWindow;",
        "deadline = t.dispute_window + lic.stamp",
    ]
    for line in planted:
        assert window_arithmetic(line) == [line], line
    fine = [
        "file_key = keccak(text=stamp + '|' + common).hex()",
        "deadline = clock.deliver_by or 0",
        "if now + DEADLINE_MARGIN > deadline:",
        "self.seen[key] = now + 2 * paying.PROOF_WINDOW",
        "# the arbiter's window counts from the dispute: lic.stamp + ARBITER_WINDOW is wrong",
    ]
    for line in fine:
        assert window_arithmetic(line) == [], line


def test_no_window_arithmetic_outside_the_clock():
    sources = [p for p in (ROOT / "datalicense").rglob("*.py") if p != CLOCK and "artifacts" not in p.parts]
    sources += [p for p in (ROOT / "web" / "src").rglob("*.js")]
    assert len(sources) > 30
    offenders = {str(p.relative_to(ROOT)): hits for p in sources if (hits := window_arithmetic(p.read_text()))}
    assert offenders == {}, "deadlines come from datalicense.protocol.lifecycle (Market.clock), not arithmetic here"

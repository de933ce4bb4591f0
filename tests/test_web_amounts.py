"""The page formats amounts as datalicense/protocol/amounts.py does: the shared vectors (tests/vectors/amounts.json)
run in Chromium through web/src/amounts.js (issue 22: amounts by asset and decimals, not 18-decimal RBTC). Real
Chromium and the page's server; fixtures are test_web.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_web import browser_context, bundle, page_for, stack  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

VECTORS = json.loads((Path(__file__).parent / "vectors" / "amounts.json").read_text())


def test_amount_vectors_in_the_browser(page_for):
    page, _ = page_for(4)
    got = page.evaluate("""vs => vs.map(v => {
        const a = window.datalicenseAmounts;
        try { return {ok: true, text: a.formatAmount(v.units, v.decimals, v.symbol)}; }
        catch (e) { if (e instanceof a.AmountError) return {ok: false}; throw e; }
    })""", VECTORS)
    assert len(got) == len(VECTORS) > 20
    for case, result in zip(VECTORS, got):
        assert result == {k: case[k] for k in ("ok", "text") if k in case}, case

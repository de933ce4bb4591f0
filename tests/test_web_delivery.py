"""The page binds every check to the licence's own dataset and the version bought (issue 21 items 6, 9 and 10), and
its JavaScript runs the shared delivery vectors (tests/vectors/delivery.json) in Chromium: one rule with
datalicense/protocol/delivery.py.

Real Chromium, the injected test wallet, the real chain and Kubo; fixtures are test_web.py's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalicense.services.agent import Agent
from datalicense.protocol.records import State

from helpers import publish_version_reusing_key
from webpage import browser_context, bundle, page_for, publish_titled, stack, wait_state  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

VECTORS = json.loads((Path(__file__).parent / "vectors" / "delivery.json").read_text())


def test_delivery_vectors_in_the_browser(page_for):
    """The page's rule (web/src/fetch.js) decides every shared case as datalicense/protocol/delivery.py does."""
    page, _ = page_for(4)
    got = page.evaluate("""async (v) => {
        const r = window.datalicenseDelivery, c = window.datalicenseCrypto;
        const code = (f) => { try { f(); return null; } catch (e) { if (e instanceof r.DeliveryError) return e.code; throw e; } };
        const bind = v.bind.map((k) => {
            let t;
            const error = code(() => { t = r.targets(k.state, k.datasetId, k.bought, k.versions, k.deliveries); });
            return error ? {error} : {targets: t.map((x) => ({delivery: x.index, version: x.version.version})),
                                      confirm: r.mayConfirm(k.state, t[0], k.bought)};
        });
        const check = [];
        for (const k of v.check) {
            const key = c.hexToBytes(k.contentKey), rcpt = await r.keyRecipient(key);
            check.push(code(() => {
                r.checkKey(key, k.version);
                r.checkManifest(k.version, k.manifest.plaintextSha256, k.manifest.recipient, rcpt);
                if (k.plaintext) r.checkPlaintext(k.version, k.plaintext.sha256, k.plaintext.size, k.manifest.plaintextSize);
            }) || 'ok');
        }
        return {bind, check, reused: v.reused.map((k) => r.reusedCommitments(k.datasetId, k.versions)),
                fresh: v.fresh.map((k) => code(() => r.checkFreshCommitment(k.datasetId, k.keyHash, k.versions)))};
    }""", VECTORS)
    for case, result in zip(VECTORS["bind"], got["bind"]):
        want = {"error": case["error"]} if "error" in case else {"targets": case["targets"], "confirm": case["confirm"]}
        assert result == want, case["name"]
    assert got["check"] == [c["expect"] for c in VECTORS["check"]]
    assert got["reused"] == [c["reused"] for c in VECTORS["reused"]]
    assert got["fresh"] == [c["error"] for c in VECTORS["fresh"]]


def test_page_fetches_the_version_bought_not_an_older_one_with_the_same_commitment(page_for, stack, tmp_path):
    """Issue 21 item 6: version 1 (junk) and version 2 share a key commitment; the buyer of version 2 is shown
    version 2, verified against version 2's hash, and only that is offered for Confirm."""
    junk, real = b"junk\n", b"the real version 2\n" * 50
    ds = publish_titled(stack, tmp_path, "Reused commitments", junk)
    assert publish_version_reusing_key(stack["seller"], ds, real, tmp_path) == 2
    page, _ = page_for(4)
    page.goto(page.url.split("#")[0] + f"#/dataset/{ds}")
    page.wait_for_selector("#buy")
    page.click("#buy")
    wait_state(page, "Pending")
    lid = int(page.inner_text("h1").split()[-1])
    assert stack["seller"].reader.licence(lid).version == 2
    assert Agent(stack["agent"], tmp_path / "agent.sqlite").run(once=True).delivered == 1
    wait_state(page, "Delivered")
    page.click("#fetch")
    page.wait_for_selector("#verified, #error:not([hidden])")
    with page.expect_download() as dl:
        page.click("#download")
    assert Path(dl.value.path()).read_bytes() == real
    assert dl.value.suggested_filename.startswith(f"dataset-{ds}-v2.")
    assert "version 2" in page.inner_text("#verified")
    page.click("#confirm")
    wait_state(page, "Settled")
    assert stack["seller"].conn.market.licence(lid).state == State.SETTLED


def test_page_says_you_already_hold_a_licence_and_buys_again_only_on_a_second_click(page_for, stack, tmp_path):
    """Issue 21 item 10: before the fix the page bought a second licence for a dataset the wallet held, silently.
    The page asks the buyer role's rule (through its API): it names the licence held and buys only when the buyer
    clicks again."""
    ds = publish_titled(stack, tmp_path, "Held twice", b"a,b\n1,2\n")
    page, wallet = page_for(4)
    page.goto(page.url.split("#")[0] + f"#/dataset/{ds}")
    page.wait_for_selector("#buy")
    page.click("#buy")
    wait_state(page, "Pending")
    first = int(page.inner_text("h1").split()[-1])
    sent = len(wallet.sent)
    page.goto(page.url.split("#")[0] + f"#/dataset/{ds}")
    page.wait_for_selector("#buy")
    page.click("#buy")
    page.wait_for_selector("#held")
    assert f"You already hold licence #{first}" in page.inner_text("#held")
    assert len(wallet.sent) == sent  # nothing was sent
    page.click("#buy")
    wait_state(page, "Pending")
    second = int(page.inner_text("h1").split()[-1])
    assert second != first and len(wallet.sent) == sent + 1
    assert stack["seller"].buyer.held(ds, wallet.account.address) == second


def test_page_flags_a_version_whose_key_commitment_another_version_uses(page_for, stack, tmp_path):
    """Issue 21 item 9: before the fix nothing on the page said that versions 1 and 2 share a key commitment (the
    same key opens both). The dataset page and the licence page now say so, by the shared rule."""
    ds = publish_titled(stack, tmp_path, "Shared key", b"one\n")
    publish_version_reusing_key(stack["seller"], ds, b"two\n", tmp_path)
    page, _ = page_for(4)
    page.goto(page.url.split("#")[0] + f"#/dataset/{ds}")
    page.wait_for_selector("#reused-versions")
    assert "versions 1 and 2 share one key commitment" in page.inner_text("#reused-versions")
    page.click("#buy")
    wait_state(page, "Pending")
    page.wait_for_selector("#reused-commitment")
    assert "version 2 shares its key commitment with version 1" in page.inner_text("#reused-commitment")

"""A version whose key commitment another version of the same dataset uses (issue 21 item 9): the same content
key opens both, so a buyer of one could be shown the other. Clients refuse to publish one and flag it on reading
(fetch here; the page in tests/test_web_delivery.py). Real chain and Kubo."""

from __future__ import annotations

import json

import pytest

from datalicense.errors import DeliveryError

from helpers import publish_file, publish_version_reusing_key

pytestmark = pytest.mark.e2e

NONE = "0x" + "00" * 20


def test_publishing_the_same_file_as_a_new_version_is_refused_not_given_the_old_key(make, run_inprocess, tmp_path):
    """Before the fix `new-version` of the file and title already published reused the upload, and so its content
    key: version 2 went on chain with version 1's commitment."""
    seller = make(3)
    pub = publish_file(seller, tmp_path, "same\n", NONE)
    with pytest.raises(DeliveryError, match=f"version 1 of dataset {pub.dataset_id} already uses this key commitment"):
        seller.seller.publish_version(pub.dataset_id, tmp_path / "d.csv", title="d.csv")
    p = run_inprocess("new-version", str(pub.dataset_id), str(tmp_path / "d.csv"), "--title", "d.csv", home="seller",
                      check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "already uses this key commitment" in p.stderr
    assert list(seller.reader.versions(pub.dataset_id)) == ["1"]  # nothing was published


def test_fetch_flags_a_version_whose_key_commitment_another_version_uses(make, run_inprocess, tmp_path):
    """A seller's own code published version 2 under version 1's commitment: `fetch` gets version 2 (the rule binds
    the version bought) and says which other version shares its key."""
    seller, buyer = make(3), make(4, "buyer")
    pub = publish_file(seller, tmp_path, "v1\n", NONE)
    publish_version_reusing_key(seller, pub.dataset_id, b"v2\n", tmp_path)
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    r = buyer.buyer.fetch(lid, tmp_path / "got.txt", confirm=False)
    assert r.shares_commitment_with == [1] and (tmp_path / "got.txt").read_bytes() == b"v2\n"
    p = run_inprocess("fetch", str(lid), "-o", str(tmp_path / "cli.txt"), "--no-confirm", account="dev:4",
                      home="buyer")
    assert "version 2 shares its key commitment with version 1" in p.stderr
    out = json.loads(run_inprocess("--json", "fetch", str(lid), "-o", str(tmp_path / "j.txt"), "--no-confirm",
                                   account="dev:4", home="buyer").stdout)
    assert out["shares_commitment_with"] == [1]

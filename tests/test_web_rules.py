"""The pure rules behind the page's API, without a chain: which epoch a pool sale pays and a contributor's share of
it (datalicense/protocol/poolshare.py), and the API's one JSON casing (datalicense/services/webjson.py)."""

from __future__ import annotations

import pytest

from datalicense.protocol.poolshare import epoch_of_version, sale_share
from datalicense.services.webjson import camel, camel_key

pytestmark = pytest.mark.unit


def test_a_sale_pays_the_epoch_published_with_its_version():
    # epoch 1 started before the dataset was published (no version), epoch 2 pays version 1, epoch 3 version 2,
    # epoch 4 is a tree without a version after the dataset was retired
    paid_by = {1: 0, 2: 1, 3: 2, 4: 0}
    assert [epoch_of_version(paid_by, v) for v in (1, 2, 3, 0)] == [2, 3, None, None]


def test_a_share_is_the_weight_of_the_total_rounded_down_and_never_more():
    assert sale_share(1_950_000, 3, 4) == 1_462_500 and sale_share(10, 1, 3) == 3
    assert sale_share(10, 0, 3) == 0 and sale_share(10, 4, 3) == 0 and sale_share(10, 1, 0) == 0


def test_api_keys_are_camel_case_and_values_are_left_alone():
    assert camel_key("licence_id") == "licenceId" and camel_key("to_buyer") == "toBuyer" and camel_key("id") == "id"
    assert camel({"price_text": "0.002 RBTC", "deliveries": [{"key_hash": "0xab_cd"}], "licenceId": 1}) == \
        {"priceText": "0.002 RBTC", "deliveries": [{"keyHash": "0xab_cd"}], "licenceId": 1}


def test_a_manifest_the_page_cannot_use_is_said_in_words_never_as_ipfs_error():
    from datalicense.infra.ipfsreads import ManifestRead
    from datalicense.services.weblisting import ERASED, NOT_READ_YET, UNREACHABLE, manifest_dict, manifest_words

    kubo = "manifest unreachable: IPFS refused to read bafk: block was not found locally (offline): ipld: could not find"
    gone = manifest_dict(ManifestRead("bafk", error=kubo, retry=True))
    assert manifest_words(gone, "retired") == ERASED == "the seller erased this dataset's data"
    assert manifest_words(gone, "on sale") == UNREACHABLE == "its manifest cannot be read from IPFS now"
    assert manifest_words(gone, "paused") == UNREACHABLE
    assert manifest_words(manifest_dict(None), "on sale") == NOT_READ_YET
    wrong = manifest_dict(ManifestRead("bafk", error="manifest invalid: manifest has no title"))
    assert manifest_words(wrong, "retired") == "manifest problem: manifest invalid: manifest has no title"
    assert manifest_words({"title": "ok"}, "retired") is None

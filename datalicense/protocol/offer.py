"""What an HTTP 402 offer must bind before anything is signed: the dataset the URL names.

A seller's gateway serves each dataset at `/datasets/ID`; the offer's `extra.datasetId` names what the purchase
buys. A server may quote another dataset's real terms there (every spending-policy check would pass, on the
stranger's data): the client pays only for the dataset its URL names. Pure: `get` and `PayingAuth` call it.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from datalicense.errors import PolicyError

_DATASET_PATH = re.compile(r"/datasets/([0-9]{1,18})/?$")


def dataset_of_path(path: str) -> int | None:
    """The dataset id a URL path names (`.../datasets/ID`), or None."""
    m = _DATASET_PATH.search(path)
    return int(m.group(1)) if m else None


def bind_offer(path: str, extra: Mapping[str, Any]) -> int:
    """The dataset to pay for: the one the URL path names, which the offer must name as well (PolicyError, before
    anything is signed, otherwise)."""
    wanted = dataset_of_path(path)
    if wanted is None:
        raise PolicyError(f"the URL path {path[:80]!r} names no dataset (…/datasets/ID): refused, nothing was paid")
    try:
        offered = int(str(extra.get("datasetId")))
    except ValueError:
        offered = None
    if offered != wanted:
        raise PolicyError(f"the offer is for dataset {offered}, not dataset {wanted} the URL names: refused, nothing "
                          "was paid")
    return wanted

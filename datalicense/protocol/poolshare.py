"""A pool contributor's share of one sale: the revenue of a licence bought for version v belongs to the epoch
published with v (RevenuePool: each epoch records the version whose sales pay it), so the share is the contributor's
weight in that epoch's tree, not in the epoch numbered like the version (an epoch may start without a version, and a
dataset is published in whatever epoch the pool is in). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["epoch_of_version", "sale_share"]


def epoch_of_version(versions: Mapping[int, int], version: int) -> int | None:
    """The epoch whose sales are version `version`'s, from {epoch: version it is paid by (0: none)}; None: no epoch
    (the version was not published by the pool)."""
    if version <= 0:
        return None
    found = [epoch for epoch, v in versions.items() if v == version]
    return min(found) if found else None


def sale_share(to_pool: int, weight: int, total_weight: int) -> int:
    """What `weight` of `total_weight` earns of `to_pool` (rounded down, as the pool's accounting does)."""
    if to_pool < 0 or weight < 0 or total_weight <= 0 or weight > total_weight:
        return 0
    return to_pool * weight // total_weight

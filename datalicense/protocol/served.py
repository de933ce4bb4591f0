"""Which datasets a gateway serves (`datalicense serve`): every dataset of the marketplace, or only those of some
owners (the operator's own account by default, when one is configured) and some dataset ids. A stranger's dataset
is then not offered at all: its bait (data nobody holds) never reaches the gateway's stream threads.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServedDatasets"]


@dataclass(frozen=True)
class ServedDatasets:
    """Datasets served: those of `owners` (addresses, any case) and those in `datasets`; both empty: every one."""

    owners: frozenset[str] = frozenset()
    datasets: frozenset[int] = frozenset()

    @property
    def every(self) -> bool:
        return not self.owners and not self.datasets

    def serves(self, dataset_id: int, owner: str) -> bool:
        """Whether the dataset `dataset_id`, owned by `owner` now, is served."""
        if self.every or dataset_id in self.datasets:
            return True
        return owner.lower() in {o.lower() for o in self.owners}

    def describe(self) -> str:
        """The set in words, for the operator's start-up line."""
        if self.every:
            return "every dataset of the marketplace"
        parts = [f"datasets of {', '.join(sorted(self.owners))}"] if self.owners else []
        if self.datasets:
            parts.append(f"dataset(s) {', '.join(map(str, sorted(self.datasets)))}")
        return " and ".join(parts)

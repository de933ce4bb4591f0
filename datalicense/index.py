"""Incremental local index of the marketplace's dataset events (a JSON file per chain and contract).

Each call reads only the blocks after the last one indexed, so listing stays cheap on a long chain.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .storage import cid_from_bytes

if TYPE_CHECKING:
    from .client import Client

CHUNK_BLOCKS = 2000  # public Rootstock nodes limit the block range of one eth_getLogs


class EventIndex:
    def __init__(self, client: "Client", path: Path):
        self.client = client
        self.path = path
        self.last_block = client.deploy_block - 1
        self.datasets: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        self.blocks_read = 0
        if path.exists():
            try:
                data = json.loads(path.read_text())
                self.last_block = int(data["lastBlock"])
                self.datasets = data["datasets"]
                self.terms = data["terms"]
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache is rebuilt from the chain

    def update(self) -> int:
        """Read new blocks; return how many were read."""
        w3 = self.client.w3
        head = w3.eth.block_number
        if head < self.last_block:  # the chain was reset (local development): start again
            self.last_block, self.datasets, self.terms = self.client.deploy_block - 1, {}, {}
        events = self.client.contract.events
        kinds = {
            "DatasetPublished": events.DatasetPublished(),
            "VersionPublished": events.VersionPublished(),
            "TermsSet": events.TermsSet(),
            "DatasetTransferred": events.DatasetTransferred(),
        }
        start = self.last_block + 1
        read = 0
        while start <= head:
            end = min(head, start + CHUNK_BLOCKS - 1)
            logs: list[Any] = []
            for ev in kinds.values():
                logs += ev.get_logs(from_block=start, to_block=end)
            for log in sorted(logs, key=lambda lg: (lg["blockNumber"], lg["logIndex"])):
                self._apply(log["event"], log["args"], log["blockNumber"])
            read += end - start + 1
            start = end + 1
            self.last_block = end
        self.blocks_read = read
        if read:
            self._save()
        return read

    def _apply(self, name: str, a: Any, block: int) -> None:
        if name == "DatasetPublished":
            self.datasets[str(a["datasetId"])] = {
                "owner": a["owner"], "agent": a["agent"], "block": block, "versions": {},
            }
        elif name == "VersionPublished":
            ds = self.datasets.setdefault(str(a["datasetId"]), {"versions": {}})
            ds["versions"][str(a["version"])] = {
                "manifestCid": cid_from_bytes(bytes(a["manifestCid"])),
                "plaintextHash": "0x" + bytes(a["plaintextHash"]).hex(),
                "keyHash": "0x" + bytes(a["keyHash"]).hex(),
                "block": block,
            }
        elif name == "TermsSet":
            self.terms[str(a["termsId"])] = {"datasetId": a["datasetId"], "termsRef": "0x" + bytes(a["termsRef"]).hex()}
        elif name == "DatasetTransferred":
            self.datasets.setdefault(str(a["datasetId"]), {"versions": {}})["owner"] = a["to"]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"lastBlock": self.last_block, "datasets": self.datasets, "terms": self.terms}))
        os.replace(tmp, self.path)

    def _find(self, field: str, value: str) -> dict[str, Any] | None:
        self.update()
        for ds_id, ds in self.datasets.items():
            for v, rec in ds.get("versions", {}).items():
                if rec[field] == value:
                    return {"datasetId": int(ds_id), "version": int(v), **rec}
        return None

    def find_version(self, manifest_cid: str) -> dict[str, Any] | None:
        """The dataset version published with this manifest, if any."""
        return self._find("manifestCid", manifest_cid)

    def version_by_key_hash(self, key_hash: str) -> dict[str, Any] | None:
        """The dataset version whose content key has this commitment, if any."""
        return self._find("keyHash", key_hash)

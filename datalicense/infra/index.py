"""Incremental local index of the marketplace: datasets, terms, versions, sales and manifests (a JSON file per
chain and contract, in the connection's state folder).

Each update reads only the blocks after the last one indexed (one `eth_getLogs` per chunk of blocks for every
event the listing needs), so a warm listing makes no per-dataset chain read at all: owner, agent, current
terms (price, asset, duration, cap, windows, transferable), paused and retired, versions and the number sold
all follow from the events:

    DatasetPublished, VersionPublished, TermsSet, DatasetTransferred, AgentSet, SalesPaused, SalesResumed,
    DatasetRetired, LicencePurchased (sold counts)

Manifests are fetched once per CID (content-addressed, so a good one never changes), in parallel, each bounded
by MANIFEST_MAX_BYTES and a deadline and validated against the schema (datalicense.infra.ipfsreads.read_manifest), and
cached here with the chain data. A manifest that is too large, not JSON or of the wrong schema is cached with its
reason for good; an unreachable one with its reason and retried after UNREACHABLE_RETRY seconds. Either way the
dataset is still listed.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from functools import lru_cache

from eth_utils import event_abi_to_log_topic, to_checksum_address

from datalicense.infra.ipfs import Storage, cid_from_bytes
from datalicense.errors import ChainError
from datalicense.protocol.addresses import ZERO
from datalicense.infra.home import private_dir

FORMAT = 2
CHUNK_BLOCKS = 2000  # public Rootstock nodes limit the block range of one eth_getLogs
EVENTS = ("DatasetPublished", "VersionPublished", "TermsSet", "DatasetTransferred", "AgentSet", "SalesPaused",
          "SalesResumed", "DatasetRetired", "LicencePurchased")
#: Seconds before a manifest that could not be reached is tried again.
UNREACHABLE_RETRY = 300.0
FETCH_THREADS = 8


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return to_checksum_address(address)


def _decode(codec: Any, dec: tuple[str, list[tuple[str, str]], list[tuple[str, str]]], log: dict[str, Any]) -> dict[str, Any]:
    """The arguments of one raw log (topics and data as hex), addresses checksummed."""
    _name, indexed, plain = dec
    args: dict[str, Any] = {}
    for (name, typ), topic in zip(indexed, log["topics"][1:]):
        args[name] = codec.decode([typ], bytes.fromhex(topic[2:]))[0]
    if plain:
        values = codec.decode([t for _, t in plain], bytes.fromhex(log["data"][2:]))
        args.update(zip((n for n, _ in plain), values))
    for name, typ in indexed + plain:
        if typ == "address":
            args[name] = _checksum(args[name])
    return args


def _empty_dataset() -> dict[str, Any]:
    return {"owner": ZERO, "agent": ZERO, "block": 0, "versions": {}, "version": 0, "termsId": 0, "paused": False,
            "retired": False, "sold": 0}


class EventIndex:
    """The index of the marketplace `contract` from block `first_block` on, kept in the file `path`; manifests are
    read through `storage`, and a payment asset's (decimals, symbol) through `asset_info` (once, then cached)."""

    def __init__(self, contract: Any, first_block: int, path: Path, storage: Storage,
                 asset_info: Callable[[str], tuple[int, str]]):
        self.contract = contract
        self.first_block = first_block
        self.storage = storage
        self._asset_info = asset_info
        self.path = path
        self.blocks_read = 0
        self.manifests_fetched = 0
        self._reset()
        self.manifests: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, list[Any]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text())
                if data.get("format") == FORMAT:
                    self.last_block = int(data["lastBlock"])
                    self.last_hash = str(data.get("lastHash", ""))
                    self.datasets = data["datasets"]
                    self.terms = data["terms"]
                    self.manifests = data.get("manifests", {})
                    self.assets = data.get("assets", {})
            except (OSError, ValueError, KeyError, TypeError):
                self._reset()  # a damaged cache is rebuilt from the chain

    def _reset(self) -> None:
        self.last_block = self.first_block - 1
        self.last_hash = ""
        self.datasets: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------------------------------ chain

    def update(self) -> int:
        """Read new blocks; return how many were read."""
        w3 = self.contract.w3
        head = w3.eth.block_number
        if head < self.last_block:  # the chain was reset or reverted (local development): start again
            self._reset()
        elif self.last_hash and self.last_block >= 0:
            if bytes(w3.eth.get_block(self.last_block)["hash"]).hex() != self.last_hash:
                self._reset()  # the block we stopped at is no longer on the chain
        contract = self.contract
        decoders = {}
        for name in EVENTS:
            ev_abi = getattr(contract.events, name)().abi
            decoders["0x" + event_abi_to_log_topic(ev_abi).hex()] = (
                name,
                [(i["name"], i["type"]) for i in ev_abi["inputs"] if i["indexed"]],
                [(i["name"], i["type"]) for i in ev_abi["inputs"] if not i["indexed"]],
            )
        start = self.last_block + 1
        read = 0
        while start <= head:
            end = min(head, start + CHUNK_BLOCKS - 1)
            # raw eth_getLogs and a lean decoder: web3's per-log formatting costs milliseconds a log
            resp = w3.provider.make_request("eth_getLogs", [{  # type: ignore[arg-type]
                "address": contract.address, "fromBlock": hex(start), "toBlock": hex(end), "topics": [list(decoders)]}])
            if "error" in resp:
                raise ChainError(f"the node refused to read the marketplace's events: {resp['error']}")
            logs = resp["result"]
            for log in sorted(logs, key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16))):
                dec = decoders.get(log["topics"][0].lower()) if log.get("topics") else None
                if dec is None or log.get("removed"):
                    continue
                self._apply(dec[0], _decode(w3.codec, dec, log), int(log["blockNumber"], 16))
            read += end - start + 1
            start = end + 1
            self.last_block = end
        self.blocks_read = read
        if read:
            self.last_hash = bytes(w3.eth.get_block(self.last_block)["hash"]).hex() if self.last_block >= 0 else ""
            self._save()
        return read

    def _apply(self, name: str, a: Any, block: int) -> None:
        ds_id = str(a["datasetId"]) if "datasetId" in a else None
        ds = self.datasets.setdefault(ds_id, _empty_dataset()) if ds_id is not None else None
        if ds is None:
            return
        if name == "DatasetPublished":
            ds.update(owner=a["owner"], agent=a["agent"], block=block)
        elif name == "VersionPublished":
            v = int(a["version"])
            ds["versions"][str(v)] = {
                "manifestCid": cid_from_bytes(bytes(a["manifestCid"])),
                "plaintextHash": "0x" + bytes(a["plaintextHash"]).hex(),
                "keyHash": "0x" + bytes(a["keyHash"]).hex(),
                "block": block,
            }
            ds["version"] = max(int(ds.get("version", 0)), v)
        elif name == "TermsSet":
            terms_id = int(a["termsId"])
            self.terms[str(terms_id)] = {
                "datasetId": int(a["datasetId"]), "termsRef": "0x" + bytes(a["termsRef"]).hex(),
                "price": int(a["price"]), "asset": a["asset"], "duration": int(a["duration"]),
                "supplyCap": int(a["supplyCap"]), "deliveryWindow": int(a["deliveryWindow"]),
                "disputeWindow": int(a["disputeWindow"]), "royaltyBps": int(a["royaltyBps"]),
                "transferable": bool(a["transferable"]),
            }
            ds["termsId"] = terms_id  # new terms keep the paused flag (setTerms), a new dataset has none
        elif name == "DatasetTransferred":
            ds["owner"] = a["to"]
        elif name == "AgentSet":
            ds["agent"] = a["agent"]
        elif name == "SalesPaused":
            ds["paused"] = True
        elif name == "SalesResumed":
            ds["paused"] = False
        elif name == "DatasetRetired":
            ds.update(retired=True, paused=True)
        elif name == "LicencePurchased":
            ds["sold"] = int(ds.get("sold", 0)) + 1

    def _save(self) -> None:
        private_dir(self.path.parent)
        tmp = self.path.with_suffix(f".{os.getpid()}.{id(self)}.tmp")  # agents and the CLI may write at once
        tmp.write_text(json.dumps({
            "format": FORMAT, "lastBlock": self.last_block, "lastHash": self.last_hash, "datasets": self.datasets,
            "terms": self.terms, "manifests": self.manifests, "assets": self.assets,
        }, separators=(",", ":")))
        os.replace(tmp, self.path)

    # -------------------------------------------------------------------------------------- manifests

    def manifests_for(self, cids: list[str]) -> dict[str, dict[str, Any]]:
        """{cid: {"manifest": {...}} or {"error": reason}} for each CID: from the cache, fetching (in parallel,
        bounded in size and time) only those never seen, or unreachable long enough ago to try again."""
        from datalicense.infra.ipfsreads import manifest_timeout, read_manifest  # the schema's validator costs start-up time

        now = time.time()
        todo = []
        for cid in dict.fromkeys(cids):
            rec = self.manifests.get(cid)
            if rec is None or (rec.get("retryAt") and rec["retryAt"] <= now):
                todo.append(cid)
        if todo:
            storage, deadline = self.storage, manifest_timeout()

            def fetch(cid: str) -> tuple[str, dict[str, Any]]:
                read = read_manifest(storage, cid, deadline)
                if read.manifest is not None:
                    return cid, {"manifest": read.manifest.as_dict()}
                return cid, {"error": read.error, **({"retryAt": time.time() + UNREACHABLE_RETRY} if read.retry else {})}

            with ThreadPoolExecutor(max_workers=min(FETCH_THREADS, len(todo))) as pool:
                for cid, rec in pool.map(fetch, todo):
                    self.manifests[cid] = rec
            self.manifests_fetched = len(todo)
            self._save()
        else:
            self.manifests_fetched = 0
        return {cid: self.manifests[cid] for cid in cids}

    # ----------------------------------------------------------------------------------------- assets

    def asset_info(self, asset: str) -> tuple[int, str]:
        """(decimals, symbol) of a payment asset, read once from the chain and kept here."""
        key = asset.lower()
        if key not in self.assets:
            self.assets[key] = list(self._asset_info(asset))
            self._save()
        decimals, symbol = self.assets[key]
        return int(decimals), str(symbol)

    # ------------------------------------------------------------------------------------------ finds

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

"""The page's datasets (`/api/datasets`, `/api/datasets/{id}`): the chain read under the page's lock, manifests
outside it (datalicense.infra.ipfsreads: each read once at a time, with a short deadline, failures kept and retried
later), so a dataset whose manifest nobody holds costs the page one short deadline now and then, and never stalls
an honest request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from datalicense.infra.ipfsreads import ManifestRead, manifest_reads, manifest_timeout
from datalicense.services.serving import ServerLock

if TYPE_CHECKING:
    from datalicense.client import Client
    from datalicense.protocol.results import DatasetInfo

#: Seconds a listing waits for manifests not read yet (they are read on); how long a listing is kept on the same
#: block, and while some manifest was still being read.
LISTING_WAIT = 3.0
LISTING_FRESH = 30.0
LISTING_RETRY = 2.0


def manifest_dict(read: ManifestRead | None) -> dict[str, Any]:
    """A manifest for the page in the schema's shape, or {"error": reason} (None: not read yet)."""
    if read is None:
        return {"error": "manifest not read yet: IPFS is still looking for it", "pending": True}
    if read.manifest is None:
        return {"error": read.error, "retry": read.retry}
    return dict(json.loads(read.manifest.to_json()))


#: What the page says of a manifest it cannot use, in words (never IPFS's raw error).
ERASED = "the seller erased this dataset's data"
UNREACHABLE = "its manifest cannot be read from IPFS now"
NOT_READ_YET = "its manifest is still being read from IPFS: reload in a moment"


def manifest_words(m: dict[str, Any], status: str) -> str | None:
    """Why the page cannot use a dataset's manifest (`m`: manifest_dict), in words; None when it can. A retired
    dataset whose manifest nobody serves was erased (`retire --erase`); a manifest that cannot be reached now may be
    later; a wrong one (too large, not the schema) says what is wrong with it."""
    error = m.get("error")
    if not error:
        return None
    if m.get("pending"):
        return NOT_READ_YET
    if m.get("retry"):
        return ERASED if status == "retired" else UNREACHABLE
    return f"manifest problem: {error}"


def row(info: "DatasetInfo", m: dict[str, Any]) -> dict[str, Any]:
    """A dataset's row in the listing: `info` (from the chain) and its manifest `m` (manifest_dict)."""
    return {
        "id": info.dataset_id, "owner": info.owner, "version": info.version, "termsId": info.terms_id,
        "price": str(info.price), "priceText": info.price_text, "asset": info.asset, "status": info.status,
        "sold": info.sold, "supplyCap": info.supply_cap, "title": m.get("title", ""),
        "description": m.get("description", ""), "mediaType": m.get("mediaType", ""),
        "size": (m.get("plaintext") or {}).get("size"), "manifestError": manifest_words(m, info.status),
    }


class DatasetsView:
    """The datasets of `client`'s marketplace for the page, `lock` guarding web3 and the event index."""

    def __init__(self, client: "Client", lock: ServerLock):
        self.client, self.lock = client, lock
        self.reads = manifest_reads(client.conn.storage)
        self._listing: tuple[int, float, list[dict[str, Any]]] | None = None  # block, until when, rows
        self._rebuild: asyncio.Lock | None = None

    def manifest(self, cid: str) -> dict[str, Any]:
        """The manifest at cid (manifest_dict), waiting at most one manifest deadline, with the page's lock given up
        meanwhile when this thread holds it."""
        future = self.reads.future(cid)
        if not future.done():
            with self.lock.released():
                concurrent.futures.wait([future], timeout=manifest_timeout() + 1)
        return manifest_dict(future.result() if future.done() else None)

    def summary(self, dataset_id: int) -> dict[str, Any]:
        """One dataset's listing row (chain and manifest; under the lock or not)."""
        info = self.client.reader.dataset_info(dataset_id, with_manifest=False)
        return row(info, self.manifest(info.manifest_cid))

    async def listing(self) -> list[dict[str, Any]]:
        """Every dataset's row: rebuilt on a new block, or after LISTING_FRESH seconds (LISTING_RETRY while a
        manifest is still being read), one rebuild at a time; the chain is read under the lock, the manifests
        outside it, in parallel, waiting LISTING_WAIT at most (those not read by then say so, and are read on)."""
        block = await run_in_threadpool(self._block_number)
        if self._listing and self._listing[0] == block and self._listing[1] > time.monotonic():
            return self._listing[2]
        if self._rebuild is None:
            self._rebuild = asyncio.Lock()
        async with self._rebuild:
            if self._listing and self._listing[0] == block and self._listing[1] > time.monotonic():
                return self._listing[2]
            infos = await run_in_threadpool(self._listing_chain)
            found = await self.reads.aget_many([i.manifest_cid for i in infos], LISTING_WAIT)
            rows = [row(i, manifest_dict(found[i.manifest_cid])) for i in infos]
            fresh = LISTING_FRESH if all(v is not None for v in found.values()) else LISTING_RETRY
            self._listing = (block, time.monotonic() + fresh, rows)
            return rows

    def _block_number(self) -> int:
        with self.lock:
            return int(self.client.conn.w3.eth.block_number)

    def _listing_chain(self) -> list["DatasetInfo"]:
        with self.lock:
            index = self.client.reader.index
            index.update()
            return [self.client.reader.dataset_info(int(i), with_manifest=False)
                    for i in sorted(index.datasets, key=int)]

    async def dataset(self, dataset_id: int, sales_of: Callable[[int], list[dict[str, Any]]]) -> dict[str, Any]:
        """One dataset with its terms, versions, manifest and sales (`sales_of`: the page's sale records)."""
        info, more = await run_in_threadpool(self._dataset_chain, dataset_id, sales_of)
        manifest = manifest_dict(await self.reads.aget(info.manifest_cid, manifest_timeout() + 1))
        return {**row(info, manifest), **more, "manifest": manifest}

    def _dataset_chain(self, dataset_id: int, sales_of: Callable[[int], list[dict[str, Any]]]
                       ) -> tuple["DatasetInfo", dict[str, Any]]:
        with self.lock:
            info = self.client.reader.dataset(dataset_id, with_manifest=False)
            rec = self.client.reader.index.datasets[str(dataset_id)]
            return info, {
                "manifestCid": info.manifest_cid, "plaintextSha256": info.plaintext_sha256, "keyHash": info.key_hash,
                "duration": info.duration, "deliveryWindow": info.delivery_window,
                "disputeWindow": info.dispute_window, "transferable": info.transferable, "termsRef": info.terms_ref,
                "agent": self.client.conn.market.agent_of(dataset_id),
                "versions": [{"version": int(v), **r}
                             for v, r in sorted(rec["versions"].items(), key=lambda x: int(x[0]))],
                "sales": sales_of(dataset_id),
                "settingsId": self.client.conn.market.current_settings_id(),  # a purchase names it, with the terms
            }

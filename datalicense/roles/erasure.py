"""Retiring a dataset and erasing its versions: unpin them from every configured node (the publisher's included),
collect garbage on the nodes the owner controls, delete this home's content keys and upload records of those
versions, and say plainly what stays out of reach (delivered copies, strangers' caches, the chain's record).

Where each version is pinned comes from datalicense.roles.replicas.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from datalicense.errors import ConfigError, StorageError
from datalicense.infra.chain import normalize_address
from datalicense.infra.ipfs import Storage
from datalicense.roles.replicas import VersionCids, nodes_of, short_reason, upload_records, version_cids
from datalicense.roles.role import Parts

__all__ = ["ErasureReport", "erase_versions", "retire_and_erase"]


@dataclass
class ErasureReport:
    dataset_id: int
    retired_tx: str | None
    unpinned: list[dict[str, str]] = field(default_factory=list)  # {endpoint, cid, result}
    collected: list[dict[str, str]] = field(default_factory=list)  # {endpoint, result}
    deleted_files: list[str] = field(default_factory=list)
    cannot_erase: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_versions(client: Parts, dataset_id: int, versions: list[int] | None = None,
                   retired_tx: str | None = None) -> ErasureReport:
    """Unpin the versions' manifests and ciphertexts from every configured node (the publisher's included),
    run garbage collection on the nodes the owner controls, delete this home's content keys and upload records
    of those versions, and say what stays out of reach."""
    nodes = nodes_of(client)
    chosen = _chosen_versions(version_cids(client, dataset_id, [n for _, n, _ in nodes]), dataset_id, versions)
    report = ErasureReport(dataset_id, retired_tx)
    for name, node, owned in nodes:
        if not _unpin_on(node, name, chosen, report):
            report.cannot_erase.append(f"{name} was unreachable: its copies stay until it is back and "
                                       f"`datalicense retire {dataset_id} --erase` runs again")
        elif owned:
            _collect_garbage(node, name, chosen, report)
        else:
            report.cannot_erase.append(f"{name} is not marked owned: unpinned there, but its cached blocks go "
                                       "only when its operator collects garbage")
    _delete_content_keys(client, dataset_id, versions, report)
    _delete_upload_records(client, chosen, report)
    report.cannot_erase += _out_of_reach(client.conn.market.dataset(dataset_id).sold)
    return report


def _chosen_versions(all_versions: list[VersionCids], dataset_id: int,
                     versions: list[int] | None) -> list[VersionCids]:
    if versions is not None:
        unknown = sorted(set(versions) - {v.version for v in all_versions})
        if unknown:
            raise ConfigError(f"dataset {dataset_id} has no version {unknown[0]}")
    return [v for v in all_versions if versions is None or v.version in versions]


def _unpin_on(node: Storage, name: str, chosen: list[VersionCids], report: ErasureReport) -> bool:
    """Unpin every CID of the chosen versions on one node; False as soon as the node cannot be reached."""
    for v in chosen:
        for cid in v.cids():
            try:
                result = "unpinned" if node.unpin_cid(cid) else "was not pinned"
            except StorageError as exc:
                result = f"not erased: {short_reason(exc)}"
            report.unpinned.append({"endpoint": name, "cid": cid, "result": result})
            if "cannot reach" in result or "did not answer" in result:
                return False
    return True


def _collect_garbage(node: Storage, name: str, chosen: list[VersionCids], report: ErasureReport) -> None:
    try:
        removed = node.gc()
        left = [v.ciphertext_cid for v in chosen if v.ciphertext_cid and node.has_local(v.ciphertext_cid)]
        report.collected.append({"endpoint": name, "result": f"garbage collected ({removed} blocks)"
                                 + (f"; still holds {len(left)} ciphertext(s) (pinned elsewhere on it)"
                                    if left else "")})
    except StorageError as exc:
        report.collected.append({"endpoint": name, "result": f"garbage collection failed: {short_reason(exc)}"})


def _delete_content_keys(client: Parts, dataset_id: int, versions: list[int] | None, report: ErasureReport) -> None:
    """This home's content keys of those versions (files named by the key's hash), and the folder once empty."""
    key_hashes = {v.key_hash[2:] for v in client.reader.dataset_versions(dataset_id)
                  if versions is None or v.number in versions}
    key_dir = client.keys.keys_dir / str(dataset_id)
    if not key_dir.is_dir():
        return
    for f in sorted(key_dir.glob("*.age")):
        if f.stem in key_hashes:
            f.unlink()
            report.deleted_files.append(str(f))
    if not any(key_dir.iterdir()):
        key_dir.rmdir()


def _delete_upload_records(client: Parts, chosen: list[VersionCids], report: ErasureReport) -> None:
    """The upload records of those versions, and the file records that point at them."""
    records = upload_records(client)
    gone = set()
    for v in chosen:
        rec = records.get(v.manifest_cid)
        if rec is not None:
            rec.path.unlink(missing_ok=True)
            gone.add(rec.path.stem)
            report.deleted_files.append(str(rec.path))
    files = client.keys.uploads_dir / "files"
    for f in sorted(files.glob("*.json")) if files.is_dir() else []:
        try:
            if json.loads(f.read_text()).get("record") in gone:
                f.unlink()
        except (OSError, ValueError, AttributeError):
            continue


def _out_of_reach(sold: int) -> list[str]:
    return [
        f"copies already delivered: {sold} licence(s) were sold; each licensee may keep the decrypted data and "
        "the ciphertext, and the delivered key opens it for good",
        "other IPFS nodes' caches: any node that fetched the ciphertext or manifest (buyers' nodes, gateways, "
        "peers that relayed it) keeps the blocks until it collects garbage; nobody can force that",
        "the on-chain record: the dataset's manifest CIDs, plaintext hashes, key commitments, sales and key "
        "deliveries stay on Rootstock for good (the data itself was never on chain)",
    ]


def retire_and_erase(client: Parts, dataset_id: int, erase: bool) -> ErasureReport:
    """Stop sales (the marketplace's `retire`, through the pool when a pool owns the dataset) and, with erase,
    erase every version as erase_versions does."""
    info = client.conn.market.dataset(dataset_id)
    if not info.exists:
        raise ConfigError(f"dataset {dataset_id} does not exist on chain id {client.conn.chain_id}")
    me = client.conn.tx.account.address
    pool = None
    if info.owner != me:
        pool = client.conn.pool_contract(normalize_address(info.owner))
        try:
            curator = pool.functions.curator().call()
        except Exception as exc:  # noqa: BLE001 - not a pool
            raise ConfigError(f"dataset {dataset_id} is owned by {info.owner}, not {me}: only its owner retires it") from exc
        if normalize_address(curator) != me:
            raise ConfigError(f"dataset {dataset_id} belongs to a pool curated by {curator}, not {me}")
    tx: str | None = None
    if client.conn.market.offer(dataset_id).terms.status == "retired":
        tx = None  # already retired: erasure can still run (again)
    elif pool is None:
        tx = client.conn.tx.send(client.conn.contract.functions.retire(dataset_id), what="retire").tx_hash
    else:
        tx = client.conn.tx.send(pool.functions.retire(), what="retire").tx_hash
    if not erase:
        return ErasureReport(dataset_id, tx)
    return erase_versions(client, dataset_id, None, tx)

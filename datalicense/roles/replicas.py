"""Replication on IPFS itself: the publisher's node plus replica nodes that pin every version.

Replicas are Kubo RPC endpoints (a second machine of the publisher's, a friend's node, a data cooperative's
node), configured by

- DATALICENSE_REPLICAS: comma-separated entries (set but empty: no replicas), else
- the file `replicas` in the home folder (~/.datalicense/replicas): one entry a line, `#` starts a comment.

An entry is `ENDPOINT [owned]`: a multiaddr (/ip4/10.0.0.2/tcp/5001) or URL (http://10.0.0.2:5001); `owned`
marks a node the publisher controls, whose garbage collection `retire --erase` runs (the publisher's own node
always counts as owned).

Replicas fetch over bitswap from the publisher's node: each is first told to connect to it (`swarm connect`),
then to pin the manifest and the ciphertext. A replica that is down, refuses, or has not finished within the
wait is reported as such, never as an error of the publish; `datalicense pins repair` finishes the job.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from datalicense.errors import ConfigError, DataLicenseError, StorageError
from datalicense.infra.home import default_home
from datalicense.infra.ipfs import Storage, to_multiaddr
from datalicense.protocol.manifest import MANIFEST_MAX_BYTES, parse
from datalicense.roles.role import Parts

log = logging.getLogger("datalicense.roles.replicas")

#: Seconds a publish waits for its replicas to finish pinning (DATALICENSE_REPLICA_WAIT overrides).
DEFAULT_WAIT = 120.0
#: Seconds between two replication checks of the agent (DATALICENSE_REPLICA_CHECK overrides).
CHECK_INTERVAL = 900.0
PINNED, FETCHING, FAILED, MISSING, UNREACHABLE = "pinned", "fetching", "failed", "missing", "unreachable"


@dataclass(frozen=True)
class Replica:
    endpoint: str  # as configured (multiaddr or URL)
    owned: bool = False

    @property
    def api(self) -> str:
        return to_multiaddr(self.endpoint)


@dataclass
class ReplicaReport:
    """What one replica did with one version: pinned, fetching (not finished within the wait), or failed."""

    endpoint: str
    status: str
    reason: str = ""
    cids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"{self.endpoint}: {self.status}" + (f" ({self.reason})" if self.reason else "")


def parse_entries(text: str, sep: str = "\n") -> list[Replica]:
    out: list[Replica] = []
    for raw in text.split(sep):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        words = entry.split()
        flags = {w.lower() for w in words[1:]}
        unknown = flags - {"owned"}
        if unknown:
            raise ConfigError(f"replica entry {entry!r}: unknown flag {sorted(unknown)[0]!r} (only 'owned')")
        try:
            to_multiaddr(words[0])
        except StorageError as exc:
            raise ConfigError(f"replica entry {entry!r}: {exc}") from exc
        if all(_norm(r.api) != _norm(words[0]) for r in out):
            out.append(Replica(words[0], "owned" in flags))
    return out


def configured(home: Path | None = None, exclude: str | None = None) -> list[Replica]:
    """The configured replicas (DATALICENSE_REPLICAS, else HOME/replicas), without the node `exclude`."""
    env = os.environ.get("DATALICENSE_REPLICAS")
    if env is not None:
        found = parse_entries(env, ",")
    else:
        path = (home or default_home()) / "replicas"
        try:
            found = parse_entries(path.read_text()) if path.exists() else []
        except OSError as exc:
            raise ConfigError(f"cannot read the replica list {path}: {exc.strerror}") from exc
    skip = _norm(exclude) if exclude else None
    return [r for r in found if _norm(r.api) != skip]


def _norm(api: str) -> str:
    """A node's RPC address for comparisons (/http is what a bare multiaddr means anyway)."""
    return to_multiaddr(api).rstrip("/").removesuffix("/http")


def wait_budget() -> float:
    try:
        return max(0.0, float(os.environ.get("DATALICENSE_REPLICA_WAIT", DEFAULT_WAIT)))
    except ValueError as exc:
        raise ConfigError("DATALICENSE_REPLICA_WAIT is not a number of seconds") from exc


def short_reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def pin_on(replica: Replica, cids: list[str], sources: list[Storage], wait: float) -> ReplicaReport:
    """Have one replica pin cids, fetching them from the source nodes (connected to first); never raises."""
    deadline = time.monotonic() + wait
    node = Storage(replica.api, timeout=10, retries=0)
    try:
        node.peer_id()
    except StorageError as exc:
        return ReplicaReport(replica.endpoint, FAILED, f"unreachable: {short_reason(exc)}", cids)
    for src in sources:
        try:
            node.swarm_connect(src.addresses())
        except StorageError:
            pass  # the replica may still find the data through its routing
    done: list[str] = []
    for cid in cids:
        left = deadline - time.monotonic()
        if left <= 0:
            return ReplicaReport(replica.endpoint, FETCHING,
                                 f"{len(done)} of {len(cids)} pinned when the {wait:g} s wait ended; "
                                 "`datalicense pins repair` finishes it", cids)
        try:
            node.pin_remote(cid, timeout=left)
            done.append(cid)
        except StorageError as exc:
            if "did not answer in time" in str(exc):
                return ReplicaReport(replica.endpoint, FETCHING,
                                     f"{len(done)} of {len(cids)} pinned when the {wait:g} s wait ended (what "
                                     "arrived stays in its cache); `datalicense pins repair` finishes it", cids)
            return ReplicaReport(replica.endpoint, FAILED, short_reason(exc), cids)
    return ReplicaReport(replica.endpoint, PINNED, "", cids)


def replicate(source: Storage, cids: list[str], replicas: Iterable[Replica],
              wait: float | None = None) -> list[ReplicaReport]:
    """Pin cids on every replica at once (each fetches from `source`), within `wait` seconds in all."""
    replicas = list(replicas)
    wait = wait_budget() if wait is None else wait
    reports: list[ReplicaReport | None] = [None] * len(replicas)

    def one(i: int) -> None:
        try:
            reports[i] = pin_on(replicas[i], cids, [source], wait)
        except Exception as exc:  # noqa: BLE001 - a replica's trouble is reported, never raised
            reports[i] = ReplicaReport(replicas[i].endpoint, FAILED, short_reason(exc), cids)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(replicas))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(wait + 30)
    return [r or ReplicaReport(replicas[i].endpoint, FETCHING, "no answer within the wait", cids)
            for i, r in enumerate(reports)]


# ------------------------------------------------------------------------------------ what is where


@dataclass(frozen=True)
class VersionCids:
    dataset_id: int
    version: int
    manifest_cid: str
    ciphertext_cid: str  # "" when neither the upload record nor a reachable node gave the manifest

    def cids(self) -> list[str]:
        return [c for c in (self.manifest_cid, self.ciphertext_cid) if c]


@dataclass(frozen=True)
class UploadRecord:
    """One upload record of this home (datalicense.roles.keys writes them): its file and the version's CIDs."""

    path: Path
    manifest_cid: str
    ciphertext_cid: str


def upload_records(client: Parts) -> dict[str, UploadRecord]:
    """This home's upload records by manifest CID."""
    out: dict[str, UploadRecord] = {}
    for path in sorted(client.keys.uploads_dir.glob("*.json")):
        try:
            rec = json.loads(path.read_text())
            out[str(rec["manifestCid"])] = UploadRecord(path, str(rec["manifestCid"]), str(rec.get("ciphertextCid", "")))
        except (OSError, ValueError, KeyError, AttributeError):
            continue
    return out


def version_cids(client: Parts, dataset_id: int, nodes: list[Storage] | None = None) -> list[VersionCids]:
    """Every version of a dataset with its manifest and ciphertext CIDs (the ciphertext from this home's upload
    record, else from the manifest read from the first node that has it)."""
    records = upload_records(client)
    out = []
    for v in client.reader.dataset_versions(dataset_id):
        mcid = v.manifest_cid
        ccid = records[mcid].ciphertext_cid if mcid in records else ""
        for node in ([] if ccid else (nodes or [client.conn.storage])):
            try:
                ccid = parse(node.cat_bytes(mcid, max_size=MANIFEST_MAX_BYTES, deadline=15)).ciphertext_cid
                break
            except DataLicenseError:
                continue
        out.append(VersionCids(dataset_id, v.number, mcid, ccid))
    return out


def owned_datasets(client: Parts) -> list[int]:
    """Datasets this account owns (directly, or as the curator publishing through a pool) or published from
    this home folder."""
    me = client.conn.tx.account.address
    client.reader.index.update()
    ids = [int(i) for i in sorted(client.reader.index.datasets, key=int)]
    return [ds for ds in ids if client.keys.holds_keys_for(ds) or client.conn.market.dataset(ds).owner == me]


def nodes_of(client: Parts) -> list[tuple[str, Storage, bool]]:
    """(name, storage, owned) of the publisher's node and of every configured replica."""
    own = [(client.conn.storage.api, client.conn.storage, True)]
    reps = configured(client.conn.home, exclude=client.conn.storage.api)
    return own + [(r.endpoint, Storage(r.api, timeout=15, retries=0), r.owned) for r in reps]


def where_pinned(client: Parts, dataset_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """One row per version: its CIDs and, per node, pinned / missing / unreachable (with the reason)."""
    nodes = nodes_of(client)
    ids = owned_datasets(client) if dataset_ids is None else dataset_ids
    reachable: dict[str, str] = {}
    for name, node, _ in nodes:
        try:
            node.peer_id()
            reachable[name] = ""
        except StorageError as exc:
            reachable[name] = short_reason(exc)
    rows = []
    for ds in ids:
        for v in version_cids(client, ds, [n for name, n, _ in nodes if not reachable[name]]):
            where: dict[str, str] = {}
            for name, node, _ in nodes:
                if reachable[name]:
                    where[name] = f"{UNREACHABLE}: {reachable[name]}"
                    continue
                try:
                    pins = node.pinned(v.cids())
                    if not v.ciphertext_cid:
                        where[name] = "unknown ciphertext (manifest unreadable)"
                    else:
                        where[name] = PINNED if all(pins.values()) else MISSING
                except StorageError as exc:
                    where[name] = f"{FAILED}: {short_reason(exc)}"
            rows.append({"datasetId": ds, "version": v.version, "manifestCid": v.manifest_cid,
                         "ciphertextCid": v.ciphertext_cid, "nodes": where})
    return rows


def repair(client: Parts, dataset_ids: list[int] | None = None,
           wait: float | None = None) -> list[dict[str, Any]]:
    """Pin every version where it is missing (the publisher's node included), fetching from any node that has it.
    One row per (version, node) that needed work, with the outcome."""
    nodes = nodes_of(client)
    wait = wait_budget() if wait is None else wait
    done = []
    for row in where_pinned(client, dataset_ids):
        cids = [c for c in (row["manifestCid"], row["ciphertextCid"]) if c]
        holders = [node for name, node, _ in nodes if row["nodes"].get(name) == PINNED]
        for name, node, owned in nodes:
            state = row["nodes"][name]
            if state == PINNED or state.startswith(UNREACHABLE):
                if state.startswith(UNREACHABLE):
                    done.append({"datasetId": row["datasetId"], "version": row["version"], "endpoint": name,
                                 "status": FAILED, "reason": state})
                continue
            rep = pin_on(Replica(name, owned), cids, holders, wait)
            done.append({"datasetId": row["datasetId"], "version": row["version"], "endpoint": name,
                         "status": rep.status, "reason": rep.reason})
    return done


def check_on_schedule(agent: Any) -> None:
    """For the agent's run loop: at most every DATALICENSE_REPLICA_CHECK seconds (default 900), log the versions
    of the datasets it serves that are missing on a configured node. Never raises."""
    now = time.monotonic()
    try:
        interval = float(os.environ.get("DATALICENSE_REPLICA_CHECK", CHECK_INTERVAL))
    except ValueError:
        interval = CHECK_INTERVAL
    last = getattr(agent, "_replication_checked_at", None)
    if interval <= 0 or (last is not None and now - last < interval):
        return
    agent._replication_checked_at = now
    try:
        client = agent.client
        if not configured(client.conn.home, exclude=client.conn.storage.api):
            return
        client.reader.index.update()
        served = [int(i) for i in sorted(client.reader.index.datasets, key=int) if agent.serves(int(i))]
        gaps = 0
        for row in where_pinned(client, served):
            lacking = {n: s for n, s in row["nodes"].items() if s != PINNED}
            for name, state in lacking.items():
                gaps += 1
                log.warning("replication gap: dataset %d version %d is %s on %s (run `datalicense pins repair`)",
                            row["datasetId"], row["version"], state, name)
        if served and not gaps:
            log.info("replication: every version of %d served dataset(s) is pinned on every node", len(served))
    except Exception as exc:  # noqa: BLE001 - a check must never stop deliveries
        log.warning("replication check failed: %s", short_reason(exc))

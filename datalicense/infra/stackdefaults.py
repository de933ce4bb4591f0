"""What a running local stack (datalicense.services.stack, `datalicense up`) lends `--network local`: its chain,
deployments and Kubo, read from `stack/stack.json` in the data folder. The stack writes that file; this module
only reads it, so the client and the CLI learn the defaults without importing the stack's service code."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from datalicense.infra.home import default_home

__all__ = ["StackDefaults", "apply_defaults", "defaults", "state_file"]


@dataclass(frozen=True)
class StackDefaults:
    """Where the stack of a data folder runs: its chain's RPC URL, its Kubo API and its deployments folder."""

    rpc: str
    ipfs: str
    deployments: str


def state_file(home: Path | None) -> Path:
    """stack/stack.json under the data folder `home` (default: the default home)."""
    return (Path(home) if home else default_home()) / "stack" / "stack.json"


def defaults(home: Path | None) -> StackDefaults | None:
    """What the stack of this data folder records, or None when it was never started."""
    try:
        data = json.loads(state_file(home).read_text())
        return StackDefaults(str(data["rpc"]), str(data["ipfs"]), str(data["deployments"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def apply_defaults(home: Path | None, ipfs: str | None) -> str | None:
    """For `--network local`: when this data folder has a stack and nothing else names the local chain, its chain
    (DATALICENSE_LOCAL_RPC), its deployments (DATALICENSE_DEPLOYMENTS) and its Kubo (returned as the IPFS
    endpoint) become the defaults. Anything set explicitly wins."""
    d = defaults(home)
    if d is None:
        return ipfs
    local = os.environ.get("DATALICENSE_LOCAL_RPC")
    if local and local.rstrip("/") != d.rpc.rstrip("/"):
        return ipfs  # another local chain was named (the tests' own): leave everything as it is
    os.environ["DATALICENSE_LOCAL_RPC"] = d.rpc
    os.environ.setdefault("DATALICENSE_DEPLOYMENTS", d.deployments)
    return ipfs or os.environ.get("DATALICENSE_IPFS_API") or d.ipfs

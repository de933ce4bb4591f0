"""Addresses of deployed contracts, one JSON file per chain id: <deployments folder>/<chain-id>.json.

The folder is $DATALICENSE_DEPLOYMENTS, else `deployments/` in the data folder ($DATALICENSE_HOME, default
~/.datalicense); `datalicense up` points it at its stack's own. Never the checkout's folder: an installed package
reads the same place.

The one place that knows where the contracts live. Format:
    {"chainId": 31, "contracts": {"DataLicense": {"address": "0x...", "block": 123, "tx": "0x..."}}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from datalicense.errors import ConfigError
from datalicense.infra.home import default_home


def deployments_dir() -> Path:
    """$DATALICENSE_DEPLOYMENTS, else deployments/ in the data folder."""
    folder = os.environ.get("DATALICENSE_DEPLOYMENTS")
    return Path(folder) if folder else default_home() / "deployments"


def path_for(chain_id: int) -> Path:
    return deployments_dir() / f"{chain_id}.json"


def load(chain_id: int) -> dict[str, Any]:
    path = path_for(chain_id)
    if not path.exists():
        known = sorted(p.stem for p in deployments_dir().glob("*.json"))
        raise ConfigError(
            f"no deployment for chain id {chain_id} ({path} missing; deployments exist for chain ids "
            f"{', '.join(known) or 'none'}): start the local stack (`datalicense up`), set DATALICENSE_DEPLOYMENTS "
            "to the folder holding it, give --address, or pick another --network"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix or delete the file and deploy again") from exc
    if int(data.get("chainId", -1)) != chain_id:
        raise ConfigError(
            f"{path} is for chain id {data.get('chainId')}, not {chain_id}: the file was copied from another "
            "network; delete it and deploy again"
        )
    return data


def address_of(chain_id: int, name: str = "DataLicense") -> str:
    data = load(chain_id)
    try:
        return str(data["contracts"][name]["address"])
    except KeyError as exc:
        raise ConfigError(f"{path_for(chain_id)} has no {name} address; deploy it first") from exc


def save(chain_id: int, name: str, address: str, block: int, tx: str) -> Path:
    path = path_for(chain_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"chainId": chain_id, "contracts": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            pass
    data["chainId"] = chain_id
    data.setdefault("contracts", {})[name] = {"address": address, "block": block, "tx": tx}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path

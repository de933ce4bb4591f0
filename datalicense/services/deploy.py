"""Deploying the marketplace with web3 from the compiled artifacts the package ships (no brownie): the local
stack's own deployment (datalicense/services/stack.py) and an installed wheel's (tests/test_wheel.py).

The local chain's marketplace roles are dev accounts of the development mnemonic: dev:0 admin, dev:1 fee recipient,
dev:2 arbiter.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from datalicense.errors import ConfigError

CHAIN_ID = 33
#: Marketplace roles on the local chain (the dev accounts of the mnemonic).
ADMIN, FEE_RECIPIENT, ARBITER = 0, 1, 2
FEE_BPS = 250
DISPUTE_BOND = 10**15


def artifact(name: str) -> dict[str, Any]:
    """ABI and creation bytecode of a project contract, from $DATALICENSE_ARTIFACTS (a folder of compiled
    contracts, such as brownie's build/contracts) or else from the copy the package ships (datalicense/artifacts,
    exported from the build by `make setup` / scripts/export_abi.py). Never from the checkout's layout."""
    folder = os.environ.get("DATALICENSE_ARTIFACTS")
    path = Path(folder or str(resources.files("datalicense") / "artifacts")) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
        code = data["bytecode"]
        abi = data["abi"]
    except FileNotFoundError as exc:
        hint = ("fix DATALICENSE_ARTIFACTS" if folder else
                "in a checkout run `make setup` (it compiles and exports the contracts); else reinstall the package")
        raise ConfigError(f"no compiled {name} at {path}: {hint}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the compiled {name} at {path}: {exc}; run `make setup`") from exc
    if not code or "__" in code:
        raise ConfigError(f"{path} has no deployable bytecode for {name} (unlinked or abstract)")
    return {"abi": abi, "bytecode": code if code.startswith("0x") else "0x" + code}


def deploy_marketplace(w3: Any, record: Path) -> dict[str, Any]:
    """Deploy DataLicense, DataLicenseLens and a RevenuePool implementation from the dev accounts; write `record`
    in the deployments format (datalicense/infra/deployments.py)."""
    from datalicense.infra.chain import Transactor, load_account  # start-up: web3 only when deploying

    admin = load_account(f"dev:{ADMIN}")
    fee_recipient = load_account(f"dev:{FEE_RECIPIENT}").address
    arbiter = load_account(f"dev:{ARBITER}").address
    tx = Transactor(w3, admin)
    contracts: dict[str, Any] = {}

    def deploy(name: str, *args: Any) -> str:
        a = artifact(name)
        factory = w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
        rcpt = tx.send(factory.constructor(*args), what=f"deploy {name}")
        address = rcpt.raw["contractAddress"]
        contracts[name] = {"address": address, "block": rcpt.block, "tx": rcpt.tx_hash}
        return str(address)

    market = deploy("DataLicense", admin.address, fee_recipient, arbiter, FEE_BPS, DISPUTE_BOND)
    deploy("DataLicenseLens", market)
    deploy("RevenuePool", market)
    record.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = record.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"chainId": CHAIN_ID, "contracts": contracts}, indent=2) + "\n")
    os.replace(tmp, record)
    return contracts

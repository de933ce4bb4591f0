"""Deploy the marketplace and record its address in <deployments folder>/<chain-id>.json: $DATALICENSE_DEPLOYMENTS,
else ~/.datalicense/deployments (datalicense/infra/deployments.py), where the `datalicense` command reads it.

    brownie run scripts/deploy.py                          # local chain, accounts[0] as admin
    brownie run scripts/deploy.py --network rsk-testnet    # needs DATALICENSE_DEPLOYER (a brownie keystore id)

Settings (environment): DATALICENSE_FEE_BPS (default 250), DATALICENSE_DISPUTE_BOND_WEI (default 1e15),
DATALICENSE_FEE_RECIPIENT and DATALICENSE_ARBITER (default: the deployer).
"""

import os

from brownie import accounts, chain, network
from brownie import project as _project

from datalicense.infra import deployments


def deployer():
    if network.show_active() in ("development", "rsk-fork") or os.environ.get("DATALICENSE_DEPLOYER") is None:
        if network.show_active() not in ("development", "rsk-fork"):
            raise SystemExit("set DATALICENSE_DEPLOYER to the brownie keystore id of the deploying account")
        return accounts[0]
    return accounts.load(os.environ["DATALICENSE_DEPLOYER"])


def _containers():
    """The project's contract containers, however the project was loaded (`brownie run` or project.load)."""
    p = _project.get_loaded_projects()[0]
    return p.DataLicense, p.DataLicenseLens, p.RevenuePool


def deploy(admin=None, quiet=False):
    DataLicense, DataLicenseLens, RevenuePool = _containers()
    admin = admin or deployer()
    fee_bps = int(os.environ.get("DATALICENSE_FEE_BPS", "250"))
    bond = int(os.environ.get("DATALICENSE_DISPUTE_BOND_WEI", str(10**15)))
    fee_recipient = os.environ.get("DATALICENSE_FEE_RECIPIENT", admin.address)
    arbiter = os.environ.get("DATALICENSE_ARBITER", admin.address)
    market = DataLicense.deploy(admin, fee_recipient, arbiter, fee_bps, bond, {"from": admin}, silent=quiet)
    tx = market.tx
    path = deployments.save(chain.id, "DataLicense", market.address, tx.block_number, tx.txid)
    lens = DataLicenseLens.deploy(market, {"from": admin}, silent=quiet)
    deployments.save(chain.id, "DataLicenseLens", lens.address, lens.tx.block_number, lens.tx.txid)
    pools = RevenuePool.deploy(market, {"from": admin}, silent=quiet)
    deployments.save(chain.id, "RevenuePool", pools.address, pools.tx.block_number, pools.tx.txid)
    if not quiet:
        print(f"DataLicense deployed at {market.address} (chain id {chain.id}, block {tx.block_number})")
        print(f"DataLicenseLens (read-only views) at {lens.address}")
        print(f"RevenuePool implementation (pool factory) at {pools.address}")
        print(f"recorded in {path}")
    return market


def main():
    deploy()

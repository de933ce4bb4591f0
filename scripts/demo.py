"""The main job on the local stack: `make demo`.

Brownie launches the local chain (Ganache as a Rootstock regtest look-alike); this script starts a
throwaway Kubo daemon, deploys the marketplace, and stops everything it started when it ends.
"""

from brownie import chain, web3

from datalicense.localstack import KuboDaemon
from scripts.deploy import deploy


def main():
    print(f"chain id {chain.id}, block gas limit {web3.eth.get_block('latest')['gasLimit']:,}, "
          f"gas price {web3.eth.gas_price / 1e9:.2f} gwei")
    with KuboDaemon() as kubo:
        print(f"Kubo RPC API at {kubo.api_url} (repository {kubo.repo})")
        market = deploy()
        print(f"DataLicense: {market.address}")
    print("Kubo stopped; brownie stops the chain.")

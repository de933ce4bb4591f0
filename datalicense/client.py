"""The Python API: open a connection to the marketplace and use its roles.

    from datalicense import Client
    owner = Client.connect("local", account="dev:3")
    ds = owner.seller.publish("data.csv", title="Clinic visits 2025", price="0.002")
    lic = Client.connect("local", account="dev:4").buyer.buy(ds.dataset_id)

Roles, all over one connection (datalicense.infra.connection: web3, the contract, the transaction sender, IPFS, the
state folder): `reader` (datalicense.roles.reader: datasets, licences, deliveries, amounts), `seller`
(datalicense.roles.seller: publish, versions, deliver, withdraw), `buyer` (datalicense.roles.buyer: buy, fetch, confirm,
dispute, refund, get over HTTP 402), `owner` (datalicense.roles.owner: agent, terms, pause, transfer, sales of
datasets owned), `arbiter` (datalicense.roles.arbiter: rulings on data disputes), `keys` (datalicense.roles.keys:
content keys, seller secret, delivery keys, upload records in the home folder) and `pool(address)`
(datalicense.roles.pool: a RevenuePool's curator and contributors).

Runs on web3.py only (no brownie), so it is usable from a notebook, a script or an AI pipeline.
"""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from datalicense.roles.arbiter import Arbiter
from datalicense.roles.buyer import Buyer
from datalicense.infra.chain import connect, load_account
from datalicense.infra.connection import Connection, Progress, no_progress
from datalicense.infra.stackdefaults import apply_defaults, defaults
from datalicense.roles.keys import KeyStore
from datalicense.roles.owner import DatasetOwner
from datalicense.roles.pool import PoolClient
from datalicense.roles.reader import MarketReader
from datalicense.protocol.results import BuyResult, DatasetInfo, FetchResult, LicenceInfo, PublishResult
from datalicense.roles.seller import Seller
from datalicense.infra.ipfs import Storage, cid_from_bytes


class Client:
    """Opens one connection (an account on a deployment, with an IPFS endpoint) and hands out its roles:
    `reader`, `seller`, `buyer`, `owner`, `arbiter`, `keys` and `pool(address)`."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | None = None,
        storage: Storage | None = None,
        address: str | None = None,
        home: str | Path | None = None,
        progress: Progress = no_progress,
        namespace: str | None = None,
    ):
        self.conn = Connection(w3, account, storage, address, home, progress, namespace)
        self.keys = KeyStore(self.conn)
        self.reader = MarketReader(self.conn)
        self.seller = Seller(self.conn, self.keys, self.reader)
        self.buyer = Buyer(self.conn, self.keys, self.reader)
        self.owner = DatasetOwner(self.conn, self.keys, self.reader)
        self.arbiter = Arbiter(self.conn, self.keys, self.reader)

    @classmethod
    def connect(
        cls,
        network: str = "local",
        account: str | LocalAccount | None = None,
        ipfs: str | None = None,
        address: str | None = None,
        home: str | Path | None = None,
        progress: Progress = no_progress,
        namespace: str | None = None,
        chain_id: int | None = None,
    ) -> "Client":
        if network == "local":  # the stack `datalicense up` keeps running, if any: its chain, contracts and Kubo
            # the stack of `home` if it has one, else the default home's (a buyer's own folder, as in the README)
            own = home is not None and defaults(Path(home)) is not None
            ipfs = apply_defaults(Path(home) if own else None, ipfs)
        w3 = connect(network, expected_chain_id=chain_id)
        acct = load_account(account, w3) if isinstance(account, str) else account
        return cls(w3, acct, Storage(ipfs), address, home, progress, namespace)

    def pool(self, address: str) -> PoolClient:
        """The RevenuePool at `address`, for its curator (new epochs) and contributors (standing, claim, revoke)."""
        return PoolClient(self.conn, address, self.seller)

    def __repr__(self) -> str:
        return f"<Client {self.conn.who} on chain {self.conn.chain_id}, marketplace {self.conn.address}>"


__all__ = ["Client", "PublishResult", "BuyResult", "FetchResult", "LicenceInfo", "DatasetInfo", "cid_from_bytes"]

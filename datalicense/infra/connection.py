"""One account on one deployment: web3, the marketplace contract, the transaction sender, IPFS and the folder of
local state. Every role (datalicense.roles: reader, seller, buyer, keys, pool; their base datalicense.roles.role.Role)
works over one of these."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from eth_account.signers.local import LocalAccount
from web3 import Web3

from datalicense.infra import deployments as deployments_mod
from datalicense.infra.chain import CURRENCY, Transactor, normalize_address
from datalicense.protocol.abi import abi
from datalicense.errors import ConfigError
from datalicense.infra.home import default_home, private_dir
from datalicense.infra.market import Market
from datalicense.protocol.rehearsal import real_chain_id
from datalicense.infra.ipfs import Storage

#: progress(label, total) -> tick(n): how long operations report their progress (a bar on a terminal)
Progress = Callable[[str, int | None], Callable[[int], None]]


def no_progress(label: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


class Connection:
    """The marketplace at `address` (default: the deployments file's) on the chain `w3` talks to, as `account`
    (None: read only), with an IPFS endpoint and a state folder under `home`."""

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
        self.w3 = w3
        node_chain_id = int(w3.eth.chain_id)
        #: the chain this is: a rehearsal fork's is the real chain it rehearses (its deployments, address casing,
        #: content keys and delivery-key messages); transactions are signed for the node's own (Transactor)
        self.chain_id = real_chain_id(node_chain_id)
        #: the chain id the node reports, which wallets and the transaction sender sign for
        self.node_chain_id = node_chain_id
        self.rehearsal = self.chain_id != node_chain_id
        self.account = account
        self.storage = storage or Storage()
        dep = deployments_mod.load(self.chain_id) if address is None else None
        self.address = normalize_address(address or dep["contracts"]["DataLicense"]["address"], self.chain_id)
        self.deploy_block = 0 if dep is None else int(dep["contracts"]["DataLicense"].get("block", 0))
        if not w3.eth.get_code(self.address):
            raise ConfigError(
                f"no contract at {self.address} on chain id {self.chain_id}: the deployments file does not match "
                "this network (redeploy, or pick the right --network)"
            )
        self.market = Market(w3, self.address)
        self.contract = self.market.contract
        self.home = Path(home) if home is not None else default_home()
        self.progress = progress
        self.currency = CURRENCY.get(self.chain_id, "RBTC")
        # Every piece of local state (content keys, upload records, the event index, agent journals) lives under
        # one folder per chain: chain id, genesis block and contract; a fork rehearsal gets its own.
        genesis = bytes(w3.eth.get_block(0)["hash"]).hex()[:12]
        real = f"{self.chain_id}-{genesis}-{self.address.lower()}"
        self.namespace = namespace or (f"rehearsal-{real}" if self.rehearsal else real)
        self.state_dir = self.home / "chains" / self.namespace
        #: the real chain's state folder; a rehearsal (another namespace) may read its content keys
        self.real_state_dir = self.home / "chains" / real
        private_dir(self.home)  # content keys and the seller secret live here: 0700, as ssh and gpg do
        self._tx: Transactor | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.who} on chain {self.chain_id}, marketplace {self.address}>"

    @property
    def who(self) -> str:
        """This account's address, or "no account"."""
        return self.account.address if self.account is not None else "no account"

    @property
    def tx(self) -> Transactor:
        """The transaction sender of this account (ConfigError without one)."""
        if self.account is None:
            raise ConfigError("this needs an account: pass --account (dev:N, a keystore file or a brownie id)")
        if self._tx is None:
            self._tx = Transactor(self.w3, self.account)
        return self._tx

    def pool_contract(self, address: str) -> Any:
        return self.w3.eth.contract(address=normalize_address(address, self.chain_id), abi=abi("RevenuePool"))

    def token_contract(self, asset: str) -> Any:
        return self.w3.eth.contract(address=asset, abi=abi("ERC20"))  # any ERC-20 (OpenZeppelin's interfaces)


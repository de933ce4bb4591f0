"""datalicense: license data on Rootstock.

Encrypted datasets on IPFS, licences and escrow on-chain. The Python API:

    from datalicense import Client
    dl = Client.connect("local", account="dev:3")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datalicense.errors import (
    AddressError,
    AlreadyHeldError,
    ChainError,
    ConfigError,
    CryptoError,
    DataLicenseError,
    DeliveryError,
    IntegrityError,
    NotAllowedNowError,
    NotFoundError,
    PolicyError,
    RefusedError,
    StorageError,
)

__all__ = [
    "Client", "PublishResult", "BuyResult", "FetchResult", "LicenceInfo", "DatasetInfo",
    "DataLicenseError", "ConfigError", "NotFoundError", "ChainError", "StorageError", "IntegrityError", "CryptoError",
    "RefusedError", "AddressError", "AlreadyHeldError", "NotAllowedNowError", "PolicyError", "DeliveryError",
]
__version__ = "0.1.0"

#: The API's classes, loaded on first use (PEP 562): `import datalicense.cli.main` (every `datalicense` command,
#: `datalicense --help` first) then does not load web3 and the roles before a command needs them.
_LAZY = {"Client": "datalicense.client", "PublishResult": "datalicense.protocol.results",
         "BuyResult": "datalicense.protocol.results", "FetchResult": "datalicense.protocol.results",
         "LicenceInfo": "datalicense.protocol.results", "DatasetInfo": "datalicense.protocol.results"}

if TYPE_CHECKING:
    from datalicense.client import Client
    from datalicense.protocol.results import BuyResult, DatasetInfo, FetchResult, LicenceInfo, PublishResult


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'datalicense' has no attribute {name!r}")
    # reason: start-up (web3 loads only when the API is used, not for `datalicense --help`)
    from datalicense import client
    from datalicense.protocol import results

    value = getattr(client if _LAZY[name] == "datalicense.client" else results, name)
    globals()[name] = value  # once: later reads find it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

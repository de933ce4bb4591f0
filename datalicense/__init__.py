"""datalicense: license data on Rootstock.

Encrypted datasets on IPFS, licences and escrow on-chain. The Python API:

    from datalicense import Client
    dl = Client.connect("local", account="dev:3")
"""

from datalicense.client import BuyResult, Client, DatasetInfo, FetchResult, LicenceInfo, PublishResult
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

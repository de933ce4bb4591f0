"""Errors the user sees: each says what was wrong and what to do next, in one line. All derive from
DataLicenseError; the CLI prints any of them as that line (exit 1), never a traceback.

    DataLicenseError
    ├── ConfigError             bad or missing configuration or input (network, deployments, account, file)
    │   ├── NotFoundError       no such dataset or licence on this network
    │   ├── AddressError*       an address malformed, or its checksum does not match (mistyped?)
    │   └── AlreadyHeldError*   the wallet already holds a pending or valid licence for the dataset
    ├── ChainError              a transaction or call failed on chain (error_name, error_args: the custom error)
    │   └── NotAllowedNowError* the licence's state or clock does not allow it yet, or any more
    ├── StorageError            IPFS unreachable, too slow, or without the content
    ├── IntegrityError          data does not match its on-chain commitment
    │   └── DeliveryError       a delivery, manifest or file does not match what the licence bought (`code`)
    ├── CryptoError             a key, identity or encrypted stream is malformed (also a ValueError)
    ├── PolicyError*            an HTTP 402 offer outside the spending policy, or not the URL's dataset
    └── RefusedError            (* above) the client refused before anything was signed or sent: no gas, no
                                payment; catch it to tell a refusal from a failure

Elsewhere, each beside the code that raises it: KeyWrapError(CryptoError) in protocol/keywrap.py,
ManifestError(IntegrityError) in protocol/manifest.py, SafeFileError in infra/safefile.py, PaymentError in
roles/paying.py.
"""

from __future__ import annotations

from typing import Any


class DataLicenseError(Exception):
    """Base of every error the datalicense package raises on purpose."""


class RefusedError(DataLicenseError):
    """Refused by the client before anything was signed or sent (no gas spent, nothing paid): the classes marked *
    in the tree above also derive from this."""


class ConfigError(DataLicenseError):
    """Bad or missing configuration (network, deployments file, account)."""


class NotFoundError(ConfigError):
    """No such dataset or licence on this network."""


class ChainError(DataLicenseError):
    """A transaction or call failed on-chain. `error_name` and `error_args` carry the contract's custom error
    (decoded against the ABI) when there was one, so callers decide by name, never by matching text."""

    def __init__(self, message: str, error_name: str | None = None, error_args: tuple[Any, ...] = ()):
        super().__init__(message)
        self.error_name = error_name
        self.error_args = tuple(error_args)


class StorageError(DataLicenseError):
    """IPFS is unreachable, timed out, or does not have the content."""


class IntegrityError(DataLicenseError):
    """Data does not match its on-chain commitment (wrong key, tampered ciphertext, bad manifest)."""


class CryptoError(DataLicenseError, ValueError):
    """A key, identity or encrypted stream is malformed (key wrap, age)."""


class DeliveryError(IntegrityError):
    """A delivery, manifest or decrypted file does not match what the licence bought (datalicense.protocol.delivery).
    `code` names the check; the page's JavaScript raises the same codes (tests/vectors/delivery.json)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class AlreadyHeldError(RefusedError, ConfigError):
    """A purchase refused before anything was sent: the wallet already holds a pending or valid licence for the
    dataset (`licence_id`). Buy again only on purpose (`again=True`, `buy --again`)."""

    def __init__(self, message: str, licence_id: int):
        super().__init__(message)
        self.licence_id = licence_id


class AddressError(RefusedError, ConfigError):
    """An address given is malformed (`code` "syntax") or carries a checksum that does not match (`code`
    "checksum": mistyped?). datalicense.protocol.addresses; the page's JavaScript raises the same codes
    (tests/vectors/addresses.json)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class PolicyError(RefusedError):
    """An HTTP 402 offer outside the spending policy, or not for the dataset the URL names: refused before anything
    was signed (datalicense.roles.paying, datalicense.protocol.offer)."""


class NotAllowedNowError(RefusedError, ChainError):
    """A licence's state or clock (datalicense.protocol.lifecycle) does not allow the act now: refused before the
    transaction that would revert is sent; says when or what instead."""

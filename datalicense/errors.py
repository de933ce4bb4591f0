"""Errors the user sees: each says what was wrong and what to do next."""


class DataLicenseError(Exception):
    """Base of every error the datalicense package raises on purpose."""


class ConfigError(DataLicenseError):
    """Bad or missing configuration (network, deployments file, account)."""


class ChainError(DataLicenseError):
    """A transaction or call failed on-chain."""


class StorageError(DataLicenseError):
    """IPFS is unreachable, timed out, or does not have the content."""


class IntegrityError(DataLicenseError):
    """Data does not match its on-chain commitment (wrong key, tampered ciphertext, bad manifest)."""

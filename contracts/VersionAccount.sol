// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title VersionAccount
/// @notice The ledger key under which the marketplace owes the owner of a dataset paid by version what the sales of
/// one version earned (`DataLicense.payByVersion`): the last 20 bytes of keccak256(abi.encode(owner, datasetId,
/// version)). Nobody holds a key for it; only `owner` withdraws it (`withdrawVersion`), and `balanceOwed` reads it.
/// A pool reads its epochs' revenue this way: one definition for the marketplace and the pool.
library VersionAccount {
    function account(address owner, uint256 datasetId, uint256 version) internal pure returns (address a) {
        // keccak256(abi.encode(owner, datasetId, version)), hashed in the memory past the free pointer (unused)
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, and(owner, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(m, 0x20), datasetId)
            mstore(add(m, 0x40), version)
            a := and(keccak256(m, 0x60), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }
}

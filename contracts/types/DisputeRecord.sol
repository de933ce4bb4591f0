// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev The data-dispute slot of a licence in DataLicense (`_disputes[licenceId]`), non-zero while DataDisputed.
/// This codec is the only place the layout is written (DataLicense and DataLicenseLens use it;
/// `datalicense.protocol.slots.DisputeRecordWord` mirrors it).
///
/// | bits  | 255 ... 96                      | 95 ... 0                       |
/// |-------|---------------------------------|--------------------------------|
/// | field | opened at (block timestamp)     | bond posted (RBTC, < 2^96)     |
type DisputeRecord is uint256;

library DisputeRecordLibrary {
    uint256 internal constant OPENED_OFFSET = 96;

    /// @dev A dispute opened at `openedAt_` with `bond_` posted (the caller keeps the bond below 2^96).
    function open(uint256 openedAt_, uint256 bond_) internal pure returns (DisputeRecord) {
        return DisputeRecord.wrap((openedAt_ << OPENED_OFFSET) | bond_);
    }

    function bond(DisputeRecord r) internal pure returns (uint256) {
        return uint96(DisputeRecord.unwrap(r));
    }

    function openedAt(DisputeRecord r) internal pure returns (uint256) {
        return DisputeRecord.unwrap(r) >> OPENED_OFFSET;
    }
}

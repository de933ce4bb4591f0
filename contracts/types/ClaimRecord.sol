// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev What one account did in one epoch and asset of a RevenuePool (`_records[epoch][asset][account]`). This codec
/// is the only place the layout is written (RevenuePool uses it; `datalicense.protocol.slots.ClaimRecordWord`
/// mirrors it).
///
/// | bits  | 255     | 254     | 253 ... 128                                                   | 127 ... 0 |
/// |-------|---------|---------|---------------------------------------------------------------|-----------|
/// | field | settled | revoked | share: weight proven by a claim, or once revoked the frozen entitlement | claimed |
///
/// settled: paid in full in a closed epoch (counted in the epoch's settled weight); revoked: consent revoked in the
/// epoch. An epoch is credited at most 2^126 - 1 units of an asset, so a frozen entitlement fits its 126 bits.
type ClaimRecord is uint256;

library ClaimRecordLibrary {
    uint256 internal constant CLAIMED_MASK = type(uint128).max;
    uint256 internal constant SHARE_OFFSET = 128;
    uint256 internal constant SHARE_MASK = (1 << 126) - 1;
    uint256 internal constant REVOKED = 1 << 254;
    uint256 internal constant SETTLED = 1 << 255;

    function claimed(ClaimRecord r) internal pure returns (uint256) {
        return ClaimRecord.unwrap(r) & CLAIMED_MASK;
    }

    /// @dev The weight a claim proved, or once revoked the frozen entitlement.
    function share(ClaimRecord r) internal pure returns (uint256) {
        return (ClaimRecord.unwrap(r) >> SHARE_OFFSET) & SHARE_MASK;
    }

    function revoked(ClaimRecord r) internal pure returns (bool) {
        return ClaimRecord.unwrap(r) & REVOKED != 0;
    }

    function settled(ClaimRecord r) internal pure returns (bool) {
        return ClaimRecord.unwrap(r) & SETTLED != 0;
    }

    /// @dev Neither revoked nor settled: an active contributor not yet paid in full in a closed epoch.
    function unsettled(ClaimRecord r) internal pure returns (bool) {
        return ClaimRecord.unwrap(r) & (REVOKED | SETTLED) == 0;
    }

    /// @dev The record after a claim brought what was paid to `claimed_`: a revoked record keeps its frozen share,
    /// another remembers the weight the claim proved (a later revocation in the epoch then needs no proof).
    function afterClaim(ClaimRecord r, uint256 weight, uint256 claimed_) internal pure returns (ClaimRecord) {
        uint256 v = ClaimRecord.unwrap(r);
        return ClaimRecord.wrap(
            v & REVOKED != 0 ? (v & ~CLAIMED_MASK) | claimed_ : (v & SETTLED) | (weight << SHARE_OFFSET) | claimed_
        );
    }

    /// @dev The record marked paid in full in a closed epoch.
    function settle(ClaimRecord r) internal pure returns (ClaimRecord) {
        return ClaimRecord.wrap(ClaimRecord.unwrap(r) | SETTLED);
    }

    /// @dev The record of a revocation: what was claimed and whether it settled stay, the share becomes `frozen`.
    function revoke(ClaimRecord r, uint256 frozen) internal pure returns (ClaimRecord) {
        return ClaimRecord.wrap(
            (ClaimRecord.unwrap(r) & (CLAIMED_MASK | SETTLED)) | REVOKED | (frozen << SHARE_OFFSET)
        );
    }
}

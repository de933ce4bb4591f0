// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev A payment token's entry in DataLicense (`_assetSlot[token]`): its asset id (0: never registered) and
/// whether new sales may use it. This codec is the only place the layout is written (DataLicense and
/// DataLicenseLens use it; `datalicense.protocol.slots.AssetSlotWord` mirrors it).
///
/// | bits  | 255 ... 1  | 0       |
/// |-------|------------|---------|
/// | field | asset id   | allowed |
type AssetSlot is uint256;

library AssetSlotLibrary {
    function pack(uint256 assetId_, bool allowed_) internal pure returns (AssetSlot) {
        return AssetSlot.wrap((assetId_ << 1) | (allowed_ ? 1 : 0));
    }

    function assetId(AssetSlot s) internal pure returns (uint256) {
        return AssetSlot.unwrap(s) >> 1;
    }

    function allowed(AssetSlot s) internal pure returns (bool) {
        return AssetSlot.unwrap(s) & 1 != 0;
    }
}

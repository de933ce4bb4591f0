// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev The delivery slot of a licence in DataLicense (`_delivery[licenceId]`): the version bought in the top 32 bits
/// in every state that keeps it, over what the delivery is bound to. This codec is the only place the layout is
/// written (DataLicense and DataLicenseLens use it; `datalicense.protocol.slots.DeliveryRecordWord` mirrors it).
///
/// | bits    | 255 ... 224      | 223 ... 160 | 159 ... 0                                                   |
/// |---------|------------------|-------------|-------------------------------------------------------------|
/// | Pending | version bought   | 0           | address of the buyer's one-time delivery key                |
/// | escrow  | version bought   | low 224 bits of keccak256(abi.encode(R, W, keyHash, delivery key address)) |
///
/// "escrow" is Delivered and DataDisputed; the slot is zero in every other state. 224 bits keep a second preimage
/// of the escrowed delivery out of reach (2^224) and leave room for the version.
type DeliveryRecord is bytes32;

library DeliveryRecordLibrary {
    uint256 internal constant VERSION_OFFSET = 224;
    uint256 internal constant BODY_MASK = (1 << 224) - 1;

    /// @dev The record of a pending licence: the version bought and the address of its delivery key.
    function pending(uint32 version_, address key_) internal pure returns (DeliveryRecord) {
        return DeliveryRecord.wrap(bytes32((uint256(version_) << VERSION_OFFSET) | uint160(key_)));
    }

    /// @dev The record of an escrowed delivery: the version bought over the low 224 bits of `digest`.
    function escrowed(uint256 version_, bytes32 digest) internal pure returns (DeliveryRecord) {
        return DeliveryRecord.wrap(bytes32((version_ << VERSION_OFFSET) | (uint256(digest) & BODY_MASK)));
    }

    /// @dev The version the licence was bought for (0 for an empty slot).
    function version(DeliveryRecord r) internal pure returns (uint256) {
        return uint256(DeliveryRecord.unwrap(r)) >> VERSION_OFFSET;
    }

    /// @dev The delivery key's address (meaningful while Pending).
    function key(DeliveryRecord r) internal pure returns (address) {
        return address(uint160(uint256(DeliveryRecord.unwrap(r))));
    }

    /// @dev The escrowed delivery's low 224 bits (meaningful while Delivered or DataDisputed).
    function body(DeliveryRecord r) internal pure returns (uint256) {
        return uint256(DeliveryRecord.unwrap(r)) & BODY_MASK;
    }

    function equals(DeliveryRecord a, DeliveryRecord b) internal pure returns (bool) {
        return DeliveryRecord.unwrap(a) == DeliveryRecord.unwrap(b);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev DataLicense's first packed slot of state variables (`_lastLicenceId` ... `_emergencyPaused`, read by every
/// publish and purchase), written by the compiler; DataLicenseLens reads it through this codec, and
/// `tests/test_slot_codecs.py` checks the codec against the compiler's storage layout
/// (`datalicense.protocol.slots.CountersWord` mirrors it).
///
/// | bits  | 255 ... 152 | 151 ... 144     | 143 ... 128 | 127 ... 96  | 95 ... 64     | 63 ... 0      |
/// |-------|-------------|-----------------|-------------|-------------|---------------|---------------|
/// | field | 0           | emergencyPaused | settingsId  | lastTermsId | lastDatasetId | lastLicenceId |
type CountersWord is uint256;

library CountersWordLibrary {
    function lastLicenceId(CountersWord w) internal pure returns (uint256) {
        return uint64(CountersWord.unwrap(w));
    }

    function lastDatasetId(CountersWord w) internal pure returns (uint256) {
        return uint32(CountersWord.unwrap(w) >> 64);
    }

    function lastTermsId(CountersWord w) internal pure returns (uint256) {
        return uint32(CountersWord.unwrap(w) >> 96);
    }

    function settingsId(CountersWord w) internal pure returns (uint256) {
        return uint16(CountersWord.unwrap(w) >> 128);
    }

    function emergencyPaused(CountersWord w) internal pure returns (bool) {
        return uint8(CountersWord.unwrap(w) >> 144) != 0;
    }
}

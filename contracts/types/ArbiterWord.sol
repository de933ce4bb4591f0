// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @dev DataLicense's slot of `_arbiter` and `_assetCount`, written by the compiler; DataLicenseLens reads it
/// through this codec, and `tests/test_slot_codecs.py` checks the codec against the compiler's storage layout
/// (`datalicense.protocol.slots.ArbiterWord` mirrors it).
///
/// | bits  | 255 ... 176 | 175 ... 160 | 159 ... 0 |
/// |-------|-------------|-------------|-----------|
/// | field | 0           | assetCount  | arbiter   |
type ArbiterWord is uint256;

library ArbiterWordLibrary {
    function arbiter(ArbiterWord w) internal pure returns (address) {
        return address(uint160(ArbiterWord.unwrap(w)));
    }

    function assetCount(ArbiterWord w) internal pure returns (uint256) {
        return uint16(ArbiterWord.unwrap(w) >> 160);
    }
}

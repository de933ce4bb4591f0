// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @dev Platform settings number `settingsId` in DataLicense (`_settings[settingsId]`), written by the compiler from
/// the struct `IDataLicense.Settings`; DataLicenseLens reads them through this codec, and
/// `tests/test_slot_codecs.py` checks the codec against the compiler's encoding of the struct
/// (`datalicense.protocol.slots.SettingsWord` mirrors it).
///
/// | bits  | 255 ... 112 | 111 ... 16  | 15 ... 0 |
/// |-------|-------------|-------------|----------|
/// | field | 0           | disputeBond | feeBps   |
type SettingsWord is uint256;

library SettingsWordLibrary {
    function toSettings(SettingsWord w) internal pure returns (IDataLicense.Settings memory s) {
        uint256 v = SettingsWord.unwrap(w);
        s.feeBps = uint16(v);
        s.disputeBond = uint96(v >> 16);
    }
}

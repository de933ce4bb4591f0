// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @dev A licence's slot in DataLicense (`_licences[licenceId]`), written by the compiler from the struct
/// `IDataLicense.Licence`; DataLicenseLens reads it through this codec, and `tests/test_slot_codecs.py` checks the
/// codec against the compiler's encoding of the struct (`datalicense.protocol.slots.LicenceWord` mirrors it).
///
/// | bits  | 255 ... 240 | 239 ... 232 | 231 ... 192 | 191 ... 160 | 159 ... 0 |
/// |-------|-------------|-------------|-------------|-------------|-----------|
/// | field | settingsId  | state       | stamp       | termsId     | holder    |
type LicenceWord is uint256;

library LicenceWordLibrary {
    function toLicence(LicenceWord w) internal pure returns (IDataLicense.Licence memory l) {
        uint256 v = LicenceWord.unwrap(w);
        l.holder = address(uint160(v));
        l.termsId = uint32(v >> 160);
        l.stamp = uint40(v >> 192);
        l.state = IDataLicense.State(uint8(v >> 232));
        l.settingsId = uint16(v >> 240);
    }
}

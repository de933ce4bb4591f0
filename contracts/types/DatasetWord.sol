// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @dev A dataset's slot in DataLicense (`_datasets[datasetId]`), written by the compiler from the struct
/// `IDataLicense.Dataset`; DataLicenseLens reads it through this codec, and `tests/test_slot_codecs.py` checks the
/// codec against the compiler's encoding of the struct (`datalicense.protocol.slots.DatasetWord` mirrors it).
///
/// | bits  | 255 ... 224 | 223 ... 192 | 191 ... 160 | 159 ... 0 |
/// |-------|-------------|-------------|-------------|-----------|
/// | field | version     | sold        | termsId     | owner     |
type DatasetWord is uint256;

library DatasetWordLibrary {
    function toDataset(DatasetWord w) internal pure returns (IDataLicense.Dataset memory d) {
        uint256 v = DatasetWord.unwrap(w);
        d.owner = address(uint160(v));
        d.termsId = uint32(v >> 160);
        d.sold = uint32(v >> 192);
        d.version = uint32(v >> 224);
    }
}

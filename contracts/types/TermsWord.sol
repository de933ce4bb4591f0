// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @dev Stored terms in DataLicense (`_terms[termsId]`), written by the compiler from the struct
/// `IDataLicense.Terms`; DataLicenseLens reads them through this codec, and `tests/test_slot_codecs.py` checks the
/// codec against the compiler's encoding of the struct (`datalicense.protocol.slots.TermsWord` mirrors it).
///
/// | bits  | 255 ... 232 | 231 ... 224 | 223 ... 200   | 199 ... 176    | 175 ... 144 |
/// |-------|-------------|-------------|---------------|----------------|-------------|
/// | field | supplyCap   | flags       | disputeWindow | deliveryWindow | duration    |
///
/// | bits  | 143 ... 128 | 127 ... 96 | 95 ... 0 |
/// |-------|-------------|------------|----------|
/// | field | assetId     | datasetId  | price    |
///
/// flags: 1 transferable, 2 sales paused, 4 retired, 8 paid by version.
type TermsWord is uint256;

library TermsWordLibrary {
    uint8 internal constant FLAG_PAUSED = 2;

    function toTerms(TermsWord w) internal pure returns (IDataLicense.Terms memory t) {
        uint256 v = TermsWord.unwrap(w);
        t.price = uint96(v);
        t.datasetId = uint32(v >> 96);
        t.assetId = uint16(v >> 128);
        t.duration = uint32(v >> 144);
        t.deliveryWindow = uint24(v >> 176);
        t.disputeWindow = uint24(v >> 200);
        t.flags = uint8(v >> 224);
        t.supplyCap = uint24(v >> 232);
    }
}

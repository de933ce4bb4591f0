// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";
import {ArbiterWord, ArbiterWordLibrary} from "../types/ArbiterWord.sol";
import {AssetSlot, AssetSlotLibrary} from "../types/AssetSlot.sol";
import {ClaimRecord, ClaimRecordLibrary} from "../types/ClaimRecord.sol";
import {CountersWord, CountersWordLibrary} from "../types/CountersWord.sol";
import {DatasetWord, DatasetWordLibrary} from "../types/DatasetWord.sol";
import {DeliveryRecord, DeliveryRecordLibrary} from "../types/DeliveryRecord.sol";
import {DisputeRecord, DisputeRecordLibrary} from "../types/DisputeRecord.sol";
import {LicenceWord, LicenceWordLibrary} from "../types/LicenceWord.sol";
import {SettingsWord, SettingsWordLibrary} from "../types/SettingsWord.sol";
import {TermsWord, TermsWordLibrary} from "../types/TermsWord.sol";

/// @dev Test harness: every codec of contracts/types/ exposed, for the shared vectors of tests/vectors/slots.json,
/// and the compiler's own storage encoding of the marketplace's structs (`store*`, called with eth_call), which the
/// codecs that read those words must agree with.
contract SlotCodecHarness {
    // The codecs of the packed words (contracts/types/), attached here rather than `global` so that brownie,
    // which tracks the libraries a contract names, rebuilds this contract when a codec changes.
    using ArbiterWordLibrary for ArbiterWord;
    using AssetSlotLibrary for AssetSlot;
    using ClaimRecordLibrary for ClaimRecord;
    using CountersWordLibrary for CountersWord;
    using DatasetWordLibrary for DatasetWord;
    using DeliveryRecordLibrary for DeliveryRecord;
    using DisputeRecordLibrary for DisputeRecord;
    using LicenceWordLibrary for LicenceWord;
    using SettingsWordLibrary for SettingsWord;
    using TermsWordLibrary for TermsWord;

    IDataLicense.Licence private _licence;
    IDataLicense.Dataset private _dataset;
    IDataLicense.Terms private _terms;
    IDataLicense.Settings private _settings;

    // ------------------------------------------------------------ words the compiler writes (structs)

    function licenceWord(uint256 w) external pure returns (IDataLicense.Licence memory) {
        return LicenceWord.wrap(w).toLicence();
    }

    function storeLicence(IDataLicense.Licence calldata l) external returns (uint256 w) {
        _licence = l;
        assembly ("memory-safe") {
            w := sload(_licence.slot)
        }
    }

    function datasetWord(uint256 w) external pure returns (IDataLicense.Dataset memory) {
        return DatasetWord.wrap(w).toDataset();
    }

    function storeDataset(IDataLicense.Dataset calldata d) external returns (uint256 w) {
        _dataset = d;
        assembly ("memory-safe") {
            w := sload(_dataset.slot)
        }
    }

    function termsWord(uint256 w) external pure returns (IDataLicense.Terms memory) {
        return TermsWord.wrap(w).toTerms();
    }

    function storeTerms(IDataLicense.Terms calldata t) external returns (uint256 w) {
        _terms = t;
        assembly ("memory-safe") {
            w := sload(_terms.slot)
        }
    }

    function settingsWord(uint256 w) external pure returns (IDataLicense.Settings memory) {
        return SettingsWord.wrap(w).toSettings();
    }

    function storeSettings(IDataLicense.Settings calldata s) external returns (uint256 w) {
        _settings = s;
        assembly ("memory-safe") {
            w := sload(_settings.slot)
        }
    }

    // ------------------------------------------------------------ words of packed state variables

    function countersWord(uint256 w)
        external
        pure
        returns (
            uint256 lastLicenceId,
            uint256 lastDatasetId,
            uint256 lastTermsId,
            uint256 settingsId,
            bool emergencyPaused
        )
    {
        CountersWord c = CountersWord.wrap(w);
        return (c.lastLicenceId(), c.lastDatasetId(), c.lastTermsId(), c.settingsId(), c.emergencyPaused());
    }

    function arbiterWord(uint256 w) external pure returns (address arbiter, uint256 assetCount) {
        ArbiterWord a = ArbiterWord.wrap(w);
        return (a.arbiter(), a.assetCount());
    }

    // ------------------------------------------------------------ words the codecs write

    function deliveryRecord(bytes32 w) external pure returns (uint256 body, uint256 version, address key) {
        DeliveryRecord r = DeliveryRecord.wrap(w);
        return (r.body(), r.version(), r.key());
    }

    function escrowedDelivery(uint256 version, bytes32 digest) external pure returns (bytes32) {
        return DeliveryRecord.unwrap(DeliveryRecordLibrary.escrowed(version, digest));
    }

    function pendingDelivery(uint32 version, address key) external pure returns (bytes32) {
        return DeliveryRecord.unwrap(DeliveryRecordLibrary.pending(version, key));
    }

    function disputeRecord(uint256 w) external pure returns (uint256 bond, uint256 openedAt) {
        DisputeRecord r = DisputeRecord.wrap(w);
        return (r.bond(), r.openedAt());
    }

    function openDispute(uint256 openedAt, uint256 bond) external pure returns (uint256) {
        return DisputeRecord.unwrap(DisputeRecordLibrary.open(openedAt, bond));
    }

    function assetSlot(uint256 w) external pure returns (bool allowed, uint256 assetId) {
        AssetSlot s = AssetSlot.wrap(w);
        return (s.allowed(), s.assetId());
    }

    function packAssetSlot(uint256 assetId, bool allowed) external pure returns (uint256) {
        return AssetSlot.unwrap(AssetSlotLibrary.pack(assetId, allowed));
    }

    function claimRecord(uint256 w) external pure returns (uint256 claimed, uint256 share, bool revoked, bool settled) {
        ClaimRecord r = ClaimRecord.wrap(w);
        return (r.claimed(), r.share(), r.revoked(), r.settled());
    }

    /// @dev A record built the way RevenuePool builds one: a claim (or for a revoked record, what was claimed), a
    /// settlement, then the revocation that freezes the share.
    function buildClaimRecord(uint256 claimed, uint256 share, bool revoked, bool settled)
        external
        pure
        returns (uint256)
    {
        ClaimRecord r = ClaimRecord.wrap(0);
        if (settled) r = r.settle();
        r = r.afterClaim(revoked ? 0 : share, claimed);
        if (revoked) r = r.revoke(share);
        return ClaimRecord.unwrap(r);
    }
}

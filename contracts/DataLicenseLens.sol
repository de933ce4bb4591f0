// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../interfaces/IDataLicense.sol";
import {ArbiterWord, ArbiterWordLibrary} from "./types/ArbiterWord.sol";
import {AssetSlot, AssetSlotLibrary} from "./types/AssetSlot.sol";
import {CountersWord, CountersWordLibrary} from "./types/CountersWord.sol";
import {DatasetWord, DatasetWordLibrary} from "./types/DatasetWord.sol";
import {DeliveryRecord, DeliveryRecordLibrary} from "./types/DeliveryRecord.sol";
import {DisputeRecord, DisputeRecordLibrary} from "./types/DisputeRecord.sol";
import {LicenceWord, LicenceWordLibrary} from "./types/LicenceWord.sol";
import {SettingsWord, SettingsWordLibrary} from "./types/SettingsWord.sol";
import {TermsWord, TermsWordLibrary} from "./types/TermsWord.sol";

/// @title DataLicenseLens
/// @notice Read-only periphery of the marketplace: decodes its storage through `extsload` (the way Uniswap v4's
/// StateView reads the PoolManager), so the core keeps its bytes for what moves money. Holds nothing, changes
/// nothing; any number of lenses may read one marketplace.
/// @dev The slot numbers below are DataLicense's storage layout (solc `storageLayout`); `tests/test_lens.py`
/// checks them against the compiler's layout, so a layout change that forgets the lens fails the tests. Each word
/// is decoded by its codec in contracts/types/, the one place its layout is written.
contract DataLicenseLens {
    // The codecs of the packed words (contracts/types/), attached here rather than `global` so that brownie,
    // which tracks the libraries a contract names, rebuilds this contract when a codec changes.
    using ArbiterWordLibrary for ArbiterWord;
    using AssetSlotLibrary for AssetSlot;
    using CountersWordLibrary for CountersWord;
    using DatasetWordLibrary for DatasetWord;
    using DeliveryRecordLibrary for DeliveryRecord;
    using DisputeRecordLibrary for DisputeRecord;
    using LicenceWordLibrary for LicenceWord;
    using SettingsWordLibrary for SettingsWord;
    using TermsWordLibrary for TermsWord;

    IDataLicense public immutable market;

    uint256 internal constant SLOT_LICENCES = 0;
    uint256 internal constant SLOT_OWNER = 4;
    uint256 internal constant SLOT_COUNTERS = 7;
    uint256 internal constant SLOT_FEE_RECIPIENT = 8;
    uint256 internal constant SLOT_ARBITER = 9;
    uint256 internal constant SLOT_DATASETS = 11;
    uint256 internal constant SLOT_TERMS = 12;
    uint256 internal constant SLOT_ROYALTY = 13;
    uint256 internal constant SLOT_KEY_HASH = 14;
    uint256 internal constant SLOT_AGENTS = 15;
    uint256 internal constant SLOT_PENDING_OWNERS = 16;
    uint256 internal constant SLOT_SETTINGS = 17;
    uint256 internal constant SLOT_DELIVERY = 18;
    uint256 internal constant SLOT_DISPUTES = 19;
    uint256 internal constant SLOT_ASSET_ADDRESS = 20;
    uint256 internal constant SLOT_ASSET_SLOT = 21;
    uint256 internal constant SLOT_OWED = 22;
    uint256 internal constant SLOT_FEES = 23;
    uint256 internal constant SLOT_HELD = 24;

    /// @notice Platform settings as they stand now.
    struct Platform {
        uint256 settingsId;
        uint256 feeBps;
        uint256 disputeBond;
        address feeRecipient;
        address arbiter;
        bool emergencyPaused;
        uint256 assetCount;
    }

    constructor(IDataLicense market_) {
        market = market_;
    }

    /// @notice The licence record (holder, terms id, time stamp, state, settings id).
    function licence(uint256 licenceId) public view returns (IDataLicense.Licence memory l) {
        return LicenceWord.wrap(_load(_at(SLOT_LICENCES, licenceId))).toLicence();
    }

    /// @notice The dataset record (owner, current terms id, licences sold, current version).
    function dataset(uint256 datasetId) public view returns (IDataLicense.Dataset memory d) {
        return DatasetWord.wrap(_load(_at(SLOT_DATASETS, datasetId))).toDataset();
    }

    /// @notice Stored terms.
    function terms(uint256 termsId) public view returns (IDataLicense.Terms memory t) {
        return TermsWord.wrap(_load(_at(SLOT_TERMS, termsId))).toTerms();
    }

    /// @notice ERC-2981 royalty of a terms id, in basis points.
    function royaltyBps(uint256 termsId) external view returns (uint256) {
        return _load(_at(SLOT_ROYALTY, termsId));
    }

    /// @notice Current key commitment keccak256(K) of a dataset (its current version's).
    function keyHashOf(uint256 datasetId) external view returns (bytes32) {
        return keyHashOfVersion(datasetId, dataset(datasetId).version);
    }

    /// @notice Key commitment of one version of a dataset.
    function keyHashOfVersion(uint256 datasetId, uint256 version) public view returns (bytes32) {
        return bytes32(_load(_at(uint256(_at(SLOT_KEY_HASH, datasetId)), version)));
    }

    /// @notice Delivery agent of a dataset (address(0): none).
    function agentOf(uint256 datasetId) external view returns (address) {
        return address(uint160(_load(_at(SLOT_AGENTS, datasetId))));
    }

    /// @notice Pending new owner of a dataset (address(0): none).
    function pendingDatasetOwner(uint256 datasetId) external view returns (address) {
        return address(uint160(_load(_at(SLOT_PENDING_OWNERS, datasetId))));
    }

    /// @notice Delivery slot of a licence (`DeliveryRecord`): the version bought in the top 32 bits over the delivery
    /// key's address while Pending, over the low 224 bits of the escrowed delivery's commitment while Delivered or
    /// DataDisputed; zero after.
    function deliveryRecord(uint256 licenceId) external view returns (bytes32) {
        return DeliveryRecord.unwrap(_delivery(licenceId));
    }

    /// @notice Address of the delivery key of a pending licence (address(0) in other states).
    function pendingDeliveryKey(uint256 licenceId) external view returns (address) {
        if (licence(licenceId).state != IDataLicense.State.Pending) return address(0);
        return _delivery(licenceId).key();
    }

    /// @notice The version a licence in escrow was bought for (its escrowed delivery carries that version's key,
    /// and a dataset paid by version is paid for it; 0 once out of escrow).
    function purchasedVersion(uint256 licenceId) external view returns (uint256) {
        return _delivery(licenceId).version(); // the slot is zero out of escrow
    }

    /// @notice Data-dispute bond held for a licence.
    function bondOf(uint256 licenceId) external view returns (uint256) {
        return DisputeRecord.wrap(_load(_at(SLOT_DISPUTES, licenceId))).bond();
    }

    /// @notice When the data dispute of a licence was opened (0: none open).
    function disputeOpenedAt(uint256 licenceId) external view returns (uint256) {
        return DisputeRecord.wrap(_load(_at(SLOT_DISPUTES, licenceId))).openedAt();
    }

    /// @notice Platform settings number `settingsId` (fee and dispute bond).
    function settingsOf(uint256 settingsId) public view returns (IDataLicense.Settings memory s) {
        return SettingsWord.wrap(_load(_at(SLOT_SETTINGS, settingsId))).toSettings();
    }

    /// @notice Fee and dispute bond a licence was bought under.
    function licenceSettings(uint256 licenceId) external view returns (IDataLicense.Settings memory) {
        return settingsOf(licence(licenceId).settingsId);
    }

    /// @notice Platform settings now.
    function platform() external view returns (Platform memory p) {
        CountersWord w = CountersWord.wrap(_load(SLOT_COUNTERS));
        p.settingsId = w.settingsId();
        p.emergencyPaused = w.emergencyPaused();
        IDataLicense.Settings memory s = settingsOf(p.settingsId);
        p.feeBps = s.feeBps;
        p.disputeBond = s.disputeBond;
        p.feeRecipient = address(uint160(_load(SLOT_FEE_RECIPIENT)));
        ArbiterWord a = ArbiterWord.wrap(_load(SLOT_ARBITER));
        p.arbiter = a.arbiter();
        p.assetCount = a.assetCount();
    }

    /// @notice Counters: last licence id, last dataset id, last terms id.
    function counters() external view returns (uint256 lastLicenceId, uint256 lastDatasetId, uint256 lastTermsId) {
        CountersWord w = CountersWord.wrap(_load(SLOT_COUNTERS));
        return (w.lastLicenceId(), w.lastDatasetId(), w.lastTermsId());
    }

    /// @notice Owner (admin) of the marketplace.
    function admin() external view returns (address) {
        return address(uint160(_load(SLOT_OWNER)));
    }

    /// @notice Payment asset address of an asset id (0 is RBTC).
    function assetAddress(uint256 assetId) external view returns (address) {
        return address(uint160(_load(_at(SLOT_ASSET_ADDRESS, assetId))));
    }

    /// @notice Asset id of a token (0 for RBTC and for unknown tokens) and whether it is allowed for new sales.
    function assetOf(address asset) public view returns (uint256 assetId, bool allowed) {
        if (asset == address(0)) return (0, true);
        AssetSlot s = AssetSlot.wrap(_load(_atAddress(SLOT_ASSET_SLOT, asset)));
        return (s.assetId(), s.allowed());
    }

    /// @notice Whether a token is allowed for new sales (RBTC always is).
    function isAssetAllowed(address asset) external view returns (bool allowed) {
        (, allowed) = assetOf(asset);
    }

    /// @notice Accrued platform fees in an asset.
    function feesAccrued(address asset) external view returns (uint256) {
        (uint256 assetId,) = assetOf(asset);
        if (asset != address(0) && assetId == 0) return 0; // an unknown token, not RBTC
        return _load(_at(SLOT_FEES, assetId));
    }

    /// @notice Token units the marketplace accounts for (escrow + owed + fees) in a token asset.
    function tokenHeld(address asset) external view returns (uint256) {
        (uint256 assetId,) = assetOf(asset);
        return asset == address(0) ? 0 : _load(_at(SLOT_HELD, assetId));
    }

    /// @notice Amount `account` can withdraw in `asset` (0 for an unknown token).
    function owed(address asset, address account) external view returns (uint256) {
        (uint256 assetId,) = assetOf(asset);
        if (asset != address(0) && assetId == 0) return 0;
        return _load(_atAddress(uint256(_at(SLOT_OWED, assetId)), account));
    }

    /// @notice Expiry timestamp of a licence (0: perpetual or not delivered or settled).
    function expiresAt(uint256 licenceId) external view returns (uint256) {
        IDataLicense.Licence memory l = licence(licenceId);
        uint256 duration = terms(l.termsId).duration;
        if (duration == 0) return 0;
        if (l.state != IDataLicense.State.Delivered && l.state != IDataLicense.State.Settled) return 0;
        return uint256(l.stamp) + duration;
    }

    /// @notice Whether `account` holds the given licence and it is valid for `datasetId` now.
    function hasValidLicence(address account, uint256 datasetId, uint256 licenceId) external view returns (bool) {
        IDataLicense.Licence memory l = licence(licenceId);
        return account != address(0) && l.holder == account && terms(l.termsId).datasetId == datasetId
            && market.isValid(licenceId);
    }

    /// @notice What a buyer names to buy a dataset now: its current terms id, version and platform settings id,
    /// the price and asset, and whether a purchase can go through now (dataset known, sales open, not sold out, no
    /// emergency stop, payment asset still allowed).
    function offer(uint256 datasetId)
        external
        view
        returns (uint256 termsId, uint256 version, uint256 price, address asset, bool onSale, uint256 settingsId)
    {
        IDataLicense.Dataset memory d = dataset(datasetId);
        IDataLicense.Terms memory t = terms(d.termsId);
        asset = address(uint160(_load(_at(SLOT_ASSET_ADDRESS, t.assetId))));
        CountersWord platformWord = CountersWord.wrap(_load(SLOT_COUNTERS));
        (, bool allowed) = assetOf(asset);
        onSale = d.owner != address(0) && t.flags & TermsWordLibrary.FLAG_PAUSED == 0 && !platformWord.emergencyPaused()
            && allowed && (t.supplyCap == 0 || d.sold < t.supplyCap);
        return (d.termsId, d.version, t.price, asset, onSale, platformWord.settingsId());
    }

    function _delivery(uint256 licenceId) private view returns (DeliveryRecord) {
        return DeliveryRecord.wrap(bytes32(_load(_at(SLOT_DELIVERY, licenceId))));
    }

    function _load(uint256 slot) private view returns (uint256) {
        return uint256(market.extsload(bytes32(slot)));
    }

    function _at(uint256 base, uint256 key) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(key, base)));
    }

    function _atAddress(uint256 base, address key) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(key, base)));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IDataLicense} from "../interfaces/IDataLicense.sol";
import {IERC677Receiver} from "../interfaces/IERC677Receiver.sol";
import {LicenceToken} from "./LicenceToken.sol";
import {KeyProof} from "./KeyProof.sol";
import {VersionAccount} from "./VersionAccount.sol";
import {AssetSlot, AssetSlotLibrary} from "./types/AssetSlot.sol";
import {DeliveryRecord, DeliveryRecordLibrary} from "./types/DeliveryRecord.sol";
import {DisputeRecord, DisputeRecordLibrary} from "./types/DisputeRecord.sol";

/// @title DataLicense (v2)
/// @notice Datasets, licences and escrow for data licensing on Rootstock.
/// A data owner publishes a dataset (IPFS manifest, commitments, terms) in one transaction; a buyer pays into
/// escrow for the terms and version it saw and receives an ERC-721 licence; the owner (or its agent) delivers
/// the content key wrapped to the buyer's one-time delivery key, bound to the key commitment it carries. The
/// payment is released on confirmation or after the dispute window; refunded on a missed delivery or when the
/// buyer proves the delivered key wrong by revealing its one-time key (one transaction, no seller needed); and
/// split by the arbiter only when the key is right but the content is disputed. Every amount is pulled with
/// `withdraw`. All money accounting lives here: balance = escrow + owed + fees + bonds, per asset.
/// @dev Storage is packed for Rootstock's gas schedule: a dataset, its terms and a licence are one slot each.
/// Read-only views beyond what other contracts need live in `DataLicenseLens` (through `extsload`).
///
/// The licence state machine: every transition, and nothing else (each function guards with `_licenceIn`, the
/// set of states it allows, and times with `_clock`; `stamp` is the licence's time stamp, see below):
/// | from | to | function | caller | time |
/// |---|---|---|---|---|
/// | None | Pending | buy, buyWithToken, tokenFallback | the payer | sales open, no emergency stop |
/// | Pending | Delivered | deliverKey | the owner or its agent | until stamp + deliveryWindow |
/// | Pending | Refunded | refund | anyone | after stamp + deliveryWindow |
/// | Delivered | Settled | confirm | the holder | any time |
/// | Delivered | Settled | settle | anyone | after stamp + disputeWindow |
/// | Delivered | Settled or Refunded | disputeKey | the holder | until stamp + disputeWindow |
/// | Delivered | DataDisputed | disputeData | the holder, with the bond | until stamp + disputeWindow, while valid |
/// | DataDisputed | Settled or Resolved | resolveData | the arbiter | any time |
/// | DataDisputed | Settled | resolveDataByDefault | anyone | after the dispute's opening + ARBITER_WINDOW |
/// Settled, Refunded and Resolved are final. In no state's list because they change none: rotateDeliveryKey (the
/// holder, in Delivered, Settled or DataDisputed), redeliverKey (the owner or its agent, Settled and valid) and
/// transfers (Settled, transferable terms).
///
/// The per-licence slots by state (the licence's own slot: holder, termsId, stamp, state, settingsId):
/// | state | stamp is | `_delivery[licenceId]` | `_disputes[licenceId]` |
/// |---|---|---|---|
/// | Pending | the purchase time | version bought (bits 224-255), address of the delivery key (0-159) | 0 |
/// | Delivered | the delivery time (the term runs from it) | version bought (224-255), escrowed delivery (0-223) | 0 |
/// | DataDisputed | the delivery time | the same | opened at (bits 96-255), bond posted (0-95) |
/// | Settled | the delivery time, later by the time spent in a dispute ruled for the seller | 0 | 0 |
/// | Refunded | the refund time | 0 | 0 |
/// | Resolved | the ruling time | 0 | 0 |
/// The escrowed delivery is the low 224 bits of keccak256(R, W, keyHash, delivery key address): 224 bits keep a
/// second preimage out of reach (2^224) and leave room for the version, which pays a dataset paid by version.
contract DataLicense is IDataLicense, IERC677Receiver, IERC2981, LicenceToken, Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;

    // The codecs of the packed words (contracts/types/), attached here rather than `global` so that brownie,
    // which tracks the libraries a contract names, rebuilds this contract when a codec changes.
    using AssetSlotLibrary for AssetSlot;
    using DeliveryRecordLibrary for DeliveryRecord;
    using DisputeRecordLibrary for DisputeRecord;

    // ------------------------------------------------------------ constants

    /// @notice Highest platform fee, in basis points (10%).
    uint256 public constant MAX_FEE_BPS = 1_000;
    /// @notice Highest ERC-2981 royalty a dataset may ask, in basis points (25%).
    uint256 public constant MAX_ROYALTY_BPS = 2_500;
    /// @notice Bounds of the delivery window and of the dispute window, in seconds.
    uint256 public constant MIN_WINDOW = 1 hours;
    uint256 public constant MAX_WINDOW = 30 days;
    /// @notice Longest licence term (perpetual is 0).
    uint256 public constant MAX_DURATION = 100 * 365 days;
    /// @notice Time the arbiter has to rule on a data dispute before the default applies.
    uint256 public constant ARBITER_WINDOW = 14 days;

    uint8 internal constant FLAG_TRANSFERABLE = 1;
    uint8 internal constant FLAG_PAUSED = 2;
    uint8 internal constant FLAG_RETIRED = 4;
    uint8 internal constant FLAG_BY_VERSION = 8;
    uint256 internal constant BPS = 10_000;

    // Sets of licence states for `_licenceIn` (bit i: State(i)).
    uint256 internal constant PENDING = 1 << 1;
    uint256 internal constant DELIVERED = 1 << 2;
    uint256 internal constant SETTLED = 1 << 3;
    uint256 internal constant DATA_DISPUTED = 1 << 4;

    // ---------------------------------------------------------------- state
    // The slot numbers are read by DataLicenseLens: append only.

    // One slot, read by every publish and purchase.
    uint64 private _lastLicenceId;
    uint32 private _lastDatasetId;
    uint32 private _lastTermsId;
    uint16 private _settingsId;
    bool private _emergencyPaused;

    address private _feeRecipient;
    address private _arbiter;
    uint16 private _assetCount; // asset id 0 is RBTC
    string private _base;

    mapping(uint256 datasetId => Dataset) private _datasets;
    mapping(uint256 termsId => Terms) private _terms;
    mapping(uint256 termsId => uint256) private _royaltyBps;
    mapping(uint256 datasetId => mapping(uint256 version => bytes32)) private _keyHash;
    mapping(uint256 datasetId => address) private _agents;
    mapping(uint256 datasetId => address) private _pendingOwners;
    mapping(uint256 settingsId => Settings) private _settings;

    /// @dev See the state table above; the layouts are in contracts/types/ (DeliveryRecord, DisputeRecord).
    mapping(uint256 licenceId => DeliveryRecord) private _delivery;
    mapping(uint256 licenceId => DisputeRecord) private _disputes;

    mapping(uint256 assetId => address) private _assetAddress;
    mapping(address asset => AssetSlot) private _assetSlot; // asset id and allowed (contracts/types/AssetSlot.sol)

    mapping(uint256 assetId => mapping(address account => uint256)) private _owed;
    mapping(uint256 assetId => uint256) private _fees;
    /// @dev Tokens this contract has accounted for, per token asset: a token cannot credit more than it sent.
    mapping(uint256 assetId => uint256) private _held;

    // ---------------------------------------------------------- constructor

    /// @param admin Owner of the platform settings (two-step transferable).
    /// @param feeRecipient_ Receiver of platform fees.
    /// @param arbiter_ Arbiter of data disputes.
    /// @param feeBps_ Platform fee in basis points (at most MAX_FEE_BPS).
    /// @param disputeBond_ RBTC bond a buyer posts to open a data dispute.
    constructor(address admin, address feeRecipient_, address arbiter_, uint256 feeBps_, uint256 disputeBond_)
        Ownable(admin)
    {
        if (feeRecipient_ == address(0) || arbiter_ == address(0)) revert ZeroAddress();
        _feeRecipient = feeRecipient_;
        _arbiter = arbiter_;
        _setSettings(feeBps_, disputeBond_);
        emit FeeRecipientSet(feeRecipient_);
        emit ArbiterSet(arbiter_);
        emit AssetAllowed(address(0), 0, true);
    }

    // ------------------------------------------------------------- datasets

    /// @inheritdoc IDataLicense
    function publish(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 termsRef,
        TermsInput calldata termsInput,
        address agent
    ) external returns (uint256 datasetId) {
        if (_emergencyPaused) revert EmergencyStopped();
        _checkVersion(manifestCid, keyHash);
        unchecked {
            datasetId = ++_lastDatasetId;
        }
        uint32 termsId = _storeTerms(datasetId, termsRef, termsInput, 0);
        _datasets[datasetId] = Dataset({owner: msg.sender, termsId: termsId, sold: 0, version: 1});
        _keyHash[datasetId][1] = keyHash;
        if (agent != address(0)) _agents[datasetId] = agent;
        emit DatasetPublished(datasetId, msg.sender, agent);
        emit VersionPublished(datasetId, 1, manifestCid, plaintextHash, keyHash);
    }

    /// @inheritdoc IDataLicense
    function publishVersion(uint256 datasetId, bytes calldata manifestCid, bytes32 plaintextHash, bytes32 keyHash)
        external
    {
        Dataset storage d = _openDataset(datasetId);
        _checkVersion(manifestCid, keyHash);
        uint32 version = d.version + 1;
        d.version = version;
        _keyHash[datasetId][version] = keyHash;
        emit VersionPublished(datasetId, version, manifestCid, plaintextHash, keyHash);
    }

    /// @inheritdoc IDataLicense
    function setTerms(uint256 datasetId, bytes32 termsRef, TermsInput calldata termsInput) external {
        Dataset storage d = _openDataset(datasetId);
        if (termsInput.supplyCap != 0 && termsInput.supplyCap < d.sold) {
            revert CapBelowSold(termsInput.supplyCap, d.sold);
        }
        uint8 kept = _terms[d.termsId].flags & (FLAG_PAUSED | FLAG_BY_VERSION);
        d.termsId = _storeTerms(datasetId, termsRef, termsInput, kept);
    }

    /// @inheritdoc IDataLicense
    function pauseSales(uint256 datasetId) external {
        uint32 termsId = _openDataset(datasetId).termsId;
        _terms[termsId].flags |= FLAG_PAUSED;
        emit SalesPaused(datasetId, termsId);
    }

    /// @inheritdoc IDataLicense
    function resumeSales(uint256 datasetId) external {
        uint32 termsId = _openDataset(datasetId).termsId;
        _terms[termsId].flags &= ~FLAG_PAUSED;
        emit SalesResumed(datasetId, termsId);
    }

    /// @inheritdoc IDataLicense
    function retire(uint256 datasetId) external {
        _terms[_openDataset(datasetId).termsId].flags |= FLAG_RETIRED | FLAG_PAUSED;
        emit DatasetRetired(datasetId);
    }

    /// @inheritdoc IDataLicense
    function setAgent(uint256 datasetId, address agent) external {
        _ownedDataset(datasetId);
        _agents[datasetId] = agent;
        emit AgentSet(datasetId, agent);
    }

    /// @inheritdoc IDataLicense
    function payByVersion(uint256 datasetId) external {
        _terms[_openDataset(datasetId).termsId].flags |= FLAG_BY_VERSION;
        emit PaidByVersion(datasetId);
    }

    /// @inheritdoc IDataLicense
    function transferDataset(uint256 datasetId, address newOwner) external {
        _ownedDataset(datasetId);
        _pendingOwners[datasetId] = newOwner;
        emit DatasetTransferStarted(datasetId, msg.sender, newOwner);
    }

    /// @inheritdoc IDataLicense
    function acceptDataset(uint256 datasetId) external {
        if (_pendingOwners[datasetId] != msg.sender) revert NotPendingOwner(datasetId, msg.sender);
        Dataset storage d = _datasets[datasetId];
        address previous = d.owner;
        d.owner = msg.sender;
        delete _pendingOwners[datasetId];
        if (_agents[datasetId] != address(0)) {
            delete _agents[datasetId];
            emit AgentSet(datasetId, address(0));
        }
        emit DatasetTransferred(datasetId, previous, msg.sender);
    }

    // ------------------------------------------------------------ purchases

    /// @inheritdoc IDataLicense
    function buy(Purchase calldata p) external payable nonReentrant returns (uint256 licenceId) {
        uint256 price;
        (licenceId, price) = _purchase(p, msg.sender, 0);
        if (msg.value != price) revert WrongPayment(price, msg.value);
    }

    /// @inheritdoc IDataLicense
    function buyWithToken(Purchase calldata p) external nonReentrant returns (uint256 licenceId) {
        address asset = _assetAddress[_terms[_datasets[p.datasetId].termsId].assetId];
        if (asset == address(0)) {
            if (_datasets[p.datasetId].owner == address(0)) revert UnknownDataset(p.datasetId);
            revert NotSoldInToken(p.datasetId);
        }
        AssetSlot slot = _assetSlot[asset];
        if (!slot.allowed()) revert AssetNotAllowed(asset);
        uint256 price;
        (licenceId, price) = _purchase(p, msg.sender, slot.assetId());
        IERC20(asset).safeTransferFrom(msg.sender, address(this), price);
        _accountReceived(asset, slot.assetId(), price);
    }

    /// @inheritdoc IERC677Receiver
    function tokenFallback(address from, uint256 value, bytes calldata data)
        external
        override(IDataLicense, IERC677Receiver)
        nonReentrant
        returns (bool)
    {
        AssetSlot slot = _assetSlot[msg.sender];
        if (!slot.allowed()) revert AssetNotAllowed(msg.sender);
        _accountReceived(msg.sender, slot.assetId(), value);
        if (data.length != 224) revert BadTokenData(data.length);
        Purchase calldata p;
        assembly ("memory-safe") {
            p := data.offset // a static struct of seven words, checked above
        }
        (, uint256 price) = _purchase(p, from, slot.assetId());
        if (value != price) revert WrongPayment(price, value);
        return true;
    }

    /// @inheritdoc IDataLicense
    function rotateDeliveryKey(uint256 licenceId, bytes32 keyX, bytes32 keyY) external {
        // Not while Pending: a holder rotating in front of each delivery would read K from the reverted
        // delivery's calldata and run out the window into a refund. The escrowed delivery never changes.
        _heldLicenceIn(licenceId, DELIVERED | SETTLED | DATA_DISPUTED);
        _checkDeliveryKey(keyX, keyY, msg.sender, msg.sender);
        emit DeliveryKeyRotated(licenceId, keyX, keyY);
    }

    // ------------------------------------------------------------- delivery

    /// @inheritdoc IDataLicense
    function deliverKey(
        uint256 licenceId,
        address deliveryKey,
        bytes32 keyHash,
        bytes32 rX,
        bytes32 rY,
        bytes32 wrappedKey
    ) external {
        Licence storage l = _licenceIn(licenceId, PENDING);
        Terms memory t = _terms[l.termsId];
        _clock(licenceId, l.stamp, t.deliveryWindow, true);
        _requireDeliverer(t.datasetId);
        DeliveryRecord pending = _delivery[licenceId];
        uint256 version = pending.version();
        // the escrowed delivery carries the key of the version the buyer bought, whatever was published since
        bytes32 bought = _keyHash[t.datasetId][version];
        if (keyHash != bought) revert KeyCommitmentChanged(licenceId, bought, keyHash);
        address keyAddress = pending.key();
        if (deliveryKey != keyAddress) revert DeliveryKeyChanged(licenceId, keyAddress, deliveryKey);
        if (!KeyProof.isUsableKey(uint256(rX), uint256(rY))) revert InvalidPoint();
        _delivery[licenceId] = _deliveryCommitment(rX, rY, wrappedKey, keyHash, keyAddress, version);
        l.state = State.Delivered;
        l.stamp = uint40(block.timestamp);
        emit KeyDelivered(licenceId, rX, rY, wrappedKey, keyHash);
    }

    /// @inheritdoc IDataLicense
    function redeliverKey(uint256 licenceId, bytes32 keyHash, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external {
        uint256 datasetId = _terms[_licenceIn(licenceId, SETTLED).termsId].datasetId;
        if (!isValid(licenceId)) revert Expired(licenceId);
        _requireDeliverer(datasetId);
        bytes32 current = _keyHash[datasetId][_datasets[datasetId].version];
        if (keyHash != current) revert KeyCommitmentChanged(licenceId, current, keyHash);
        if (!KeyProof.isUsableKey(uint256(rX), uint256(rY))) revert InvalidPoint();
        emit KeyRedelivered(licenceId, rX, rY, wrappedKey, keyHash);
    }

    /// @inheritdoc IDataLicense
    function confirm(uint256 licenceId) external {
        _settle(licenceId, _heldLicenceIn(licenceId, DELIVERED), 0, 0);
    }

    /// @inheritdoc IDataLicense
    function settle(uint256 licenceId) external {
        Licence storage l = _licenceIn(licenceId, DELIVERED);
        _clock(licenceId, l.stamp, _terms[l.termsId].disputeWindow, false);
        _settle(licenceId, l, 0, 0);
    }

    /// @inheritdoc IDataLicense
    function disputeKey(uint256 licenceId, uint256 deliveryPrivateKey, Delivery calldata delivery) external {
        Licence storage l = _openDispute(licenceId);
        if (deliveryPrivateKey == 0 || deliveryPrivateKey >= KeyProof.N) revert InvalidScalar();
        // The revealed p must be the key the escrowed delivery was made to, and the delivery the one made.
        address keyAddress = KeyProof.mulAddress(deliveryPrivateKey, KeyProof.GX, KeyProof.GY);
        DeliveryRecord stored = _delivery[licenceId];
        if (
            !_deliveryCommitment(
                delivery.rX, delivery.rY, delivery.wrappedKey, delivery.keyHash, keyAddress, stored.version()
            ).equals(stored)
        ) revert ProofMismatch(licenceId);
        // s = address(p*R) = address(r*P); R was checked to be a usable curve point when it was delivered.
        address s = KeyProof.mulAddress(deliveryPrivateKey, uint256(delivery.rX), uint256(delivery.rY));
        bool keyCorrect =
            keccak256(abi.encodePacked(KeyProof.unwrap(delivery.wrappedKey, s, licenceId))) == delivery.keyHash;
        emit KeyDisputeDecided(licenceId, keyCorrect);
        if (keyCorrect) {
            _settle(licenceId, l, 0, 0);
        } else {
            _refund(licenceId, l, 0);
        }
    }

    /// @inheritdoc IDataLicense
    function disputeData(uint256 licenceId) external payable {
        Licence storage l = _openDispute(licenceId);
        // an expired licence cannot be revived by a dispute (a ruling for the seller would extend its term)
        if (!isValid(licenceId)) revert Expired(licenceId);
        uint256 bond = _settings[l.settingsId].disputeBond;
        if (msg.value != bond) revert WrongBond(bond, msg.value);
        _disputes[licenceId] = DisputeRecordLibrary.open(block.timestamp, bond);
        l.state = State.DataDisputed; // the stamp keeps the delivery time: the term is extended, not restarted
        emit DataDisputed(licenceId, bond);
    }

    /// @inheritdoc IDataLicense
    function resolveData(uint256 licenceId, uint256 buyerBps) external {
        if (msg.sender != _arbiter) revert NotArbiter(msg.sender);
        if (buyerBps > BPS) revert InvalidSplit(buyerBps);
        Licence storage l = _licenceIn(licenceId, DATA_DISPUTED);
        DisputeRecord dispute = _disputes[licenceId];
        _disputes[licenceId] = DisputeRecord.wrap(0);
        uint256 bond = dispute.bond();
        emit DataDisputeResolved(licenceId, buyerBps, false);
        if (buyerBps == 0) {
            // The ruling is for the seller: the sale stands, the licence stays valid for its term plus the time
            // spent in dispute, the bond is forfeit.
            _settle(licenceId, l, block.timestamp - dispute.openedAt(), bond);
            return;
        }
        Terms memory t = _terms[l.termsId];
        address holder = l.holder;
        uint256 version = _delivery[licenceId].version();
        _delivery[licenceId] = DeliveryRecord.wrap(0);
        l.state = State.Resolved;
        l.stamp = uint40(block.timestamp);
        uint256 buyerPart = uint256(t.price) * buyerBps / BPS;
        uint256 sellerGross = t.price - buyerPart;
        uint256 fee = sellerGross * _settings[l.settingsId].feeBps / BPS;
        // The bond goes back to the buyer: the arbiter found something in its favour.
        _credit(0, holder, bond);
        _credit(t.assetId, holder, buyerPart);
        _creditSeller(t, version, t.assetId, sellerGross - fee);
        _fees[t.assetId] += fee;
    }

    /// @inheritdoc IDataLicense
    function resolveDataByDefault(uint256 licenceId) external {
        Licence storage l = _licenceIn(licenceId, DATA_DISPUTED);
        DisputeRecord dispute = _disputes[licenceId];
        uint256 openedAt = dispute.openedAt();
        _clock(licenceId, openedAt, ARBITER_WINDOW, false);
        _disputes[licenceId] = DisputeRecord.wrap(0);
        _credit(0, l.holder, dispute.bond());
        emit DataDisputeResolved(licenceId, 0, true);
        _settle(licenceId, l, block.timestamp - openedAt, 0);
    }

    /// @inheritdoc IDataLicense
    function refund(uint256 licenceId) external {
        Licence storage l = _licenceIn(licenceId, PENDING);
        _clock(licenceId, l.stamp, _terms[l.termsId].deliveryWindow, false);
        _refund(licenceId, l, 0);
    }

    // -------------------------------------------------------------- payouts

    /// @inheritdoc IDataLicense
    function withdraw(address asset, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(asset, msg.sender, to);
    }

    /// @inheritdoc IDataLicense
    function withdrawVersion(address asset, uint256 datasetId, uint256 version) external nonReentrant {
        _withdraw(asset, VersionAccount.account(msg.sender, datasetId, version), msg.sender);
    }

    /// @inheritdoc IDataLicense
    function withdrawFees(address asset) external nonReentrant {
        uint256 assetId = _assetIdOf(asset);
        uint256 amount = _fees[assetId];
        if (amount == 0) revert NothingToWithdraw(asset, _feeRecipient);
        delete _fees[assetId];
        address to = _feeRecipient;
        emit FeesWithdrawn(asset, to, amount);
        _pay(asset, assetId, to, amount);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Set the platform fee (basis points, at most MAX_FEE_BPS) and the data-dispute bond for licences
    /// bought from now on; licences already bought keep the settings they were bought under.
    function setSettings(uint256 feeBps, uint256 disputeBond) external onlyOwner {
        _setSettings(feeBps, disputeBond);
    }

    /// @notice Set the receiver of platform fees.
    function setFeeRecipient(address recipient) external onlyOwner {
        if (recipient == address(0)) revert ZeroAddress();
        _feeRecipient = recipient;
        emit FeeRecipientSet(recipient);
    }

    /// @notice Set the arbiter of data disputes.
    function setArbiter(address arbiter_) external onlyOwner {
        if (arbiter_ == address(0)) revert ZeroAddress();
        _arbiter = arbiter_;
        emit ArbiterSet(arbiter_);
    }

    /// @notice Allow or disallow a token as a payment asset for new sales. Balances stay withdrawable.
    /// @dev Only plain ERC-20 / ERC-677 tokens: fee-on-transfer or rebasing tokens break escrow accounting.
    function setAssetAllowed(address asset, bool allowed) external onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        uint256 assetId = _assetSlot[asset].assetId();
        if (assetId == 0) {
            if (_assetCount == type(uint16).max) revert RegistryFull();
            assetId = ++_assetCount;
            _assetAddress[assetId] = asset;
        }
        _assetSlot[asset] = AssetSlotLibrary.pack(assetId, allowed);
        emit AssetAllowed(asset, assetId, allowed);
    }

    /// @notice Emergency stop of new publishes and purchases. Deliveries, refunds, settlements, disputes and
    /// withdrawals always go on.
    function setEmergencyPause(bool paused) external onlyOwner {
        _emergencyPaused = paused;
        emit EmergencyPaused(paused);
    }

    /// @notice Set the prefix of licence token URIs.
    function setBaseURI(string calldata baseURI) external onlyOwner {
        _base = baseURI;
        emit BaseURISet(baseURI);
    }

    /// @notice Refused: the admin's seat cannot be left empty. It holds the emergency pause, the token allow-list,
    /// the arbiter's seat and the fee recipient, which renouncing would freeze as they are (a paused marketplace
    /// paused for good, a token found unsafe allowed for good, an arbiter who left never replaced). To limit the
    /// admin, hand the role (two steps) to a timelock or a multisig.
    function renounceOwnership() public pure override {
        revert RenounceRefused();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDataLicense
    function isValid(uint256 licenceId) public view returns (bool) {
        Licence memory l = _licences[licenceId];
        if (l.state != State.Delivered && l.state != State.Settled) return false;
        uint256 duration = _terms[l.termsId].duration;
        return duration == 0 || block.timestamp < uint256(l.stamp) + duration;
    }

    /// @inheritdoc IDataLicense
    function balanceOwed(address asset, address account) external view returns (uint256) {
        return _owed[_assetIdOf(asset)][account];
    }

    /// @inheritdoc IDataLicense
    function extsload(bytes32 slot) external view returns (bytes32 value) {
        assembly ("memory-safe") {
            value := sload(slot)
        }
    }

    /// @inheritdoc IERC2981
    function royaltyInfo(uint256 licenceId, uint256 salePrice) external view returns (address, uint256) {
        uint32 termsId = _licences[licenceId].termsId;
        Terms memory t = _terms[termsId];
        if (t.flags & FLAG_TRANSFERABLE == 0) return (address(0), 0);
        return (_datasets[t.datasetId].owner, salePrice * _royaltyBps[termsId] / BPS);
    }

    /// @inheritdoc LicenceToken
    function supportsInterface(bytes4 interfaceId) public view override(IERC165, LicenceToken) returns (bool) {
        return LicenceToken.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------- internal

    /// @dev Check the sale, record the licence and return its id and the price to collect.
    function _purchase(Purchase calldata p, address payer, uint256 assetId)
        private
        returns (uint256 licenceId, uint256 price)
    {
        if (_emergencyPaused) revert EmergencyStopped();
        uint256 datasetId = p.datasetId;
        Dataset memory d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (d.termsId != p.termsId) revert TermsChanged(datasetId, d.termsId, p.termsId);
        if (d.version != p.version) revert VersionChanged(datasetId, d.version, p.version);
        if (_settingsId != p.settingsId) revert SettingsChanged(_settingsId, p.settingsId);
        Terms memory t = _terms[d.termsId];
        if (t.flags & FLAG_PAUSED != 0) revert SalesClosed(datasetId);
        if (t.assetId != assetId) revert WrongAsset(_assetAddress[t.assetId], _assetAddress[assetId]);
        if (t.supplyCap != 0 && d.sold >= t.supplyCap) revert SoldOut(datasetId, t.supplyCap);
        unchecked {
            _datasets[datasetId].sold = d.sold + 1;
        }
        price = t.price;
        address licensee = p.licensee == address(0) ? payer : p.licensee;
        address keyAddress = _checkDeliveryKey(p.keyX, p.keyY, payer, licensee);
        unchecked {
            licenceId = ++_lastLicenceId;
        }
        _mint(licensee, licenceId, d.termsId, _settingsId);
        _delivery[licenceId] = DeliveryRecordLibrary.pending(d.version, keyAddress);
        _emitPurchase(licenceId, p, licensee, payer, price);
    }

    /// @dev The purchase event (its own frame: the named terms and version are the current ones by now).
    function _emitPurchase(uint256 licenceId, Purchase calldata p, address licensee, address payer, uint256 price)
        private
    {
        emit LicencePurchased(licenceId, p.datasetId, licensee, payer, p.termsId, p.version, price, p.keyX, p.keyY);
    }

    /// @dev Revert unless (x, y) is a usable one-time delivery key, not the key of `a` or `b`; return its address.
    function _checkDeliveryKey(bytes32 x, bytes32 y, address a, address b) private pure returns (address key) {
        if (!KeyProof.isUsableKey(uint256(x), uint256(y))) revert InvalidDeliveryKey();
        key = KeyProof.pointAddress(uint256(x), uint256(y));
        if (key == a || key == b) revert DeliveryKeyIsAccount(key);
    }

    function _checkVersion(bytes calldata manifestCid, bytes32 keyHash) private pure {
        if (manifestCid.length == 0) revert EmptyManifest();
        if (keyHash == bytes32(0)) revert EmptyKeyCommitment();
    }

    function _setSettings(uint256 feeBps, uint256 disputeBond) private {
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        if (disputeBond > type(uint96).max) revert BondTooHigh(disputeBond, type(uint96).max);
        uint16 id = _settingsId;
        if (id == type(uint16).max) revert RegistryFull();
        unchecked {
            ++id;
        }
        _settingsId = id;
        _settings[id] = Settings(uint16(feeBps), uint96(disputeBond));
        emit SettingsSet(id, feeBps, disputeBond);
    }

    function _storeTerms(uint256 datasetId, bytes32 termsRef, TermsInput calldata i, uint8 keepFlags)
        private
        returns (uint32 termsId)
    {
        if (i.price > type(uint96).max) revert PriceTooHigh(i.price, type(uint96).max);
        if (i.duration > MAX_DURATION) revert DurationTooLong(i.duration, MAX_DURATION);
        if (i.supplyCap > type(uint24).max) revert SupplyCapTooHigh(i.supplyCap, type(uint24).max);
        if (i.deliveryWindow < MIN_WINDOW || i.deliveryWindow > MAX_WINDOW) {
            revert DeliveryWindowOutOfRange(i.deliveryWindow, MIN_WINDOW, MAX_WINDOW);
        }
        if (i.disputeWindow < MIN_WINDOW || i.disputeWindow > MAX_WINDOW) {
            revert DisputeWindowOutOfRange(i.disputeWindow, MIN_WINDOW, MAX_WINDOW);
        }
        if (i.royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(i.royaltyBps, MAX_ROYALTY_BPS);
        if (i.royaltyBps != 0 && !i.transferable) revert RoyaltyOnSoulbound();
        uint256 assetId = 0;
        if (i.asset != address(0)) {
            AssetSlot slot = _assetSlot[i.asset];
            if (!slot.allowed()) revert AssetNotAllowed(i.asset);
            assetId = slot.assetId();
        }
        unchecked {
            termsId = ++_lastTermsId;
        }
        _terms[termsId] = Terms({
            price: uint96(i.price),
            datasetId: uint32(datasetId),
            assetId: uint16(assetId),
            duration: uint32(i.duration),
            deliveryWindow: uint24(i.deliveryWindow),
            disputeWindow: uint24(i.disputeWindow),
            flags: (i.transferable ? FLAG_TRANSFERABLE : 0) | keepFlags,
            supplyCap: uint24(i.supplyCap)
        });
        if (i.royaltyBps != 0) _royaltyBps[termsId] = i.royaltyBps;
        emit TermsSet(
            datasetId,
            termsId,
            termsRef,
            i.price,
            i.asset,
            i.duration,
            i.supplyCap,
            i.deliveryWindow,
            i.disputeWindow,
            i.royaltyBps,
            i.transferable
        );
    }

    /// @dev A dispute of a delivered licence by its holder, inside the dispute window.
    function _openDispute(uint256 licenceId) private view returns (Licence storage l) {
        l = _heldLicenceIn(licenceId, DELIVERED);
        _clock(licenceId, l.stamp, _terms[l.termsId].disputeWindow, true);
    }

    /// @dev Pay the seller (less the fee fixed at purchase). After a data dispute ruled for the seller, the licence
    /// term is extended by `extension`, the time spent in dispute, and the seller also takes the forfeited `bond`.
    function _settle(uint256 licenceId, Licence storage l, uint256 extension, uint256 bond) private {
        Terms memory t = _terms[l.termsId];
        uint256 fee = uint256(t.price) * _settings[l.settingsId].feeBps / BPS;
        l.state = State.Settled;
        if (extension != 0) l.stamp += uint40(extension);
        uint256 version = _delivery[licenceId].version();
        _delivery[licenceId] = DeliveryRecord.wrap(0);
        address payee = _creditSeller(t, version, t.assetId, t.price - fee);
        if (bond != 0) _creditSeller(t, version, 0, bond);
        unchecked {
            if (fee != 0) _fees[t.assetId] += fee;
        }
        emit LicenceSettled(licenceId, payee, t.price - fee, fee);
    }

    /// @dev Credit the owner of the dataset sold under `t` with `amount` of `assetId`: the owner itself, or for a
    /// dataset paid by version the version account of `version`, the version the licence was bought for.
    function _creditSeller(Terms memory t, uint256 version, uint256 assetId, uint256 amount)
        private
        returns (address payee)
    {
        payee = _datasets[t.datasetId].owner;
        address account = t.flags & FLAG_BY_VERSION == 0 ? payee : VersionAccount.account(payee, t.datasetId, version);
        _owed[assetId][account] += amount;
    }

    /// @dev Pay out everything `account` is owed in `asset` to `to`.
    function _withdraw(address asset, address account, address to) private {
        uint256 assetId = _assetIdOf(asset);
        uint256 amount = _owed[assetId][account];
        if (amount == 0) revert NothingToWithdraw(asset, account);
        delete _owed[assetId][account];
        emit Withdrawn(asset, account, to, amount);
        _pay(asset, assetId, to, amount);
    }

    /// @dev Refund the price and `bond` RBTC to the licence holder.
    function _refund(uint256 licenceId, Licence storage l, uint256 bond) private {
        Terms memory t = _terms[l.termsId];
        address holder = l.holder;
        l.state = State.Refunded;
        l.stamp = uint40(block.timestamp);
        _delivery[licenceId] = DeliveryRecord.wrap(0);
        _credit(t.assetId, holder, t.price);
        _credit(0, holder, bond);
        emit LicenceRefunded(licenceId, holder, t.price, bond);
    }

    function _credit(uint256 assetId, address account, uint256 amount) private {
        if (amount != 0) _owed[assetId][account] += amount;
    }

    function _pay(address asset, uint256 assetId, address to, uint256 amount) private {
        if (asset == address(0)) {
            // `to` is chosen by the account whose own balance is paid out (or is the fee recipient): see
            // SLITHER_TRIAGE.md. The balance is zeroed before the call, under nonReentrant.
            // slither-disable-next-line arbitrary-send-eth
            (bool ok,) = payable(to).call{value: amount}("");
            if (!ok) revert TransferFailed(to, amount);
        } else {
            _held[assetId] -= amount;
            IERC20(asset).safeTransfer(to, amount);
        }
    }

    /// @dev Revert unless this contract's balance of `token` covers what it already accounts for plus `amount`
    /// (catches tokens that lie in `tokenFallback` and fee-on-transfer tokens), then account for `amount`.
    function _accountReceived(address token, uint256 assetId, uint256 amount) private {
        uint256 held = _held[assetId] + amount;
        if (IERC20(token).balanceOf(address(this)) < held) revert TokenNotReceived(token, amount);
        _held[assetId] = held;
    }

    function _assetIdOf(address asset) private view returns (uint256) {
        if (asset == address(0)) return 0;
        uint256 assetId = _assetSlot[asset].assetId();
        if (assetId == 0) revert AssetNotAllowed(asset);
        return assetId;
    }

    function _ownedDataset(uint256 datasetId) private view returns (Dataset storage d) {
        d = _datasets[datasetId];
        address owner_ = d.owner;
        if (owner_ == address(0)) revert UnknownDataset(datasetId);
        if (owner_ != msg.sender) revert NotDatasetOwner(datasetId, msg.sender);
    }

    /// @dev An owned dataset that is not retired.
    function _openDataset(uint256 datasetId) private view returns (Dataset storage d) {
        d = _ownedDataset(datasetId);
        if (_terms[d.termsId].flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
    }

    function _requireDeliverer(uint256 datasetId) private view {
        if (msg.sender != _agents[datasetId] && msg.sender != _datasets[datasetId].owner) {
            revert NotDeliverer(datasetId, msg.sender);
        }
    }

    /// @dev The one state guard: the licence, if its state is in `allowed` (a set of states, bit i for State(i)),
    /// else UnknownLicence or WrongState naming the allowed set.
    function _licenceIn(uint256 licenceId, uint256 allowed) private view returns (Licence storage l) {
        l = _licences[licenceId];
        State state = l.state;
        if ((1 << uint8(state)) & allowed == 0) {
            if (state == State.None) revert UnknownLicence(licenceId);
            revert WrongState(licenceId, state, allowed);
        }
    }

    /// @dev `_licenceIn` for the licence's holder only.
    function _heldLicenceIn(uint256 licenceId, uint256 allowed) private view returns (Licence storage l) {
        if (_licences[licenceId].holder != msg.sender) revert NotLicenceHolder(licenceId, msg.sender);
        return _licenceIn(licenceId, allowed);
    }

    /// @dev The one deadline helper: `start + window` is the last second for what is `due` by then (a delivery, a
    /// dispute: TooLate after it) and the second after it the first for what waits for it (a refund, a settlement,
    /// the arbiter's default: TooEarly until then).
    function _clock(uint256 licenceId, uint256 start, uint256 window, bool due) private view {
        uint256 deadline = start + window;
        if (due) {
            if (block.timestamp > deadline) revert TooLate(licenceId, deadline);
        } else if (block.timestamp <= deadline) {
            revert TooEarly(licenceId, deadline + 1);
        }
    }

    /// @dev The escrowed delivery's record: the bought version (top 32 bits) over the low 224 bits of
    /// keccak256(R, W, keyHash, delivery key address).
    function _deliveryCommitment(
        bytes32 rX,
        bytes32 rY,
        bytes32 w,
        bytes32 keyHash,
        address keyAddress,
        uint256 version
    ) private pure returns (DeliveryRecord) {
        return DeliveryRecordLibrary.escrowed(version, keccak256(abi.encode(rX, rY, w, keyHash, keyAddress)));
    }

    function _checkTransferable(uint256 licenceId, Licence storage l) internal view override {
        if (_terms[l.termsId].flags & FLAG_TRANSFERABLE == 0) revert Soulbound(licenceId);
        if (l.state != State.Settled) revert NotTransferableNow(licenceId, l.state);
    }

    function _baseURI() internal view override returns (string memory) {
        return _base;
    }
}

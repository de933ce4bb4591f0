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

/// @title DataLicense
/// @notice Datasets, licences and escrow for data licensing on Rootstock.
/// A data owner publishes a dataset (IPFS manifest, commitments, terms) in one transaction; a buyer pays into
/// escrow and receives an ERC-721 licence; the owner (or its agent) delivers the content key wrapped to the
/// buyer's secp256k1 key in a form this contract can check; payment is released on confirmation or after the
/// dispute window, refunded on a missed delivery or an unproven key, and split by an arbiter only when the key
/// is right but the content is disputed. Every amount is pulled with `withdraw`.
/// @dev Storage is packed for Rootstock's gas schedule: a dataset, its terms and a licence are one slot each.
contract DataLicense is IDataLicense, IERC677Receiver, IERC2981, LicenceToken, Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;

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
    /// @notice Time the seller has to answer a key dispute with its proof.
    uint256 public constant PROOF_WINDOW = 3 days;
    /// @notice Time the arbiter has to rule on a data dispute before the default applies.
    uint256 public constant ARBITER_WINDOW = 14 days;

    uint8 internal constant FLAG_TRANSFERABLE = 1;
    uint8 internal constant FLAG_PAUSED = 2;
    uint8 internal constant FLAG_RETIRED = 4;
    uint256 internal constant BPS = 10_000;

    // ---------------------------------------------------------------- state

    // One slot, read by every publish and purchase.
    uint64 private _lastLicenceId;
    uint32 private _lastDatasetId;
    uint32 private _lastTermsId;
    uint16 private _feeBps;
    bool private _emergencyPaused;
    uint96 private _disputeBond;

    address private _feeRecipient;
    address private _arbiter;
    uint16 private _assetCount; // asset id 0 is RBTC
    string private _base;

    mapping(uint256 datasetId => Dataset) private _datasets;
    mapping(uint256 termsId => Terms) private _terms;
    mapping(uint256 termsId => uint256) private _royaltyBps;
    mapping(uint256 datasetId => bytes32) private _keyHash;
    mapping(uint256 datasetId => address) private _agents;
    mapping(uint256 datasetId => address) private _pendingOwners;

    /// @dev Before delivery: the delivery key's address. After: keccak256(R, W, key address, key hash).
    mapping(uint256 licenceId => bytes32) private _delivery;
    mapping(uint256 licenceId => uint256) private _bonds;

    mapping(uint256 assetId => address) private _assetAddress;
    mapping(address asset => uint256) private _assetSlot; // (assetId << 1) | allowed

    mapping(uint256 assetId => mapping(address account => uint256)) private _owed;
    mapping(uint256 assetId => uint256) private _fees;
    /// @dev Tokens this contract has accounted for, per token asset: a token cannot credit more than it sent.
    mapping(uint256 assetId => uint256) private _held;

    // ---------------------------------------------------------- constructor

    /// @param admin Owner of the platform settings (two-step transferable).
    /// @param feeRecipient_ Receiver of platform fees.
    /// @param arbiter_ Arbiter of data disputes.
    /// @param feeBps_ Platform fee in basis points (at most MAX_FEE_BPS).
    /// @param disputeBond_ RBTC bond a buyer posts to open a dispute.
    constructor(address admin, address feeRecipient_, address arbiter_, uint256 feeBps_, uint256 disputeBond_)
        Ownable(admin)
    {
        if (feeRecipient_ == address(0) || arbiter_ == address(0)) revert ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        if (disputeBond_ > type(uint96).max) revert BondTooHigh(disputeBond_, type(uint96).max);
        _feeRecipient = feeRecipient_;
        _arbiter = arbiter_;
        _feeBps = uint16(feeBps_);
        _disputeBond = uint96(disputeBond_);
        emit FeeRecipientSet(feeRecipient_);
        emit ArbiterSet(arbiter_);
        emit FeeSet(feeBps_);
        emit DisputeBondSet(disputeBond_);
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
        if (manifestCid.length == 0) revert EmptyManifest();
        if (keyHash == bytes32(0)) revert EmptyKeyCommitment();
        unchecked {
            datasetId = ++_lastDatasetId;
        }
        uint32 termsId = _storeTerms(datasetId, termsRef, termsInput, 0);
        _datasets[datasetId] = Dataset({owner: msg.sender, termsId: termsId, sold: 0, version: 1});
        _keyHash[datasetId] = keyHash;
        if (agent != address(0)) _agents[datasetId] = agent;
        emit DatasetPublished(datasetId, msg.sender, agent);
        emit VersionPublished(datasetId, 1, manifestCid, plaintextHash, keyHash);
    }

    /// @inheritdoc IDataLicense
    function publishVersion(uint256 datasetId, bytes calldata manifestCid, bytes32 plaintextHash, bytes32 keyHash)
        external
    {
        Dataset storage d = _ownedDataset(datasetId);
        if (_terms[d.termsId].flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
        if (manifestCid.length == 0) revert EmptyManifest();
        if (keyHash == bytes32(0)) revert EmptyKeyCommitment();
        uint32 version = d.version + 1;
        d.version = version;
        _keyHash[datasetId] = keyHash;
        emit VersionPublished(datasetId, version, manifestCid, plaintextHash, keyHash);
    }

    /// @inheritdoc IDataLicense
    function setTerms(uint256 datasetId, bytes32 termsRef, TermsInput calldata termsInput) external {
        Dataset storage d = _ownedDataset(datasetId);
        uint8 flags = _terms[d.termsId].flags;
        if (flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
        if (termsInput.supplyCap != 0 && termsInput.supplyCap < d.sold) {
            revert CapBelowSold(termsInput.supplyCap, d.sold);
        }
        d.termsId = _storeTerms(datasetId, termsRef, termsInput, flags & FLAG_PAUSED);
    }

    /// @inheritdoc IDataLicense
    function pauseSales(uint256 datasetId) external {
        Dataset storage d = _ownedDataset(datasetId);
        Terms storage t = _terms[d.termsId];
        if (t.flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
        t.flags |= FLAG_PAUSED;
        emit SalesPaused(datasetId, d.termsId);
    }

    /// @inheritdoc IDataLicense
    function resumeSales(uint256 datasetId) external {
        Dataset storage d = _ownedDataset(datasetId);
        Terms storage t = _terms[d.termsId];
        if (t.flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
        t.flags &= ~FLAG_PAUSED;
        emit SalesResumed(datasetId, d.termsId);
    }

    /// @inheritdoc IDataLicense
    function retire(uint256 datasetId) external {
        Dataset storage d = _ownedDataset(datasetId);
        Terms storage t = _terms[d.termsId];
        if (t.flags & FLAG_RETIRED != 0) revert DatasetIsRetired(datasetId);
        t.flags |= FLAG_RETIRED | FLAG_PAUSED;
        emit DatasetRetired(datasetId);
    }

    /// @inheritdoc IDataLicense
    function setAgent(uint256 datasetId, address agent) external {
        _ownedDataset(datasetId);
        _agents[datasetId] = agent;
        emit AgentSet(datasetId, agent);
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
        emit DatasetTransferred(datasetId, previous, msg.sender);
    }

    // ------------------------------------------------------------ purchases

    /// @inheritdoc IDataLicense
    function buy(uint256 datasetId, address licensee, bytes32 keyX, bytes32 keyY, uint256 maxPrice)
        external
        payable
        nonReentrant
        returns (uint256 licenceId)
    {
        uint256 price;
        (licenceId, price) = _purchase(datasetId, msg.sender, licensee, keyX, keyY, 0, maxPrice);
        if (msg.value < price) revert WrongPayment(price, msg.value);
        if (msg.value > price) _sendValue(payable(msg.sender), msg.value - price);
    }

    /// @inheritdoc IDataLicense
    function buyWithToken(uint256 datasetId, address licensee, bytes32 keyX, bytes32 keyY, uint256 maxPrice)
        external
        nonReentrant
        returns (uint256 licenceId)
    {
        address asset = _assetAddress[_terms[_datasets[datasetId].termsId].assetId];
        if (asset == address(0)) {
            if (_datasets[datasetId].owner == address(0)) revert UnknownDataset(datasetId);
            revert NotSoldInToken(datasetId);
        }
        uint256 slot = _assetSlot[asset];
        if (slot & 1 == 0) revert AssetNotAllowed(asset);
        uint256 price;
        (licenceId, price) = _purchase(datasetId, msg.sender, licensee, keyX, keyY, slot >> 1, maxPrice);
        IERC20(asset).safeTransferFrom(msg.sender, address(this), price);
        _accountReceived(asset, slot >> 1, price);
    }

    /// @inheritdoc IERC677Receiver
    function tokenFallback(address from, uint256 value, bytes calldata data)
        external
        override(IDataLicense, IERC677Receiver)
        nonReentrant
        returns (bool)
    {
        uint256 slot = _assetSlot[msg.sender];
        if (slot & 1 == 0) revert AssetNotAllowed(msg.sender);
        _accountReceived(msg.sender, slot >> 1, value);
        uint256 price = _purchaseWithData(from, value, data, slot >> 1);
        if (value > price) _pay(msg.sender, slot >> 1, from, value - price);
        return true;
    }

    // ------------------------------------------------------------- delivery

    /// @inheritdoc IDataLicense
    function deliverKey(uint256 licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external {
        Licence storage l = _licences[licenceId];
        _requireState(licenceId, l.state, State.Pending);
        Terms memory t = _terms[l.termsId];
        uint256 deadline = uint256(l.stamp) + t.deliveryWindow;
        if (block.timestamp > deadline) revert TooLate(licenceId, deadline);
        _requireDeliverer(t.datasetId);
        bytes32 keyHash = _keyHash[t.datasetId];
        address keyAddress = address(uint160(uint256(_delivery[licenceId])));
        _delivery[licenceId] = _deliveryCommitment(rX, rY, wrappedKey, keyAddress, keyHash);
        l.state = State.Delivered;
        l.stamp = uint40(block.timestamp);
        emit KeyDelivered(licenceId, rX, rY, wrappedKey, keyHash);
    }

    /// @inheritdoc IDataLicense
    function redeliverKey(uint256 licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external {
        if (!isValid(licenceId)) revert WrongState(licenceId, _licences[licenceId].state);
        uint256 datasetId = _terms[_licences[licenceId].termsId].datasetId;
        _requireDeliverer(datasetId);
        emit KeyRedelivered(licenceId, rX, rY, wrappedKey, _keyHash[datasetId]);
    }

    /// @inheritdoc IDataLicense
    function confirm(uint256 licenceId) external {
        Licence storage l = _licences[licenceId];
        if (l.holder != msg.sender) revert NotLicenceHolder(licenceId, msg.sender);
        _requireState(licenceId, l.state, State.Delivered);
        _settle(licenceId, l, 0, false);
    }

    /// @inheritdoc IDataLicense
    function settle(uint256 licenceId) external {
        Licence storage l = _licences[licenceId];
        _requireState(licenceId, l.state, State.Delivered);
        uint256 notBefore = uint256(l.stamp) + _terms[l.termsId].disputeWindow;
        if (block.timestamp <= notBefore) revert TooEarly(licenceId, notBefore + 1);
        _settle(licenceId, l, 0, false);
    }

    /// @inheritdoc IDataLicense
    function disputeKey(uint256 licenceId) external payable {
        Licence storage l = _openDispute(licenceId);
        l.state = State.KeyDisputed;
        emit KeyDisputed(licenceId, msg.value);
    }

    /// @inheritdoc IDataLicense
    function proveKey(uint256 licenceId, DeliveryProof calldata proof) external {
        Licence storage l = _licences[licenceId];
        _requireState(licenceId, l.state, State.KeyDisputed);
        uint256 deadline = uint256(l.stamp) + PROOF_WINDOW;
        if (block.timestamp > deadline) revert TooLate(licenceId, deadline);
        bool keyCorrect = _verifyProof(licenceId, proof);
        emit KeyProved(licenceId, keyCorrect);
        uint256 bond = _bonds[licenceId];
        delete _bonds[licenceId];
        if (keyCorrect) {
            _settle(licenceId, l, bond, true);
        } else {
            _refund(licenceId, l, bond);
        }
    }

    /// @inheritdoc IDataLicense
    function disputeData(uint256 licenceId) external payable {
        Licence storage l = _openDispute(licenceId);
        l.state = State.DataDisputed;
        emit DataDisputed(licenceId, msg.value);
    }

    /// @inheritdoc IDataLicense
    function resolveData(uint256 licenceId, uint256 buyerBps) external {
        if (msg.sender != _arbiter) revert NotArbiter(msg.sender);
        if (buyerBps > BPS) revert InvalidSplit(buyerBps);
        Licence storage l = _licences[licenceId];
        _requireState(licenceId, l.state, State.DataDisputed);
        Terms memory t = _terms[l.termsId];
        address holder = l.holder;
        uint256 bond = _bonds[licenceId];
        delete _bonds[licenceId];
        delete _delivery[licenceId];
        l.state = State.Resolved;
        l.stamp = uint40(block.timestamp);

        uint256 buyerPart = uint256(t.price) * buyerBps / BPS;
        uint256 sellerGross = t.price - buyerPart;
        uint256 fee = sellerGross * l.feeBps / BPS;
        address payee = _datasets[t.datasetId].owner;
        // The bond goes back to the buyer when the arbiter found anything in its favour.
        if (buyerBps > 0) _credit(0, holder, bond);
        else _credit(0, payee, bond);
        _credit(t.assetId, holder, buyerPart);
        _credit(t.assetId, payee, sellerGross - fee);
        _fees[t.assetId] += fee;
        emit DataDisputeResolved(licenceId, buyerBps, false);
    }

    /// @inheritdoc IDataLicense
    function resolveDataByDefault(uint256 licenceId) external {
        Licence storage l = _licences[licenceId];
        _requireState(licenceId, l.state, State.DataDisputed);
        uint256 notBefore = uint256(l.stamp) + ARBITER_WINDOW;
        if (block.timestamp <= notBefore) revert TooEarly(licenceId, notBefore + 1);
        uint256 bond = _bonds[licenceId];
        delete _bonds[licenceId];
        _credit(0, l.holder, bond);
        emit DataDisputeResolved(licenceId, 0, true);
        _settle(licenceId, l, 0, true);
    }

    /// @inheritdoc IDataLicense
    function refund(uint256 licenceId) external {
        Licence storage l = _licences[licenceId];
        State state = l.state;
        uint256 notBefore = 0;
        if (state == State.Pending) {
            notBefore = uint256(l.stamp) + _terms[l.termsId].deliveryWindow;
        } else if (state == State.KeyDisputed) {
            notBefore = uint256(l.stamp) + PROOF_WINDOW;
        } else {
            if (state == State.None) revert UnknownLicence(licenceId);
            revert WrongState(licenceId, state);
        }
        if (block.timestamp <= notBefore) revert TooEarly(licenceId, notBefore + 1);
        uint256 bond = _bonds[licenceId];
        delete _bonds[licenceId];
        _refund(licenceId, l, bond);
    }

    // -------------------------------------------------------------- payouts

    /// @inheritdoc IDataLicense
    function withdraw(address asset, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 assetId = _assetIdOf(asset);
        uint256 amount = _owed[assetId][msg.sender];
        if (amount == 0) revert NothingToWithdraw(asset, msg.sender);
        delete _owed[assetId][msg.sender];
        emit Withdrawn(asset, msg.sender, to, amount);
        _pay(asset, assetId, to, amount);
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

    /// @notice Set the platform fee for future purchases (basis points, at most MAX_FEE_BPS).
    function setFee(uint256 feeBps) external onlyOwner {
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        _feeBps = uint16(feeBps);
        emit FeeSet(feeBps);
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

    /// @notice Set the RBTC bond for disputes opened from now on.
    function setDisputeBond(uint256 bond) external onlyOwner {
        if (bond > type(uint96).max) revert BondTooHigh(bond, type(uint96).max);
        _disputeBond = uint96(bond);
        emit DisputeBondSet(bond);
    }

    /// @notice Allow or disallow a token as a payment asset for new sales. Balances stay withdrawable.
    /// @dev Only plain ERC-20 / ERC-677 tokens: fee-on-transfer or rebasing tokens break escrow accounting.
    function setAssetAllowed(address asset, bool allowed) external onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        uint256 slot = _assetSlot[asset];
        uint256 assetId = slot >> 1;
        if (assetId == 0) {
            if (_assetCount == type(uint16).max) revert TooManyTokens();
            assetId = ++_assetCount;
            _assetAddress[assetId] = asset;
        }
        _assetSlot[asset] = (assetId << 1) | (allowed ? 1 : 0);
        emit AssetAllowed(asset, assetId, allowed);
    }

    /// @notice Emergency stop of new publishes and purchases. Refunds, settlements, proofs and
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

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDataLicense
    function isValid(uint256 licenceId) public view returns (bool) {
        Licence memory l = _licences[licenceId];
        if (l.state != State.Delivered && l.state != State.Settled) return false;
        uint256 duration = _terms[l.termsId].duration;
        return duration == 0 || block.timestamp < uint256(l.stamp) + duration;
    }

    /// @inheritdoc IDataLicense
    function hasValidLicence(address account, uint256 datasetId, uint256 licenceId) external view returns (bool) {
        Licence memory l = _licences[licenceId];
        return l.holder == account && account != address(0) && _terms[l.termsId].datasetId == datasetId
            && isValid(licenceId);
    }

    /// @inheritdoc IDataLicense
    function expiresAt(uint256 licenceId) external view returns (uint256) {
        Licence memory l = _licences[licenceId];
        uint256 duration = _terms[l.termsId].duration;
        if (duration == 0) return 0;
        if (l.state != State.Delivered && l.state != State.Settled) return 0;
        return uint256(l.stamp) + duration;
    }

    /// @inheritdoc IDataLicense
    function balanceOwed(address asset, address account) external view returns (uint256) {
        return _owed[_assetIdOf(asset)][account];
    }

    /// @notice Licence record (holder, terms id, timestamp, state, fee).
    function licence(uint256 licenceId) external view returns (Licence memory) {
        return _licences[licenceId];
    }

    /// @notice Dataset record (owner, current terms id, licences sold, version).
    function dataset(uint256 datasetId) external view returns (Dataset memory) {
        return _datasets[datasetId];
    }

    /// @notice Stored terms.
    function terms(uint256 termsId) external view returns (Terms memory) {
        return _terms[termsId];
    }

    /// @notice Payment asset address of an asset id (0 is RBTC).
    function assetAddress(uint256 assetId) external view returns (address) {
        return _assetAddress[assetId];
    }

    /// @notice Whether a token is allowed for new sales (RBTC always is).
    function isAssetAllowed(address asset) external view returns (bool) {
        return asset == address(0) || _assetSlot[asset] & 1 == 1;
    }

    /// @notice Current key commitment keccak256(K) of a dataset.
    function keyHashOf(uint256 datasetId) external view returns (bytes32) {
        return _keyHash[datasetId];
    }

    /// @notice Delivery agent of a dataset (address(0): none).
    function agentOf(uint256 datasetId) external view returns (address) {
        return _agents[datasetId];
    }

    /// @notice Pending new owner of a dataset (address(0): none).
    function pendingDatasetOwner(uint256 datasetId) external view returns (address) {
        return _pendingOwners[datasetId];
    }

    /// @notice Delivery slot of a licence: the delivery key's address before delivery, the commitment after.
    function deliveryRecord(uint256 licenceId) external view returns (bytes32) {
        return _delivery[licenceId];
    }

    /// @notice Dispute bond held for a licence.
    function bondOf(uint256 licenceId) external view returns (uint256) {
        return _bonds[licenceId];
    }

    /// @notice Platform settings: fee (bps), fee recipient, arbiter, dispute bond, emergency pause.
    function settings()
        external
        view
        returns (uint256 feeBps, address feeRecipient, address arbiter, uint256 disputeBond, bool emergencyPaused)
    {
        return (_feeBps, _feeRecipient, _arbiter, _disputeBond, _emergencyPaused);
    }

    /// @notice Accrued platform fees in an asset.
    function feesAccrued(address asset) external view returns (uint256) {
        return _fees[_assetIdOf(asset)];
    }

    /// @notice Counters: last licence id, last dataset id, last terms id.
    function counters() external view returns (uint256 lastLicenceId, uint256 lastDatasetId, uint256 lastTermsId) {
        return (_lastLicenceId, _lastDatasetId, _lastTermsId);
    }

    /// @inheritdoc IERC2981
    function royaltyInfo(uint256 licenceId, uint256 salePrice) external view returns (address, uint256) {
        Terms memory t = _terms[_licences[licenceId].termsId];
        if (t.flags & FLAG_TRANSFERABLE == 0) return (address(0), 0);
        return (_datasets[t.datasetId].owner, salePrice * _royaltyBps[_licences[licenceId].termsId] / BPS);
    }

    /// @inheritdoc LicenceToken
    function supportsInterface(bytes4 interfaceId) public view override(IERC165, LicenceToken) returns (bool) {
        return LicenceToken.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------- internal

    /// @dev Check the sale, record the licence and return its id and the price to collect.
    function _purchase(
        uint256 datasetId,
        address payer,
        address licensee,
        bytes32 keyX,
        bytes32 keyY,
        uint256 assetId,
        uint256 maxPrice
    ) private returns (uint256 licenceId, uint256 price) {
        uint32 termsId;
        (termsId, price) = _checkSale(datasetId, assetId, maxPrice);
        if (!KeyProof.isUsableKey(uint256(keyX), uint256(keyY))) revert InvalidDeliveryKey();
        if (licensee == address(0)) licensee = payer;
        licenceId = _issue(termsId, licensee, keyX, keyY);
        emit LicencePurchased(licenceId, datasetId, licensee, termsId, price, _feeBps, keyX, keyY);
    }

    /// @dev Revert unless dataset `datasetId` sells now in `assetId` for at most `maxPrice`; count the sale.
    function _checkSale(uint256 datasetId, uint256 assetId, uint256 maxPrice)
        private
        returns (uint32 termsId, uint256 price)
    {
        if (_emergencyPaused) revert EmergencyStopped();
        Dataset memory d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        Terms memory t = _terms[d.termsId];
        if (t.flags & FLAG_PAUSED != 0) revert SalesClosed(datasetId);
        if (t.assetId != assetId) revert WrongAsset(_assetAddress[t.assetId], _assetAddress[assetId]);
        price = t.price;
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        if (t.supplyCap != 0 && d.sold >= t.supplyCap) revert SoldOut(datasetId, t.supplyCap);
        unchecked {
            _datasets[datasetId].sold = d.sold + 1;
        }
        termsId = d.termsId;
    }

    /// @dev Mint licence to `licensee` and remember the address of its delivery key.
    function _issue(uint32 termsId, address licensee, bytes32 keyX, bytes32 keyY)
        private
        returns (uint256 licenceId)
    {
        unchecked {
            licenceId = ++_lastLicenceId;
        }
        _mint(licensee, licenceId, termsId, _feeBps);
        _delivery[licenceId] = bytes32(uint256(uint160(KeyProof.pointAddress(uint256(keyX), uint256(keyY)))));
    }

    /// @dev ERC-677 purchase: `data` is abi.encode(datasetId, licensee, keyX, keyY); `value` is the maximum.
    function _purchaseWithData(address from, uint256 value, bytes calldata data, uint256 assetId)
        private
        returns (uint256 price)
    {
        if (data.length != 128) revert BadTokenData(data.length);
        (uint256 datasetId, address licensee, bytes32 keyX, bytes32 keyY) =
            abi.decode(data, (uint256, address, bytes32, bytes32));
        (, price) = _purchase(datasetId, from, licensee, keyX, keyY, assetId, value);
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
            uint256 slot = _assetSlot[i.asset];
            if (slot & 1 == 0) revert AssetNotAllowed(i.asset);
            assetId = slot >> 1;
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

    function _openDispute(uint256 licenceId) private returns (Licence storage l) {
        l = _licences[licenceId];
        if (l.holder != msg.sender) revert NotLicenceHolder(licenceId, msg.sender);
        _requireState(licenceId, l.state, State.Delivered);
        uint256 deadline = uint256(l.stamp) + _terms[l.termsId].disputeWindow;
        if (block.timestamp > deadline) revert TooLate(licenceId, deadline);
        uint256 bond = _disputeBond;
        if (msg.value != bond) revert WrongBond(bond, msg.value);
        if (bond != 0) _bonds[licenceId] = bond;
        l.stamp = uint40(block.timestamp);
    }

    /// @dev Pay the seller (less the fee fixed at purchase) and `bond` RBTC to the seller.
    /// With `restartTerm` (after a proof or a defaulted data dispute) the licence term starts now.
    function _settle(uint256 licenceId, Licence storage l, uint256 bond, bool restartTerm) private {
        Terms memory t = _terms[l.termsId];
        address payee = _datasets[t.datasetId].owner;
        uint256 fee = uint256(t.price) * l.feeBps / BPS;
        l.state = State.Settled;
        if (restartTerm) l.stamp = uint40(block.timestamp);
        delete _delivery[licenceId];
        unchecked {
            _owed[t.assetId][payee] += t.price - fee;
            if (fee != 0) _fees[t.assetId] += fee;
        }
        if (bond != 0) _credit(0, payee, bond);
        emit LicenceSettled(licenceId, payee, t.price - fee, fee);
    }

    /// @dev Refund the price and `bond` RBTC to the licence holder.
    function _refund(uint256 licenceId, Licence storage l, uint256 bond) private {
        Terms memory t = _terms[l.termsId];
        address holder = l.holder;
        l.state = State.Refunded;
        l.stamp = uint40(block.timestamp);
        delete _delivery[licenceId];
        _credit(t.assetId, holder, t.price);
        _credit(0, holder, bond);
        emit LicenceRefunded(licenceId, holder, t.price, bond);
    }

    function _credit(uint256 assetId, address account, uint256 amount) private {
        if (amount != 0) _owed[assetId][account] += amount;
    }

    function _pay(address asset, uint256 assetId, address to, uint256 amount) private {
        if (asset == address(0)) {
            _sendValue(payable(to), amount);
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

    function _sendValue(address payable to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    function _assetIdOf(address asset) private view returns (uint256) {
        if (asset == address(0)) return 0;
        uint256 assetId = _assetSlot[asset] >> 1;
        if (assetId == 0) revert AssetNotAllowed(asset);
        return assetId;
    }

    function _ownedDataset(uint256 datasetId) private view returns (Dataset storage d) {
        d = _datasets[datasetId];
        address owner_ = d.owner;
        if (owner_ == address(0)) revert UnknownDataset(datasetId);
        if (owner_ != msg.sender) revert NotDatasetOwner(datasetId, msg.sender);
    }

    function _requireDeliverer(uint256 datasetId) private view {
        if (msg.sender != _agents[datasetId] && msg.sender != _datasets[datasetId].owner) {
            revert NotDeliverer(datasetId, msg.sender);
        }
    }

    function _requireState(uint256 licenceId, State actual, State expected) private pure {
        if (actual != expected) {
            if (actual == State.None) revert UnknownLicence(licenceId);
            revert WrongState(licenceId, actual);
        }
    }

    /// @dev Check a revealed delivery against the stored commitment and return whether the key it wrapped
    /// matches the commitment. Reverts when the reveal is not the delivery that was made.
    function _verifyProof(uint256 licenceId, DeliveryProof calldata p) private view returns (bool) {
        address keyAddress = KeyProof.pointAddress(uint256(p.keyX), uint256(p.keyY));
        if (_deliveryCommitment(p.rX, p.rY, p.wrappedKey, keyAddress, p.keyHash) != _delivery[licenceId]) {
            revert ProofMismatch(licenceId);
        }
        if (p.r == 0 || p.r >= KeyProof.N) revert InvalidScalar();
        // r*G must be the R that was delivered.
        if (KeyProof.mulAddress(p.r, KeyProof.GX, KeyProof.GY) != KeyProof.pointAddress(uint256(p.rX), uint256(p.rY)))
        {
            revert ProofMismatch(licenceId);
        }
        // s = address(r*P); P was checked to be a usable curve point when the licence was bought.
        address s = KeyProof.mulAddress(p.r, uint256(p.keyX), uint256(p.keyY));
        return keccak256(abi.encodePacked(KeyProof.unwrap(p.wrappedKey, s, licenceId))) == p.keyHash;
    }

    function _deliveryCommitment(bytes32 rX, bytes32 rY, bytes32 w, address keyAddress, bytes32 keyHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(rX, rY, w, keyAddress, keyHash));
    }

    function _checkTransferable(uint256 licenceId, Licence storage l) internal view override {
        if (_terms[l.termsId].flags & FLAG_TRANSFERABLE == 0) revert Soulbound(licenceId);
        if (l.state != State.Settled) revert NotTransferableNow(licenceId, l.state);
    }

    function _baseURI() internal view override returns (string memory) {
        return _base;
    }
}

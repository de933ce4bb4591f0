// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IDataLicense
/// @notice Datasets, licences (ERC-721), escrow and pull payouts for data licensing on Rootstock.
/// @dev Every state change emits an event; an indexer can rebuild all state from the logs.
interface IDataLicense {
    // ------------------------------------------------------------------ types

    /// @notice Lifecycle of a licence.
    enum State {
        None, // no such licence
        Pending, // paid, waiting for key delivery
        Delivered, // key delivered, dispute window open
        Settled, // seller paid (confirmed, window passed, key proved, or data dispute defaulted)
        KeyDisputed, // buyer says the delivered key does not open the data; seller must prove
        DataDisputed, // buyer says the data is not as described; the arbiter splits
        Refunded, // buyer refunded (missed delivery, failed or absent proof)
        Resolved // data dispute resolved by the arbiter's split
    }

    /// @notice Sale terms as given by a dataset owner (validated and packed on-chain).
    /// @param price Price of one licence in the smallest unit of `asset` (at most 2^96-1).
    /// @param asset Payment asset: address(0) for RBTC, else an allow-listed ERC-20 / ERC-677 token.
    /// @param duration Licence term in seconds from key delivery; 0 means perpetual.
    /// @param supplyCap Most licences ever sold under this dataset; 0 means unlimited.
    /// @param deliveryWindow Seconds the seller has to deliver the key after a purchase.
    /// @param disputeWindow Seconds the buyer has to dispute after delivery.
    /// @param royaltyBps ERC-2981 royalty to the dataset owner on resales (transferable licences only).
    /// @param transferable Whether licences may change hands once settled.
    struct TermsInput {
        uint256 price;
        address asset;
        uint256 duration;
        uint256 supplyCap;
        uint256 deliveryWindow;
        uint256 disputeWindow;
        uint256 royaltyBps;
        bool transferable;
    }

    /// @notice Terms of sale as stored (one storage slot).
    struct Terms {
        uint96 price;
        uint32 datasetId;
        uint16 assetId;
        uint32 duration;
        uint24 deliveryWindow;
        uint24 disputeWindow;
        uint8 flags;
        uint24 supplyCap;
    }

    /// @notice A dataset (one storage slot).
    struct Dataset {
        address owner;
        uint32 termsId;
        uint32 sold;
        uint32 version;
    }

    /// @notice What a seller reveals to answer a key dispute: the delivery (R, W), the secret r with R = r*G,
    /// the buyer's delivery key P and the key commitment the delivery was bound to.
    struct DeliveryProof {
        uint256 r;
        bytes32 rX;
        bytes32 rY;
        bytes32 wrappedKey;
        bytes32 keyX;
        bytes32 keyY;
        bytes32 keyHash;
    }

    /// @notice A licence (one storage slot; the ERC-721 holder is its first field).
    struct Licence {
        address holder;
        uint32 termsId;
        uint40 stamp; // purchase, delivery, dispute or settlement time, by state
        State state;
        uint16 feeBps;
    }

    // ----------------------------------------------------------------- events

    event DatasetPublished(uint256 indexed datasetId, address indexed owner, address agent);
    event VersionPublished(
        uint256 indexed datasetId, uint256 indexed version, bytes manifestCid, bytes32 plaintextHash, bytes32 keyHash
    );
    event TermsSet(
        uint256 indexed datasetId,
        uint256 indexed termsId,
        bytes32 termsRef,
        uint256 price,
        address asset,
        uint256 duration,
        uint256 supplyCap,
        uint256 deliveryWindow,
        uint256 disputeWindow,
        uint256 royaltyBps,
        bool transferable
    );
    event SalesPaused(uint256 indexed datasetId, uint256 indexed termsId);
    event SalesResumed(uint256 indexed datasetId, uint256 indexed termsId);
    event DatasetRetired(uint256 indexed datasetId);
    event AgentSet(uint256 indexed datasetId, address indexed agent);
    event DatasetTransferStarted(uint256 indexed datasetId, address indexed from, address indexed to);
    event DatasetTransferred(uint256 indexed datasetId, address indexed from, address indexed to);

    event LicencePurchased(
        uint256 indexed licenceId,
        uint256 indexed datasetId,
        address indexed licensee,
        uint256 termsId,
        uint256 price,
        uint256 feeBps,
        bytes32 keyX,
        bytes32 keyY
    );
    event KeyDelivered(uint256 indexed licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey, bytes32 keyHash);
    event KeyRedelivered(uint256 indexed licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey, bytes32 keyHash);
    event LicenceSettled(uint256 indexed licenceId, address indexed payee, uint256 sellerAmount, uint256 fee);
    event KeyDisputed(uint256 indexed licenceId, uint256 bond);
    event KeyProved(uint256 indexed licenceId, bool keyCorrect);
    event DataDisputed(uint256 indexed licenceId, uint256 bond);
    event DataDisputeResolved(uint256 indexed licenceId, uint256 buyerBps, bool byDefault);
    event LicenceRefunded(uint256 indexed licenceId, address indexed to, uint256 amount, uint256 bond);

    event Credited(address indexed asset, address indexed account, uint256 amount);
    event Withdrawn(address indexed asset, address indexed account, address to, uint256 amount);
    event FeesWithdrawn(address indexed asset, address indexed to, uint256 amount);

    event FeeSet(uint256 feeBps);
    event FeeRecipientSet(address indexed recipient);
    event ArbiterSet(address indexed arbiter);
    event DisputeBondSet(uint256 bond);
    event AssetAllowed(address indexed asset, uint256 indexed assetId, bool allowed);
    event EmergencyPaused(bool paused);
    event BaseURISet(string baseURI);

    // ----------------------------------------------------------------- errors

    error UnknownDataset(uint256 datasetId);
    error UnknownLicence(uint256 licenceId);
    error NotDatasetOwner(uint256 datasetId, address caller);
    error NotDeliverer(uint256 datasetId, address caller);
    error NotLicenceHolder(uint256 licenceId, address caller);
    error NotArbiter(address caller);
    error NotPendingOwner(uint256 datasetId, address caller);
    error ZeroAddress();
    error EmergencyStopped();
    error SalesClosed(uint256 datasetId);
    error DatasetIsRetired(uint256 datasetId);
    error SoldOut(uint256 datasetId, uint256 supplyCap);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error WrongPayment(uint256 expected, uint256 sent);
    error WrongAsset(address expected, address given);
    error AssetNotAllowed(address asset);
    error PriceTooHigh(uint256 price, uint256 max);
    error DurationTooLong(uint256 duration, uint256 max);
    error SupplyCapTooHigh(uint256 supplyCap, uint256 max);
    error DeliveryWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    error DisputeWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    error RoyaltyTooHigh(uint256 royaltyBps, uint256 max);
    error RoyaltyOnSoulbound();
    error CapBelowSold(uint256 supplyCap, uint256 sold);
    error EmptyManifest();
    error EmptyKeyCommitment();
    error BondTooHigh(uint256 bond, uint256 max);
    error BadTokenData(uint256 length);
    error TokenNotReceived(address token, uint256 expected);
    error InvalidDeliveryKey();
    error WrongState(uint256 licenceId, State state);
    error TooLate(uint256 licenceId, uint256 deadline);
    error TooEarly(uint256 licenceId, uint256 notBefore);
    error WrongBond(uint256 expected, uint256 sent);
    error ProofMismatch(uint256 licenceId);
    error InvalidScalar();
    error FeeTooHigh(uint256 feeBps, uint256 maxBps);
    error InvalidSplit(uint256 buyerBps);
    error NothingToWithdraw(address asset, address account);
    error TransferFailed(address to, uint256 amount);
    error Soulbound(uint256 licenceId);
    error NotTransferableNow(uint256 licenceId, State state);
    error TooManyTokens();
    error NotSoldInToken(uint256 datasetId);

    // -------------------------------------------------------------- datasets

    /// @notice Publish a dataset for sale in one transaction.
    /// @param manifestCid Binary CID of the manifest on IPFS.
    /// @param plaintextHash SHA-256 of the plaintext.
    /// @param keyHash keccak256 of the 32-byte content key K.
    /// @param termsRef Hash or CID digest of the licence text.
    /// @param termsInput Sale terms.
    /// @param agent Optional delivery agent (hot key that may deliver keys and nothing else).
    /// @return datasetId The new dataset's id.
    function publish(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 termsRef,
        TermsInput calldata termsInput,
        address agent
    ) external returns (uint256 datasetId);

    /// @notice Publish a new version (manifest and commitments); valid licences cover it for their remaining term.
    function publishVersion(uint256 datasetId, bytes calldata manifestCid, bytes32 plaintextHash, bytes32 keyHash)
        external;

    /// @notice Set new terms for future sales; sold licences keep theirs.
    function setTerms(uint256 datasetId, bytes32 termsRef, TermsInput calldata termsInput) external;

    /// @notice Pause new sales of a dataset.
    function pauseSales(uint256 datasetId) external;

    /// @notice Resume sales of a paused dataset.
    function resumeSales(uint256 datasetId) external;

    /// @notice Stop selling a dataset for good. Licences already sold are unaffected.
    function retire(uint256 datasetId) external;

    /// @notice Appoint (or with address(0) remove) the delivery agent of a dataset.
    function setAgent(uint256 datasetId, address agent) external;

    /// @notice First step of handing a dataset to a new owner.
    function transferDataset(uint256 datasetId, address newOwner) external;

    /// @notice Second step: the new owner accepts the dataset.
    function acceptDataset(uint256 datasetId) external;

    // ------------------------------------------------------------- purchases

    /// @notice Buy a licence with RBTC. Send at least the price; any excess is returned at once.
    /// @param datasetId Dataset to license.
    /// @param licensee Who receives the licence (address(0): the caller).
    /// @param keyX X coordinate of the secp256k1 delivery key.
    /// @param keyY Y coordinate of the secp256k1 delivery key.
    /// @param maxPrice The most the buyer will pay; a higher current price reverts.
    /// @return licenceId The new licence's id (an ERC-721 token id).
    function buy(uint256 datasetId, address licensee, bytes32 keyX, bytes32 keyY, uint256 maxPrice)
        external
        payable
        returns (uint256 licenceId);

    /// @notice Buy a licence with an ERC-20 token after approving this contract for the price.
    function buyWithToken(uint256 datasetId, address licensee, bytes32 keyX, bytes32 keyY, uint256 maxPrice)
        external
        returns (uint256 licenceId);

    /// @notice ERC-677 receiver (RIF `transferAndCall`): `data` is abi.encode(datasetId, licensee, keyX, keyY).
    /// The transferred value is the most the buyer will pay; any excess is returned in the same token.
    function tokenFallback(address from, uint256 value, bytes calldata data) external returns (bool);

    // -------------------------------------------------------------- delivery

    /// @notice Deliver the content key wrapped to the buyer's delivery key: R = r*G and W = K xor keccak256(s, id).
    function deliverKey(uint256 licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external;

    /// @notice Deliver the key of a newer dataset version to a licence that covers it (no escrow involved).
    function redeliverKey(uint256 licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external;

    /// @notice The licence holder confirms a good delivery; the seller is paid.
    function confirm(uint256 licenceId) external;

    /// @notice Settle a delivered licence whose dispute window has passed.
    function settle(uint256 licenceId) external;

    /// @notice Dispute the delivered key, posting the dispute bond in RBTC.
    function disputeKey(uint256 licenceId) external payable;

    /// @notice Answer a key dispute by revealing r. Anyone may submit; the outcome is decided by the proof.
    function proveKey(uint256 licenceId, DeliveryProof calldata proof) external;

    /// @notice Dispute the content (key right, data not as described), posting the dispute bond in RBTC.
    function disputeData(uint256 licenceId) external payable;

    /// @notice The arbiter splits a data-disputed payment: buyerBps of the price goes back to the buyer.
    function resolveData(uint256 licenceId, uint256 buyerBps) external;

    /// @notice After the arbiter window without a ruling, the sale stands and the buyer's bond is returned.
    function resolveDataByDefault(uint256 licenceId) external;

    /// @notice Refund a licence whose key was not delivered in time or whose key dispute was not answered.
    function refund(uint256 licenceId) external;

    // --------------------------------------------------------------- payouts

    /// @notice Withdraw everything the caller is owed in `asset` (address(0) for RBTC) to `to`.
    function withdraw(address asset, address to) external;

    /// @notice Send the accrued platform fees in `asset` to the fee recipient.
    function withdrawFees(address asset) external;

    // ----------------------------------------------------------------- views

    /// @notice Whether a licence is valid now (delivered or settled, and not expired).
    function isValid(uint256 licenceId) external view returns (bool);

    /// @notice Whether `account` holds the given licence and it is valid for `datasetId` now.
    function hasValidLicence(address account, uint256 datasetId, uint256 licenceId) external view returns (bool);

    /// @notice Expiry timestamp of a licence (0: perpetual or not yet delivered).
    function expiresAt(uint256 licenceId) external view returns (uint256);

    /// @notice Amount `account` can withdraw in `asset`.
    function balanceOwed(address asset, address account) external view returns (uint256);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IDataLicense (v2)
/// @notice Datasets, licences (ERC-721), escrow and pull payouts for data licensing on Rootstock.
/// @dev Every state change emits an event; an indexer can rebuild all state from the logs. Views that hold no
/// money live in the periphery (`DataLicenseLens`, reading storage through `extsload`); this interface is what
/// moves money and what other contracts build on.
interface IDataLicense {
    // ------------------------------------------------------------------ types

    /// @notice Lifecycle of a licence.
    enum State {
        None, // no such licence
        Pending, // paid, waiting for key delivery
        Delivered, // key delivered, dispute window open
        Settled, // seller paid (confirmed, window passed, key proved good, data dispute ruled for the seller)
        DataDisputed, // buyer says the data is not as described; the arbiter splits
        Refunded, // buyer refunded (missed delivery, or the buyer proved the delivered key wrong)
        Resolved // data dispute ruled with a refund share for the buyer; the licence gives no access
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

    /// @notice Terms of sale as stored (one storage slot). A terms id never changes meaning: new terms get a new id.
    struct Terms {
        uint96 price;
        uint32 datasetId;
        uint16 assetId;
        uint32 duration;
        uint24 deliveryWindow;
        uint24 disputeWindow;
        uint8 flags; // 1 transferable, 2 sales paused, 4 retired
        uint24 supplyCap;
    }

    /// @notice A dataset (one storage slot).
    struct Dataset {
        address owner;
        uint32 termsId; // current terms
        uint32 sold;
        uint32 version; // current version (1 at publish)
    }

    /// @notice A licence (one storage slot; the ERC-721 holder is its first field).
    /// @dev `stamp` is the purchase time (Pending), the delivery time (Delivered, DataDisputed, Settled; moved
    /// later by the time spent in a data dispute ruled for the seller), the ruling time (Resolved) or the refund
    /// time (Refunded). The licence term runs from `stamp` in the Delivered and Settled states.
    struct Licence {
        address holder;
        uint32 termsId;
        uint40 stamp;
        State state;
        uint16 settingsId; // platform settings (fee, dispute bond) in force when it was bought
    }

    /// @notice Platform settings, fixed for a licence when it is bought (one slot per change).
    struct Settings {
        uint16 feeBps;
        uint96 disputeBond;
    }

    /// @notice What a buyer names when it buys: the dataset, the terms, version and platform settings it accepts
    /// (the purchase reverts if any is no longer current), who receives the licence (address(0): the payer) and the
    /// one-time secp256k1 delivery key (x, y) the content key is to be wrapped to.
    struct Purchase {
        uint256 datasetId;
        uint256 termsId;
        uint256 version;
        uint256 settingsId;
        address licensee;
        bytes32 keyX;
        bytes32 keyY;
    }

    /// @notice The escrowed delivery a buyer's key dispute opens: the delivered point R and wrap W (from the
    /// `KeyDelivered` event) and the key commitment the delivery was bound to.
    struct Delivery {
        bytes32 rX;
        bytes32 rY;
        bytes32 wrappedKey;
        bytes32 keyHash;
    }

    // ----------------------------------------------------------------- events

    /// @notice A dataset was published; `agent` may deliver keys for it.
    event DatasetPublished(uint256 indexed datasetId, address indexed owner, address agent);
    /// @notice A version (1 at publish) with its manifest CID and commitments: SHA-256 of the plaintext and
    /// keccak256 of the content key.
    event VersionPublished(
        uint256 indexed datasetId, uint256 indexed version, bytes manifestCid, bytes32 plaintextHash, bytes32 keyHash
    );
    /// @notice New terms for future sales; buyers name `termsId` when they buy.
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
    /// @notice New sales of a dataset stopped (its terms are kept).
    event SalesPaused(uint256 indexed datasetId, uint256 indexed termsId);
    /// @notice New sales of a dataset resumed.
    event SalesResumed(uint256 indexed datasetId, uint256 indexed termsId);
    /// @notice A dataset will never be sold again.
    event DatasetRetired(uint256 indexed datasetId);
    /// @notice The delivery agent of a dataset changed (address(0): none).
    event AgentSet(uint256 indexed datasetId, address indexed agent);
    /// @notice First step of a dataset transfer.
    event DatasetTransferStarted(uint256 indexed datasetId, address indexed from, address indexed to);
    /// @notice A dataset changed owner; its agent was removed.
    event DatasetTransferred(uint256 indexed datasetId, address indexed from, address indexed to);

    /// @notice A licence was bought: `payer` paid `price` into escrow under `termsId` for `version`; the key is
    /// to be delivered to the one-time delivery key (keyX, keyY).
    event LicencePurchased(
        uint256 indexed licenceId,
        uint256 indexed datasetId,
        address indexed licensee,
        address payer,
        uint256 termsId,
        uint256 version,
        uint256 price,
        bytes32 keyX,
        bytes32 keyY
    );
    /// @notice The holder named a new delivery key; later deliveries go to it.
    event DeliveryKeyRotated(uint256 indexed licenceId, bytes32 keyX, bytes32 keyY);
    /// @notice The escrowed delivery: R = r*G and W = K xor keccak256(address(r*P), licenceId), bound to `keyHash`.
    event KeyDelivered(uint256 indexed licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey, bytes32 keyHash);
    /// @notice A newer version's key for a settled licence (no escrow involved; the escrowed delivery is unchanged).
    event KeyRedelivered(uint256 indexed licenceId, bytes32 rX, bytes32 rY, bytes32 wrappedKey, bytes32 keyHash);
    /// @notice The sale went through: the seller is owed `sellerAmount`, the platform `fee`.
    event LicenceSettled(uint256 indexed licenceId, address indexed payee, uint256 sellerAmount, uint256 fee);
    /// @notice A buyer's key dispute was decided by its proof: `keyCorrect` settles, otherwise the buyer is refunded.
    event KeyDisputeDecided(uint256 indexed licenceId, bool keyCorrect);
    /// @notice The buyer disputed the data, posting `bond`.
    event DataDisputed(uint256 indexed licenceId, uint256 bond);
    /// @notice The arbiter (or, after its window, the default) ruled on a data dispute.
    event DataDisputeResolved(uint256 indexed licenceId, uint256 buyerBps, bool byDefault);
    /// @notice The buyer is owed `amount` of the price and `bond` RBTC back.
    event LicenceRefunded(uint256 indexed licenceId, address indexed to, uint256 amount, uint256 bond);

    /// @notice `account` withdrew `amount` of `asset` (address(0): RBTC) to `to`.
    event Withdrawn(address indexed asset, address indexed account, address to, uint256 amount);
    /// @notice Platform fees were sent to the fee recipient.
    event FeesWithdrawn(address indexed asset, address indexed to, uint256 amount);

    /// @notice New platform settings (`settingsId`) for licences bought from now on.
    event SettingsSet(uint256 indexed settingsId, uint256 feeBps, uint256 disputeBond);
    /// @notice The receiver of platform fees changed.
    event FeeRecipientSet(address indexed recipient);
    /// @notice The arbiter of data disputes changed.
    event ArbiterSet(address indexed arbiter);
    /// @notice A token was allowed or disallowed for new sales.
    event AssetAllowed(address indexed asset, uint256 indexed assetId, bool allowed);
    /// @notice New publishes and purchases were stopped or resumed.
    event EmergencyPaused(bool paused);
    /// @notice The prefix of licence token URIs changed.
    event BaseURISet(string baseURI);
    /// @notice From now on the owner of `datasetId` is paid per version sold (a pool shares each version's revenue
    /// among that version's contributors): what a version earns is owed to its version account (`VersionAccount`).
    event PaidByVersion(uint256 indexed datasetId);

    // ----------------------------------------------------------------- errors

    /// @notice No dataset has this id.
    /// @param datasetId The dataset.
    error UnknownDataset(uint256 datasetId);
    /// @notice No licence has this id.
    /// @param licenceId The licence.
    error UnknownLicence(uint256 licenceId);
    /// @notice Only the dataset's owner may do this.
    /// @param datasetId The dataset.
    /// @param caller Who called.
    error NotDatasetOwner(uint256 datasetId, address caller);
    /// @notice Only the dataset's owner or its agent may deliver keys.
    /// @param datasetId The dataset.
    /// @param caller Who called.
    error NotDeliverer(uint256 datasetId, address caller);
    /// @notice Only the licence's holder may do this.
    /// @param licenceId The licence.
    /// @param caller Who called.
    error NotLicenceHolder(uint256 licenceId, address caller);
    /// @notice Only the arbiter may rule.
    /// @param caller Who called.
    error NotArbiter(address caller);
    /// @notice Only the named new owner may accept the dataset.
    /// @param datasetId The dataset.
    /// @param caller Who called.
    error NotPendingOwner(uint256 datasetId, address caller);
    /// @notice An address that must be set was zero.
    error ZeroAddress();
    /// @notice New publishes and purchases are stopped by the platform.
    error EmergencyStopped();
    /// @notice The dataset's sales are paused or it is retired.
    /// @param datasetId The dataset.
    error SalesClosed(uint256 datasetId);
    /// @notice The dataset is retired: it cannot change any more.
    /// @param datasetId The dataset.
    error DatasetIsRetired(uint256 datasetId);
    /// @notice Every licence the terms allow is sold.
    /// @param datasetId The dataset.
    /// @param supplyCap The most licences its terms allow.
    error SoldOut(uint256 datasetId, uint256 supplyCap);
    /// @notice The buyer named terms that are no longer the dataset's current terms.
    /// @param datasetId The dataset.
    /// @param currentTermsId The dataset's terms now.
    /// @param namedTermsId The terms the buyer named.
    error TermsChanged(uint256 datasetId, uint256 currentTermsId, uint256 namedTermsId);
    /// @notice The buyer named a version that is no longer the dataset's current version.
    /// @param datasetId The dataset.
    /// @param currentVersion The dataset's version now.
    /// @param namedVersion The version the buyer named.
    error VersionChanged(uint256 datasetId, uint256 currentVersion, uint256 namedVersion);
    /// @notice The buyer named platform settings (fee, dispute bond) that are no longer the current ones.
    /// @param currentSettingsId The platform settings now.
    /// @param namedSettingsId The settings the buyer named.
    error SettingsChanged(uint256 currentSettingsId, uint256 namedSettingsId);
    /// @notice The payment was not exactly the price.
    /// @param expected The price.
    /// @param sent What was sent.
    error WrongPayment(uint256 expected, uint256 sent);
    /// @notice The dataset is sold in another asset.
    /// @param expected The asset the dataset is sold in (address(0): RBTC).
    /// @param given The asset paid in (address(0): RBTC).
    error WrongAsset(address expected, address given);
    /// @notice The token is not allowed for sales.
    /// @param asset The token.
    error AssetNotAllowed(address asset);
    /// @notice The dataset is sold in RBTC, not in a token.
    /// @param datasetId The dataset.
    error NotSoldInToken(uint256 datasetId);
    /// @notice A term is out of its bounds.
    /// @param price The price asked.
    /// @param max The largest allowed.
    error PriceTooHigh(uint256 price, uint256 max);
    /// @notice The licence term is longer than MAX_DURATION.
    /// @param duration The term asked, in seconds.
    /// @param max The largest allowed.
    error DurationTooLong(uint256 duration, uint256 max);
    /// @notice The supply cap does not fit 24 bits.
    /// @param supplyCap The cap asked.
    /// @param max The largest allowed.
    error SupplyCapTooHigh(uint256 supplyCap, uint256 max);
    /// @notice The delivery window is outside [min, max].
    /// @param window The window asked, in seconds.
    /// @param min The smallest allowed.
    /// @param max The largest allowed.
    error DeliveryWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    /// @notice The dispute window is outside [min, max].
    /// @param window The window asked, in seconds.
    /// @param min The smallest allowed.
    /// @param max The largest allowed.
    error DisputeWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    /// @notice The royalty is above MAX_ROYALTY_BPS.
    /// @param royaltyBps The royalty asked, in basis points.
    /// @param max The largest allowed.
    error RoyaltyTooHigh(uint256 royaltyBps, uint256 max);
    /// @notice Only transferable licences may carry a royalty.
    error RoyaltyOnSoulbound();
    /// @notice A supply cap below what is already sold.
    /// @param supplyCap The cap asked.
    /// @param sold Licences already sold.
    error CapBelowSold(uint256 supplyCap, uint256 sold);
    /// @notice A manifest CID is required.
    error EmptyManifest();
    /// @notice A key commitment is required.
    error EmptyKeyCommitment();
    /// @notice The dispute bond does not fit 96 bits.
    /// @param bond The bond asked, in wei.
    /// @param max The largest allowed.
    error BondTooHigh(uint256 bond, uint256 max);
    /// @notice ERC-677 purchase data is an ABI-encoded `Purchase`: 224 bytes.
    /// @param length The length of the data, in bytes.
    error BadTokenData(uint256 length);
    /// @notice The token did not credit this contract with what it claimed to send.
    /// @param token The token.
    /// @param expected What it claimed to send.
    error TokenNotReceived(address token, uint256 expected);
    /// @notice The delivery key is not a usable secp256k1 point (0 < x < n, on the curve).
    error InvalidDeliveryKey();
    /// @notice The delivery key is the payer's or the licensee's account key: it must be a one-time key.
    /// @param account The account whose key it is.
    error DeliveryKeyIsAccount(address account);
    /// @notice The delivered point R is not a usable secp256k1 point.
    error InvalidPoint();
    /// @notice The delivery names a key commitment other than the one it must carry (the bought version's, or for
    /// a redelivery the current version's).
    /// @param licenceId The licence.
    /// @param currentKeyHash The commitment the delivery must carry.
    /// @param namedKeyHash The commitment it named.
    error KeyCommitmentChanged(uint256 licenceId, bytes32 currentKeyHash, bytes32 namedKeyHash);
    /// @notice The delivery names a delivery key other than the licence's current one.
    /// @param licenceId The licence.
    /// @param currentKey The address of the licence's delivery key.
    /// @param namedKey The address the delivery named.
    error DeliveryKeyChanged(uint256 licenceId, address currentKey, address namedKey);
    /// @notice The licence is in `state`, and this needs one of the states in `allowed` (bit i: State(i)).
    /// @param licenceId The licence.
    /// @param state Its state.
    /// @param allowed The states this needs (bit i: State(i)).
    error WrongState(uint256 licenceId, State state, uint256 allowed);
    /// @notice The licence's term is over.
    /// @param licenceId The licence.
    error Expired(uint256 licenceId);
    /// @notice The deadline for this has passed.
    /// @param licenceId The licence.
    /// @param deadline The last second it was possible.
    error TooLate(uint256 licenceId, uint256 deadline);
    /// @notice This is possible from `notBefore` on.
    /// @param licenceId The licence.
    /// @param notBefore The first second it is possible.
    error TooEarly(uint256 licenceId, uint256 notBefore);
    /// @notice The bond sent is not the licence's dispute bond.
    /// @param expected The licence's dispute bond.
    /// @param sent What was sent.
    error WrongBond(uint256 expected, uint256 sent);
    /// @notice The revealed key or delivery does not match what the licence is bound to.
    /// @param licenceId The licence.
    error ProofMismatch(uint256 licenceId);
    /// @notice A scalar must be in 1..n-1.
    error InvalidScalar();
    /// @notice The platform fee is above MAX_FEE_BPS.
    /// @param feeBps The fee asked, in basis points.
    /// @param maxBps The largest allowed, in basis points.
    error FeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice A split above 10,000 basis points.
    /// @param buyerBps The buyer's share ruled, in basis points.
    error InvalidSplit(uint256 buyerBps);
    /// @notice Nothing is owed to `account` in `asset`.
    /// @param asset The token (address(0): RBTC).
    /// @param account The account (or version account) owed nothing.
    error NothingToWithdraw(address asset, address account);
    /// @notice An RBTC payment was refused by its receiver.
    /// @param to The receiver.
    /// @param amount The amount, in wei.
    error TransferFailed(address to, uint256 amount);
    /// @notice The licence may never change hands.
    /// @param licenceId The licence.
    error Soulbound(uint256 licenceId);
    /// @notice The licence may change hands only once settled.
    /// @param licenceId The licence.
    /// @param state Its state.
    error NotTransferableNow(uint256 licenceId, State state);
    /// @notice The asset or settings registry is full.
    error RegistryFull();
    /// @notice The admin's role cannot be renounced (hand it over with `transferOwnership` instead).
    error RenounceRefused();

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

    /// @notice Set new terms (a new terms id) for future sales; sold licences keep theirs.
    function setTerms(uint256 datasetId, bytes32 termsRef, TermsInput calldata termsInput) external;

    /// @notice Pause new sales of a dataset.
    function pauseSales(uint256 datasetId) external;

    /// @notice Resume sales of a paused dataset.
    function resumeSales(uint256 datasetId) external;

    /// @notice Stop selling a dataset for good. Licences already sold are unaffected.
    function retire(uint256 datasetId) external;

    /// @notice Appoint (or with address(0) remove) the delivery agent of a dataset.
    function setAgent(uint256 datasetId, address agent) external;

    /// @notice From now on pay the owner of `datasetId` per version sold: each sale's revenue (and a data-dispute
    /// bond forfeited to the seller) is owed, whenever it settles, to the version account of the version the
    /// licence was bought for, and withdrawn with `withdrawVersion`. For good: the dataset's terms keep it.
    function payByVersion(uint256 datasetId) external;

    /// @notice First step of handing a dataset to a new owner.
    function transferDataset(uint256 datasetId, address newOwner) external;

    /// @notice Second step: the new owner accepts the dataset; the previous owner's agent is removed.
    function acceptDataset(uint256 datasetId) external;

    // ------------------------------------------------------------- purchases

    /// @notice Buy a licence with RBTC: send exactly the price of the named terms.
    /// @return licenceId The new licence's id (an ERC-721 token id).
    function buy(Purchase calldata purchase) external payable returns (uint256 licenceId);

    /// @notice Buy a licence with an ERC-20 token after approving this contract for the price.
    function buyWithToken(Purchase calldata purchase) external returns (uint256 licenceId);

    /// @notice ERC-677 receiver (RIF `transferAndCall`): `data` is the ABI encoding of a
    /// `Purchase` (224 bytes); the value must be exactly the price.
    function tokenFallback(address from, uint256 value, bytes calldata data) external returns (bool);

    /// @notice The holder of a delivered or settled licence names a new one-time delivery key (after a transfer,
    /// or a lost key): later deliveries (of newer versions) go to it. Refused while Pending (a rotation in front of
    /// the delivery would make it fail after its calldata revealed K). The escrowed delivery never changes.
    function rotateDeliveryKey(uint256 licenceId, bytes32 keyX, bytes32 keyY) external;

    // -------------------------------------------------------------- delivery

    /// @notice Deliver the content key of the version the buyer bought, wrapped to the licence's delivery key:
    /// R = r*G and W = K xor keccak256(address(r*P), licenceId). Names the delivery key's address and the key
    /// commitment it carries; reverts unless they are the licence's key and the bought version's commitment.
    function deliverKey(uint256 licenceId, address deliveryKey, bytes32 keyHash, bytes32 rX, bytes32 rY, bytes32 wrappedKey)
        external;

    /// @notice Deliver the current version's key to a settled, valid licence (no escrow involved).
    function redeliverKey(uint256 licenceId, bytes32 keyHash, bytes32 rX, bytes32 rY, bytes32 wrappedKey) external;

    /// @notice The licence holder confirms a good delivery; the seller is paid.
    function confirm(uint256 licenceId) external;

    /// @notice Settle a delivered licence whose dispute window has passed.
    function settle(uint256 licenceId) external;

    /// @notice The holder proves the delivered key wrong by revealing the licence's one-time delivery key p.
    /// The contract recomputes K' from p and the escrowed delivery: if keccak256(K') is not the commitment the
    /// buyer is refunded at once; if it is, the sale settles to the seller.
    function disputeKey(uint256 licenceId, uint256 deliveryPrivateKey, Delivery calldata delivery) external;

    /// @notice Dispute the content (key right, data not as described), posting the licence's dispute bond in RBTC.
    function disputeData(uint256 licenceId) external payable;

    /// @notice The arbiter splits a data-disputed payment: buyerBps of the price goes back to the buyer.
    /// A ruling of 0 settles the sale (the licence stays valid); any other share ends the licence.
    function resolveData(uint256 licenceId, uint256 buyerBps) external;

    /// @notice After the arbiter window without a ruling, the sale stands and the buyer's bond is returned.
    function resolveDataByDefault(uint256 licenceId) external;

    /// @notice Refund a licence whose key was not delivered in time.
    function refund(uint256 licenceId) external;

    // --------------------------------------------------------------- payouts

    /// @notice Withdraw everything the caller is owed in `asset` (address(0) for RBTC) to `to`.
    function withdraw(address asset, address to) external;

    /// @notice Send the accrued platform fees in `asset` to the fee recipient.
    function withdrawFees(address asset) external;

    /// @notice Withdraw to the caller what it is owed in `asset` for sales of `version` of `datasetId` (a dataset
    /// paid by version): the balance of its version account (`VersionAccount.account(caller, datasetId, version)`).
    function withdrawVersion(address asset, uint256 datasetId, uint256 version) external;

    // ----------------------------------------------------------------- views

    /// @notice Whether a licence is valid now (delivered or settled, and not expired).
    function isValid(uint256 licenceId) external view returns (bool);

    /// @notice Amount `account` can withdraw in `asset` (of a version account: what its owner can withdraw with
    /// `withdrawVersion`).
    function balanceOwed(address asset, address account) external view returns (uint256);

    /// @notice Raw storage words, for the periphery lens (Uniswap v4's `extsload`).
    function extsload(bytes32 slot) external view returns (bytes32);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDataLicense} from "../interfaces/IDataLicense.sol";
import {VersionAccount} from "./VersionAccount.sol";
import {ClaimRecord, ClaimRecordLibrary} from "./types/ClaimRecord.sol";

/// @title RevenuePool (v3)
/// @notice Shares a dataset's revenue among many contributors committed as the root of a Merkle *sum* tree: every
/// node commits to its children's hashes and to the sum of the weights below each, so a claim's proof checks the
/// sums up to the root and the total weight is read from the root (its two children), never taken on the
/// curator's word. A pool of a million contributors is one root.
///
/// The pool owns its dataset in the marketplace and has it paid by version (`payByVersion`), so a sale pays the
/// pool like any seller (constant gas) and the marketplace keeps each version's revenue apart. Money is kept per
/// epoch (one tree per dataset version) and per asset (the dataset's payment asset, and RBTC, which can reach a
/// token-priced pool as a forfeited dispute bond, a royalty or a plain transfer):
/// - the revenue of a licence bought for version v is credited to the epoch published with v, whenever the sale
///   settles: a contributor keeps its share of the sales made while it was in the tree, and a newcomer gets
///   nothing of sales made before it joined;
/// - whatever else reaches the pool (royalties, gifts) is credited to the current epoch;
/// - a claim pays at most its weight's share of what was credited to that epoch, and no epoch ever pays out more
///   than was credited to it.
/// Rounding dust of an epoch becomes the curator's once provably nobody can claim it (`sweepable`): once the epoch
/// closed and `DUST_AFTER` passed (the sales of its version have all been able to settle by then), or once
/// everyone in it revoked. Tokens that are neither the pool's asset nor RBTC are the curator's to sweep.
///
/// A contributor who revokes consent (itself or by a signed message anyone submits) keeps what it earned so far in
/// the current epoch and earns nothing after. A new tree without a new version (`newEpoch`) is only for a dataset
/// that sells no more (retired) or not yet: while a version is on sale, its contributors can always revoke.
///
/// Rounding: a contributor is owed its exact share rounded down; in an epoch where someone revoked, at most one
/// unit less (the revoked weight's later share is spread over an active weight the scale need not divide), and
/// after its dust was swept, a later sale of its version first makes up for the dust taken.
/// @dev Deployed once as an implementation; each pool is an EIP-1167 clone made by `create`. Every function that
/// moves money or changes the books runs under one lock (claims, revocations, syncs, sweeps, new epochs), so
/// nothing can run inside a payout: a token that calls the recipient before moving balances cannot have a
/// revocation see a payout half made.
///
/// Tree (built by `datalicense.pool`): leaf = keccak256(keccak256(abi.encode(account, weight))), sum = weight;
/// node = keccak256(abi.encode(a, sumA, b, sumB)) with a < b (pairs in sorted order), sum = sumA + sumB; a missing
/// sibling is (0x0, 0). A proof is the list of siblings bottom-up, two words each: [hash, sum, hash, sum, ...].
contract RevenuePool {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // The codecs of the packed words (contracts/types/), attached here rather than `global` so that brownie,
    // which tracks the libraries a contract names, rebuilds this contract when a codec changes.
    using ClaimRecordLibrary for ClaimRecord;

    // Revenue per unit of weight is kept scaled by `_scale(totalWeight)`: the largest multiple of the epoch's total
    // weight not above 1e36. While nobody has revoked, an inflow adds inflow * scale / totalWeight with no
    // remainder, so a contributor's entitlement floor(weight * acc / scale) is its exact share rounded down, never
    // a unit less (with a flat 1e36 a sole contributor of weight 3 credited 3n + 1 wei could claim only 3n).
    uint256 private constant ACC = 1e36;
    /// @notice Largest total weight of a tree.
    uint256 public constant MAX_TOTAL_WEIGHT = type(uint96).max;
    /// @notice The most of one asset an epoch is credited (what reaches the pool beyond waits for the next epoch): a
    /// revoked record keeps its frozen share in 126 bits (`ClaimRecord`).
    uint256 public constant MAX_EPOCH_CREDIT = ClaimRecordLibrary.SHARE_MASK;
    /// @notice Time after an epoch closes from which its rounding dust may be swept: longer than the marketplace
    /// lets a sale made before the close stay in escrow when everyone acts at the last moment (30 days to deliver,
    /// 30 to dispute, 14 for the arbiter).
    uint256 public constant DUST_AFTER = 90 days;
    uint8 private constant UNLOCKED = 1;
    uint8 private constant LOCKED = 2;

    /// @notice The marketplace whose dataset this pool owns (shared by all clones).
    IDataLicense public immutable market;
    address private immutable _implementation;

    /// @notice The two children of a tree's root: the root and the total weight follow from them.
    struct Top {
        bytes32 left;
        uint256 leftSum;
        bytes32 right;
        uint256 rightSum;
    }

    /// @notice One epoch's tree (`epochInfo`).
    struct Epoch {
        bytes32 root; // root of the Merkle sum tree
        uint128 totalWeight; // sum of the tree's weights, from the root
        uint128 activeWeight; // totalWeight less revoked weights
    }

    /// @dev An epoch as stored: its tree, the dataset version whose sales it is paid (0: none, an epoch started
    /// without a version) and when the next epoch started (0 while current).
    struct EpochRecord {
        bytes32 root;
        uint96 totalWeight;
        uint96 activeWeight;
        uint32 version;
        uint32 closedAt;
    }

    /// @notice What one asset did in one epoch.
    struct Pot {
        uint256 acc; // revenue per unit of active weight, scaled by _scale(totalWeight)
        uint128 credited; // everything that reached the pool for the epoch
        uint128 paid; // everything claimed from it
        uint128 frozen; // entitlements frozen by revocations
        uint128 swept; // dust the curator took
        uint128 settledWeight; // weight of active contributors paid in full since the epoch's last credit
        uint128 settledAmount; // what they were paid
    }

    address public curator;
    uint56 public epoch;
    uint8 private _lock; // UNLOCKED once initialized, LOCKED while a guarded function runs
    uint32 public datasetId;
    /// @notice The dataset's payment asset (address(0): RBTC), fixed when the pool is created.
    address public asset;
    /// @notice The pool retired its dataset: no sale can come any more.
    bool public retired;
    address public pendingCurator;

    mapping(uint256 epoch => EpochRecord) internal _epochs;
    // Written member by member through `_pots[e][a].field` and storage references, which Slither does not count.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 epoch => mapping(address asset => Pot)) internal _pots;
    /// @dev See `ClaimRecord` (contracts/types/ClaimRecord.sol) for the layout.
    mapping(uint256 epoch => mapping(address asset => mapping(address account => ClaimRecord))) internal _records;
    /// @notice Amount of each pool asset the pool accounts for (credited less paid and swept, over all epochs).
    mapping(address asset => uint256) public held;
    mapping(address account => uint256) public revocationNonce;

    /// @notice A pool was created with its first tree (epoch 1).
    event PoolCreated(
        address indexed pool, address indexed curator, address asset, bytes32 root, uint256 totalWeight, bytes treeCid
    );
    /// @notice A new tree started epoch `epoch` (with a new dataset version, or for a dataset that sells no more).
    event EpochStarted(uint256 indexed epoch, bytes32 root, uint256 totalWeight, bytes treeCid);
    /// @notice `amount` of `asset` reached the pool and was credited to `epoch` (`accPerWeight` is scaled by the
    /// largest multiple of the epoch's total weight not above 1e36).
    event RevenueIn(uint256 indexed epoch, address indexed asset, uint256 amount, uint256 accPerWeight);
    /// @notice A contributor claimed `amount` of `asset` earned in `epoch`.
    event Claimed(uint256 indexed epoch, address indexed asset, address indexed account, uint256 amount);
    /// @notice A contributor revoked consent in `epoch`; it keeps what it earned so far.
    event ConsentRevoked(uint256 indexed epoch, address indexed account, uint256 weight);
    /// @notice The curator took an epoch's rounding dust nobody can claim.
    event DustSwept(uint256 indexed epoch, address indexed asset, uint256 amount);
    /// @notice The curator took a token that is neither the pool's asset nor RBTC.
    event StraySwept(address indexed token, uint256 amount);
    /// @notice First step of handing the pool to `to`.
    event CuratorTransferStarted(address indexed from, address indexed to);
    /// @notice `to` accepted the pool.
    event CuratorTransferred(address indexed from, address indexed to);
    /// @notice The pool's dataset was published in the marketplace with id `datasetId`, paid by version.
    event DatasetAttached(uint256 indexed datasetId, address asset);

    /// @notice Only the curator may do this.
    /// @param caller Who called.
    error NotCurator(address caller);
    /// @notice The pool is already set up.
    error AlreadyInitialized();
    /// @notice (account, weight) with this proof is not a leaf of the epoch's tree.
    /// @param account The account claimed to be a leaf.
    /// @param weight The weight claimed for it.
    error NotInTree(address account, uint256 weight);
    /// @notice The account already revoked consent in this epoch.
    /// @param account The account.
    error AlreadyRevoked(address account);
    /// @notice Nothing is owed.
    /// @param account Who asked.
    error NothingToClaim(address account);
    /// @notice The signature is not the account's over `revocationDigest`.
    error BadSignature();
    /// @notice The tree's total weight is zero or above MAX_TOTAL_WEIGHT.
    /// @param totalWeight The total the root's children add up to.
    error BadTotalWeight(uint256 totalWeight);
    /// @notice An RBTC payment was refused.
    /// @param to The receiver.
    /// @param amount The amount refused.
    error PaymentFailed(address to, uint256 amount);
    /// @notice The pool's asset is fixed when it is created.
    /// @param poolAsset The pool's asset.
    /// @param termsAsset The asset the terms named.
    error AssetChange(address poolAsset, address termsAsset);
    /// @notice The pool already has its dataset.
    /// @param datasetId Its id.
    error DatasetExists(uint256 datasetId);
    /// @notice The pool has no dataset yet.
    error NoDataset();
    /// @notice Only the pool's asset and RBTC are shared; other tokens are the curator's (`sweepToken`).
    /// @param asset The asset named.
    error NotPoolAsset(address asset);
    /// @notice A payout would take more from the epoch than was credited to it.
    /// @param epoch The epoch.
    /// @param asset The asset.
    error EpochOverdrawn(uint256 epoch, address asset);
    /// @notice The epoch is current and someone in it can still earn: its dust is not known yet.
    /// @param epoch The epoch.
    error EpochOpen(uint256 epoch);
    /// @notice The epoch closed, but sales of its version may still settle until `notBefore`.
    /// @param epoch The epoch.
    /// @param notBefore When its dust can be swept.
    error DustNotFinal(uint256 epoch, uint256 notBefore);
    /// @notice No such epoch.
    /// @param epoch The epoch named.
    error UnknownEpoch(uint256 epoch);
    /// @notice The pool accounts for more than it holds (a token that lost balance).
    /// @param asset The asset.
    /// @param balance What the pool holds.
    /// @param accounted What it accounts for.
    error BalanceShort(address asset, uint256 balance, uint256 accounted);
    /// @notice The dataset is on sale: a new tree comes with a new version (`publishVersion`), so that every
    /// version's contributors can revoke while it sells; retire the dataset first to start one without.
    /// @param datasetId The pool's dataset.
    error SalesOpen(uint256 datasetId);
    /// @notice A guarded function was called while another ran (or the pool is not initialized).
    error ReentrancyGuardReentrantCall();

    constructor(IDataLicense market_) {
        market = market_;
        _implementation = address(this);
        curator = address(1); // the implementation itself is never a pool
    }

    modifier onlyCurator() {
        if (msg.sender != curator) revert NotCurator(msg.sender);
        _;
    }

    /// @dev The pool's one lock (in the slot of `epoch`, read by every guarded function anyway).
    modifier locked() {
        if (_lock != UNLOCKED) revert ReentrancyGuardReentrantCall();
        _lock = LOCKED;
        _;
        _lock = UNLOCKED;
    }

    /// @notice Create a pool (a clone of this implementation) for `curator_`, paid in `asset_`, with its first tree.
    /// @param top The two children of the tree's root (hash and weight sum each).
    /// @param treeCid CID of the tree on IPFS (an address-sharded directory of per-contributor proofs).
    function create(address curator_, address asset_, Top calldata top, bytes calldata treeCid)
        external
        returns (RevenuePool pool)
    {
        pool = RevenuePool(payable(Clones.clone(_implementation)));
        pool.initialize(curator_, asset_, top, treeCid);
    }

    /// @notice One-time set-up of a clone (called by `create`).
    function initialize(address curator_, address asset_, Top calldata top, bytes calldata treeCid) external {
        if (curator != address(0)) revert AlreadyInitialized();
        if (curator_ == address(0)) revert NotCurator(address(0));
        (bytes32 root, uint256 total) = _rootOf(top);
        curator = curator_;
        epoch = 1;
        if (asset_ != address(0)) asset = asset_;
        _lock = UNLOCKED;
        _epochs[1] = EpochRecord(root, uint96(total), uint96(total), 0, 0);
        emit PoolCreated(address(this), curator_, asset_, root, total, treeCid);
    }

    // ------------------------------------------------------------------- the curator runs the dataset

    /// @notice Publish the pool's dataset in the marketplace, paid by version; the pool is its owner and payee. The
    /// dataset id is the one the marketplace returns; version 1 is sold under the current epoch.
    function publishDataset(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 termsRef,
        IDataLicense.TermsInput calldata terms,
        address agent
    ) external onlyCurator locked returns (uint256 id) {
        if (datasetId != 0) revert DatasetExists(datasetId);
        if (terms.asset != asset) revert AssetChange(asset, terms.asset);
        // The id exists only once the marketplace has assigned it (another publish may come first): it is written
        // after the call. The marketplace is immutable and trusted, and the pool is locked.
        // slither-disable-next-line reentrancy-no-eth
        id = market.publish(manifestCid, plaintextHash, keyHash, termsRef, terms, agent);
        datasetId = id.toUint32();
        _epochs[epoch].version = 1;
        emit DatasetAttached(id, terms.asset);
        market.payByVersion(id);
    }

    /// @notice A new dataset version with a new contributor tree: a new epoch, paid by the sales of the new version;
    /// the closing epoch keeps what reached the pool so far and the sales of its version, whenever they settle.
    function publishVersion(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        Top calldata top,
        bytes calldata treeCid
    ) external onlyCurator locked {
        if (datasetId == 0) revert NoDataset();
        _newEpoch(top, treeCid, _epochs[epoch].version + 1);
        market.publishVersion(datasetId, manifestCid, plaintextHash, keyHash);
    }

    /// @notice A new contributor tree without a new dataset version, for a dataset that sells no more (retired) or
    /// not yet: what reached the pool so far and the sales of the closing epoch's version stay with it, whose
    /// rounding dust becomes sweepable `DUST_AFTER` later.
    function newEpoch(Top calldata top, bytes calldata treeCid) external onlyCurator locked {
        if (datasetId != 0 && !retired) revert SalesOpen(datasetId);
        _newEpoch(top, treeCid, 0);
    }

    function _newEpoch(Top calldata top, bytes calldata treeCid, uint256 version) private {
        (bytes32 root, uint256 total) = _rootOf(top);
        uint256 e = epoch;
        address a = asset;
        // The closing epoch keeps what reached it so far (credited first, withdrawn from the marketplace last).
        EpochRecord storage ep = _epochs[e];
        uint256 fromA = _accrue(e, a, ep, true);
        uint256 fromR = a == address(0) ? 0 : _accrue(e, address(0), ep, true);
        ep.closedAt = uint32(block.timestamp);
        uint56 next = uint56(e) + 1;
        epoch = next;
        _epochs[next] = EpochRecord(root, uint96(total), uint96(total), uint32(version), 0);
        emit EpochStarted(next, root, total, treeCid);
        _pull(a, ep, fromA);
        _pull(address(0), ep, fromR);
    }

    /// @notice New terms for future sales, in the pool's asset.
    function setTerms(bytes32 termsRef, IDataLicense.TermsInput calldata terms) external onlyCurator {
        if (terms.asset != asset) revert AssetChange(asset, terms.asset);
        market.setTerms(datasetId, termsRef, terms);
    }

    /// @notice Pause sales.
    function pauseSales() external onlyCurator {
        market.pauseSales(datasetId);
    }

    /// @notice Resume sales.
    function resumeSales() external onlyCurator {
        market.resumeSales(datasetId);
    }

    /// @notice Retire the dataset: it sells no more (a new tree may then come without a version, `newEpoch`).
    function retire() external onlyCurator {
        retired = true;
        market.retire(datasetId);
    }

    /// @notice Set the delivery agent.
    function setAgent(address agent) external onlyCurator {
        market.setAgent(datasetId, agent);
    }

    /// @notice Hand the pool to another curator in two steps.
    function transferCurator(address to) external onlyCurator {
        if (to == address(0)) revert NotCurator(address(0));
        pendingCurator = to;
        emit CuratorTransferStarted(msg.sender, to);
    }

    /// @notice Second step of `transferCurator`.
    function acceptCurator() external {
        if (msg.sender != pendingCurator) revert NotCurator(msg.sender);
        emit CuratorTransferred(curator, msg.sender);
        curator = msg.sender;
        pendingCurator = address(0);
    }

    /// @notice Take epoch `epoch_`'s rounding dust in `asset_`: what provably nobody can claim any more.
    function sweepDust(uint256 epoch_, address asset_) external onlyCurator locked {
        _checkAsset(asset_);
        EpochRecord storage ep = _epochs[epoch_];
        uint256 fromSales = _accrue(epoch_, asset_, ep, epoch_ == epoch);
        uint256 amount = _dust(epoch_, ep, _pots[epoch_][asset_]);
        if (amount < 1) revert NothingToClaim(msg.sender);
        _pots[epoch_][asset_].swept += uint128(amount);
        held[asset_] -= amount;
        emit DustSwept(epoch_, asset_, amount);
        _pull(asset_, ep, fromSales);
        _send(asset_, amount); // to the curator
    }

    /// @notice Take a token that is neither the pool's asset nor RBTC (a stray transfer, a royalty in another
    /// token): contributors are paid in the pool's asset and RBTC only.
    function sweepToken(IERC20 token) external onlyCurator locked {
        if (address(token) == asset || address(token) == address(0)) revert NotPoolAsset(address(token));
        uint256 amount = token.balanceOf(address(this));
        // Nothing to sweep is a plain refusal: a donation changes nothing a sweep relies on.
        // slither-disable-next-line incorrect-equality
        if (amount == 0) revert NothingToClaim(msg.sender);
        emit StraySwept(address(token), amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------- contributors

    /// @notice Credit to the current epoch the sales of its version the marketplace owes the pool and everything
    /// else that reached the pool, in the pool's asset and RBTC.
    function sync() external locked {
        uint256 e = epoch;
        address a = asset;
        EpochRecord storage ep = _epochs[e];
        uint256 fromA = _accrue(e, a, ep, true);
        uint256 fromR = a == address(0) ? 0 : _accrue(e, address(0), ep, true);
        _pull(a, ep, fromA);
        _pull(address(0), ep, fromR);
    }

    /// @notice Claim what `weight` earned in `asset_` (the pool's asset or RBTC) in `epoch_`, paid to the caller.
    /// A claim in a closed epoch pays the contributor in full (and may pay 0 only to settle its rounding).
    function claim(uint256 epoch_, address asset_, uint256 weight, bytes32[] calldata proof) external locked {
        _checkAsset(asset_);
        uint256 scale = _scale(_verify(epoch_, msg.sender, weight, proof));
        // The epoch's revenue first: the sales of its version (whenever they settle) and, if current, the rest.
        EpochRecord storage ep = _epochs[epoch_];
        bool closed = ep.closedAt != 0;
        uint256 fromSales = _accrue(epoch_, asset_, ep, !closed);
        uint256 amount = _claimed(epoch_, asset_, weight, scale, closed);
        _pull(asset_, ep, fromSales); // what the sales of the epoch's version earned, from the marketplace
        if (amount != 0) _send(asset_, amount); // to the proven contributor
    }

    /// @notice Revoke consent: keep what was earned so far in the current epoch, earn nothing after. The proof may
    /// be empty when the account has claimed in the pool's asset in this epoch (the pool knows its weight then).
    function revokeConsent(uint256 weight, bytes32[] calldata proof) external locked {
        _revoke(msg.sender, weight, proof);
    }

    /// @notice Revoke consent for `account` with its signature over `revocationDigest(account)`, EIP-191
    /// personal-sign format.
    function revokeConsentFor(address account, uint256 weight, bytes32[] calldata proof, bytes calldata signature)
        external
        locked
    {
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(revocationDigest(account));
        if (ECDSA.recover(digest, signature) != account) revert BadSignature();
        revocationNonce[account] += 1;
        _revoke(account, weight, proof);
    }

    // ------------------------------------------------------------------------------------- views

    /// @notice What a contributor signs to revoke consent (before the EIP-191 prefix).
    function revocationDigest(address account) public view returns (bytes32) {
        return keccak256(
            abi.encode("datalicense revoke", block.chainid, address(this), account, epoch, revocationNonce[account])
        );
    }

    /// @notice Claimable now for (account, weight) in `epoch_` and `asset_`, counting what is owed to the epoch but
    /// not credited yet (`pendingOf`). Assumes (account, weight) is a leaf of the epoch's tree.
    function claimable(uint256 epoch_, address asset_, address account, uint256 weight)
        external
        view
        returns (uint256)
    {
        ClaimRecord rec = _records[epoch_][asset_][account];
        if (rec.revoked()) return rec.share() - rec.claimed();
        (EpochRecord memory ep, Pot memory p) = _books(epoch_, asset_);
        return Math.mulDiv(weight, p.acc, _scale(ep.totalWeight)) - rec.claimed();
    }

    /// @notice Amount of `asset_` owed to epoch `epoch_` and not credited to it yet: what the marketplace owes the
    /// pool for the sales of the epoch's version and, for the current epoch, what else reached the pool.
    function pendingOf(uint256 epoch_, address asset_) public view returns (uint256 amount) {
        if (asset_ != asset && asset_ != address(0)) return 0;
        uint256 version = _epochs[epoch_].version;
        if (version != 0) amount = market.balanceOwed(asset_, _versionAccount(version));
        if (epoch_ == epoch) {
            uint256 balance = _balance(asset_);
            uint256 accounted = held[asset_];
            if (balance > accounted) amount += balance - accounted; // a shortfall is reported by an accrual
        }
    }

    /// @notice `pendingOf` the current epoch.
    function pending(address asset_) external view returns (uint256) {
        return pendingOf(epoch, asset_);
    }

    /// @notice Rounding dust of `epoch_` in `asset_` that provably no contributor can claim: what was credited
    /// (counting what is pending) less the most the active contributors not paid in full can still be owed, less
    /// what was paid in full, frozen by revocations or swept. For an epoch closed `DUST_AFTER` ago, or one whose
    /// every contributor revoked.
    function sweepable(uint256 epoch_, address asset_) external view returns (uint256) {
        (EpochRecord memory ep, Pot memory p) = _books(epoch_, asset_);
        return _dust(epoch_, ep, p);
    }

    /// @notice (claimed, frozen entitlement, revoked, paid in full since the epoch's last credit) of an account.
    function record(uint256 epoch_, address asset_, address account)
        external
        view
        returns (uint256 claimed, uint256 frozen, bool revoked, bool settled)
    {
        ClaimRecord rec = _records[epoch_][asset_][account];
        revoked = rec.revoked();
        return (rec.claimed(), revoked ? rec.share() : 0, revoked, rec.settled());
    }

    /// @notice The weight the pool knows `account` has in `epoch_` (proven by a claim in the pool's asset), or 0;
    /// with it, `revokeConsent` takes an empty proof.
    function knownWeight(uint256 epoch_, address account) external view returns (uint256) {
        ClaimRecord rec = _records[epoch_][asset][account];
        return rec.revoked() ? 0 : rec.share();
    }

    /// @notice Epoch record: root, total weight (from the root), active weight.
    function epochInfo(uint256 epoch_) external view returns (Epoch memory) {
        EpochRecord memory ep = _epochs[epoch_];
        return Epoch(ep.root, ep.totalWeight, ep.activeWeight);
    }

    /// @notice The dataset version whose sales pay `epoch_` (0: none) and when the next epoch started (0: current).
    function epochSales(uint256 epoch_) external view returns (uint256 version, uint256 closedAt) {
        EpochRecord memory ep = _epochs[epoch_];
        return (ep.version, ep.closedAt);
    }

    /// @notice Per-epoch, per-asset accounting.
    function pot(uint256 epoch_, address asset_) external view returns (Pot memory) {
        return _pots[epoch_][asset_];
    }

    /// @notice Whether (account, weight) is a leaf of `epoch_`'s tree.
    function isContributor(uint256 epoch_, address account, uint256 weight, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (weight == 0 || proof.length % 2 != 0) return false;
        (bytes32 h,) = _climb(leaf(account, weight), weight, proof);
        return h == _epochs[epoch_].root && h != bytes32(0);
    }

    /// @notice Root and total weight of the tree whose root has children `top`.
    function rootOf(Top calldata top) external pure returns (bytes32 root, uint256 totalWeight) {
        return _rootOf(top);
    }

    /// @notice Leaf hash, as OpenZeppelin's StandardMerkleTree makes it: keccak256(keccak256(abi.encode(a, w))).
    function leaf(address account, uint256 weight) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, weight))));
    }

    /// @notice Inner node of the sum tree (the pair in sorted order).
    function node(bytes32 a, uint256 sumA, bytes32 b, uint256 sumB) public pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, sumA, b, sumB)) : keccak256(abi.encode(b, sumB, a, sumA));
    }

    /// @notice Accepts RBTC: it is credited to the current epoch at the next `sync`, claim or revocation.
    receive() external payable {}

    // --------------------------------------------------------------------------------- internals

    function _rootOf(Top calldata top) private pure returns (bytes32 root, uint256 total) {
        total = top.leftSum + top.rightSum;
        if (total == 0 || total > MAX_TOTAL_WEIGHT) revert BadTotalWeight(total);
        root = node(top.left, top.leftSum, top.right, top.rightSum);
    }

    /// @dev Hash up the proof from (h, sum): siblings are (hash, sum) pairs. The weight and every sibling sum are
    /// at most MAX_TOTAL_WEIGHT, so the running sum cannot wrap: a leaf whose weight wraps its subtree's sum to a
    /// small number (a hidden heavy leaf under an honest-looking total) does not verify.
    function _climb(bytes32 h, uint256 sum, bytes32[] calldata proof) private pure returns (bytes32, uint256) {
        bool ok = true;
        assembly ("memory-safe") {
            if shr(96, sum) { ok := 0 }
            let m := mload(0x40)
            let p := proof.offset
            for { let end := add(p, shl(5, proof.length)) } lt(p, end) { p := add(p, 0x40) } {
                let sh := calldataload(p)
                let ss := calldataload(add(p, 0x20))
                if shr(96, ss) { ok := 0 }
                switch lt(h, sh)
                case 1 {
                    mstore(m, h)
                    mstore(add(m, 0x20), sum)
                    mstore(add(m, 0x40), sh)
                    mstore(add(m, 0x60), ss)
                }
                default {
                    mstore(m, sh)
                    mstore(add(m, 0x20), ss)
                    mstore(add(m, 0x40), h)
                    mstore(add(m, 0x60), sum)
                }
                h := keccak256(m, 0x80)
                sum := add(sum, ss)
            }
        }
        return ok ? (h, sum) : (bytes32(0), 0);
    }

    /// @dev Reverts unless (account, weight) is a leaf of the epoch's tree; returns the tree's total weight: the
    /// sum the proof climbs to, which the root commits to (its two children's sums), so no storage read is needed.
    function _verify(uint256 epoch_, address account, uint256 weight, bytes32[] calldata proof)
        private
        view
        returns (uint256 totalWeight)
    {
        bytes32 root = _epochs[epoch_].root;
        if (weight == 0 || proof.length % 2 != 0 || root == bytes32(0)) revert NotInTree(account, weight);
        bytes32 h;
        (h, totalWeight) = _climb(leaf(account, weight), weight, proof);
        if (h != root) revert NotInTree(account, weight);
    }

    /// @dev The epoch's books as a collect would leave them (a memory copy, for the views).
    function _books(uint256 e, address a) private view returns (EpochRecord memory ep, Pot memory p) {
        ep = _epochs[e];
        p = _pots[e][a];
        uint256 inflow = _creditable(pendingOf(e, a), p.credited);
        p.credited += uint128(inflow);
        if (inflow != 0 && ep.activeWeight != 0) {
            bool late = ep.closedAt != 0;
            if (late) p.settledWeight = p.settledAmount = 0;
            uint256 limit = _limit(late, p.credited, p.frozen, p.swept);
            p.acc = _accAfter(p.acc, inflow, ep.totalWeight, ep.activeWeight, limit);
        }
    }

    /// @dev Dust of an epoch's books: credited less the most the active contributors not paid in full can be owed
    /// (their weight's share, rounded down as a whole), less what was paid in full, frozen and swept; 0 if that is
    /// negative (a late sale after a sweep first makes up for the dust taken, see `_limit`).
    function _dust(uint256 e, EpochRecord memory ep, Pot memory p) private view returns (uint256) {
        // An epoch's root and its close time are flags (set once, never by a payment), not balances.
        // slither-disable-next-line incorrect-equality
        if (ep.root == bytes32(0)) revert UnknownEpoch(e);
        if (ep.activeWeight != 0) {
            // slither-disable-next-line incorrect-equality
            if (ep.closedAt == 0) revert EpochOpen(e);
            uint256 notBefore = uint256(ep.closedAt) + DUST_AFTER;
            if (block.timestamp < notBefore) revert DustNotFinal(e, notBefore);
        }
        uint256 unsettled = Math.mulDiv(ep.activeWeight - p.settledWeight, p.acc, _scale(ep.totalWeight));
        uint256 reserved = unsettled + p.settledAmount + p.frozen + p.swept;
        return p.credited > reserved ? p.credited - reserved : 0;
    }

    /// @dev Revenue per weight after `inflow` reaches an epoch with active weight: never above what keeps the
    /// active contributors' shares (rounded down as a whole) within `limit`, never below `acc`.
    function _accAfter(uint256 acc, uint256 inflow, uint256 totalWeight, uint256 active, uint256 limit)
        private
        pure
        returns (uint256 next)
    {
        uint256 scale = _scale(totalWeight);
        next = acc + inflow * scale / active;
        if (limit != type(uint256).max) {
            uint256 most = Math.max(acc, ((limit + 1) * scale - 1) / active);
            if (next > most) next = most;
        }
    }

    /// @dev What the active contributors of an epoch may be owed in all once it was credited `credited`: no limit
    /// but the arithmetic for an open epoch; for a closed one whose dust was swept, what is left after frozen
    /// shares and the sweeps (a sweep may have taken fractions that a later sale would make whole).
    function _limit(bool late, uint256 credited, uint256 frozen, uint256 swept) private pure returns (uint256) {
        return late && swept != 0 ? credited - frozen - swept : type(uint256).max;
    }

    /// @dev The part of `inflow` an epoch already credited `credited` can still take.
    function _creditable(uint256 inflow, uint256 credited) private pure returns (uint256) {
        return Math.min(inflow, MAX_EPOCH_CREDIT - credited);
    }

    function _checkAsset(address asset_) private view {
        if (asset_ != asset && asset_ != address(0)) revert NotPoolAsset(asset_);
    }

    function _entitled(Pot storage p, ClaimRecord rec, uint256 weight, uint256 scale) private view returns (uint256) {
        if (rec.revoked()) return rec.share();
        return Math.mulDiv(weight, p.acc, scale);
    }

    /// @dev Scale of an epoch's revenue per unit of weight: the largest multiple of its total weight not above
    /// 1e36 (total weights are below 2^96, so it is above 1e36 - 2^96).
    function _scale(uint256 totalWeight) private pure returns (uint256) {
        return ACC - ACC % totalWeight;
    }

    /// @dev A claim's effects on the books: the caller's record (its proven weight, what it was paid, settled in
    /// a closed epoch) and the epoch's payout. Returns the amount to pay.
    function _claimed(uint256 epoch_, address asset_, uint256 weight, uint256 scale, bool closed)
        private
        returns (uint256 amount)
    {
        Pot storage p = _pots[epoch_][asset_];
        ClaimRecord rec = _records[epoch_][asset_][msg.sender];
        uint256 entitled = _entitled(p, rec, weight, scale);
        amount = entitled - rec.claimed();
        bool settle = closed && rec.unsettled();
        if (amount < 1 && !settle) revert NothingToClaim(msg.sender);
        // Remember the proven weight (a later revocation in this epoch needs no proof); a revoked record keeps
        // its frozen entitlement there.
        rec = rec.afterClaim(weight, entitled);
        if (settle) {
            rec = rec.settle();
            p.settledWeight += uint128(weight);
            p.settledAmount += uint128(entitled);
        }
        _records[epoch_][asset_][msg.sender] = rec;
        if (amount != 0) {
            uint256 paid = p.paid + amount;
            if (paid > p.credited) revert EpochOverdrawn(epoch_, asset_);
            p.paid = uint128(paid);
            held[asset_] -= amount;
            emit Claimed(epoch_, asset_, msg.sender, amount);
        }
    }

    function _revoke(address account, uint256 weight, bytes32[] calldata proof) private {
        uint256 e = epoch;
        address a = asset;
        ClaimRecord rec = _records[e][a][account];
        if (rec.revoked()) revert AlreadyRevoked(account);
        EpochRecord storage ep = _epochs[e];
        // Without a proof, the weight must be the one a claim proved in this epoch (the record keeps it).
        uint256 scale = _scale(
            proof.length == 0 && weight != 0 && rec.share() == weight
                ? ep.totalWeight
                : _verify(e, account, weight, proof)
        );
        // What the epoch earned so far first: the revoker keeps its share of it.
        uint256 fromA = _accrue(e, a, ep, true);
        _freeze(e, a, account, weight, scale, rec);
        uint256 fromR = a == address(0) ? 0 : _accrueAndFreezeRbtc(e, ep, account, weight, scale);
        ep.activeWeight -= uint96(weight);
        emit ConsentRevoked(e, account, weight);
        _pull(a, ep, fromA);
        _pull(address(0), ep, fromR);
    }

    /// @dev The RBTC half of a revocation in a token-priced pool.
    function _accrueAndFreezeRbtc(uint256 e, EpochRecord storage ep, address account, uint256 weight, uint256 scale)
        private
        returns (uint256 fromSales)
    {
        fromSales = _accrue(e, address(0), ep, true);
        _freeze(e, address(0), account, weight, scale, _records[e][address(0)][account]);
    }

    /// @dev Freeze `account`'s entitlement in (e, a) (its record `rec`) at what it earned so far.
    function _freeze(uint256 e, address a, address account, uint256 weight, uint256 scale, ClaimRecord rec) private {
        Pot storage p = _pots[e][a];
        uint256 entitled = Math.mulDiv(weight, p.acc, scale);
        _records[e][a][account] = rec.revoke(entitled);
        p.frozen += uint128(entitled);
    }

    function _balance(address asset_) private view returns (uint256) {
        return asset_ == address(0) ? address(this).balance : IERC20(asset_).balanceOf(address(this));
    }

    /// @dev The marketplace's ledger key for what the sales of `version` of the pool's dataset earned.
    function _versionAccount(uint256 version) private view returns (address) {
        return VersionAccount.account(address(this), datasetId, version);
    }

    /// @dev Credit epoch `e` (`current` or not) with what is owed to it in asset `a` (`pendingOf`); returns what the
    /// sales of its version earned, which `_pull` then withdraws from the marketplace (under the lock, after every
    /// effect: the withdrawal cannot re-enter the pool, whatever the token does).
    function _accrue(uint256 e, address a, EpochRecord storage ep, bool current) private returns (uint256 fromSales) {
        uint256 version = ep.version;
        if (version != 0) fromSales = market.balanceOwed(a, _versionAccount(version));
        uint256 inflow = fromSales;
        if (current) {
            uint256 balance = _balance(a);
            uint256 accounted = held[a];
            if (balance < accounted) revert BalanceShort(a, balance, accounted);
            inflow += balance - accounted;
        }
        if (inflow != 0) _credit(e, a, inflow, ep);
    }

    /// @dev Withdraw from the marketplace what `_accrue` credited from the sales of the epoch's version (the one
    /// interaction of an accrual, last).
    function _pull(address a, EpochRecord storage ep, uint256 fromSales) private {
        if (fromSales != 0) market.withdrawVersion(a, datasetId, ep.version);
    }

    /// @dev Credit `inflow` of asset `a` to epoch `e` (at most up to the epoch's credit cap: an epoch takes at
    /// most 2^126 - 1 units of an asset, as a revoked record keeps its frozen share in 126 bits; more, a gift of a
    /// huge-supply token, stays pending for the next epoch instead of making every accrual, and so every claim,
    /// revert). A closed epoch credited late (a sale of its version settled after it closed): whoever was paid in
    /// full is owed more now, and what a sweep took is made up first.
    function _credit(uint256 e, address a, uint256 inflow, EpochRecord storage ep) private {
        Pot storage p = _pots[e][a];
        uint256 credited = p.credited;
        inflow = _creditable(inflow, credited);
        // slither-disable-next-line incorrect-equality
        if (inflow == 0) return;
        held[a] += inflow;
        credited += inflow;
        p.credited = uint128(credited);
        uint256 acc = p.acc;
        uint256 active = ep.activeWeight;
        if (active != 0) {
            bool late = ep.closedAt != 0;
            if (late && p.settledWeight != 0) (p.settledWeight, p.settledAmount) = (0, 0);
            acc = _accAfter(acc, inflow, ep.totalWeight, active, _limit(late, credited, p.frozen, p.swept));
            p.acc = acc;
        }
        emit RevenueIn(e, a, inflow, acc);
    }

    /// @dev Pay `amount` of `asset_` to the caller (a proven contributor, or the curator): last, under the lock.
    function _send(address asset_, uint256 amount) private {
        if (asset_ == address(0)) {
            // Only to msg.sender, which claim and sweepDust have proven (a leaf of the epoch's tree, the curator).
            // slither-disable-next-line arbitrary-send-eth
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert PaymentFailed(msg.sender, amount);
        } else {
            IERC20(asset_).safeTransfer(msg.sender, amount);
        }
    }
}

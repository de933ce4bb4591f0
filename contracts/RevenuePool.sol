// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDataLicense} from "../interfaces/IDataLicense.sol";

/// @title RevenuePool (v2)
/// @notice Shares a dataset's revenue among many contributors committed as the root of a Merkle *sum* tree: every
/// node commits to its children's hashes and to the sum of the weights below each, so a claim's proof checks the
/// sums up to the root and the total weight is read from the root (its two children), never taken on the
/// curator's word. A pool of a million contributors is one root.
///
/// The pool owns its dataset in the marketplace, so a sale pays the pool like any seller (constant gas). Money is
/// kept per epoch (one tree per dataset version) and per asset (the dataset's payment asset, and RBTC, which can
/// reach a token-priced pool as a forfeited dispute bond, a royalty or a plain transfer): whatever reaches the pool
/// is credited to the current epoch and spread over its active weight; a claim pays at most its weight's share of
/// what was credited to that epoch, and no epoch ever pays out more than was credited to it, so what contributors
/// earned in earlier epochs stays theirs whatever a later tree says. Rounding dust of an epoch becomes the
/// curator's once provably nobody can claim it (`sweepable`), and tokens that are neither the pool's asset nor
/// RBTC are the curator's to sweep.
///
/// A contributor who revokes consent (itself or by a signed message anyone submits) keeps what it earned so far in
/// the current epoch and earns nothing after.
///
/// Rounding: a contributor is owed its exact share rounded down; in an epoch where someone revoked, at most one
/// unit less (the revoked weight's later share is spread over an active weight the scale need not divide).
/// @dev Deployed once as an implementation; each pool is an EIP-1167 clone made by `create`.
///
/// Tree (built by `datalicense.pool`): leaf = keccak256(keccak256(abi.encode(account, weight))), sum = weight;
/// node = keccak256(abi.encode(a, sumA, b, sumB)) with a < b (pairs in sorted order), sum = sumA + sumB; a missing
/// sibling is (0x0, 0). A proof is the list of siblings bottom-up, two words each: [hash, sum, hash, sum, ...].
contract RevenuePool is ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // Revenue per unit of weight is kept scaled by `_scale(totalWeight)`: the largest multiple of the epoch's total
    // weight not above 1e36. While nobody has revoked, an inflow adds inflow * scale / totalWeight with no
    // remainder, so a contributor's entitlement floor(weight * acc / scale) is its exact share rounded down, never
    // a unit less (with a flat 1e36 a sole contributor of weight 3 credited 3n + 1 wei could claim only 3n).
    uint256 private constant ACC = 1e36;
    /// @notice Largest total weight of a tree.
    uint256 public constant MAX_TOTAL_WEIGHT = type(uint96).max;
    uint256 private constant MASK128 = type(uint128).max;
    uint256 private constant MASK126 = (1 << 126) - 1;
    /// @notice The most of one asset an epoch is credited (what reaches the pool beyond waits for the next epoch).
    uint256 public constant MAX_EPOCH_CREDIT = MASK126;
    uint256 private constant REVOKED = 1 << 254;
    uint256 private constant SETTLED = 1 << 255;

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

    /// @notice One epoch's tree.
    struct Epoch {
        bytes32 root; // root of the Merkle sum tree
        uint128 totalWeight; // sum of the tree's weights, from the root
        uint128 activeWeight; // totalWeight less revoked weights
    }

    /// @notice What one asset did in one epoch.
    struct Pot {
        uint256 acc; // revenue per unit of active weight, scaled by _scale(totalWeight)
        uint128 credited; // everything that reached the pool during the epoch
        uint128 paid; // everything claimed from it
        uint128 frozen; // entitlements frozen by revocations
        uint128 swept; // dust the curator took
        uint128 settledWeight; // weight of active contributors paid in full after the epoch closed
        uint128 settledAmount; // what they were paid
    }

    address public curator;
    uint64 public epoch;
    uint32 public datasetId;
    /// @notice The dataset's payment asset (address(0): RBTC), fixed when the pool is created.
    address public asset;
    address public pendingCurator;

    mapping(uint256 epoch => Epoch) internal _epochs;
    // Written member by member through `_pots[e][a].field` and storage references, which Slither does not count.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 epoch => mapping(address asset => Pot)) internal _pots;
    /// @dev claimed (bits 0-127) | weight proven by a claim, or once REVOKED the frozen entitlement (128-253) |
    /// REVOKED | SETTLED
    mapping(uint256 epoch => mapping(address asset => mapping(address account => uint256))) internal _records;
    /// @notice Amount of each pool asset the pool accounts for (credited less paid and swept, over all epochs).
    mapping(address asset => uint256) public held;
    mapping(address account => uint256) public revocationNonce;

    /// @notice A pool was created with its first tree (epoch 1).
    event PoolCreated(
        address indexed pool, address indexed curator, address asset, bytes32 root, uint256 totalWeight, bytes treeCid
    );
    /// @notice A new dataset version came with a new tree: epoch `epoch` started.
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
    event CuratorTransferStarted(address indexed from, address indexed to);
    event CuratorTransferred(address indexed from, address indexed to);
    /// @notice The pool's dataset was published in the marketplace with id `datasetId`.
    event DatasetAttached(uint256 indexed datasetId, address asset);

    /// @notice Only the curator may do this.
    error NotCurator(address caller);
    /// @notice The pool is already set up.
    error AlreadyInitialized();
    /// @notice (account, weight) with this proof is not a leaf of the epoch's tree.
    error NotInTree(address account, uint256 weight);
    /// @notice The account already revoked consent in this epoch.
    error AlreadyRevoked(address account);
    /// @notice Nothing is owed.
    error NothingToClaim(address account);
    /// @notice The signature is not the account's over `revocationDigest`.
    error BadSignature();
    /// @notice The tree's total weight is zero or above MAX_TOTAL_WEIGHT.
    error BadTotalWeight(uint256 totalWeight);
    /// @notice An RBTC payment was refused.
    error PaymentFailed(address to, uint256 amount);
    /// @notice The pool's asset is fixed when it is created.
    error AssetChange(address poolAsset, address termsAsset);
    /// @notice The pool already has its dataset.
    error DatasetExists(uint256 datasetId);
    /// @notice The pool has no dataset yet.
    error NoDataset();
    /// @notice Only the pool's asset and RBTC are shared; other tokens are the curator's (`sweepToken`).
    error NotPoolAsset(address asset);
    /// @notice A payout would take more from the epoch than was credited to it.
    error EpochOverdrawn(uint256 epoch, address asset);
    /// @notice Dust is known only once an epoch is closed (or has no active weight).
    error EpochOpen(uint256 epoch);
    /// @notice No such epoch.
    error UnknownEpoch(uint256 epoch);
    /// @notice The pool accounts for more than it holds (a token that lost balance).
    error BalanceShort(address asset, uint256 balance, uint256 accounted);

    constructor(IDataLicense market_) {
        market = market_;
        _implementation = address(this);
        curator = address(1); // the implementation itself is never a pool
    }

    modifier onlyCurator() {
        if (msg.sender != curator) revert NotCurator(msg.sender);
        _;
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
        _epochs[1] = Epoch(root, uint128(total), uint128(total));
        emit PoolCreated(address(this), curator_, asset_, root, total, treeCid);
    }

    // ------------------------------------------------------------------- the curator runs the dataset

    /// @notice Publish the pool's dataset in the marketplace; the pool is its owner and payee. The dataset id is
    /// the one the marketplace returns.
    function publishDataset(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 termsRef,
        IDataLicense.TermsInput calldata terms,
        address agent
    ) external onlyCurator nonReentrant returns (uint256 id) {
        if (datasetId != 0) revert DatasetExists(datasetId);
        if (terms.asset != asset) revert AssetChange(asset, terms.asset);
        // The id exists only once the marketplace has assigned it (another publish may come first): it is written
        // after the call. The marketplace is immutable and trusted, and the function is nonReentrant.
        // slither-disable-next-line reentrancy-no-eth
        id = market.publish(manifestCid, plaintextHash, keyHash, termsRef, terms, agent);
        datasetId = id.toUint32();
        emit DatasetAttached(id, terms.asset);
    }

    /// @notice A new dataset version with a new contributor tree: what reached the pool so far stays with the
    /// closing epoch; a new epoch starts.
    function publishVersion(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        Top calldata top,
        bytes calldata treeCid
    ) external onlyCurator nonReentrant {
        if (datasetId == 0) revert NoDataset();
        _newEpoch(top, treeCid);
        market.publishVersion(datasetId, manifestCid, plaintextHash, keyHash);
    }

    /// @notice A new contributor tree without a new dataset version (contributors who revoked dropped, or the
    /// dataset retired, which takes no new version): what reached the pool so far stays with the closing epoch,
    /// whose rounding dust becomes sweepable once its contributors are paid in full.
    function newEpoch(Top calldata top, bytes calldata treeCid) external onlyCurator nonReentrant {
        _newEpoch(top, treeCid);
    }

    function _newEpoch(Top calldata top, bytes calldata treeCid) private {
        (bytes32 root, uint256 total) = _rootOf(top);
        address a = asset;
        uint256 owedA = _accrue(a);
        uint256 owedR = a == address(0) ? 0 : _accrue(address(0));
        uint64 next = epoch + 1;
        epoch = next;
        _epochs[next] = Epoch(root, uint128(total), uint128(total));
        emit EpochStarted(next, root, total, treeCid);
        _pull(a, owedA);
        _pull(address(0), owedR);
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

    /// @notice Retire the dataset.
    function retire() external onlyCurator {
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
    function sweepDust(uint256 epoch_, address asset_) external onlyCurator nonReentrant {
        _checkAsset(asset_);
        // Settle with the marketplace first (as in claim), then the sweep's own effects.
        // slither-disable-next-line reentrancy-no-eth
        if (epoch_ == epoch) _pull(asset_, _accrue(asset_));
        uint256 amount = _sweepable(epoch_, asset_);
        if (amount == 0) revert NothingToClaim(msg.sender);
        Pot storage p = _pots[epoch_][asset_];
        p.swept += uint128(amount);
        held[asset_] -= amount;
        emit DustSwept(epoch_, asset_, amount);
        if (asset_ == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}(""); // the curator
            if (!ok) revert PaymentFailed(msg.sender, amount);
        } else {
            IERC20(asset_).safeTransfer(msg.sender, amount);
        }
    }

    /// @notice Take a token that is neither the pool's asset nor RBTC (a stray transfer, a royalty in another
    /// token): contributors are paid in the pool's asset and RBTC only.
    function sweepToken(IERC20 token) external onlyCurator nonReentrant {
        if (address(token) == asset || address(token) == address(0)) revert NotPoolAsset(address(token));
        uint256 amount = token.balanceOf(address(this));
        // Nothing to sweep is a plain refusal: a donation changes nothing a sweep relies on.
        // slither-disable-next-line incorrect-equality
        if (amount == 0) revert NothingToClaim(msg.sender);
        emit StraySwept(address(token), amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------- contributors

    /// @notice Credit to the current epoch everything that reached the pool or that the marketplace owes it, in
    /// the pool's asset and RBTC.
    function sync() external nonReentrant {
        address a = asset;
        uint256 owedA = _accrue(a);
        uint256 owedR = a == address(0) ? 0 : _accrue(address(0));
        _pull(a, owedA);
        _pull(address(0), owedR);
    }

    /// @notice Claim what `weight` earned in `asset_` (the pool's asset or RBTC) in `epoch_`, paid to the caller.
    /// A claim in a closed epoch pays the contributor in full (and may pay 0 only to settle its rounding).
    function claim(uint256 epoch_, address asset_, uint256 weight, bytes32[] calldata proof) external nonReentrant {
        _checkAsset(asset_);
        uint256 scale = _scale(_verify(epoch_, msg.sender, weight, proof));
        uint256 current = epoch;
        // Settle with the marketplace first: while the pull runs (a revocation may run inside it, see
        // revokeConsent), the books hold exactly what the pool holds; the claim's own effects come after.
        // slither-disable-next-line reentrancy-no-eth
        if (epoch_ == current) _pull(asset_, _accrue(asset_));
        Pot storage p = _pots[epoch_][asset_];
        uint256 rec = _records[epoch_][asset_][msg.sender];
        uint256 entitled = _entitled(p, rec, weight, scale);
        uint256 amount = entitled - (rec & MASK128);
        bool settle = epoch_ < current && rec & (REVOKED | SETTLED) == 0;
        if (amount == 0 && !settle) revert NothingToClaim(msg.sender);
        // Remember the proven weight (a later revocation in this epoch needs no proof); a revoked record keeps
        // its frozen entitlement there.
        rec = rec & REVOKED != 0 ? (rec & ~MASK128) | entitled : (rec & SETTLED) | (weight << 128) | entitled;
        if (settle) {
            rec |= SETTLED;
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
        if (amount == 0) return;
        if (asset_ == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}(""); // the proven contributor
            if (!ok) revert PaymentFailed(msg.sender, amount);
        } else {
            IERC20(asset_).safeTransfer(msg.sender, amount);
        }
    }

    /// @notice Revoke consent: keep what was earned so far in the current epoch, earn nothing after. The proof may
    /// be empty when the account has claimed in the pool's asset in this epoch (the pool knows its weight then).
    /// @dev Not `nonReentrant`: every effect comes before the only interaction (withdrawing what the trusted
    /// marketplace owes the pool), so a call made during it sees a finished revocation (tests/test_pool.py).
    function revokeConsent(uint256 weight, bytes32[] calldata proof) external {
        _revoke(msg.sender, weight, proof);
    }

    /// @notice Revoke consent for `account` with its signature over `revocationDigest(account)`, EIP-191
    /// personal-sign format.
    function revokeConsentFor(address account, uint256 weight, bytes32[] calldata proof, bytes calldata signature)
        external
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

    /// @notice Claimable now for (account, weight) in `epoch_` and `asset_`, counting what reached the pool or is
    /// owed to it but is not credited yet. Assumes (account, weight) is a leaf of the epoch's tree.
    function claimable(uint256 epoch_, address asset_, address account, uint256 weight)
        external
        view
        returns (uint256)
    {
        Pot memory p = _pots[epoch_][asset_];
        uint256 rec = _records[epoch_][asset_][account];
        if (rec & REVOKED != 0) return ((rec >> 128) & MASK126) - (rec & MASK128);
        Epoch memory ep = _epochs[epoch_];
        uint256 scale = _scale(ep.totalWeight);
        if (epoch_ == epoch && ep.activeWeight != 0 && (asset_ == asset || asset_ == address(0))) {
            p.acc += _creditable(pending(asset_), p.credited) * scale / ep.activeWeight;
        }
        return Math.mulDiv(weight, p.acc, scale) - (rec & MASK128);
    }

    /// @notice Amount of `asset_` that reached the pool or is owed to it by the marketplace and is not credited
    /// to an epoch yet (`sync` credits it).
    function pending(address asset_) public view returns (uint256) {
        uint256 owed = datasetId != 0 ? market.balanceOwed(asset_, address(this)) : 0;
        return _balance(asset_) + owed - held[asset_];
    }

    /// @notice Rounding dust of `epoch_` in `asset_` that provably no contributor can claim: what was credited
    /// less the most the active contributors not yet paid in full can still be owed, less what was paid in full,
    /// frozen by revocations or swept. Only for a closed epoch, or one whose every contributor revoked (then what
    /// reached the pool and is not credited yet counts too: it can only go to the curator).
    function sweepable(uint256 epoch_, address asset_) external view returns (uint256 amount) {
        amount = _sweepable(epoch_, asset_);
        if (epoch_ == epoch && (asset_ == asset || asset_ == address(0))) {
            amount += _creditable(pending(asset_), _pots[epoch_][asset_].credited);
        }
    }

    /// @notice (claimed, frozen entitlement, revoked, paid in full after close) of an account.
    function record(uint256 epoch_, address asset_, address account)
        external
        view
        returns (uint256 claimed, uint256 frozen, bool revoked, bool settled)
    {
        uint256 rec = _records[epoch_][asset_][account];
        revoked = rec & REVOKED != 0;
        return (rec & MASK128, revoked ? (rec >> 128) & MASK126 : 0, revoked, rec & SETTLED != 0);
    }

    /// @notice The weight the pool knows `account` has in `epoch_` (proven by a claim in the pool's asset), or 0;
    /// with it, `revokeConsent` takes an empty proof.
    function knownWeight(uint256 epoch_, address account) external view returns (uint256) {
        uint256 rec = _records[epoch_][asset][account];
        return rec & REVOKED != 0 ? 0 : (rec >> 128) & MASK126;
    }

    /// @notice Epoch record: root, total weight (from the root), active weight.
    function epochInfo(uint256 epoch_) external view returns (Epoch memory) {
        return _epochs[epoch_];
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

    /// @notice Accepts RBTC: it is credited to the current epoch at the next `sync` or claim.
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

    function _sweepable(uint256 epoch_, address asset_) private view returns (uint256) {
        Epoch memory e = _epochs[epoch_];
        if (e.root == bytes32(0)) revert UnknownEpoch(epoch_);
        if (epoch_ == epoch && e.activeWeight != 0) revert EpochOpen(epoch_);
        Pot memory p = _pots[epoch_][asset_];
        uint256 unsettled = Math.mulDiv(e.activeWeight - p.settledWeight, p.acc, _scale(e.totalWeight));
        return p.credited - unsettled - p.settledAmount - p.frozen - p.swept;
    }

    /// @dev The part of `inflow` an epoch already credited `credited` can still take.
    function _creditable(uint256 inflow, uint256 credited) private pure returns (uint256) {
        return Math.min(inflow, MAX_EPOCH_CREDIT - credited);
    }

    function _checkAsset(address asset_) private view {
        if (asset_ != asset && asset_ != address(0)) revert NotPoolAsset(asset_);
    }

    function _entitled(Pot storage p, uint256 rec, uint256 weight, uint256 scale) private view returns (uint256) {
        if (rec & REVOKED != 0) return (rec >> 128) & MASK126;
        return Math.mulDiv(weight, p.acc, scale);
    }

    /// @dev Scale of an epoch's revenue per unit of weight: the largest multiple of its total weight not above
    /// 1e36 (total weights are below 2^96, so it is above 1e36 - 2^96).
    function _scale(uint256 totalWeight) private pure returns (uint256) {
        return ACC - ACC % totalWeight;
    }

    function _revoke(address account, uint256 weight, bytes32[] calldata proof) private {
        uint256 e = epoch;
        address a = asset;
        uint256 rec = _records[e][a][account];
        if (rec & REVOKED != 0) revert AlreadyRevoked(account);
        Epoch storage ep = _epochs[e];
        // Without a proof, the weight must be the one a claim proved in this epoch (the record keeps it).
        uint256 total = proof.length == 0 && weight != 0 && (rec >> 128) & MASK126 == weight
            ? ep.totalWeight
            : _verify(e, account, weight, proof);
        uint256 scale = _scale(total);
        uint256 owedA = _accrue(a);
        _freeze(e, a, account, weight, scale);
        uint256 owedR = 0;
        if (a != address(0)) {
            owedR = _accrue(address(0));
            _freeze(e, address(0), account, weight, scale);
        }
        ep.activeWeight -= uint128(weight);
        emit ConsentRevoked(e, account, weight);
        _pull(a, owedA);
        _pull(address(0), owedR);
    }

    function _freeze(uint256 e, address a, address account, uint256 weight, uint256 scale) private {
        Pot storage p = _pots[e][a];
        uint256 entitled = Math.mulDiv(weight, p.acc, scale);
        uint256 rec = _records[e][a][account];
        _records[e][a][account] = (rec & (MASK128 | SETTLED)) | REVOKED | (entitled << 128);
        p.frozen += uint128(entitled);
    }

    function _balance(address asset_) private view returns (uint256) {
        return asset_ == address(0) ? address(this).balance : IERC20(asset_).balanceOf(address(this));
    }

    /// @dev Credit to the current epoch what reached the pool since the last accrual plus what the marketplace
    /// owes it (effects only: the owed amount is read with a view call). Returns the amount `_pull` must then
    /// withdraw from the marketplace.
    function _accrue(address asset_) private returns (uint256 owed) {
        if (datasetId != 0) owed = market.balanceOwed(asset_, address(this));
        uint256 balance = _balance(asset_);
        uint256 accounted = held[asset_];
        if (balance + owed < accounted) revert BalanceShort(asset_, balance + owed, accounted);
        uint256 inflow = balance + owed - accounted;
        // No inflow means nothing to credit; a donation only makes the inflow larger.
        // slither-disable-next-line incorrect-equality
        if (inflow == 0) return owed;
        uint256 e = epoch;
        uint256 credited = _pots[e][asset_].credited;
        // An epoch takes at most 2^126 - 1 units of an asset (a revoked record keeps its frozen share in 126 bits):
        // more (a gift of a huge-supply token) stays pending for the next epoch instead of making every accrual,
        // and so every claim, revert.
        inflow = _creditable(inflow, credited);
        // slither-disable-next-line incorrect-equality
        if (inflow == 0) return owed;
        held[asset_] = accounted + inflow;
        _pots[e][asset_].credited = uint128(credited + inflow);
        Epoch storage ep = _epochs[e];
        uint256 active = ep.activeWeight;
        uint256 acc = _pots[e][asset_].acc;
        if (active != 0) {
            acc += inflow * _scale(ep.totalWeight) / active;
            _pots[e][asset_].acc = acc;
        }
        emit RevenueIn(e, asset_, inflow, acc);
    }

    /// @dev Withdraw from the marketplace what `_accrue` accounted for (interaction, last).
    function _pull(address asset_, uint256 owed) private {
        if (owed != 0) market.withdraw(asset_, address(this));
    }

}

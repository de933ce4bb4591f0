// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDataLicense} from "../interfaces/IDataLicense.sol";

/// @dev The marketplace's counters view (not part of IDataLicense).
interface IDataLicenseCounters {
    function counters() external view returns (uint256 lastLicenceId, uint256 lastDatasetId, uint256 lastTermsId);
}

/// @title RevenuePool
/// @notice Shares a dataset's revenue among many contributors, committed as a Merkle root of
/// (account, weight): a pool of a million contributors is one root. The pool owns its dataset in the
/// marketplace, so every sale pays the pool like any seller (constant gas, whatever the number of
/// contributors); revenue is spread as an amount per unit of weight when it is pulled in, and each
/// contributor claims what accrued to its weight since its last claim, with a Merkle proof.
/// A new dataset version comes with a new root (a new epoch): contributors keep what they earned in
/// earlier epochs and earn in the new one only if they are in its tree. A contributor who revokes consent
/// (itself or by a signed message anyone submits) keeps what it earned so far and earns nothing after.
/// @dev Deployed once as an implementation; each pool is an EIP-1167 clone made by `create`.
contract RevenuePool is ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant ACC = 1e36; // fixed-point scale of revenue per unit of weight

    /// @notice The marketplace whose dataset this pool owns (shared by all clones).
    IDataLicense public immutable market;
    address private immutable _implementation;

    struct Epoch {
        bytes32 root; // Merkle root of (account, weight) leaves
        uint128 totalWeight; // sum of the tree's weights
        uint128 activeWeight; // totalWeight less revoked weights
        uint256 accPerWeight; // revenue per unit of weight, scaled by ACC
    }

    address public curator;
    uint64 public epoch;
    uint32 public datasetId;
    address public asset; // the dataset's payment asset (address(0): RBTC)
    address public pendingCurator;
    uint256 public unallocated; // revenue that arrived while no weight was active; the curator's

    mapping(uint256 epoch => Epoch) private _epochs;
    mapping(uint256 epoch => mapping(address account => uint256)) public claimed;
    mapping(uint256 epoch => mapping(address account => uint256)) public frozenEntitlement; // +1 when revoked
    mapping(address account => uint256) public revocationNonce;

    event PoolCreated(address indexed pool, address indexed curator, bytes32 root, uint256 totalWeight, bytes treeCid);
    event EpochStarted(uint256 indexed epoch, bytes32 root, uint256 totalWeight, bytes treeCid);
    event RevenueIn(uint256 indexed epoch, uint256 amount, uint256 accPerWeight);
    event Claimed(uint256 indexed epoch, address indexed account, uint256 amount);
    event ConsentRevoked(uint256 indexed epoch, address indexed account, uint256 weight, uint256 entitlement);
    event CuratorTransferStarted(address indexed from, address indexed to);
    event CuratorTransferred(address indexed from, address indexed to);
    event DatasetAttached(uint256 indexed datasetId, address asset);

    error NotCurator(address caller);
    error AlreadyInitialized();
    error NotInTree(address account, uint256 weight);
    error AlreadyRevoked(address account);
    error NothingToClaim(address account);
    error BadSignature();
    error ZeroWeight();
    error NoDataset();
    error PaymentFailed(address to, uint256 amount);
    error AssetChange(address from, address to);
    error DatasetExists(uint256 datasetId);

    constructor(IDataLicense market_) {
        market = market_;
        _implementation = address(this);
        curator = address(1); // the implementation itself is never a pool
    }

    modifier onlyCurator() {
        if (msg.sender != curator) revert NotCurator(msg.sender);
        _;
    }

    /// @notice Create a pool (a clone of this implementation) for `curator_` with its first tree.
    /// @param root Merkle root of the contributors' (account, weight) leaves.
    /// @param totalWeight Sum of all weights in the tree.
    /// @param treeCid CID of the tree on IPFS (contributors find their proofs there).
    function create(address curator_, bytes32 root, uint256 totalWeight, bytes calldata treeCid)
        external
        returns (RevenuePool pool)
    {
        pool = RevenuePool(payable(Clones.clone(_implementation)));
        pool.initialize(curator_, root, totalWeight, treeCid);
    }

    /// @notice One-time set-up of a clone (called by `create`).
    function initialize(address curator_, bytes32 root, uint256 totalWeight, bytes calldata treeCid) external {
        if (curator != address(0)) revert AlreadyInitialized();
        if (curator_ == address(0)) revert NotCurator(address(0));
        if (totalWeight == 0 || totalWeight > type(uint128).max) revert ZeroWeight();
        curator = curator_;
        epoch = 1;
        _epochs[1] = Epoch(root, uint128(totalWeight), uint128(totalWeight), 0);
        emit PoolCreated(address(this), curator_, root, totalWeight, treeCid);
    }

    // ------------------------------------------------------------------- the curator runs the dataset

    /// @notice Publish the pool's dataset in the marketplace; the pool is its owner and payee.
    function publishDataset(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 termsRef,
        IDataLicense.TermsInput calldata terms,
        address agent
    ) external onlyCurator nonReentrant returns (uint256 id) {
        if (datasetId != 0) revert DatasetExists(datasetId);
        (, uint256 lastDatasetId,) = _counters();
        id = lastDatasetId + 1; // the id the marketplace will assign
        datasetId = uint32(id);
        asset = terms.asset;
        emit DatasetAttached(id, terms.asset);
        if (market.publish(manifestCid, plaintextHash, keyHash, termsRef, terms, agent) != id) revert NoDataset();
    }

    /// @notice A new dataset version with a new contributor tree: a new epoch starts.
    function publishVersion(
        bytes calldata manifestCid,
        bytes32 plaintextHash,
        bytes32 keyHash,
        bytes32 root,
        uint256 totalWeight,
        bytes calldata treeCid
    ) external onlyCurator nonReentrant {
        if (totalWeight == 0 || totalWeight > type(uint128).max) revert ZeroWeight();
        uint256 owed = _accrue();
        uint64 next = epoch + 1;
        epoch = next;
        _epochs[next] = Epoch(root, uint128(totalWeight), uint128(totalWeight), 0);
        emit EpochStarted(next, root, totalWeight, treeCid);
        _pull(owed);
        market.publishVersion(datasetId, manifestCid, plaintextHash, keyHash);
    }

    /// @notice New terms for future sales, in the pool's payment asset.
    function setTerms(bytes32 termsRef, IDataLicense.TermsInput calldata terms) external onlyCurator nonReentrant {
        if (terms.asset != asset) revert AssetChange(asset, terms.asset);
        _pull(_accrue());
        market.setTerms(datasetId, termsRef, terms);
    }

    /// @notice Pause, resume or retire sales, or set the delivery agent.
    function pauseSales() external onlyCurator {
        market.pauseSales(datasetId);
    }

    function resumeSales() external onlyCurator {
        market.resumeSales(datasetId);
    }

    function retire() external onlyCurator {
        market.retire(datasetId);
    }

    function setAgent(address agent) external onlyCurator {
        market.setAgent(datasetId, agent);
    }

    /// @notice Hand the pool to another curator in two steps.
    function transferCurator(address to) external onlyCurator {
        if (to == address(0)) revert NotCurator(address(0));
        pendingCurator = to;
        emit CuratorTransferStarted(msg.sender, to);
    }

    function acceptCurator() external {
        if (msg.sender != pendingCurator) revert NotCurator(msg.sender);
        emit CuratorTransferred(curator, msg.sender);
        curator = msg.sender;
        pendingCurator = address(0);
    }

    // ------------------------------------------------------------------------------- contributors

    /// @notice Pull the revenue the marketplace owes the pool and spread it over the active weight.
    function sync() external nonReentrant {
        _pull(_accrue());
    }

    /// @notice Claim everything accrued to `weight` in `epoch_` since the last claim, paid to the caller.
    function claim(uint256 epoch_, uint256 weight, bytes32[] calldata proof) external nonReentrant {
        _verify(epoch_, msg.sender, weight, proof);
        uint256 owed = epoch_ == epoch ? _accrue() : 0;
        uint256 amount = _entitlement(epoch_, msg.sender, weight) - claimed[epoch_][msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        claimed[epoch_][msg.sender] += amount;
        emit Claimed(epoch_, msg.sender, amount);
        _pull(owed);
        if (asset == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert PaymentFailed(msg.sender, amount);
        } else {
            IERC20(asset).safeTransfer(msg.sender, amount);
        }
    }

    /// @notice Revoke consent: keep what was earned so far in the current epoch, earn nothing after.
    function revokeConsent(uint256 weight, bytes32[] calldata proof) external nonReentrant {
        _revoke(msg.sender, weight, proof);
    }

    /// @notice Revoke consent for `account` with its signature over
    /// ("datalicense revoke", pool, account, epoch, nonce), EIP-191 personal-sign format.
    function revokeConsentFor(address account, uint256 weight, bytes32[] calldata proof, bytes calldata signature)
        external
        nonReentrant
    {
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(revocationDigest(account));
        if (ECDSA.recover(digest, signature) != account) revert BadSignature();
        revocationNonce[account] += 1;
        _revoke(account, weight, proof);
    }

    /// @notice What a contributor signs to revoke consent (before the EIP-191 prefix).
    function revocationDigest(address account) public view returns (bytes32) {
        return keccak256(
            abi.encode("datalicense revoke", block.chainid, address(this), account, epoch, revocationNonce[account])
        );
    }

    /// @notice Claimable now for (account, weight) in `epoch_`, counting revenue not yet pulled in.
    function claimable(uint256 epoch_, address account, uint256 weight) external view returns (uint256) {
        Epoch memory e = _epochs[epoch_];
        uint256 frozen = frozenEntitlement[epoch_][account];
        if (frozen != 0) return frozen - 1 - claimed[epoch_][account];
        uint256 acc = e.accPerWeight;
        if (epoch_ == epoch && e.activeWeight != 0) {
            acc += market.balanceOwed(asset, address(this)) * ACC / e.activeWeight;
        }
        return weight * acc / ACC - claimed[epoch_][account];
    }

    /// @notice Whether (account, weight) is a leaf of `epoch_`'s tree.
    function isContributor(uint256 epoch_, address account, uint256 weight, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, _epochs[epoch_].root, leaf(account, weight));
    }

    /// @notice Epoch record: root, total weight, active weight, revenue per unit of weight (scaled by 1e36).
    function epochInfo(uint256 epoch_) external view returns (Epoch memory) {
        return _epochs[epoch_];
    }

    /// @notice Leaf hash, as OpenZeppelin's StandardMerkleTree makes it: keccak256(keccak256(abi.encode(a, w))).
    function leaf(address account, uint256 weight) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, weight))));
    }

    /// @notice Revenue that arrived while every weight was revoked goes to the curator.
    function withdrawUnallocated() external onlyCurator nonReentrant {
        uint256 amount = unallocated;
        if (amount == 0) revert NothingToClaim(msg.sender);
        unallocated = 0;
        if (asset == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert PaymentFailed(msg.sender, amount);
        } else {
            IERC20(asset).safeTransfer(msg.sender, amount);
        }
    }

    receive() external payable {}

    // --------------------------------------------------------------------------------- internals

    function _verify(uint256 epoch_, address account, uint256 weight, bytes32[] calldata proof) private view {
        if (weight == 0 || !MerkleProof.verifyCalldata(proof, _epochs[epoch_].root, leaf(account, weight))) {
            revert NotInTree(account, weight);
        }
    }

    function _entitlement(uint256 epoch_, address account, uint256 weight) private view returns (uint256) {
        uint256 frozen = frozenEntitlement[epoch_][account];
        if (frozen != 0) return frozen - 1;
        return weight * _epochs[epoch_].accPerWeight / ACC;
    }

    function _revoke(address account, uint256 weight, bytes32[] calldata proof) private {
        uint256 e = epoch;
        _verify(e, account, weight, proof);
        if (frozenEntitlement[e][account] != 0) revert AlreadyRevoked(account);
        uint256 owed = _accrue();
        uint256 entitlement = weight * _epochs[e].accPerWeight / ACC;
        frozenEntitlement[e][account] = entitlement + 1;
        _epochs[e].activeWeight -= uint128(weight);
        emit ConsentRevoked(e, account, weight, entitlement);
        _pull(owed);
    }

    /// @dev Spread what the marketplace owes the pool over the current epoch's active weight (effects only;
    /// the owed amount is read with a view call). Returns the amount `_pull` must then withdraw.
    function _accrue() private returns (uint256 owed) {
        if (datasetId == 0) return 0;
        owed = market.balanceOwed(asset, address(this));
        if (owed == 0) return 0;
        Epoch storage e = _epochs[epoch];
        if (e.activeWeight == 0) {
            unallocated += owed;
            return owed;
        }
        uint256 acc = e.accPerWeight + owed * ACC / e.activeWeight;
        e.accPerWeight = acc;
        emit RevenueIn(epoch, owed, acc);
    }

    /// @dev Withdraw from the marketplace what `_accrue` accounted for (interaction, last).
    function _pull(uint256 owed) private {
        if (owed != 0) market.withdraw(asset, address(this));
    }

    function _counters() private view returns (uint256, uint256, uint256) {
        return IDataLicenseCounters(address(market)).counters();
    }
}

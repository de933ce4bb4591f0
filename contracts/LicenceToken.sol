// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IDataLicense} from "../interfaces/IDataLicense.sol";

/// @title LicenceToken
/// @notice ERC-721 whose token record is the licence itself: holder, terms, timestamp, state and fee
/// share one storage slot, so minting a licence writes one new slot (Solmate/ERC721A-style packing).
/// Interfaces and errors are OpenZeppelin's (IERC721, IERC721Metadata, ERC-6093 errors).
abstract contract LicenceToken is IERC721, IERC721Metadata, IERC721Errors {
    mapping(uint256 licenceId => IDataLicense.Licence) internal _licences;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 licenceId => address) private _tokenApprovals;
    mapping(address holder => mapping(address operator => bool)) private _operatorApprovals;

    /// @inheritdoc IERC721Metadata
    function name() external pure returns (string memory) {
        return "Data Licence";
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external pure returns (string memory) {
        return "DLIC";
    }

    /// @inheritdoc IERC721Metadata
    function tokenURI(uint256 licenceId) external view returns (string memory) {
        _requireOwned(licenceId);
        string memory base = _baseURI();
        return bytes(base).length == 0 ? "" : string.concat(base, Strings.toString(licenceId));
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-2981 and ERC-165 itself.
    function supportsInterface(bytes4 interfaceId) public view virtual returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC2981).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    /// @inheritdoc IERC721
    function balanceOf(address holder) external view returns (uint256) {
        if (holder == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[holder];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 licenceId) external view returns (address) {
        return _requireOwned(licenceId);
    }

    /// @inheritdoc IERC721
    function approve(address to, uint256 licenceId) external {
        address holder = _requireOwned(licenceId);
        if (msg.sender != holder && !_operatorApprovals[holder][msg.sender]) {
            revert ERC721InvalidApprover(msg.sender);
        }
        _tokenApprovals[licenceId] = to;
        emit Approval(holder, to, licenceId);
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 licenceId) external view returns (address) {
        _requireOwned(licenceId);
        return _tokenApprovals[licenceId];
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address holder, address operator) external view returns (bool) {
        return _operatorApprovals[holder][operator];
    }

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 licenceId) public {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        IDataLicense.Licence storage l = _licences[licenceId];
        address holder = l.holder;
        if (holder == address(0)) revert ERC721NonexistentToken(licenceId);
        if (holder != from) revert ERC721IncorrectOwner(from, licenceId, holder);
        if (
            msg.sender != holder && !_operatorApprovals[holder][msg.sender]
                && _tokenApprovals[licenceId] != msg.sender
        ) revert ERC721InsufficientApproval(msg.sender, licenceId);
        _checkTransferable(licenceId, l);

        delete _tokenApprovals[licenceId];
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        l.holder = to;
        emit Transfer(from, to, licenceId);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 licenceId) external {
        safeTransferFrom(from, to, licenceId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 licenceId, bytes memory data) public {
        transferFrom(from, to, licenceId);
        if (to.code.length > 0) {
            try IERC721Receiver(to).onERC721Received(msg.sender, from, licenceId, data) returns (bytes4 retval) {
                if (retval != IERC721Receiver.onERC721Received.selector) revert ERC721InvalidReceiver(to);
            } catch (bytes memory reason) {
                if (reason.length == 0) revert ERC721InvalidReceiver(to);
                assembly ("memory-safe") {
                    revert(add(32, reason), mload(reason))
                }
            }
        }
    }

    /// @dev Mint a licence record to `to` (never address(0)); the caller has checked the id is new.
    function _mint(address to, uint256 licenceId, uint32 termsId, uint16 settingsId) internal {
        _licences[licenceId] = IDataLicense.Licence({
            holder: to,
            termsId: termsId,
            stamp: uint40(block.timestamp),
            state: IDataLicense.State.Pending,
            settingsId: settingsId
        });
        unchecked {
            _balances[to] += 1;
        }
        emit Transfer(address(0), to, licenceId);
    }

    /// @dev Holder of an existing licence, or revert with ERC721NonexistentToken.
    function _requireOwned(uint256 licenceId) internal view returns (address holder) {
        holder = _licences[licenceId].holder;
        if (holder == address(0)) revert ERC721NonexistentToken(licenceId);
    }

    /// @dev Revert unless the licence may change hands now.
    function _checkTransferable(uint256 licenceId, IDataLicense.Licence storage l) internal view virtual;

    /// @dev Prefix of token URIs ("" for none).
    function _baseURI() internal view virtual returns (string memory);
}

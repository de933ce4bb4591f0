// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @title NftReceiver
/// @notice Test-only ERC-721 receiver: accepts, returns a wrong value, or reverts with a reason.
contract NftReceiver is IERC721Receiver {
    uint8 public mode; // 0 accept, 1 wrong return value, 2 revert with a reason

    function setMode(uint8 mode_) external {
        mode = mode_;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external view returns (bytes4) {
        if (mode == 2) revert("NftReceiver: not today");
        return mode == 1 ? bytes4(0xdeadbeef) : IERC721Receiver.onERC721Received.selector;
    }
}

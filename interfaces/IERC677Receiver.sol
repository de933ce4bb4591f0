// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IERC677Receiver
/// @notice Receiver side of ERC-677 `transferAndCall` as RIF implements it on Rootstock:
/// the token calls `tokenFallback(from, value, data)` after moving `value` to the receiver,
/// and ignores the return value.
interface IERC677Receiver {
    /// @notice Called by the token after `value` tokens were transferred from `from` to this contract.
    function tokenFallback(address from, uint256 value, bytes calldata data) external returns (bool);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC677Receiver} from "../../interfaces/IERC677Receiver.sol";

/// @title TestToken
/// @notice Test-only ERC-20 with RIF-style ERC-677 `transferAndCall` (calls `tokenFallback`, ignores its result).
contract TestToken is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mint test tokens to anyone.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice ERC-677: transfer then call `tokenFallback(msg.sender, value, data)` on a contract receiver.
    function transferAndCall(address to, uint256 value, bytes calldata data) external returns (bool) {
        _transfer(msg.sender, to, value);
        if (to.code.length > 0) IERC677Receiver(to).tokenFallback(msg.sender, value, data);
        return true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice What a HookedToken calls on a recipient that asked for it.
interface ITokenArrival {
    function tokensArriving(address from, uint256 value) external;
}

/// @title HookedToken
/// @notice Test-only token that calls a recipient (one that registered) *before* moving the balances, as some
/// hook-carrying tokens do: while the recipient runs, the sender still holds the amount.
contract HookedToken is ERC20 {
    mapping(address => bool) public hooked;

    constructor() ERC20("Hooked", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Have `who` called before tokens reach it.
    function hook(address who, bool on) external {
        hooked[who] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && hooked[to]) ITokenArrival(to).tokensArriving(from, value);
        super._update(from, to, value);
    }
}

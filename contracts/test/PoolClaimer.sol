// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {RevenuePool} from "../RevenuePool.sol";

/// @title PoolClaimer
/// @notice Test-only contributor contract that refuses RBTC unless told to accept it.
contract PoolClaimer {
    bool private _accept;

    /// @notice Claim from `pool`, accepting the RBTC payment or not.
    function claimFrom(RevenuePool pool, uint256 epoch, address asset, uint256 weight, bytes32[] calldata proof,
        bool accept) external {
        _accept = accept;
        pool.claim(epoch, asset, weight, proof);
        _accept = false;
    }

    receive() external payable {
        require(_accept, "no thanks");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {RevenuePool} from "../RevenuePool.sol";

/// @title PoolClaimer
/// @notice Test-only contributor contract that refuses RBTC unless told to accept it, and can revoke its consent
/// from inside the claim's payment (a call made while the pool pays it).
contract PoolClaimer {
    bool private _accept;
    uint256 private _revokeWeight;

    /// @notice Claim from `pool` and, while being paid, revoke consent with `weight` and no proof.
    function claimAndRevokeWhilePaid(RevenuePool pool, uint256 epoch, address asset, uint256 weight,
        bytes32[] calldata proof) external {
        _accept = true;
        _revokeWeight = weight;
        pool.claim(epoch, asset, weight, proof);
        _accept = false;
        _revokeWeight = 0;
    }

    /// @notice Claim from `pool`, accepting the RBTC payment or not.
    function claimFrom(RevenuePool pool, uint256 epoch, address asset, uint256 weight, bytes32[] calldata proof,
        bool accept) external {
        _accept = accept;
        pool.claim(epoch, asset, weight, proof);
        _accept = false;
    }

    receive() external payable {
        require(_accept, "no thanks");
        uint256 w = _revokeWeight;
        if (w != 0) {
            _revokeWeight = 0;
            RevenuePool(payable(msg.sender)).revokeConsent(w, new bytes32[](0));
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {RevenuePool} from "../RevenuePool.sol";

/// @title PoolClaimer
/// @notice Test-only contributor contract that refuses RBTC unless told to accept it, and tries to revoke its
/// consent from inside the claim's payment (a call made while the pool pays it, in RBTC or through a token that
/// calls the recipient before moving the balances).
contract PoolClaimer {
    bool private _accept;
    uint256 private _revokeWeight;
    RevenuePool private _pool;
    /// @notice Whether the last revocation tried inside a payment went through.
    bool public revokedInPayment;

    /// @notice Claim from `pool` and, while being paid (RBTC, or a hooked token), try to revoke consent with
    /// `weight` and no proof. Returns whether the revocation went through.
    function claimAndRevokeWhilePaid(RevenuePool pool, uint256 epoch, address asset, uint256 weight,
        bytes32[] calldata proof) external returns (bool) {
        _accept = true;
        _revokeWeight = weight;
        _pool = pool;
        revokedInPayment = false;
        pool.claim(epoch, asset, weight, proof);
        _accept = false;
        _revokeWeight = 0;
        return revokedInPayment;
    }

    /// @notice Claim from `pool`, accepting the RBTC payment or not.
    function claimFrom(RevenuePool pool, uint256 epoch, address asset, uint256 weight, bytes32[] calldata proof,
        bool accept) external {
        _accept = accept;
        pool.claim(epoch, asset, weight, proof);
        _accept = false;
    }

    /// @notice Revoke consent in `pool` with the weight a claim proved (no proof).
    function revoke(RevenuePool pool, uint256 weight) external {
        pool.revokeConsent(weight, new bytes32[](0));
    }

    /// @notice HookedToken's call before the balances move.
    function tokensArriving(address, uint256) external {
        _revokeInside();
    }

    receive() external payable {
        require(_accept, "no thanks");
        _revokeInside();
    }

    function _revokeInside() private {
        uint256 w = _revokeWeight;
        if (w == 0) return;
        _revokeWeight = 0;
        try _pool.revokeConsent(w, new bytes32[](0)) {
            revokedInPayment = true;
        } catch {
            revokedInPayment = false;
        }
    }
}

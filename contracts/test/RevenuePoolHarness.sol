// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {RevenuePool} from "../RevenuePool.sol";
import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @title RevenuePoolHarness
/// @notice Test-only: the pool implementation deployed directly (not behind a clone), so branch coverage maps to
/// RevenuePool's source; `initialize` works once. Two hooks break the accounting on purpose, to show the guards
/// that must never fire in a sound pool do fire.
contract RevenuePoolHarness is RevenuePool {
    constructor(IDataLicense market_) RevenuePool(market_) {
        curator = address(0);
    }

    /// @notice Test hook: overwrite an epoch's revenue per unit of weight.
    function harnessSetAcc(uint256 epoch_, address asset_, uint256 acc) external {
        _pots[epoch_][asset_].acc = acc;
    }

    /// @notice Test hook: overwrite what the pool accounts for in an asset.
    function harnessSetHeld(address asset_, uint256 amount) external {
        held[asset_] = amount;
    }
}

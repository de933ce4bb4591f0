// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {RevenuePool} from "../RevenuePool.sol";
import {IDataLicense} from "../../interfaces/IDataLicense.sol";
// The libraries RevenuePool uses, named here so that brownie counts their sources as this contract's and maps
// the harness's coverage (it lists only a contract's direct dependencies).
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

/// @title RevenuePoolHarness
/// @notice Test-only: the pool implementation deployed directly (not behind a clone), so branch coverage maps to
/// RevenuePool's source; `initialize` works once. Two hooks break the accounting on purpose, to show the guards
/// that must never fire in a sound pool do fire.
contract RevenuePoolHarness is RevenuePool {
    using SafeERC20 for IERC20;

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

    /// @notice Names every library RevenuePool links in (see the import note).
    function harnessLibraries() external view returns (uint256) {
        return Math.max(SafeCast.toUint8(1), SignedMath.abs(-1)) + bytes(Strings.toString(1)).length
            + uint256(MessageHashUtils.toEthSignedMessageHash(bytes32(0))) % 2
            + uint160(ECDSA.recover(bytes32(0), new bytes(0))) % 2 + Address.functionStaticCall(address(this), "").length
            + uint160(Clones.predictDeterministicAddress(address(0), bytes32(0), address(0))) % 2;
    }
}

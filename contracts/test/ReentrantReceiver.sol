// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IDataLicense} from "../../interfaces/IDataLicense.sol";

/// @title ReentrantReceiver
/// @notice Test-only malicious account: buys licences, and when RBTC arrives it re-enters the
/// marketplace with a prepared call (e.g. a second `withdraw`), recording whether that succeeded.
contract ReentrantReceiver {
    IDataLicense public immutable market;
    bytes public attackCall;
    bool public attackSucceeded;
    bytes public attackError;
    uint256 public received;
    bool private _attacking;

    constructor(IDataLicense market_) {
        market = market_;
    }

    function arm(bytes calldata data) external {
        attackCall = data;
    }

    function call(bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = address(market).call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        received += msg.value;
        if (!_attacking && attackCall.length > 0) {
            _attacking = true;
            (bool ok, bytes memory err) = address(market).call(attackCall);
            attackSucceeded = ok;
            attackError = err;
            _attacking = false;
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC677Receiver} from "../../interfaces/IERC677Receiver.sol";

/// @title ReentrantToken
/// @notice Test-only malicious ERC-677 token: whenever tokens leave the target (a refund or a withdrawal)
/// it calls back into the target with a prepared call and records whether the re-entry succeeded.
/// It can also lie: `lieAndCall` moves fewer tokens than it reports to `tokenFallback`.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public attackCall;
    bool public attackSucceeded;
    bytes public attackError;
    bool private _attacking;

    constructor() ERC20("Reentrant", "EVIL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arm the attack: on the next transfer, call `target` with `data`.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        attackCall = data;
    }

    function transferAndCall(address to, uint256 value, bytes calldata data) external returns (bool) {
        _transfer(msg.sender, to, value);
        IERC677Receiver(to).tokenFallback(msg.sender, value, data);
        return true;
    }

    /// @notice Transfer `sent` but tell the receiver `claimed` arrived.
    function lieAndCall(address to, uint256 sent, uint256 claimed, bytes calldata data) external returns (bool) {
        _transfer(msg.sender, to, sent);
        IERC677Receiver(to).tokenFallback(msg.sender, claimed, data);
        return true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == target && target != address(0) && !_attacking && attackCall.length > 0) {
            _attacking = true;
            (bool ok, bytes memory err) = target.call(attackCall);
            attackSucceeded = ok;
            attackError = err;
            _attacking = false;
        }
    }
}

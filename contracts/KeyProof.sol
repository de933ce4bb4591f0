// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title KeyProof
/// @notice secp256k1 checks for provable key delivery, with no elliptic-curve code in Solidity:
/// the `ecrecover` precompile computes k*P for a known point P (hash 0, v = 27 + parity(P.y),
/// r = P.x, s = k * P.x mod n returns the address of k*P).
library KeyProof {
    /// @dev Field prime p of secp256k1.
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    /// @dev Group order n of secp256k1.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    /// @dev Generator G.
    uint256 internal constant GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798;
    uint256 internal constant GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8;

    /// @notice Whether (x, y) is a point of secp256k1 that the ecrecover trick can multiply
    /// (0 < x < n, y < p, y^2 = x^3 + 7 mod p).
    function isUsableKey(uint256 x, uint256 y) internal pure returns (bool) {
        if (x == 0 || x >= N || y >= P) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
    }

    /// @notice Ethereum-style address of the point (x, y): the last 20 bytes of keccak256(x || y).
    function pointAddress(uint256 x, uint256 y) internal pure returns (address a) {
        assembly ("memory-safe") {
            mstore(0x00, x)
            mstore(0x20, y)
            a := and(keccak256(0x00, 0x40), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @notice Address of k*(x, y) for a usable key (x, y) and a scalar 0 < k < n.
    function mulAddress(uint256 k, uint256 x, uint256 y) internal view returns (address) {
        uint8 v = uint8(27 + (y & 1));
        return ecrecover(bytes32(0), v, bytes32(x), bytes32(mulmod(k, x, N)));
    }

    /// @notice Content key recovered from a wrap: K = W xor keccak256(abi.encodePacked(s, licenceId)).
    function unwrap(bytes32 wrappedKey, address s, uint256 licenceId) internal pure returns (bytes32) {
        return wrappedKey ^ keccak256(abi.encodePacked(s, licenceId));
    }
}

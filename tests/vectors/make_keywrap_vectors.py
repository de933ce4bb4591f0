"""Generate tests/vectors/keywrap.json with secp256k1 arithmetic written out here in plain Python,
independently of coincurve (used by datalicense.protocol.keywrap) and of the contract's ecrecover trick.

    python tests/vectors/make_keywrap_vectors.py > tests/vectors/keywrap.json
"""

import hashlib
import json
import sys

from eth_utils import keccak

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        m = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        m = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (m * m - a[0] - b[0]) % P
    return x, (m * (a[0] - x) - a[1]) % P


def mul(k, pt):
    out = None
    while k:
        if k & 1:
            out = add(out, pt)
        pt = add(pt, pt)
        k >>= 1
    return out


def b32(i):
    return i.to_bytes(32, "big")


def scalar(label):
    return int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % N


def vector(i, licence_id, key_correct):
    p = scalar(f"delivery key {i}")
    pub = mul(p, G)
    while pub[0] >= N:  # the contract refuses keys the ecrecover trick cannot multiply
        p += 1
        pub = mul(p, G)
    r = scalar(f"r {i}")
    R = mul(r, G)
    s = keccak(b32(mul(r, pub)[0]) + b32(mul(r, pub)[1]))[12:]
    assert s == keccak(b32(mul(p, R)[0]) + b32(mul(p, R)[1]))[12:]  # both sides derive the same s
    content_key = hashlib.sha256(f"content key {i}".encode()).digest()
    delivered = content_key if key_correct else hashlib.sha256(f"wrong key {i}".encode()).digest()
    mask = keccak(s + b32(licence_id))
    w = bytes(a ^ b for a, b in zip(delivered, mask))
    return {
        "licenceId": licence_id,
        "contentKey": content_key.hex(),
        "keyHash": keccak(content_key).hex(),
        "deliveryPrivateKey": b32(p).hex(),
        "deliveryKeyX": b32(pub[0]).hex(),
        "deliveryKeyY": b32(pub[1]).hex(),
        "r": hex(r),
        "rX": b32(R[0]).hex(),
        "rY": b32(R[1]).hex(),
        "s": s.hex(),
        "wrappedKey": w.hex(),
        "keyCorrect": key_correct,
    }


if __name__ == "__main__":
    vectors = [vector(1, 1, True), vector(2, 2, True), vector(3, 3, False), vector(4, 5, True)]
    json.dump(vectors, sys.stdout, indent=1)
    sys.stdout.write("\n")

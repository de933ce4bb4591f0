"""Generate tests/vectors/delivery_keys.json: one-time delivery keys derived from a wallet, for every client of
the format (the Python client, the browser page) to reproduce.

The wallet signs the fixed message with EIP-191 personal_sign (deterministic RFC 6979 signatures, as every
wallet makes them); the seed is keccak256("datalicense/delivery-seed/v1" || signature); key number i is
p = keccak256("datalicense/delivery-key/v1" || seed || uint256(i) || counter), the first counter giving
0 < p < n and a point with x < n. The points here are computed with the plain curve arithmetic of
make_keywrap_vectors.py, independently of coincurve.

    python tests/vectors/make_delivery_key_vectors.py > tests/vectors/delivery_keys.json
"""

import json
import sys
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).parent))
from make_keywrap_vectors import G, N, b32, mul  # noqa: E402

MESSAGE = (
    "DataLicense delivery keys\n"
    "chain: {chain_id}\n"
    "contract: {contract}\n"
    "Signing this derives the one-time keys your data licences are delivered to. "
    "Sign it only in DataLicense software you trust."
)
WALLETS = [
    # the first dev accounts of the mnemonic "test test ... junk" (public test keys)
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
]


def key(seed, index):
    counter = 0
    while True:
        p = int.from_bytes(keccak(b"datalicense/delivery-key/v1" + seed + b32(index) + bytes([counter])), "big")
        if 0 < p < N:
            pub = mul(p, G)
            if pub[0] < N:
                return p, pub
        counter += 1


def main():
    out = []
    for wallet in WALLETS:
        for chain_id, contract in ((33, "0x5fbdb2315678afecb367f032d93f642f64180aa3"),
                                   (31, "0x1234567890abcdef1234567890abcdef12345678")):
            message = MESSAGE.format(chain_id=chain_id, contract=contract)
            sig = bytes(Account.sign_message(encode_defunct(text=message), wallet).signature)
            seed = keccak(b"datalicense/delivery-seed/v1" + sig)
            for index in (0, 7, 2**64):
                p, pub = key(seed, index)
                out.append({
                    "walletPrivateKey": wallet, "chainId": chain_id, "contract": contract, "message": message,
                    "signature": sig.hex(), "seed": seed.hex(), "index": str(index),
                    "p": b32(p).hex(), "x": b32(pub[0]).hex(), "y": b32(pub[1]).hex(),
                    "address": keccak(b32(pub[0]) + b32(pub[1]))[12:].hex(),
                })
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

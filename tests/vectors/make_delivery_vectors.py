"""Generate tests/vectors/delivery.json: which delivery opens which version of which dataset, and the checks a
content key, a manifest and the decrypted data must pass, for every client (datalicense/protocol/delivery.py,
web/src/fetch.js) to reproduce.

The expected outcome of each case is written here by hand from the rule (docs/protocol.md, the contract's
deliverKey and redeliverKey), never computed by the code under test; the generator only fills in the data (key
commitments, age recipients, hashes).

    python tests/vectors/make_delivery_vectors.py > tests/vectors/delivery.json
"""

import hashlib
import json

import pyrage
from bech32 import bech32_encode, convertbits
from eth_utils import keccak


def content_key(n: int) -> bytes:
    return keccak(f"datalicense vector content key {n}".encode())


def recipient(key: bytes) -> str:
    identity = bech32_encode("age-secret-key-", convertbits(key, 8, 5)).upper()
    return str(pyrage.x25519.Identity.from_str(identity).to_public())


def h(b: bytes) -> str:
    return "0x" + b.hex()


K1, K2, K3 = content_key(1), content_key(2), content_key(3)
A, B, C = h(keccak(K1)), h(keccak(K2)), h(keccak(K3))  # C: a commitment no version of dataset 7 has
P1, P2, P3 = (hashlib.sha256(t).hexdigest() for t in (b"junk v1\n", b"the real version 2\n", b"v3\n"))


def version(n, key_hash, plain, block, dataset=7):
    return {"datasetId": dataset, "version": n, "manifestCid": f"bafkreiv{dataset}n{n}", "plaintextHash": "0x" + plain,
            "keyHash": key_hash, "block": block}


V1, V2, V3 = version(1, A, P1, 10), version(2, A, P2, 20), version(3, B, P3, 30)
STRANGER = version(5, B, P3, 35, dataset=8)  # another dataset's version copying our commitment
VERSIONS = [V1, V2, V3, STRANGER]


def esc(key_hash, block):
    return {"escrowed": True, "block": block, "logIndex": 0, "keyHash": key_hash}


def red(key_hash, block, log_index=1):
    return {"escrowed": False, "block": block, "logIndex": log_index, "keyHash": key_hash}


def bind(name, state, bought, deliveries, expect, confirm=None):
    case = {"name": name, "state": state, "datasetId": 7, "bought": bought, "versions": VERSIONS,
            "deliveries": deliveries}
    if isinstance(expect, str):
        case["error"] = expect
    else:
        case["targets"] = [{"delivery": d, "version": v} for d, v in expect]
        case["confirm"] = confirm
    return case


BIND = [
    bind("a reused commitment: the escrowed delivery opens the version bought (2), not version 1", "Delivered", 2,
         [esc(A, 22)], [(0, 2)], True),
    bind("the same once settled, with no newer delivery", "Settled", 2, [esc(A, 22)], [(0, 2)], False),
    bind("an escrowed delivery naming another version's commitment", "Delivered", 3, [esc(A, 32)], "escrow-not-bought"),
    bind("an escrowed delivery naming no version's commitment", "Delivered", 1, [esc(C, 12)], "escrow-not-bought"),
    bind("no delivery yet", "Pending", 1, [], "no-delivery"),
    bind("another dataset's version with our commitment is never the one opened", "Settled", 1,
         [esc(A, 12), red(B, 36)], [(1, 3), (0, 1)], False),
    bind("a redelivery opens the version current at its block; junk is ignored", "Settled", 1,
         [esc(A, 12), red(C, 26), red(A, 26, 2)], [(2, 2), (0, 1)], False),
    bind("a redelivery of an older version's commitment is ignored", "Settled", 1, [esc(A, 12), red(A, 31)],
         [(0, 1)], False),
    bind("newer versions first, newest first", "Settled", 1, [esc(A, 12), red(A, 21), red(B, 31)],
         [(2, 3), (1, 2), (0, 1)], False),
    bind("in escrow only the version bought is opened", "Delivered", 1, [esc(A, 12), red(B, 31)], [(0, 1)], True),
    bind("a disputed licence is never confirmed", "DataDisputed", 2, [esc(A, 22)], [(0, 2)], False),
]


def check(name, key, ver, manifest, plaintext, expect):
    return {"name": name, "contentKey": key.hex(), "version": ver, "manifest": manifest, "plaintext": plaintext,
            "expect": expect}


def manifest(sha, rcpt, size):
    return {"plaintextSha256": sha, "recipient": rcpt, "plaintextSize": size}


GOOD = manifest(P2, recipient(K1), 19)
CHECK = [
    check("version 2 as bought", K1, V2, GOOD, {"sha256": P2, "size": 19}, "ok"),
    check("a key that does not open the commitment", K2, V2, GOOD, {"sha256": P2, "size": 19}, "wrong-key"),
    check("version 1's manifest shown for version 2", K1, V2, manifest(P1, recipient(K1), 8), None, "manifest-hash"),
    check("a manifest naming a recipient the key does not open", K1, V2, manifest(P2, recipient(K2), 19), None,
          "manifest-recipient"),
    check("version 1's data decrypted for version 2", K1, V2, GOOD, {"sha256": P1, "size": 8}, "plaintext"),
    check("the right hash but a size other than the manifest's", K1, V2, GOOD, {"sha256": P2, "size": 18},
          "plaintext"),
]

REUSED = [
    {"name": "versions 1 and 2 share a commitment; another dataset's copy does not count", "datasetId": 7,
     "versions": VERSIONS, "reused": {"1": [2], "2": [1]}},
    {"name": "no reuse", "datasetId": 7, "versions": [V1, V3], "reused": {}},
]

FRESH = [
    {"name": "a commitment version 1 uses", "datasetId": 7, "keyHash": A, "versions": VERSIONS,
     "error": "reused-commitment"},
    {"name": "a commitment only another dataset uses", "datasetId": 7, "keyHash": h(keccak(b"x")),
     "versions": VERSIONS + [version(1, h(keccak(b"x")), P1, 5, dataset=9)], "error": None},
    {"name": "a new commitment", "datasetId": 7, "keyHash": C, "versions": VERSIONS, "error": None},
]

if __name__ == "__main__":
    print(json.dumps({"bind": BIND, "check": CHECK, "reused": REUSED, "fresh": FRESH}, indent=1))

"""Pools at a million contributors: off-chain build and claim, and the pool's gas, in one table.

Run: make bench-pool               (N=1,000,000, gas on brownie's `development` network)
     python bench/pool_million.py [N] [--network NAME] [--no-gas]

Off chain (a throwaway Kubo daemon, offline, own repository):
- `datalicense pool build` on a CSV of N random contributors, in its own process: wall time and peak memory
  (ru_maxrss of that process; the Kubo daemon's own memory is not the tool's and is not counted);
- a contributor's claim preparation: fetch its own shard of the tree directory, rebuild and verify its proof
  against the root, in its own process: bytes read from IPFS, the size of the directory's root block (what a
  remote node fetches to resolve the path), wall time and peak memory.
Gas (steady state, the budgets of issue 11): publish a pool, pooled buy against a plain buy, claim with a proof
from a 2^20 tree, revoke with the same proof.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZERO = "0x" + "00" * 20
DAY = 86400
PRICE = 2 * 10**15

_MEASURED = r"""
import resource, runpy, sys, time
t = time.perf_counter()
code = 0
try:
    sys.argv = sys.argv[1:]
    {body}
except SystemExit as e:
    code = e.code or 0
sys.stderr.write("\nMEASURE %f %d\n" % (time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def _measured(body: str, args: list[str], env: dict[str, str]) -> tuple[str, float, int]:
    """Run `body` in a fresh Python; return (stdout, seconds, peak RSS in KiB)."""
    p = subprocess.run([sys.executable, "-c", _MEASURED.replace("{body}", body), *args], capture_output=True,
                       text=True, env=env, cwd=ROOT)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("MEASURE ")]
    if p.returncode != 0 or not lines:
        raise SystemExit(f"measured run failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    _, secs, rss = lines[-1].split()
    return p.stdout, float(secs), int(rss)


def write_csv(path: Path, n: int, member: str) -> None:
    with open(path, "w") as f:
        f.write("account,weight\n")
        f.write(f"{member},7\n")
        batch = []
        for i in range(n - 1):
            batch.append(f"0x{os.urandom(20).hex()},{1 + i % 100}\n")
            if len(batch) == 10000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))


def off_chain(n: int) -> dict:
    from datalicense.services.localstack import KuboDaemon
    from datalicense.infra.ipfs import Storage

    member = "0x" + os.urandom(20).hex()
    out: dict = {"n": n}
    with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp, KuboDaemon() as kubo:
        src = Path(tmp) / "contributors.csv"
        write_csv(src, n, member)
        out["csv_bytes"] = src.stat().st_size
        env = dict(os.environ, DATALICENSE_IPFS_API=kubo.api_multiaddr, PYTHONPATH=str(ROOT))
        stdout, secs, rss = _measured("runpy.run_module('datalicense.cli.main', run_name='__main__')",
                                      ["datalicense", "--json", "pool", "build", str(src)], env)
        built = json.loads(stdout)
        out.update(build_s=secs, build_rss_kib=rss, cid=built["tree_cid"], shards=built["shards"],
                   root=built["root"])
        storage = Storage(kubo.api_multiaddr)
        stat = storage.client.files.stat(f"/ipfs/{built['tree_cid']}")
        out["tree_bytes"] = int(stat["CumulativeSize"])
        out["dir_block_bytes"] = len(storage.client.block.get(built["tree_cid"]))
        body = ("from datalicense.roles.pool import fetch_proof; from datalicense.infra.ipfs import Storage; "
                "p = fetch_proof(Storage(), sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3][2:])); "
                "print(p.downloaded, len(p.proof) // 2, p.weight)")
        stdout, secs, rss = _measured(body, ["x", built["tree_cid"], member, built["root"]], env)
        downloaded, depth, weight = map(int, stdout.split())
        assert weight == 7
        out.update(claim_bytes=downloaded, claim_s=secs, claim_rss_kib=rss, proof_levels=depth)
    return out


# ------------------------------------------------------------------------------------------------ gas


def _key():
    from datalicense.protocol import keywrap

    while True:
        priv = os.urandom(32)
        x, y = keywrap.public_key(priv)
        if keywrap.is_usable_key(x, y):
            return x, y


def _terms(asset=ZERO):
    return (PRICE, asset, 30 * DAY, 0, DAY, 2 * DAY, 0, False)


def _deep(account: str, weight: int, depth: int):
    """Top and proof of a leaf at `depth` in a sum tree (what a tree of 2^depth contributors gives)."""
    from datalicense.roles.pool import flat_proof, leaf_hash, node_hash

    h, s, proof = leaf_hash(account.lower(), weight), weight, []
    for _ in range(depth - 1):
        sib, ss = os.urandom(32), 1 + int.from_bytes(os.urandom(2), "big")
        proof.append((sib, ss))
        h, s = node_hash(h, s, sib, ss), s + ss
    sib, ss = os.urandom(32), 1 + int.from_bytes(os.urandom(2), "big")
    proof.append((sib, ss))
    return (h, s, sib, ss), flat_proof(proof)


def gas(network_name: str) -> dict[str, int]:
    from brownie import network, project

    import benchchain  # brownie's chain on a free port
    from eth_utils import keccak

    from datalicense.protocol import keywrap

    p = project.load(ROOT, name="DataLicensePoolBench")
    p.load_config()
    benchchain.connect(network_name)
    try:
        from brownie import accounts

        admin, fees, arbiter, seller, buyer, agent, curator = accounts[:7]
        members = [accounts[7], accounts[8], accounts[9]]
        market = p.DataLicense.deploy(admin, fees, arbiter, 250, 10**15, {"from": admin})
        lens = p.DataLicenseLens.deploy(market, {"from": admin})
        impl = p.RevenuePool.deploy(market, {"from": admin})
        g: dict[str, list[int]] = {}

        def rec(key, tx):
            g.setdefault(key, []).append(tx.gas_used)
            return tx

        def sale(dataset_id, k, key="buy"):
            x, y = _key()
            now = lens.offer(dataset_id)
            tx = rec(key, market.buy((dataset_id, now["termsId"], now["version"], now["settingsId"], ZERO, x, y),
                                     {"from": buyer, "value": PRICE}))
            lid = tx.events["LicencePurchased"]["licenceId"]
            w = keywrap.wrap_key(k, lid, x, y, 4242)
            market.deliverKey(lid, "0x" + keywrap.point_address(x, y).hex(), keccak(k), *w.as_args(), {"from": agent})
            market.confirm(lid, {"from": buyer})

        # a plain dataset
        k0 = os.urandom(32)
        tx = market.publish(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(k0), keccak(b"t"), _terms(), agent,
                            {"from": seller})
        plain = tx.return_value
        for _ in range(3):
            sale(plain, k0, "buy")
        # pools: a 2^20 tree (the proof depth a million contributors give); members 7, 8, 9 at depth 20
        pools = []
        for i in range(2):
            top, _ = _deep(members[0].address, 1, 20)
            tx = rec("pool_create", impl.create(curator, ZERO, top, b"bafy-tree-directory-cid-of-59-characters-xxxxxxxxxxxxxxxx",
                                                {"from": curator}))
            pools.append(p.RevenuePool.at(tx.events["PoolCreated"]["pool"]))
        # the measured pool: three members' leaves in one tree
        from datalicense.roles.pool import PoolTree, flat_proof, node_hash

        tree = PoolTree.build([(m.address, 1) for m in members])
        base = len(tree.proof(members[0].address)[1]) // 2
        # put the members' subtree under random siblings up to 20 levels (a 2^20 tree's proof length)
        extra = [(os.urandom(32), 1 + int.from_bytes(os.urandom(2), "big")) for _ in range(20 - base)]
        h, s = tree.root, tree.total_weight
        for sib, ss in extra[:-1]:
            h, s = node_hash(h, s, sib, ss), s + ss
        top = (h, s, *extra[-1])
        tx = rec("pool_create", impl.create(curator, ZERO, top, b"bafy-tree", {"from": curator}))
        pool = p.RevenuePool.at(tx.events["PoolCreated"]["pool"])
        proofs = {}
        for m in members:
            w, pr = tree.proof(m.address)
            proofs[m] = pr + flat_proof(extra)
        k = os.urandom(32)
        rec("pool_publish_dataset", pool.publishDataset(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(k),
                                                        keccak(b"t"), _terms(), agent, {"from": curator}))
        ds = pool.datasetId()
        for _ in range(3):
            sale(ds, k, "pool_buy")
        levels = len(proofs[members[0]]) // 2
        rec("pool_claim_sync", pool.claim(1, ZERO, 1, proofs[members[0]], {"from": members[0]}))  # pulls revenue
        sale(ds, k, "pool_buy")
        pool.sync({"from": curator})
        rec("pool_claim", pool.claim(1, ZERO, 1, proofs[members[1]], {"from": members[1]}))  # first claim
        sale(ds, k, "pool_buy")
        pool.sync({"from": curator})
        rec("pool_claim", pool.claim(1, ZERO, 1, proofs[members[0]], {"from": members[0]}))  # steady
        sale(ds, k, "pool_buy")
        rec("pool_claim_sync", pool.claim(1, ZERO, 1, proofs[members[1]], {"from": members[1]}))
        # never claimed in this epoch: the full proof, and the record is created
        rec("pool_revoke_new", pool.revokeConsent(1, proofs[members[2]], {"from": members[2]}))
        # claimed before, full proof anyway
        rec("pool_revoke_proof", pool.revokeConsent(1, proofs[members[1]], {"from": members[1]}))
        # claimed before: the pool knows the weight, no proof (what `pool revoke` sends)
        assert pool.knownWeight(1, members[0]) == 1
        rec("pool_revoke", pool.revokeConsent(1, [], {"from": members[0]}))
        return {"g": g, "levels": levels}
    finally:
        network.disconnect()


BUDGETS = [
    ("pool_create", "publish a pool (create: one root, any size)", lambda g: 150_000),
    ("pool_publish_dataset", "the pool publishes its dataset (marketplace publish through the pool)", None),
    ("buy", "plain buy (RBTC)", None),
    ("pool_buy", "pooled buy (RBTC)", lambda g: g["buy"][-1] + 15_000),
    ("pool_claim", "claim, 2^20 proof, revenue already in the pool", lambda g: 90_000),
    ("pool_claim_sync", "claim, 2^20 proof, also pulling revenue from the marketplace", None),
    # A revocation is a storage write the revoker's record needs: 21,000 per transaction, about 14,000 of calldata
    # for a 20-level proof of (hash, sum) pairs, and 20,000 more when the record is new. A contributor who claimed
    # in the epoch is known by its weight, so `pool revoke` sends no proof: that is the budgeted case.
    ("pool_revoke_new", "revoke, 2^20 proof, never claimed in the epoch (new record)", None),
    ("pool_revoke_proof", "revoke, 2^20 proof, claimed before", None),
    ("pool_revoke", "revoke, claimed before (no proof: `pool revoke`)", lambda g: 60_000),
]


def gas_table(res: dict) -> str:
    g = res["g"]
    lines = [f"Gas (Ganache 7.9.2 berlin, solc 0.8.24; proofs of {res['levels']} levels)", "",
             "| operation | first | steady | budget | within |", "|---|---:|---:|---:|:---:|"]
    for key, label, budget in BUDGETS:
        vals = g.get(key, [0])
        b = budget(g) if budget else None
        ok = "" if b is None else ("yes" if vals[-1] <= b else "NO")
        lines.append(f"| {label} | {vals[0]:,} | {vals[-1]:,} | {'' if b is None else f'{b:,}'} | {ok} |")
    return "\n".join(lines)


def off_chain_table(r: dict) -> str:
    mib = 1024 * 1024
    return "\n".join([
        f"Pool of {r['n']:,} contributors (CSV {r['csv_bytes'] / mib:.1f} MiB): tree of {r['shards']:,} address shards, "
        f"{r['tree_bytes'] / mib:.1f} MiB on IPFS, proofs of {r['proof_levels']} levels", "",
        "| step | time | peak memory | bytes | budget |", "|---|---:|---:|---:|---|",
        f"| pool build (stream CSV, hash, shard, add to IPFS) | {r['build_s']:.1f} s | "
        f"{r['build_rss_kib'] / 1024:.0f} MiB | | < 60 s, < 500 MiB |",
        f"| a claim's proof (fetch own shard, verify against the root) | {r['claim_s']:.2f} s | "
        f"{r['claim_rss_kib'] / 1024:.0f} MiB | {r['claim_bytes']:,} read + {r['dir_block_bytes']:,} directory block | "
        f"< 1 MiB, seconds |",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=1_000_000, help="contributors (default 1,000,000)")
    ap.add_argument("--network", default="development", help="brownie network for the gas rows")
    ap.add_argument("--no-gas", action="store_true", help="off-chain rows only")
    ap.add_argument("--no-tree", action="store_true", help="gas rows only")
    a = ap.parse_args()
    from figures import record

    if not a.no_tree:
        t = off_chain_table(off_chain(a.n))
        print(t, flush=True)
        if a.n == 1_000_000:
            record("pool_million", t)
    if not a.no_gas:
        print()
        t = gas_table(gas(a.network))
        print(t)
        record("pool_gas", t)


if __name__ == "__main__":
    main()

"""Gas per operation on the local Rootstock look-alike, beside the budgets and the anchors.

Run: make bench   (python bench/gas.py: loads the brownie project and launches the local chain)

"first" is the first time the parties do the operation (counters and balances start at zero);
"steady" is a repeat by the same parties (balances and counters already non-zero), which is what the
budgets are for. Ganache runs the berlin schedule; Rootstock's older schedule is cheaper for storage
reads, so these are upper bounds of the Rootstock figures.
"""

from __future__ import annotations

import os

import sys
from pathlib import Path

from brownie import network, project
from eth_abi import encode
from eth_utils import keccak

from datalicense import keywrap

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
PRICE = 2 * 10**15

ROWS = [
    # key, label, budget, anchor
    ("publish", "publish", 120_000, "Ocean 1,427,628"),
    ("buy_rbtc", "buy with RBTC", 120_000, "Ocean one-transaction 357,216"),
    ("buy_erc20", "buy with ERC-20 (after approve)", None, "Ocean approve+buyDT+startOrder ~267,548+"),
    ("buy_677", "buy with ERC-677 transferAndCall", 140_000, "Streamr revenue-in 314,481"),
    ("deliver", "deliver key", 55_000, ""),
    ("prove", "prove a delivery in a key dispute", 80_000, "(no peer can)"),
    ("confirm", "confirm", 45_000, ""),
    ("settle", "settle after the dispute window", 45_000, ""),
    ("withdraw", "withdraw RBTC", 40_000, "OZ Escrow 35,130"),
    ("pool_create", "publish a pool (one root, any number of contributors)", 150_000, "Streamr 5,788,869 / 100 members"),
    ("pool_buy", "buy a pooled dataset (1 or 1,000,000 contributors)", None, "plain buy + 15,000 budget"),
    ("pool_claim", "claim with a proof for 2^20 contributors", 80_000, "Streamr withdrawAll 128,155"),
    ("pool_claim_sync", "claim that also pulls new revenue into the pool", None, ""),
]


def _key():
    while True:
        priv = os.urandom(32)
        x, y = keywrap.public_key(priv)
        if keywrap.is_usable_key(x, y):
            return priv, x, y


def _terms(asset=ZERO):
    return (PRICE, asset, 30 * DAY, 0, DAY, 2 * DAY, 0, False)


def measure(p) -> dict[str, list[int]]:
    from brownie import accounts, chain

    DataLicense, TestToken = p.DataLicense, p.TestToken
    admin, fees, arbiter, seller, buyer, agent = accounts[:6]
    market = DataLicense.deploy(admin, fees, arbiter, 250, 10**15, {"from": admin})
    token = TestToken.deploy("Test RIF", "tRIF", {"from": admin})
    market.setAssetAllowed(token, True, {"from": admin})
    token.mint(buyer, 10**24, {"from": admin})
    gas: dict[str, list[int]] = {k: [] for k, *_ in ROWS}
    cid = b"\x01\x55\x12\x20" + os.urandom(32)

    def publish(asset=ZERO, record=True):
        k = os.urandom(32)
        tx = market.publish(cid, keccak(b"p"), keccak(k), keccak(b"t"), _terms(asset), agent, {"from": seller})
        if record:
            gas["publish"].append(tx.gas_used)
        return tx.events["DatasetPublished"]["datasetId"], k

    # publish without an agent is the budgeted figure; with an agent costs one more slot
    def publish_plain():
        k = os.urandom(32)
        tx = market.publish(cid, keccak(b"p"), keccak(k), keccak(b"t"), _terms(), ZERO, {"from": seller})
        gas["publish"].append(tx.gas_used)

    publish_plain()
    publish_plain()
    ds, content_key = publish(record=False)
    market.setAgent(ds, agent, {"from": seller})
    ds_tok, tok_key = publish(token.address, record=False)

    licences = []
    for _ in range(3):
        priv, x, y = _key()
        tx = market.buy(ds, ZERO, x, y, PRICE, {"from": buyer, "value": PRICE})
        gas["buy_rbtc"].append(tx.gas_used)
        licences.append((tx.events["LicencePurchased"]["licenceId"], priv, x, y))
    for _ in range(2):
        priv, x, y = _key()
        token.approve(market, PRICE, {"from": buyer})
        tx = market.buyWithToken(ds_tok, ZERO, x, y, PRICE, {"from": buyer})
        gas["buy_erc20"].append(tx.gas_used)
    for _ in range(2):
        priv, x, y = _key()
        data = encode(["uint256", "address", "bytes32", "bytes32"], [ds_tok, ZERO, x, y])
        tx = token.transferAndCall(market, PRICE, data, {"from": buyer})
        gas["buy_677"].append(tx.gas_used)

    wraps = {}
    for lid, priv, x, y in licences:
        r = int.from_bytes(os.urandom(31), "big") + 1
        w = keywrap.wrap_key(content_key, lid, x, y, r)
        tx = market.deliverKey(lid, *w.as_args(), {"from": agent})
        gas["deliver"].append(tx.gas_used)
        wraps[lid] = (r, w)

    # confirm licence 1 and 2 (first credit, then steady), dispute + prove licence 3
    for lid, *_ in licences[:2]:
        gas["confirm"].append(market.confirm(lid, {"from": buyer}).gas_used)
    lid, priv, x, y = licences[2]
    market.disputeKey(lid, {"from": buyer, "value": 10**15})
    r, w = wraps[lid]
    tx = market.proveKey(lid, (r, w.r_x, w.r_y, w.wrapped_key, x, y, keccak(content_key)), {"from": agent})
    gas["prove"].append(tx.gas_used)

    # settle after the window: two more licences
    more = []
    for _ in range(2):
        priv, x, y = _key()
        tx = market.buy(ds, ZERO, x, y, PRICE, {"from": buyer, "value": PRICE})
        lid = tx.events["LicencePurchased"]["licenceId"]
        w = keywrap.wrap_key(content_key, lid, x, y, 12345)
        market.deliverKey(lid, *w.as_args(), {"from": agent})
        more.append(lid)
    chain.sleep(3 * DAY)
    chain.mine()
    for lid in more:
        gas["settle"].append(market.settle(lid, {"from": admin}).gas_used)

    gas["withdraw"].append(market.withdraw(ZERO, seller, {"from": seller}).gas_used)
    priv, x, y = _key()
    tx = market.buy(ds, ZERO, x, y, PRICE, {"from": buyer, "value": PRICE})
    lid = tx.events["LicencePurchased"]["licenceId"]
    w = keywrap.wrap_key(content_key, lid, x, y, 777)
    market.deliverKey(lid, *w.as_args(), {"from": agent})
    market.confirm(lid, {"from": buyer})
    gas["withdraw"].append(market.withdraw(ZERO, seller, {"from": seller}).gas_used)
    measure_pools(p, market, gas)
    return gas


def _deep_root(leaf: bytes, depth: int) -> tuple[bytes, list[bytes]]:
    """A root in which `leaf` sits at `depth` (the proof a tree of 2^depth contributors gives)."""
    node, proof = leaf, []
    for _ in range(depth):
        sibling = os.urandom(32)
        proof.append(sibling)
        node = keccak(min(node, sibling) + max(node, sibling))
    return node, proof


def measure_pools(p, market, gas):
    from brownie import accounts

    from datalicense.pool import leaf_hash

    curator, buyer, agent = accounts[3], accounts[4], accounts[5]
    members = [accounts[7], accounts[8]]
    impl = p.RevenuePool.deploy(market, {"from": accounts[0]})
    leaves = {}
    for size, m in ((1, members[0]), (1_000_000, members[1])):
        root, proof = _deep_root(leaf_hash(m.address, 1), 20) if size > 1 else (leaf_hash(m.address, 1), [])
        tx = impl.create(curator, root, size, b"bafy-tree", {"from": curator})
        gas["pool_create"].append(tx.gas_used)
        pool = p.RevenuePool.at(tx.events["PoolCreated"]["pool"])
        k = os.urandom(32)
        pool.publishDataset(b"\x01\x55" + os.urandom(8), keccak(b"p"), keccak(k), keccak(b"t"), _terms(), agent,
                            {"from": curator})
        leaves[size] = (pool, m, proof, k)
    for size in (1, 1_000_000):
        pool, m, proof, k = leaves[size]
        for _ in range(2):
            priv, x, y = _key()
            tx = market.buy(pool.datasetId(), ZERO, x, y, PRICE, {"from": buyer, "value": PRICE})
            gas["pool_buy"].append(tx.gas_used)
            lid = tx.events["LicencePurchased"]["licenceId"]
            w = keywrap.wrap_key(k, lid, x, y, 4242)
            market.deliverKey(lid, *w.as_args(), {"from": agent})
            market.confirm(lid, {"from": buyer})
    pool, m, proof, k = leaves[1_000_000]
    gas["pool_claim_sync"].append(pool.claim(1, 1, proof, {"from": m}).gas_used)  # pulls the revenue in
    pool.sync({"from": curator})
    priv, x, y = _key()
    tx = market.buy(pool.datasetId(), ZERO, x, y, PRICE, {"from": buyer, "value": PRICE})
    lid = tx.events["LicencePurchased"]["licenceId"]
    market.deliverKey(lid, *keywrap.wrap_key(k, lid, x, y, 99).as_args(), {"from": agent})
    market.confirm(lid, {"from": buyer})
    pool.sync({"from": curator})
    gas["pool_claim"].append(pool.claim(1, 1, proof, {"from": m}).gas_used)


def table(gas: dict[str, list[int]]) -> str:
    lines = [
        "| operation | first | steady | budget | within | anchor |",
        "|---|---:|---:|---:|:---:|---|",
    ]
    for key, label, budget, anchor in ROWS:
        values = gas[key]
        first, steady = values[0], values[-1]
        ok = "" if budget is None else ("yes" if steady <= budget else "NO")
        b = "" if budget is None else f"{budget:,}"
        lines.append(f"| {label} | {first:,} | {steady:,} | {b} | {ok} | {anchor} |")
    return "\n".join(lines)


def main():
    root = Path(__file__).resolve().parent.parent
    p = project.load(root, name="DataLicenseProject")
    p.load_config()
    network.connect("development")
    try:
        gas = measure(p)
    finally:
        network.disconnect()
    print("\nGas per operation (Ganache 7.9.2, berlin schedule, solc 0.8.24, optimizer 200 runs)\n")
    print(table(gas))


if __name__ == "__main__":
    sys.exit(main())

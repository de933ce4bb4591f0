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
import benchchain  # brownie's chain on a free port
from eth_abi import encode
from eth_utils import keccak

from datalicense.protocol import keywrap

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
PRICE = 2 * 10**15

ROWS = [
    # key, label, budget, anchor
    ("publish", "publish with an agent", 135_000, "Ocean 1,427,628"),
    ("buy_rbtc", "buy with RBTC", 120_000, "Ocean one-transaction 357,216"),
    ("buy_erc20", "buy with ERC-20 (after approve)", None, "Ocean approve+buyDT+startOrder ~267,548+"),
    ("buy_677", "buy with ERC-677 transferAndCall", 140_000, "Streamr revenue-in 314,481"),
    ("rotate", "rotate a delivered licence's delivery key", None, ""),
    ("deliver", "deliver key", 50_000, ""),
    ("dispute_wrong", "buyer's key dispute, wrong key (refund)", 55_000, "(no peer can)"),
    ("dispute_right", "buyer's key dispute, right key (settles)", 55_000, "(no peer can)"),
    ("confirm_balance", "confirm, seller already owed", 40_000, ""),
    ("confirm_fresh", "confirm, seller owed nothing", 55_000, ""),
    ("settle", "settle after the dispute window", 45_000, ""),
    ("withdraw", "withdraw RBTC", 40_000, "OZ Escrow 35,130"),
    ("dispute_data", "data dispute (bond)", None, ""),
    ("resolve", "arbiter's ruling", None, ""),
]


def _key():
    while True:
        priv = os.urandom(32)
        x, y = keywrap.public_key(priv)
        if keywrap.is_usable_key(x, y):
            return priv, x, y


def _addr(x, y):
    return "0x" + keywrap.point_address(x, y).hex()


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

    publish()
    ds, content_key = publish()
    key_hash = keccak(content_key)
    ds_tok, _ = publish(token.address, record=False)

    def buy(record=None):
        priv, x, y = _key()
        tx = market.buy((ds, ds, 1, 1, ZERO, x, y), {"from": buyer, "value": PRICE})
        if record:
            gas[record].append(tx.gas_used)
        return tx.events["LicencePurchased"]["licenceId"], priv, x, y

    def deliver(lid, x, y, k=None, record=None):
        r = int.from_bytes(os.urandom(31), "big") + 1
        w = keywrap.wrap_key(k or content_key, lid, x, y, r)
        tx = market.deliverKey(lid, _addr(x, y), key_hash, *w.as_args(), {"from": agent})
        if record:
            gas[record].append(tx.gas_used)
        return w

    licences = [buy("buy_rbtc") for _ in range(3)]
    for _ in range(2):
        priv, x, y = _key()
        token.approve(market, PRICE, {"from": buyer})
        gas["buy_erc20"].append(market.buyWithToken((ds_tok, 3, 1, 1, ZERO, x, y), {"from": buyer}).gas_used)
    for _ in range(2):
        priv, x, y = _key()
        data = encode(["uint256", "uint256", "uint256", "uint256", "address", "bytes32", "bytes32"],
                      [ds_tok, 3, 1, 1, ZERO, x, y])
        gas["buy_677"].append(token.transferAndCall(market, PRICE, data, {"from": buyer}).gas_used)

    wraps = {lid: deliver(lid, x, y, record="deliver") for lid, priv, x, y in licences}
    # a rotation after delivery: later deliveries (of newer versions) go to the new key
    _, rx, ry = _key()
    gas["rotate"].append(market.rotateDeliveryKey(licences[0][0], rx, ry, {"from": buyer}).gas_used)

    # confirm: the seller is owed nothing yet, then it is
    gas["confirm_fresh"].append(market.confirm(licences[0][0], {"from": buyer}).gas_used)
    gas["confirm_balance"].append(market.confirm(licences[1][0], {"from": buyer}).gas_used)
    # a buyer's key dispute of a good delivery settles it (the client would refuse to send it)
    lid, priv, x, y = licences[2]
    w = wraps[lid]
    gas["dispute_right"].append(
        market.disputeKey(lid, int.from_bytes(priv, "big"), (w.r_x, w.r_y, w.wrapped_key, key_hash),
                          {"from": buyer}).gas_used)
    # wrong keys: the buyer proves them and is refunded in the same transaction
    for _ in range(2):
        lid, priv, x, y = buy()
        w = deliver(lid, x, y, k=os.urandom(32))
        gas["dispute_wrong"].append(
            market.disputeKey(lid, int.from_bytes(priv, "big"), (w.r_x, w.r_y, w.wrapped_key, key_hash),
                              {"from": buyer}).gas_used)
    # the seller withdraws, so the next confirm credits an empty balance again
    gas["withdraw"].append(market.withdraw(ZERO, seller, {"from": seller}).gas_used)
    for record in ("confirm_fresh", "confirm_balance"):
        lid, priv, x, y = buy()
        deliver(lid, x, y)
        gas[record].append(market.confirm(lid, {"from": buyer}).gas_used)
    # data disputes and rulings
    for _ in range(2):
        lid, priv, x, y = buy()
        deliver(lid, x, y)
        gas["dispute_data"].append(market.disputeData(lid, {"from": buyer, "value": 10**15}).gas_used)
        gas["resolve"].append(market.resolveData(lid, 5_000, {"from": arbiter}).gas_used)

    # settle after the window: two more licences
    more = []
    for _ in range(2):
        lid, priv, x, y = buy()
        deliver(lid, x, y)
        more.append(lid)
    chain.sleep(3 * DAY)
    chain.mine()
    for lid in more:
        gas["settle"].append(market.settle(lid, {"from": admin}).gas_used)
    gas["withdraw"].append(market.withdraw(ZERO, seller, {"from": seller}).gas_used)
    return gas


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
    import argparse

    from figures import record

    ap = argparse.ArgumentParser(description="Marketplace gas per operation (a table; also docs/figures/).")
    ap.add_argument("--network", default="development", help="brownie development network to run on")
    a = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    p = project.load(root, name="DataLicenseProject")
    p.load_config()
    benchchain.connect(a.network)
    try:
        gas = measure(p)
    finally:
        network.disconnect()
    print("\nMarketplace gas per operation (Ganache 7.9.2, berlin schedule, solc 0.8.24, optimizer 200 runs)\n")
    print(table(gas))
    record("marketplace_gas", table(gas))


if __name__ == "__main__":
    sys.exit(main())

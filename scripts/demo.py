"""The main job on the local stack: `make demo`.

Brownie launches the local chain (Ganache as a Rootstock regtest look-alike); this script starts a throwaway
Kubo daemon, deploys the marketplace, and then tells the whole licensing story with the `datalicense` client:
a data owner publishes a generated dataset, a buyer pays into escrow, the owner's agent delivers the key,
the buyer fetches, verifies and confirms, and the owner withdraws; a wrong key is proved by the buyer alone and
refunded in one transaction; then a pooled dataset pays three contributors by weight. Everything it started is stopped at the end.
"""

import csv
import datetime
import os
import random
import tempfile
import time
from pathlib import Path

from brownie import chain, web3
from web3 import Web3

from datalicense import Client, IntegrityError
from datalicense.protocol import keywrap
from datalicense.services.agent import Agent
from datalicense.infra.chain import connect, format_amount, load_account
from datalicense.services.localstack import KuboDaemon
from datalicense.infra.ipfs import Storage


def say(text=""):
    print(text, flush=True)


def sample_dataset(path: Path, rows: int = 20_000) -> None:
    rnd = random.Random(7)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["visit_id", "age_band", "region", "diagnosis_code", "length_of_stay_days"])
        for i in range(rows):
            w.writerow([i, rnd.choice(["18-29", "30-44", "45-64", "65+"]), rnd.choice(["north", "south", "east", "west"]),
                        rnd.choice(["J45", "E11", "I10", "M54", "F32"]), rnd.randint(0, 14)])


def main():
    from scripts.deploy import deploy

    # the client talks to the chain this run started, never to a stack the user keeps running
    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri
    started = time.monotonic()
    block = web3.eth.get_block("latest")
    say(f"== local chain: chain id {chain.id}, block gas limit {block['gasLimit']:,}, "
        f"gas price {web3.eth.gas_price / 1e9:.2f} gwei (legacy transactions)")
    with tempfile.TemporaryDirectory(prefix="datalicense-demo-") as tmp, KuboDaemon() as kubo:
        tmp = Path(tmp)
        say(f"== Kubo {Storage(kubo.api_multiaddr).version()} RPC API at {kubo.api_url}")
        os.environ["DATALICENSE_DEPLOYMENTS"] = str(tmp / "deployments")  # this run's chain: never a user's record
        market = deploy(quiet=True)
        say(f"== DataLicense deployed at {market.address} (gas {market.tx.gas_used:,})")

        w3 = connect("local")
        storage = Storage(kubo.api_multiaddr)
        seller = Client(w3, load_account("dev:3", w3), storage, market.address, tmp / "seller")
        agent = Client(w3, load_account("dev:5", w3), storage, market.address, tmp / "seller")
        buyer = Client(w3, load_account("dev:4", w3), storage, market.address, tmp / "buyer")
        say(f"   data owner {seller.conn.account.address}\n   agent      {agent.conn.account.address}\n"
            f"   buyer      {buyer.conn.account.address}")

        def balances(label):
            s, b = w3.eth.get_balance(seller.conn.account.address), w3.eth.get_balance(buyer.conn.account.address)
            say(f"   balances {label}: owner {format_amount(s)}, buyer {format_amount(b)}, "
                f"marketplace holds {format_amount(w3.eth.get_balance(market.address))}")
            return s, b

        src = tmp / "clinic-visits.csv"
        sample_dataset(src)
        say(f"\n1. The owner publishes {src.name} ({src.stat().st_size:,} bytes): encrypt (age), add to IPFS, "
            "one transaction")
        pub = seller.seller.publish(src, title="Clinic visits 2025 (synthetic)", price="0.002",
                                    media_type="text/csv", description="Anonymised visit records",
                                    agent=agent.conn.account.address)
        say(f"   dataset {pub.dataset_id}: manifest {pub.manifest_cid}\n   ciphertext {pub.ciphertext_cid}\n"
            f"   plaintext sha256 {pub.plaintext_sha256}\n   tx {pub.tx_hash}, gas {pub.gas_used:,}")

        info = buyer.reader.dataset(pub.dataset_id)
        say(f"\n2. The buyer finds it: \"{info.manifest['title']}\" for {info.price_text}, "
            f"{info.duration // 86400}-day licence")
        s0, b0 = balances("before")
        bought = buyer.buyer.buy(pub.dataset_id)
        say(f"   licence {bought.licence_id} bought: tx {bought.tx_hash}, gas {bought.gas_used:,}")
        balances("after purchase")

        say("\n3. The owner's agent sees the purchase and delivers the key wrapped to the buyer's key")
        stats = Agent(agent, tmp / "agent.sqlite").run(once=True)
        d = buyer.conn.contract.events.KeyDelivered().get_logs(from_block=0, argument_filters={"licenceId": bought.licence_id})[0]
        rcpt = w3.eth.get_transaction_receipt(d["transactionHash"])
        say(f"   delivered {stats.delivered}: tx {d['transactionHash'].to_0x_hex()}, gas {rcpt['gasUsed']:,}")

        out = tmp / "download" / "clinic-visits.csv"
        out.parent.mkdir()
        say("\n4. The buyer fetches: unwrap the key, check its commitment, download, decrypt, check the hash")
        res = buyer.buyer.fetch(bought.licence_id, out)
        same = out.read_bytes() == src.read_bytes()
        say(f"   {res.size:,} bytes, sha256 {res.sha256} = on-chain commitment; identical to the original: {same}")
        say(f"   confirmed: tx {res.confirmed_tx}")
        lic = buyer.reader.licence(bought.licence_id)
        expires = datetime.datetime.fromtimestamp(lic.expires_at).astimezone().strftime("%Y-%m-%d %H:%M %Z")
        say(f"   licence {lic.licence_id}: {lic.state}, valid {lic.valid}, expires {expires}")

        say("\n5. The owner withdraws the revenue (price less the 2.5% platform fee)")
        owed = seller.reader.owed()
        r = seller.seller.withdraw()
        say(f"   withdrew {format_amount(owed)}: tx {r.tx_hash}, gas {r.gas_used:,}")
        s1, b1 = balances("after")
        say(f"   owner +{format_amount(s1 - s0)} (after gas), buyer -{format_amount(b0 - b1)} (price + gas)")
        if not same:
            raise SystemExit("the fetched data differs from the original")

        say("\n6. A wrong key: the buyer proves it alone, in one transaction, and is refunded at once")
        lic3 = buyer.buyer.buy(pub.dataset_id, again=True)  # a second licence, on purpose
        keys = buyer.reader.delivery_keys(lic3.licence_id)[-1]
        junk = keywrap.wrap_key(os.urandom(32), lic3.licence_id, keys["x"], keys["y"], 4242)
        seller.conn.tx.send(seller.conn.contract.functions.deliverKey(
            lic3.licence_id, Web3.to_checksum_address(keywrap.point_address(keys["x"], keys["y"])),
            bytes.fromhex(pub.key_hash[2:]), *junk.as_args()), what="a wrong delivery")
        try:
            buyer.buyer.fetch(lic3.licence_id, tmp / "download" / "never.csv")
        except IntegrityError as exc:
            say(f"   fetch refused: {exc}")
        r = buyer.buyer.dispute(lic3.licence_id)
        say(f"   key dispute: licence {lic3.licence_id} is {buyer.reader.licence(lic3.licence_id).state}, "
            f"buyer owed {format_amount(buyer.reader.owed())}; tx {r.tx_hash}, gas {r.gas_used:,} (no seller needed)")
        buyer.seller.withdraw()  # any account the marketplace owes withdraws this way, a refunded buyer too

        say("\n7. A data pool: three people's records, one licence, everyone paid by weight")
        from datalicense.roles.pool import PoolClient, PoolTree

        members = [load_account(f"dev:{n}", w3) for n in (7, 8, 9)]
        tree = PoolTree.build([(m.address, w) for m, w in zip(members, (1, 2, 5))])
        tree_cid = tree.store(storage)
        pool_address = PoolClient.create(seller.conn, tree.info)
        say(f"   pool {pool_address}: root 0x{tree.root.hex()[:16]}… (a Merkle sum tree), weights 1/2/5, "
            f"tree {tree_cid}")
        pooled = seller.seller.publish(src, title="Pooled visits", price="0.004", agent=agent.conn.account.address,
                                       pool=pool_address, description="three contributors")
        lic2 = buyer.buyer.buy(pooled.dataset_id)
        Agent(agent, tmp / "agent.sqlite").run(once=True)
        buyer.buyer.fetch(lic2.licence_id, tmp / "download" / "pooled.csv")
        say(f"   licence {lic2.licence_id} bought for {lic2.price_text}, delivered by the agent, fetched and confirmed")
        for n, m in zip((7, 8, 9), members):
            member = Client(w3, m, storage, market.address, tmp / f"member{n}")
            done = member.pool(pool_address).claim()
            say(f"   contributor {m.address[:10]}… claimed {format_amount(sum(a for _, _, a, _ in done))}")
    say(f"\n== done in {time.monotonic() - started:.1f}s; Kubo stopped, brownie stops the chain")


if __name__ == "__main__":
    # `make demo` runs this file directly (brownie's `run` turns a script path into a module name, which fails
    # for a checkout whose path contains a dot): load the project, start its local chain, tell the story.
    import sys
    import warnings

    ROOT = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", category=FutureWarning)
    from brownie import network, project
    from brownie._config import CONFIG

    from datalicense.services.localstack import _free_port

    project.load(ROOT, name="DataLicenseProject").load_config()
    # a throwaway chain on a free port: two runs, or a run beside a user's stack, never collide
    dev = CONFIG.networks["development"]
    dev["cmd_settings"]["port"] = _free_port()
    dev["host"] = "http://127.0.0.1"
    network.connect("development")
    try:
        main()
    finally:
        network.disconnect()

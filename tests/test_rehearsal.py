"""A `--fork` rehearsal produces nothing the real chain accepts (issue 21, item 21).

Two Ganache chains: brownie's (the upstream, the "real" network) and the fork `--fork` starts of it. Before the fix
the fork kept the upstream's chain id, so a transaction the CLI signed for the rehearsal, read back from the fork's
RPC by anyone, was valid upstream with the same nonce: sent there, it made the purchase for real. Now the fork
runs under a rehearsal chain id (datalicense.protocol.rehearsal) that the client signs for, while it keeps reading
the upstream's deployments, keys and local state as the upstream's.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest
import rlp
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from datalicense.services.localstack import GanacheFork

from helpers import publish_file

pytestmark = pytest.mark.e2e


def _raw(tx) -> bytes:
    """The signed legacy transaction as it went over the wire, rebuilt from what the fork's RPC tells anyone."""
    to = bytes.fromhex(tx["to"][2:]) if tx["to"] else b""
    return rlp.encode([tx["nonce"], tx["gasPrice"], tx["gas"], to, tx["value"], bytes(tx["input"]), tx["v"],
                       int.from_bytes(bytes(tx["r"]), "big"), int.from_bytes(bytes(tx["s"]), "big")])


@pytest.fixture
def rehearsed(monkeypatch):
    """Every transaction mined on a `--fork` chain, read from its RPC just before the fork stops."""
    seen: list[bytes] = []
    stop = GanacheFork.stop
    upstream = Web3(Web3.HTTPProvider(os.environ["DATALICENSE_LOCAL_RPC"]))

    def read_then_stop(self):
        if self.proc is not None:
            w3 = Web3(Web3.HTTPProvider(self.url))
            for n in range(max(0, upstream.eth.block_number - 10), w3.eth.block_number + 1):
                for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
                    try:
                        upstream.eth.get_transaction(tx["hash"])
                    except TransactionNotFound:
                        seen.append(_raw(tx))  # made on the fork only
        stop(self)

    monkeypatch.setattr(GanacheFork, "stop", read_then_stop)
    return seen


def test_a_rehearsed_purchase_read_from_the_fork_is_refused_upstream(run_inprocess, make, rehearsed, tmp_path):
    """Before the fix the replayed purchase was mined upstream: the buyer paid and held a licence it only
    rehearsed."""
    seller = make(3)
    ds = publish_file(seller, tmp_path, "rehearsed data", agent=seller.conn.account.address).dataset_id
    upstream = Web3(Web3.HTTPProvider(os.environ["DATALICENSE_LOCAL_RPC"]))
    buyer = make(4, home="buyer")
    nonce, balance = upstream.eth.get_transaction_count(buyer.conn.account.address), upstream.eth.get_balance(
        buyer.conn.account.address)
    sold = seller.conn.market.dataset(ds).sold

    out = json.loads(run_inprocess("--fork", os.environ["DATALICENSE_LOCAL_RPC"], "--json", "buy", str(ds),
                                   account="dev:4").stdout)
    assert out["licence_id"] >= 1  # the rehearsal works: the purchase was made on the fork
    assert rehearsed, "the rehearsal sent no transaction to the fork"
    for raw in rehearsed:
        with pytest.raises((Web3RPCError, ValueError)):
            upstream.eth.send_raw_transaction(raw)
    assert upstream.eth.get_transaction_count(buyer.conn.account.address) == nonce
    assert upstream.eth.get_balance(buyer.conn.account.address) == balance
    assert seller.conn.market.dataset(ds).sold == sold


def test_a_rehearsal_reads_the_real_chains_records_and_signs_for_itself(run_inprocess, make, tmp_path):
    """The fork is still useful: the CLI names the upstream's chain, finds its deployments' marketplace and holds the
    same licences, while its transactions carry the rehearsal's chain id."""
    from datalicense.protocol.rehearsal import rehearsal_chain_id

    upstream = os.environ["DATALICENSE_LOCAL_RPC"]
    with GanacheFork(upstream) as fork:
        w3 = Web3(Web3.HTTPProvider(fork.url))
        assert w3.eth.chain_id == rehearsal_chain_id(33) != 33
        # the fork's Ganache, like the stack's, is no door for a web page: its RPC is not at the port's root
        r = httpx.post(f"http://127.0.0.1:{fork.port}/", json={"jsonrpc": "2.0", "id": 1, "method": "eth_accounts",
                                                               "params": []}, headers={"Origin": "http://evil.example"})
        assert r.status_code == 404 and "result" not in r.text
    who = json.loads(run_inprocess("--fork", upstream, "--json", "whoami", account="dev:4").stdout)
    assert who["chain_id"] == 33


def test_the_page_of_a_rehearsal_has_the_wallet_sign_for_the_fork(kubo, market, tmp_path):
    """Before the fix the page on a fork (`datalicense --fork URL web`) told the wallet to use the real chain's id
    (and, for Rootstock testnet and mainnet, the real chain's RPC): what the wallet signed in a rehearsal was valid
    on the real chain, or was sent there."""
    from datalicense import Client
    from datalicense.protocol.rehearsal import rehearsal_chain_id
    from datalicense.infra.ipfs import Storage
    from datalicense.services.web import Running, Web

    with GanacheFork(os.environ["DATALICENSE_LOCAL_RPC"]) as fork:
        w3 = Web3(Web3.HTTPProvider(fork.url))
        reader = Client(w3, None, Storage(kubo.api_multiaddr), market.address, tmp_path / "web")
        with Running(Web(reader, kubo.gateway_url, fork.url)) as page:
            config = httpx.get(page.url + "/api/config", timeout=30).json()
    assert config["chainId"] == rehearsal_chain_id(33) and config["chainIdHex"] == hex(rehearsal_chain_id(33))
    assert config["chain"]["rpcUrls"] == [fork.url] and "rehearsal" in config["chain"]["chainName"]
    assert "chain: 33\n" in config["deliveryKeyMessage"]  # the real chain's keys, as the terminal derives them


@pytest.fixture
def testnet_lookalike(tmp_path):
    """A second Ganache with Rootstock testnet's chain id (31) and the marketplace deployed: the upstream of a
    rehearsal of testnet, where the agent's defaults differ from the local chain's."""
    import signal
    import subprocess
    import time

    from datalicense.services.deploy import deploy_marketplace
    from datalicense.services.localstack import _free_port, find_ganache

    port = _free_port()
    proc = subprocess.Popen([find_ganache(), "--server.port", str(port), "--server.host", "127.0.0.1", "--chain.chainId",
                             "31", "--hardfork", "berlin", "--logging.quiet", "true", "--wallet.mnemonic",
                             "test test test test test test test test test test test junk", "--miner.defaultGasPrice",
                             "60000000", "--miner.blockGasLimit", "6800000"], start_new_session=True,
                            stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    try:
        for _ in range(300):
            try:
                w3.eth.block_number
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.1)
        contracts = deploy_marketplace(w3, tmp_path / "deployments" / "31.json")
        yield url, contracts["DataLicense"]["address"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_rehearsal_agent_on_a_fork_of_testnet_delivers_without_waiting_for_blocks_a_fork_never_mines(
        testnet_lookalike, kubo, tmp_path):
    """Before the fix the agent took testnet's 12 confirmations on a fork, which mines a block only per
    transaction: the rehearsed purchase was never delivered."""
    from datalicense import Client
    from datalicense.services.agent import Agent
    from datalicense.infra.chain import load_account
    from datalicense.infra.ipfs import Storage

    upstream, market = testnet_lookalike
    with GanacheFork(upstream) as fork:
        w3 = Web3(Web3.HTTPProvider(fork.url))

        def client(n, home):
            return Client(w3, load_account(f"dev:{n}", w3), Storage(kubo.api_multiaddr), market, tmp_path / home)

        seller, agent, buyer = client(3, "seller"), client(5, "seller"), client(4, "buyer")
        assert seller.conn.chain_id == 31 and seller.conn.rehearsal
        ds = publish_file(seller, tmp_path, "rehearsed on testnet", agent=agent.conn.account.address).dataset_id
        lid = buyer.buyer.buy(ds).licence_id
        assert Agent(agent, tmp_path / "agent.sqlite").run(once=True).delivered == 1
        buyer.buyer.fetch(lid, tmp_path / "out.csv")
        assert (tmp_path / "out.csv").read_text() == "rehearsed on testnet"

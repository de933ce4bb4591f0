"""`datalicense serve` in a child process: which datasets it offers (issue 21 item 16: a gateway that served every
dataset of the marketplace gave strangers' bait datasets its download threads)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from datalicense.infra.chain import account_address
from helpers import ZERO, free_ports, one_line_error, publish, publish_file

pytestmark = pytest.mark.e2e


def _serve(kubo, market, tmp_path, *args: str, account: str | None = "dev:3") -> tuple[subprocess.Popen, str]:
    port = free_ports(1)[0]
    env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / "gateway"), DATALICENSE_IPFS_API=kubo.api_multiaddr)
    cmd = [sys.executable, "-m", "datalicense.cli.main", "--address", market.address]
    cmd += ["--account", account] if account else []
    proc = subprocess.Popen(cmd + ["serve", "--port", str(port), *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"serve did not start: {proc.communicate()[1]}")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=15)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]


def test_serve_with_an_account_offers_that_accounts_datasets_only(make, kubo, market, stranger, tmp_path):
    seller = make(3, "seller")
    mine = publish_file(seller, tmp_path, "n,v\n1,1\n", ZERO).dataset_id
    theirs = publish(market, stranger, price=0).dataset_id
    proc, url = _serve(kubo, market, tmp_path)
    try:
        assert httpx.get(f"{url}/datasets/{mine}", timeout=30).status_code == 402
        r = httpx.get(f"{url}/datasets/{theirs}", timeout=30)
        assert r.status_code == 404 and "not served here" in r.json()["error"], r.text
    finally:
        err = _stop(proc)
    assert f"serving datasets of {seller.conn.tx.account.address}" in err, err
    proc, url = _serve(kubo, market, tmp_path, "--all-datasets")  # the operator's choice: every one
    try:
        assert httpx.get(f"{url}/datasets/{theirs}", timeout=30).status_code == 402
    finally:
        _stop(proc)


def test_serve_refuses_all_datasets_with_a_filter_in_one_line(run_process):
    p = run_process("serve", "--all-datasets", "--owner", "0x" + "11" * 20, check=False)
    one_line_error(p, "--all-datasets", prefix=None)


def test_the_account_address_is_read_without_its_key(tmp_path):
    from eth_account import Account

    assert account_address("dev:3") == "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    keystore = tmp_path / "k.json"
    keystore.write_text(__import__("json").dumps(Account.encrypt("0x" + "42" * 32, "a long password")))
    assert account_address(str(keystore)) == Account.from_key("0x" + "42" * 32).address  # no password asked

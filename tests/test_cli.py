"""End-to-end CLI: the real `datalicense` command against Ganache and Kubo; bad input gives one line."""

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def run(kubo, market, tmp_path):
    def run(*args, account="dev:3", check=True, home="home"):
        env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / home), DATALICENSE_IPFS_API=kubo.api_multiaddr)
        cmd = [sys.executable, "-m", "datalicense.cli", "--address", market.address]
        if account:
            cmd += ["--account", account]
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return run


def test_publish_list_show_buy_deliver_fetch(run, tmp_path):
    src = tmp_path / "clinic.csv"
    src.write_text("patient,visits\n1,3\n2,5\n")
    out = json.loads(run("--json", "publish", str(src), "--title", "Clinic visits", "--price", "0.002").stdout)
    ds = out["dataset_id"]
    listing = run("list").stdout
    assert "0.002 RBTC" in listing
    shown = run("show", str(ds), account="dev:4").stdout
    assert "Clinic visits" in shown and "text/csv" in shown
    bought = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)
    lid = bought["licence_id"]
    assert "delivered" in run("deliver", str(lid)).stdout
    dest = tmp_path / "got" / "clinic.csv"
    fetched = run("fetch", str(lid), "-o", str(dest), account="dev:4", home="buyer").stdout
    assert "matches the on-chain commitment" in fetched and "confirmed" in fetched
    assert dest.read_text() == src.read_text()
    mine = run("licences", account="dev:4", home="buyer").stdout
    assert f"{lid:>5}" in mine and "Settled" in mine and "valid" in mine
    withdrew = run("withdraw").stdout
    assert "withdrew 0.00195 RBTC" in withdrew


@pytest.mark.parametrize(
    "args,account,message",
    [
        (["show", "999"], "dev:4", "dataset 999 does not exist"),
        (["buy", "999"], "dev:4", "dataset 999 does not exist"),
        (["fetch", "999", "-o", "x"], "dev:4", "licence 999 does not exist"),
        (["publish", "/no/such/file", "--title", "t", "--price", "1"], "dev:3", "not a readable file"),
        (["publish", "README.md", "--title", "t", "--price", "cheap"], "dev:3", "not an amount"),
        (["--network", "rsk-mainnet", "list"], "dev:3", "cannot reach"),
        (["--network", "nowhere", "list"], "dev:3", "unknown network"),
        (["withdraw"], "dev:5", "NothingToWithdraw"),
        (["buy", "1"], "nobody", "no account 'nobody'"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(run, args, account, message):
    p = run(*args, account=account, check=False)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert message in lines[0]
    assert lines[0].startswith("error:")

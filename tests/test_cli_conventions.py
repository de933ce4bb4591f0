"""The CLI's conventions, as a new user meets them (issue 12): global options before or after the command, each
with its environment variable and an example per command in --help; address and delivery-key parameters; JSON
errors under --json; one JSON style (snake_case); dates, hours, percent and RBTC, not unix times, seconds, basis
points and wei; one-line errors for pools, Ctrl-C and `-o`; short reprs. Real chain and Kubo, CLI in process."""

from __future__ import annotations

import json
import re
import stat

import click
import pytest
from click.testing import CliRunner
from eth_utils import keccak

from datalicense.infra.ipfs import cid_to_bytes
from pools import pool_deployments

from helpers import ZERO, one_line_error, terms

pytestmark = pytest.mark.e2e

DEV4 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
DEV5 = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
CAMEL = re.compile(r"^[a-z]+[A-Z]")


@pytest.fixture
def run(run_inprocess, monkeypatch):
    monkeypatch.setenv("DATALICENSE_MANIFEST_TIMEOUT", "5")
    return run_inprocess


def _one_line(p, *needles):
    return one_line_error(p, *needles, prefix=None)


def _camel_keys(doc, where="$"):
    if isinstance(doc, dict):
        out = [f"{where}.{k}" for k in doc if isinstance(k, str) and CAMEL.match(k)]
        for k, v in doc.items():
            out += _camel_keys(v, f"{where}.{k}")
        return out
    if isinstance(doc, list):
        return [x for i, v in enumerate(doc) for x in _camel_keys(v, f"{where}[{i}]")]
    return []


def _publish(run, tmp_path, name="d.csv", text="a,b\n1,2\n", *extra):
    src = tmp_path / name
    src.write_text(text)
    return json.loads(run("--json", "publish", str(src), "--title", name, "--price", "0.001", *extra).stdout)


# ------------------------------------------------------------------------------------------- options


def test_global_options_work_after_the_command(run, tmp_path):
    ds = _publish(run, tmp_path, "after.csv", "x\n1\n", "--agent", "dev:5")["dataset_id"]
    shown = json.loads(run("show", str(ds), "--json", account=None).stdout)  # --json after the command
    assert shown["dataset_id"] == ds and shown["agent"] == DEV5  # --agent dev:5 became the address
    bought = run("buy", str(ds), "--account", "dev:4", "--json", account=None, home="buyer")
    assert json.loads(bought.stdout)["licence_id"] == 1
    # a command's own option of the same name wins (buy --version is the dataset version, not the program's)
    p = run("buy", str(ds), "--version", "7", "--again", account="dev:4", home="buyer", check=False)
    _one_line(p, "VersionChanged")


def test_help_shows_env_vars_defaults_and_one_example_per_command():
    from datalicense.cli.main import EXAMPLES, cli

    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0
    for env in ("DATALICENSE_NETWORK", "DATALICENSE_ACCOUNT", "DATALICENSE_IPFS_API", "DATALICENSE_HOME",
                "DATALICENSE_JSON"):
        assert env in top.output
    assert "default: local" in top.output

    def walk(group, prefix=()):
        for name, cmd in group.commands.items():
            yield prefix + (name,), cmd
            if isinstance(cmd, click.Group):
                yield from walk(cmd, prefix + (name,))

    missing = []
    for path, _cmd in walk(cli):
        text = runner.invoke(cli, ["--network", "http://127.0.0.1:1", *path, "--help"]).output
        if "Example: datalicense" not in text or "DATALICENSE_ACCOUNT" not in text:
            missing.append(" ".join(path))
        assert " ".join(path) in EXAMPLES
    assert not missing, f"commands without an example or the global options in --help: {missing}"
    assert "[default: 24.0]" in runner.invoke(cli, ["publish", "--help"]).output


# ---------------------------------------------------------------------------------- addresses, keys


def test_address_and_key_parameters(run, tmp_path):
    _one_line(run("list", "--owner", "dev:10", account=None, check=False), "dev:10", "dev:0 .. dev:9")
    _one_line(run("whoami", account="dev:10", check=False), "dev:10", "dev:0 .. dev:9")
    _one_line(run("whoami", account=DEV5, check=False), "is an address, not an account")
    _one_line(run("list", "--owner", "0x12", account=None, check=False), "not an address")
    _one_line(run("buy", "1", "--for", "dev:6", "--delivery-key", "zz", account="dev:4", check=False), "not hex")
    _one_line(run("buy", "1", "--for", "dev:6", "--delivery-key", "04" + "11" * 64, account="dev:4", check=False),
              "not an uncompressed secp256k1 public key")


def test_whoami_prints_address_in_the_network_casing_and_where_delivery_keys_come_from(run):
    out = json.loads(run("--json", "whoami", account="dev:4").stdout)
    assert out["address"] == DEV4 and out["chain_id"] == 33 and out["balance_text"].endswith(" RBTC")
    human = run("whoami", account="dev:4").stdout
    assert DEV4 in human and "delivery keys" in human


def test_display_address_is_eip1191_on_rootstock():
    from datalicense.infra.chain import display_address

    # EIP-1191 test vector for chain 30 (Rootstock mainnet)
    assert display_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 30) == \
        "0x5aaEB6053f3e94c9b9a09f33669435E7ef1bEAeD"
    assert display_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 33) == \
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


# ------------------------------------------------------------------------------------------------ JSON


def test_under_json_errors_are_json_too(run):
    p = run("show", "999", "--json", account=None, check=False)
    assert p.returncode == 1 and p.stdout == ""
    (line,) = [ln for ln in p.stderr.splitlines() if ln.strip()]
    doc = json.loads(line)
    assert doc["kind"] == "NotFoundError" and "dataset 999 does not exist" in doc["error"] and doc["exit_code"] == 1
    usage = run("--json", "show", "notanumber", account=None, check=False)
    assert usage.returncode == 2 and json.loads(usage.stderr)["kind"] == "BadParameter"
    refund = run("--json", "refund", "999", account="dev:4", check=False)
    doc = json.loads(refund.stderr)
    assert doc["revert"]["name"] == "UnknownLicence" and doc["revert"]["args"] == [999]


def test_one_json_style_snake_case_keys(run, tmp_path):
    docs = {}
    pub = _publish(run, tmp_path, "snake.csv", "s\n1\n")
    docs["publish"] = pub
    ds = pub["dataset_id"]
    docs["list"] = json.loads(run("--json", "list", account=None).stdout)
    docs["show"] = json.loads(run("--json", "show", str(ds), account=None).stdout)
    docs["buy"] = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)
    lid = docs["buy"]["licence_id"]
    docs["deliver"] = json.loads(run("--json", "deliver", str(lid)).stdout)
    docs["fetch"] = json.loads(run("--json", "fetch", str(lid), "-o", str(tmp_path / "got.csv"), "--no-confirm",
                                   account="dev:4", home="buyer").stdout)
    docs["confirm"] = json.loads(run("--json", "confirm", str(lid), account="dev:4", home="buyer").stdout)
    docs["licences"] = json.loads(run("--json", "licences", account="dev:4", home="buyer").stdout)
    docs["withdraw"] = json.loads(run("--json", "withdraw").stdout)
    docs["sales"] = json.loads(run("--json", "sales").stdout)
    docs["whoami"] = json.loads(run("--json", "whoami").stdout)
    docs["delivery-key"] = json.loads(run("--json", "delivery-key", account="dev:6", home="friend").stdout)
    docs["set-agent"] = json.loads(run("--json", "set-agent", str(ds), "dev:5").stdout)
    csv_file = tmp_path / "contributors.csv"
    csv_file.write_text(f"account,weight\n{DEV4},1\n{DEV5},3\n")
    docs["pool build"] = json.loads(run("--json", "pool", "build", str(csv_file), account=None).stdout)
    bad = {name: _camel_keys(doc) for name, doc in docs.items() if _camel_keys(doc)}
    assert not bad, bad
    assert docs["deliver"]["gas_used"] > 0 and docs["confirm"]["licence_id"] == lid
    assert docs["pool build"]["tree_cid"] and docs["pool build"]["total_weight"] == 4
    assert docs["withdraw"]["amount_text"] == "0.000975 RBTC"
    assert isinstance(docs["licences"][0]["next_at"], int)  # unix times stay in --json


# ------------------------------------------------------------------------------ human units and dates


def test_dates_not_unix_times_in_human_output(run, tmp_path):
    ds = _publish(run, tmp_path, "dates.csv", "d\n1\n")["dataset_id"]
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    p = run("refund", str(lid), account="dev:4", home="buyer", check=False)
    line = _one_line(p, "TooEarly", "possible from")
    assert DATE.search(line) and not re.search(r"\b1[6-9]\d{8}\b", line), line
    mine = run("licences", account="dev:4", home="buyer").stdout
    assert "refund possible from" in mine and DATE.search(mine) and not re.search(r"\b1[6-9]\d{8}\b", mine)
    doc = json.loads(run("--json", "refund", str(lid), account="dev:4", home="buyer", check=False).stderr)
    assert isinstance(doc["revert"]["args"][1], int)  # the unix time stays in --json


def test_terms_are_validated_before_the_upload_in_the_units_of_the_options(run, tmp_path):
    src = tmp_path / "terms.csv"
    src.write_text("t\n1\n")
    p = run("publish", str(src), "--title", "t", "--price", "0.001", "--delivery-hours", "0.5", check=False)
    _one_line(p, "delivery window 0.5 h is outside 1 h")
    uploads = list((tmp_path / "home").glob("chains/*/uploads/*.json")) + \
        list((tmp_path / "home").glob("chains/*/uploads/files/*"))
    assert not uploads, uploads  # nothing was encrypted or uploaded
    p = run("publish", str(src), "--title", "t", "--price", "0.001", "--transferable", "--royalty-bps", "20000",
            check=False)
    line = _one_line(p, "200%", "25%")
    assert "20000" not in line
    _one_line(run("publish", str(src), "--title", "t", "--price", "1e400", check=False),
              "above the largest the contracts accept", "79228162514.26")


def test_amounts_in_rbtc_not_wei(run, tmp_path, monkeypatch):
    from eth_account import Account

    ds = _publish(run, tmp_path, "amounts.csv", "m\n1\n")["dataset_id"]
    _one_line(run("buy", str(ds), "--max-price", "0.0005", account="dev:4", home="buyer", check=False),
              "0.001 RBTC", "0.0005 RBTC")
    ks = tmp_path / "poor.json"
    ks.write_text(json.dumps(Account.encrypt(Account.create().key, "pw")))
    monkeypatch.setenv("DATALICENSE_PASSWORD", "pw")
    line = _one_line(run("buy", str(ds), account=str(ks), check=False), "fund it first")
    assert "wei" not in line and "RBTC" in line
    line = _one_line(run("withdraw", account="dev:6", check=False), "NothingToWithdraw", "in RBTC for")
    assert "0x000000" not in line and "0x9965" not in line.lower()


# ------------------------------------------------------------------------------------------------ pools


def test_pool_errors_are_one_line(run, tmp_path, market):
    src = tmp_path / "p.csv"
    src.write_text("p\n1\n")
    _one_line(run("publish", str(src), "--title", "p", "--price", "0.001", "--pool", "dev:5", check=False),
              "is not a pool")
    _one_line(run("publish", str(src), "--title", "p", "--price", "0.001", "--pool", market.address, check=False),
              "is not a pool")
    _one_line(run("pool", "show", market.address, check=False), "is not a pool")
    _one_line(run("pool", "show", DEV5, check=False), "is not a pool")


def test_pool_build_create_twice_does_not_make_a_second_pool(run, tmp_path, market, accounts, monkeypatch):
    from brownie import RevenuePool

    impl = RevenuePool.deploy(market, {"from": accounts[0]})
    deps = pool_deployments(tmp_path, market, impl)
    monkeypatch.setenv("DATALICENSE_DEPLOYMENTS", str(deps))
    csv_file = tmp_path / "contributors.csv"
    csv_file.write_text(f"account,weight\n{DEV4},1\n{DEV5},3\n")
    first = json.loads(run("--json", "pool", "build", str(csv_file), "--create").stdout)["pool"]
    _one_line(run("pool", "build", str(csv_file), "--create", check=False), "already created pool", first,
              "--again")


# ------------------------------------------------------------------------------------ Ctrl-C, -o, reprs


def test_ctrl_c_during_encryption_is_one_clean_line(run, tmp_path, monkeypatch):
    from datalicense.infra import pipeline

    def interrupted(self, buf):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline._HashingRaw, "readinto", interrupted)
    src = tmp_path / "big.csv"
    src.write_text("x\n" * 1000)
    p = run("publish", str(src), "--title", "big", "--price", "0.001", check=False)
    assert p.returncode == 130
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines == ["interrupted during encryption: nothing was published"], p.stderr
    monkeypatch.undo()
    assert "no datasets yet" in run("list", account=None).stdout


def test_fetch_output_refuses_a_missing_folder_and_writes_into_a_folder(run, tmp_path):
    ds = _publish(run, tmp_path, "out.csv", "o\n1\n")["dataset_id"]
    lid = json.loads(run("--json", "buy", str(ds), account="dev:4", home="buyer").stdout)["licence_id"]
    run("deliver", str(lid))
    _one_line(run("fetch", str(lid), "-o", str(tmp_path / "typo-dir" / "file.csv"), account="dev:4", home="buyer",
                  check=False), "does not exist")
    assert not (tmp_path / "typo-dir").exists()
    folder = tmp_path / "downloads"
    folder.mkdir()
    got = json.loads(run("--json", "fetch", str(lid), "-o", str(folder), account="dev:4", home="buyer").stdout)
    assert got["path"] == str(folder / f"dataset-{ds}-v1.csv")
    assert (folder / f"dataset-{ds}-v1.csv").read_text() == "o\n1\n"


def test_results_have_short_reprs():
    from datalicense.services.agent import AgentStats
    from datalicense.infra.chain import Receipt

    r = Receipt("0x" + "ab" * 32, 21000, 7, [{"data": "0x" + "00" * 4000}] * 10, {"logs": ["x" * 10_000]})
    assert len(repr(r)) < 200 and "0xabab" in repr(r)
    assert str(AgentStats(delivered=2, failed=1)) == "delivered 2, re-delivered 0, skipped 0, failed 1"


# ------------------------------------------------------------------------------- show, data folder


def test_show_of_a_broken_manifest_says_why_with_the_on_chain_facts(run, kubo, market, accounts):
    from datalicense.infra.ipfs import Storage

    cid = Storage(kubo.api_multiaddr).add_bytes(b"this is not json")
    tx = market.publish(cid_to_bytes(cid), keccak(b"p"), keccak(b"k"), keccak(b"licence"), terms(price=10**15),
                        ZERO, {"from": accounts[6]})
    ds = tx.events["DatasetPublished"]["datasetId"]
    out = run("show", str(ds), account=None).stdout
    head = out.splitlines()[0]
    assert f"dataset {ds}:" in head and "JSON" in head, out
    assert "0.001 RBTC" in out and "windows" in out and "owner" in out


def test_data_folder_and_its_folders_are_private(run, tmp_path):
    _publish(run, tmp_path, "private.csv", "k\n1\n")
    home = tmp_path / "home"
    folders = [home] + [p for p in home.rglob("*") if p.is_dir()]
    assert len(folders) > 2
    loose = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in folders
             if stat.S_IMODE(p.stat().st_mode) & 0o077}
    assert not loose, loose

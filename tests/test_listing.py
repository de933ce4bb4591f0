"""`datalicense list` people can read: title, media type and size; filters; manifests cached in the index;
datasets whose manifest is unreachable, too large, not JSON or of the wrong schema are listed with the reason
and never break the others (a publisher can put any CID on chain)."""

import json

import pytest
from eth_utils import keccak

from datalicense.infra.ipfs import cid_to_bytes

from helpers import ZERO, terms

pytestmark = pytest.mark.e2e

MISSING_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # sha256 of "a", never added


@pytest.fixture
def run(run_inprocess, monkeypatch):
    """The `datalicense` entry point, in this process (conftest.run_inprocess)."""
    monkeypatch.setenv("DATALICENSE_MANIFEST_TIMEOUT", "5")
    return run_inprocess


def _raw_publish(market, owner, cid, price=10**15, asset=ZERO):
    tx = market.publish(cid_to_bytes(cid), keccak(b"p" + cid.encode()), keccak(b"k" + cid.encode()),
                        keccak(b"licence"), terms(price=price, asset=asset), ZERO, {"from": owner})
    return tx.events["DatasetPublished"]["datasetId"]


def test_list_shows_titles_and_lists_broken_manifests_with_their_reason(run, kubo, market, accounts, token,
                                                                        tmp_path):
    from datalicense.infra.ipfs import Storage

    ipfs = Storage(kubo.api_multiaddr)
    src = tmp_path / "clinic.csv"
    src.write_text("patient,visits\n1,3\n2,5\n")
    good = json.loads(run("--json", "publish", str(src), "--title", "Clinic visits 2025", "--description",
                          "Anonymised visits", "--price", "0.002").stdout)["dataset_id"]
    broken = {
        "unreachable": _raw_publish(market, accounts[6], MISSING_CID),
        "larger than": _raw_publish(market, accounts[6], ipfs.add_bytes(b"{" + b" " * 70_000 + b"}")),
        "not JSON": _raw_publish(market, accounts[6], ipfs.add_bytes(b"this is not json")),
        "schema": _raw_publish(market, accounts[6], ipfs.add_bytes(b'{"schema": "something/else", "version": 1}')),
    }
    tok = _raw_publish(market, accounts[7], ipfs.add_bytes(b'{"title": "no schema"}'), price=5 * 10**18,
                       asset=token.address)

    out = run("list", account=None).stdout
    lines = {int(ln.split()[0]): ln for ln in out.splitlines()}
    assert len(lines) == 6
    assert "Clinic visits 2025" in lines[good] and "text/csv" in lines[good] and "23 B" in lines[good]
    assert "0.002 RBTC" in lines[good]
    for reason, ds in broken.items():
        assert reason in lines[ds], lines[ds]
    assert "5 tRIF" in lines[tok]

    listed = {d["dataset_id"]: d for d in json.loads(run("--json", "list", account=None).stdout)}
    assert listed[good]["manifest"]["title"] == "Clinic visits 2025"
    assert listed[good]["manifest"]["description"] == "Anonymised visits"
    assert listed[good]["media_type"] == "text/csv" and listed[good]["size"] == 23
    assert listed[broken["not JSON"]]["manifest"] == {} and listed[broken["not JSON"]]["manifest_error"]

    # the manifests were fetched once and cached with the chain data
    index = next((tmp_path / "home" / "chains").glob("*/index.json"))
    cached = json.loads(index.read_text())["manifests"]
    assert len(cached) == 6 and "manifest" in cached[listed[good]["manifest_cid"]]

    # filters
    def ids(*args):
        return sorted(d["dataset_id"] for d in json.loads(run("--json", "list", *args, account=None).stdout))

    assert ids("--text", "clinic") == [good]
    assert ids("--text", "ANONYMISED") == [good]
    assert ids("--owner", str(accounts[6])) == sorted(broken.values())
    assert ids("--owner", str(accounts[3]).lower()) == [good]
    assert ids("--min-price", "0.0015", "--asset", "RBTC") == [good]
    assert ids("--max-price", "0.001", "--asset", "RBTC") == sorted(broken.values())
    assert ids("--asset", token.address) == [tok]
    assert ids("--asset", token.address, "--min-price", "6") == []
    assert "no dataset matches" in run("list", "--text", "nothing like this", account=None).stdout


def test_listing_follows_terms_pauses_retirements_transfers_and_sales(run, market, accounts, tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("a\n1\n")
    ds = json.loads(run("--json", "publish", str(src), "--title", "Follow me", "--price", "0.002").stdout)["dataset_id"]
    first = {d["dataset_id"]: d for d in json.loads(run("--json", "list", account=None).stdout)}[ds]
    assert first["status"] == "on sale" and first["sold"] == 0

    seller = accounts[3]
    market.setTerms(ds, keccak(b"new"), terms(price=3 * 10**15, cap=5), {"from": seller})
    market.pauseSales(ds, {"from": seller})
    after = {d["dataset_id"]: d for d in json.loads(run("--json", "list", account=None).stdout)}[ds]
    assert after["price"] == 3 * 10**15 and after["supply_cap"] == 5 and after["status"] == "paused"
    market.resumeSales(ds, {"from": seller})
    run("--json", "buy", str(ds), account="dev:4", home="buyer")
    market.transferDataset(ds, accounts[7], {"from": seller})
    market.acceptDataset(ds, {"from": accounts[7]})
    later = {d["dataset_id"]: d for d in json.loads(run("--json", "list", account=None).stdout)}[ds]
    assert later["status"] == "on sale" and later["sold"] == 1 and later["owner"] == accounts[7].address
    market.retire(ds, {"from": accounts[7]})
    last = {d["dataset_id"]: d for d in json.loads(run("--json", "list", account=None).stdout)}[ds]
    assert last["status"] == "retired"
    # what the index says is what the chain says
    shown = json.loads(run("--json", "show", str(ds), account=None).stdout)
    for key in ("owner", "price", "sold", "status", "terms_id", "version", "supply_cap"):
        assert shown[key] == last[key], key

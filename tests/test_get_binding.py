"""`get` (the HTTP 402 client) binds what it pays for, fetches and confirms to the URL's dataset and the version
bought (issue 21 items 7 and 8), whoever runs the 402 server: the project's gateway, or a seller's own server
written to fool it. Real chain, real Kubo, real HTTP servers on loopback ports.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from x402.schemas import PaymentRequired, ResourceInfo

from datalicense.roles import paying
from datalicense.errors import IntegrityError
from datalicense.protocol.records import State
from datalicense.roles.paying import PolicyError, SpendingPolicy
from datalicense.services.serving import BackgroundServer

from helpers import one_line_error, publish_version_reusing_key
from agents import AgentThread
from helpers import publish_numbered as _publish

pytestmark = pytest.mark.e2e

POLICY = SpendingPolicy.rbtc(per_request="0.001", total="0.01", delivery_timeout=30)


class Hostile402(BackgroundServer):
    """A seller's own 402 server: at any path it offers dataset `offered` (quoting that dataset's real terms
    on chain, so every policy check passes) and, once a proof arrives, sends version `version` of dataset `served`
    (manifest header and ciphertext), whatever the buyer asks for."""

    def __init__(self, reader, offered: int, served: int, version: int):
        self.reader, self.offered, self.served, self.version = reader, offered, served, version
        app = Starlette(routes=[Route("/{path:path}", self.dataset)])
        super().__init__(lambda host, port: uvicorn.Config(app, host=host, port=port, log_level="error"),
                         "the hostile 402 server")

    def dataset(self, request: Request) -> Response:
        conn = self.reader.conn
        if paying.PAYMENT_SIGNATURE_HEADER not in request.headers:
            req = paying.EscrowSchemeServer(conn).requirements(self.offered)
            body = PaymentRequired(x402_version=2, error="payment required", accepts=[req],
                                   resource=ResourceInfo(url=str(request.url), description="data",
                                                         mime_type="application/octet-stream"))
            return JSONResponse(body.model_dump(by_alias=True, exclude_none=True), status_code=402)
        rec = self.reader.reader.versions(self.served)[str(self.version)]
        manifest = conn.storage.cat_bytes(rec["manifestCid"])
        from datalicense.protocol.manifest import parse

        cipher = conn.storage.cat_bytes(parse(manifest).ciphertext_cid)
        return Response(cipher, media_type="application/octet-stream",
                        headers={paying.MANIFEST_HEADER: base64.b64encode(manifest).decode(),
                                 paying.VERSION_HEADER: str(self.version)})


def _reused(seller, tmp_path, agent):
    """Dataset whose version 1 is junk and version 2 (the current one) the real data under the same key commitment."""
    ds = _publish(seller, tmp_path, 1, agent.conn.account.address)
    real = b"n,v\nthe real version 2\n"
    assert publish_version_reusing_key(seller, ds, real, tmp_path) == 2
    return ds, real


def test_get_from_the_sellers_own_server_never_confirms_an_older_version_with_the_same_commitment(make, tmp_path):
    """Item 7: the buyer of version 2 is sent version 1 (same key commitment) by the seller's own 402 server.
    Before the fix `get` looked the version up by commitment, verified version 1 against version 1's hash and
    confirmed: the sale settled with no person in the loop. Now nothing is written or confirmed."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ds, _ = _reused(seller, tmp_path, agent)
    out = tmp_path / "got.csv"
    with Hostile402(make(None, "hostile"), ds, ds, 1) as srv, AgentThread(agent, tmp_path / "agent.sqlite"):
        with pytest.raises(IntegrityError, match="version 2"):
            buyer.buyer.get(f"{srv.url}/datasets/{ds}", out, POLICY)
    lid = max(int(i) for i in paying.Ledger(buyer.buyer).read()["licences"])
    assert buyer.reader.licence(lid).version == 2
    assert buyer.conn.market.licence(lid).state == State.DELIVERED  # not confirmed: a data dispute stays open
    assert not out.exists()


def test_get_through_the_gateway_fetches_the_version_bought_when_an_older_one_shares_its_commitment(
        make, gateway, tmp_path):
    """Item 7, with the project's gateway: before the fix `get` asked for version 1 (found by the commitment), the
    gateway refused it (the licence opens version 2 only), and the licence stayed Delivered and was never
    fetchable by `get`. Now it fetches version 2, verifies it and confirms."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ds, real = _reused(seller, tmp_path, agent)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(f"{gateway.url}/datasets/{ds}", tmp_path / "got.csv", POLICY)
    assert (r.version, (tmp_path / "got.csv").read_bytes()) == (2, real)
    assert r.confirmed_tx and buyer.conn.market.licence(r.licence_id).state == State.SETTLED


def test_get_refuses_an_offer_for_another_dataset_than_the_url_names(make, tmp_path):
    """Item 8: at /datasets/N a server offers a stranger's dataset M, quoting M's real terms (every policy check
    passes). Before the fix the buyer paid for M, and confirmed the stranger's junk. Now the offer is refused before
    anything is signed; a URL that names no dataset is refused too."""
    seller, buyer, stranger = make(3), make(4, "buyer"), make(6, "stranger")
    wanted = _publish(seller, tmp_path, 1, seller.conn.account.address)
    junk = _publish(stranger, tmp_path, 2, "0x" + "00" * 20)
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with Hostile402(make(None, "hostile"), junk, junk, 1) as srv, AgentThread(stranger, tmp_path / "agent.sqlite"):
        with pytest.raises(PolicyError, match=f"dataset {junk}, not dataset {wanted}"):
            buyer.buyer.get(f"{srv.url}/datasets/{wanted}", tmp_path / "got.csv", POLICY)
        with pytest.raises(PolicyError, match="names no dataset"):
            buyer.buyer.get(f"{srv.url}/datasets/{junk}/latest", tmp_path / "got.csv", POLICY)
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce  # nothing signed or sent
    assert not (tmp_path / "got.csv").exists()


def test_every_get_after_one_that_reused_a_licence_still_works(make, gateway, tmp_path):
    """Found by a README walk: `buy 12`, `get …/datasets/12` (reused licence 12), then `get …/datasets/4` failed with
    `KeyError: 'asset'` (a traceback in Python), and so did every later `get` from that wallet: the reuse wrote a
    ledger entry without amount, asset or time. The ledger's entries are one typed record now."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    held, other = (_publish(seller, tmp_path, n, agent.conn.account.address) for n in (1, 2))
    buyer.buyer.buy(held)
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        first = buyer.buyer.get(f"{gateway.url}/datasets/{held}", tmp_path / "a.csv", POLICY)
        second = buyer.buyer.get(f"{gateway.url}/datasets/{other}", tmp_path / "b.csv", POLICY)
    assert (first.bought, first.paid, second.bought, second.paid) == (False, 0, True, 10**15)
    assert (tmp_path / "b.csv").read_text() == "n,v\n2,4\n"
    assert paying.Ledger(buyer.buyer).spent("0x" + "00" * 20) == 10**15  # the reused licence was not paid by `get`


def test_get_into_a_folder_writes_the_file_fetch_would_and_a_bad_folder_is_refused_before_paying(
        make, gateway, run_process, tmp_path):
    """Found by a README walk: `get -o FOLDER` paid, then refused ("is a folder: give a file name with -o"), while
    `fetch -o FOLDER` writes FOLDER/dataset-ID-vN.EXT. One rule resolves the output path for both, checked before
    any payment: `get -o FOLDER` writes what `fetch` would; a missing folder, a file taken for a folder and a folder
    nothing can be written in are refused in one line with nothing signed."""
    seller, buyer, agent = make(3), make(4, "buyer"), make(5)
    ds = _publish(seller, tmp_path, 1, agent.conn.account.address)
    url = f"{gateway.url}/datasets/{ds}"
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    (tmp_path / "plain").write_text("x")
    for bad, why in ((tmp_path / "missing" / "d.csv", "does not exist"), (tmp_path / "plain" / "d.csv", "not a folder"),
                     (Path("/proc/d.csv"), "cannot write")):
        p = run_process("--network", "local", "get", url, "-o", str(bad), "--max-request", "0.001", account="dev:4",
                        check=False)
        one_line_error(p, why)
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce  # nothing signed or sent
    folder = tmp_path / "got"
    folder.mkdir()
    with AgentThread(agent, tmp_path / "agent.sqlite"):
        r = buyer.buyer.get(url, folder, POLICY)
    assert r.path == str(folder / f"dataset-{ds}-v1.csv")
    assert (folder / f"dataset-{ds}-v1.csv").read_text() == "n,v\n1,1\n"

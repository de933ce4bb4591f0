"""The servers' pure rules, without a server: which Host is answered (DNS rebinding), how connections are counted
per client, how a pool clone is recognised, how reads that may stall are shared and kept, which scopes the edge
passes on, how the gateway's downloads are bounded and which datasets it serves."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from datalicense.errors import ConfigError
from datalicense.infra.ipfsreads import CachedReads
from datalicense.protocol.hosts import host_rule, parse_list, split_host
from datalicense.protocol.served import ServedDatasets
from datalicense.services.serving import Edge, EdgeLimits, client_key
from datalicense.services.streams import Admission, FailedCids, StreamBounds, Ticket
from datalicense.services.webpools import CLONE_HEAD, CLONE_TAIL, clone_of

pytestmark = pytest.mark.unit


def test_only_local_names_with_the_servers_port_and_configured_names_are_answered():
    rule = host_rule(8600)
    for ok in ("127.0.0.1:8600", "localhost:8600", "LocalHost:8600", "[::1]:8600"):
        assert rule.allows(ok), ok
    for bad in ("evil.example:8600", "evil.example", "127.0.0.1:8601", "localhost", "localhost.:8600", "127.1:8600",
                "127.0.0.1.evil.example:8600", "", None, "[::1]", "::1:8600", "localhost:8600:1", "local host:8600",
                "localhost:0", "localhost:99999", "localhost:+8600", "[::1]x:8600", "evil..example:8600"):
        assert not rule.allows(bad), bad
    assert host_rule(80).allows("localhost")  # the default port may be left out
    named = host_rule(8600, configured=["Data.Example.org", "pay.example.net:8443", "[2001:db8::5]"])
    assert named.allows("data.example.org") and named.allows("data.example.org:9999")  # a name alone: any port
    assert named.allows("pay.example.net:8443") and not named.allows("pay.example.net:8600")
    assert not named.allows("pay.example.net")  # no port means 80
    assert named.allows("[2001:db8::5]:1") and not named.allows("evil.example:8600")
    assert host_rule(8600, bind_host="192.168.1.5").allows("192.168.1.5:8600")
    assert not host_rule(8600, bind_host="0.0.0.0").allows("0.0.0.0:8600")
    assert host_rule(8600, bind_host="::1").allows("[::1]:8600")


def test_a_configured_name_that_is_not_one_is_refused_in_one_line():
    for bad in ("bad name", "http://x.org", "x.org:port", "x.org/path", "[::1"):
        with pytest.raises(ConfigError, match="is not a host name") as exc:
            host_rule(8600, configured=[bad])
        assert "\n" not in str(exc.value)
    assert parse_list(" a.org, b.org:1 c.org,,") == ["a.org", "b.org:1", "c.org"]
    assert split_host("A.org:8443") == ("a.org", 8443) and split_host("[::1]") == ("[::1]", None)
    line = host_rule(8600).refusal("evil.example:8600\r\nX: y")
    assert "\n" not in line and "not served here" in line and "--allow-host" in line


def test_connections_are_counted_per_address_and_per_ipv6_64():
    assert client_key(("127.0.0.2", 5555)) == "127.0.0.2"
    assert client_key(("2001:db8:1:2:aaaa::1", 1)) == client_key(("2001:db8:1:2:bbbb::9", 2)) == "2001:db8:1:2::/64"
    assert client_key(("2001:db8:1:3::1", 1)) != client_key(("2001:db8:1:2::1", 1))
    assert client_key(("::ffff:10.0.0.1", 1)) == "10.0.0.1"
    assert client_key(None) == "local"


def test_a_pool_is_recognised_by_its_clone_code_only():
    impl = bytes.fromhex("ab" * 20)
    assert clone_of(CLONE_HEAD + impl + CLONE_TAIL) == "0x" + "ab" * 20
    assert clone_of(CLONE_HEAD + impl + CLONE_TAIL + b"\x00") is None
    assert clone_of(b"\x60\x00" + impl + CLONE_TAIL) is None
    assert clone_of(b"") is None


def test_a_read_runs_once_at_a_time_its_failure_is_kept_and_retried_later_in_the_background():
    calls: list[str] = []
    gate = threading.Event()

    def read(key: str) -> str:
        calls.append(key)
        gate.wait(5)
        return "down" if key.startswith("bad") else f"value of {key}"

    reads = CachedReads(read, retry=lambda v: v == "down", on_error=lambda k, e: "down", workers=4, first_retry=0.3,
                        max_retry=0.6, max_entries=3)
    futures = [reads.future("bad") for _ in range(5)]
    assert reads.get("bad", 0.05) is None  # not read yet: the caller does not wait past its budget
    gate.set()
    assert {f.result(5) for f in futures} == {"down"} and calls == ["bad"]  # five asked, one read
    t0 = time.monotonic()
    assert reads.get("bad", 5) == "down" and time.monotonic() - t0 < 0.05 and calls == ["bad"]  # kept
    time.sleep(0.35)
    assert reads.get("bad", 5) == "down"  # past its retry time: answered at once, retried in the background
    time.sleep(0.1)
    assert calls == ["bad", "bad"]
    assert asyncio.run(reads.aget_many(["a", "b", "a"], 5)) == {"a": "value of a", "b": "value of b"}
    assert calls.count("a") == 1
    reads.get("c", 5)
    reads.get("d", 5)  # bounded: the least recently used ("bad") is forgotten
    assert reads.get("bad", 5) == "down" and calls.count("bad") == 3
    boom = CachedReads(lambda k: 1 // 0, retry=lambda v: v == "failed", on_error=lambda k, e: "failed")
    assert boom.get("x", 5) == "failed"  # an exception is that read's failure, never the caller's


def test_the_edge_closes_a_websocket_scope_without_calling_the_application():
    """Neither server speaks WebSocket: a websocket scope (uvicorn with a WebSocket library) is closed at the edge,
    the application never sees it; lifespan still reaches the application."""
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    edge = Edge(app, host_rule(8600), EdgeLimits())
    asyncio.run(edge({"type": "websocket", "headers": [(b"host", b"127.0.0.1:8600")]}, None, send))
    assert seen == [] and sent == [{"type": "websocket.close", "code": 1003}]
    asyncio.run(edge({"type": "lifespan"}, None, send))
    assert seen == ["lifespan"]


def test_downloads_are_bounded_per_signer_dataset_and_client_and_give_their_places_back():
    admission = Admission(StreamBounds(per_signer=2, per_dataset=3, per_client=4))
    a1, a2 = admission.admit("0xA", 1, "10.0.0.1"), admission.admit("0xA", 1, "10.0.0.1")
    assert isinstance(a1, Ticket) and isinstance(a2, Ticket)
    refused = admission.admit("0xA", 2, "10.0.0.2")
    assert isinstance(refused, str) and "0xA already has 2 downloads running" in refused and "\n" not in refused
    b1 = admission.admit("0xB", 1, "10.0.0.1")
    assert isinstance(b1, Ticket)
    refused = admission.admit("0xC", 1, "10.0.0.3")  # the dataset's three places are taken
    assert isinstance(refused, str) and "dataset 1 already has 3" in refused
    c1 = admission.admit("0xC", 2, "10.0.0.1")
    assert isinstance(c1, Ticket)
    refused = admission.admit("0xD", 3, "10.0.0.1")  # the address's four places are taken
    assert isinstance(refused, str) and "your address already has 4" in refused
    a1.release()
    a1.release()  # once only
    assert admission.running("signer", "0xA") == 1 and admission.running("dataset", 1) == 2
    assert admission.running("client", "10.0.0.1") == 3
    for t in (a2, b1, c1):
        t.release()
    assert admission.running("client", "10.0.0.1") == 0 and not admission._running


def test_a_failed_cid_is_answered_at_once_until_its_retry_time_which_doubles():
    failed = FailedCids(first_retry=0.2, max_retry=0.3, max_entries=2)
    assert failed.failing("bafyA") is None
    failed.failed("bafyA", "IPFS sent nothing")
    reason, retry_in = failed.failing("bafyA")
    assert reason == "IPFS sent nothing" and 0 < retry_in <= 0.2
    time.sleep(0.25)
    assert failed.failing("bafyA") is None  # may be tried again
    failed.failed("bafyA", "again")
    assert 0.2 < failed.failing("bafyA")[1] <= 0.3  # doubled, up to max_retry
    failed.read("bafyA")
    assert failed.failing("bafyA") is None  # read at last: forgotten
    for cid in ("b1", "b2", "b3"):
        failed.failed(cid, "x")
    assert failed.failing("b1") is None and failed.failing("b3") is not None  # bounded: the oldest go first


def test_a_gateway_serves_its_owners_or_datasets_or_every_one():
    assert ServedDatasets().every and ServedDatasets().serves(7, "0x" + "11" * 20)
    mine = ServedDatasets(owners=frozenset({"0x" + "AB" * 20}), datasets=frozenset({9}))
    assert mine.serves(1, "0x" + "ab" * 20)  # an owner's dataset, whatever the address's case
    assert mine.serves(9, "0x" + "11" * 20) and not mine.serves(8, "0x" + "11" * 20)
    assert mine.describe() == f"datasets of 0x{'AB' * 20} and dataset(s) 9"


def test_a_holder_that_stops_reading_keeps_no_place_of_the_dataset_or_its_address():
    """A licence holder whose downloads got their first block and then stopped reading held the dataset's eight
    places for as long as it liked: every other buyer of the dataset, its seller included, got 429. Once a download
    has its first block it keeps only its signer's place (and a client that takes no block for SEND_TIMEOUT is cut)."""
    from datalicense.services.streams import SEND_TIMEOUT

    admission = Admission(StreamBounds(per_signer=4, per_dataset=8, per_client=8))
    held = [admission.admit(signer, 7, "10.0.0.9") for signer in ("0xA", "0xB") for _ in range(4)]
    assert all(isinstance(t, Ticket) for t in held)
    for t in held:
        t.keep_only("signer")  # what the gateway does once the first block is read
    honest = admission.admit("0xHonest", 7, "10.0.0.1")
    assert isinstance(honest, Ticket), honest
    assert admission.running("dataset", 7) == 1 and admission.running("client", "10.0.0.9") == 0
    assert admission.running("signer", "0xA") == 4  # a holder's own bound stays
    for t in (*held, honest):
        t.release()
    assert not admission._running and 0 < SEND_TIMEOUT <= 120

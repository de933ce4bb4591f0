"""The servers' pure rules, without a server: which Host is answered (DNS rebinding), how connections are counted
per client, how a pool clone is recognised, and how reads that may stall are shared and kept."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from datalicense.errors import ConfigError
from datalicense.infra.ipfsreads import CachedReads
from datalicense.protocol.hosts import host_rule, parse_list, split_host
from datalicense.services.serving import client_key
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

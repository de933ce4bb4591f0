"""Every IPFS read is bounded in bytes and by an overall deadline (real Kubo; hostile endpoints are plain sockets)."""

from __future__ import annotations

import io
import os
import socket
import threading
import time

import pytest

from datalicense.errors import StorageError
from datalicense.protocol.manifest import MAX_BYTES
from datalicense.infra.ipfs import Storage
from datalicense.protocol.manifest import MANIFEST_MAX_BYTES

pytestmark = pytest.mark.e2e

MISSING = "bafkreiablk6x6xgfpiw5ss3vsdyevwaiijzzaxxdh3c45pvomitwvf7ymi"


@pytest.fixture(scope="module")
def ipfs(kubo):
    return Storage(kubo.api_multiaddr, retries=1, backoff=0.1)


def test_manifest_cap_is_shared_by_storage_and_manifest():
    assert MANIFEST_MAX_BYTES == MAX_BYTES == 64 * 1024


def test_manifest_sized_read_refuses_one_byte_more(ipfs):
    at_cap = os.urandom(MANIFEST_MAX_BYTES)
    over = at_cap + b"x"
    assert ipfs.cat_bytes(ipfs.add_bytes(at_cap), MANIFEST_MAX_BYTES) == at_cap
    cid = ipfs.add_bytes(over)
    with pytest.raises(StorageError, match=f"larger than the {MANIFEST_MAX_BYTES} bytes expected here"):
        ipfs.cat_bytes(cid, MANIFEST_MAX_BYTES)


def test_default_cat_bytes_limit_is_unchanged(ipfs):
    cid = ipfs.add_bytes(os.urandom((1 << 20) + 1))
    with pytest.raises(StorageError, match="larger than the 1048576 bytes"):
        ipfs.cat_bytes(cid)


def test_stream_bounded_by_the_size_the_manifest_promises(ipfs):
    data = os.urandom(3 * (1 << 20) + 17)
    cid = ipfs.add_bytes(data)
    with ipfs.open_stream(cid, exact_size=len(data)) as s:
        assert s.read() == data
    with pytest.raises(StorageError, match="larger than the 1000 bytes the manifest promises"):
        with ipfs.open_stream(cid, exact_size=1000) as s:
            while s.read(4096):
                pass
    with pytest.raises(StorageError, match=f"ended after {len(data)} of the {len(data) + 1} bytes"):
        with ipfs.open_stream(cid, exact_size=len(data) + 1) as s:
            while s.read(1 << 20):
                pass
    with pytest.raises(StorageError, match="larger than the 100 bytes expected here"):
        ipfs.cat_to_file(cid, io.BytesIO(), max_size=100)


def test_cat_to_file_streams_with_progress(ipfs):
    data = os.urandom(2 * (1 << 20) + 5)
    cid = ipfs.add_bytes(data)
    out, ticks = io.BytesIO(), []
    assert ipfs.cat_to_file(cid, out, progress=ticks.append, exact_size=len(data)) == len(data)
    assert out.getvalue() == data and sum(ticks) == len(data) and all(t <= 1 << 20 for t in ticks)
    assert ipfs.cat_to_file(cid, io.BytesIO()) == len(data)  # no limit named: as before


def test_overall_deadline_holds_for_a_slow_reader(ipfs):
    """The deadline is for the whole read, not per socket read: a fast daemon does not reset it."""
    cid = ipfs.add_bytes(os.urandom(4 << 20))
    with pytest.raises(StorageError, match=r"did not finish within its 0\.8 s deadline"):
        with ipfs.open_stream(cid, deadline=0.8) as s:
            while s.read(64 << 10):
                time.sleep(0.1)


def test_missing_content_is_refused_by_kubo(ipfs):
    with pytest.raises(StorageError, match="IPFS refused to read"):
        ipfs.cat_bytes(MISSING, MANIFEST_MAX_BYTES, deadline=10)


def test_unreachable_daemon_within_the_deadline():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot reach the IPFS daemon"):
        Storage(f"/ip4/127.0.0.1/tcp/{port}/http", retries=2, backoff=0.05).cat_bytes(MISSING, deadline=5)
    assert time.monotonic() - started < 5


class _Hostile:
    """A TCP endpoint that is not Kubo: it accepts and then stays silent, or drips bytes one at a time."""

    def __init__(self, drip: bool):
        self.drip = drip
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.drip:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n")
            while not self.stop.is_set():
                conn.sendall(b"x")
                time.sleep(0.05)
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("drip", [False, True], ids=["silent", "dripping"])
def test_deadline_holds_against_a_hostile_endpoint(drip):
    """A per-read time-out of two minutes does not let a silent or dripping endpoint hold a read past 1.5 s."""
    server = _Hostile(drip)
    try:
        storage = Storage(f"/ip4/127.0.0.1/tcp/{server.port}/http", timeout=120, retries=0)
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"within its 1\.5 s deadline"):
            with storage.open_stream(MISSING, deadline=1.5) as s:
                while s.read(4096):
                    pass
        assert time.monotonic() - started < 3.0
    finally:
        server.close()


def test_file_inside_a_directory_is_read_bounded(ipfs, tmp_path):
    """Pool tree files are read as CID/path with the same limits."""
    folder = tmp_path / "tree"
    (folder / "ab").mkdir(parents=True)
    (folder / "meta.json").write_bytes(b'{"n": 1}')
    (folder / "ab" / "big.bin").write_bytes(os.urandom(5000))
    added = ipfs.client.add(str(folder), recursive=True, cid_version=1, raw_leaves=True)
    root = [e for e in added if e["Name"] == "tree"][0]["Hash"]
    assert ipfs.cat_bytes(root, 100, path="meta.json") == b'{"n": 1}'
    with pytest.raises(StorageError, match="larger than the 4999 bytes"):
        ipfs.cat_bytes(root, 4999, path="ab/big.bin")
    for bad in ("../x", "a//b", "/etc", "a b", "x?arg=y", ""):
        if bad:
            with pytest.raises(StorageError, match="not a path inside an IPFS directory"):
                ipfs.cat_bytes(root, 100, path=bad)


def test_negative_limits_are_refused(ipfs):
    with pytest.raises(StorageError, match="negative"):
        ipfs.open_stream(MISSING, max_size=-1)

"""Data-path throughput and memory for a large file, beside raw Kubo.

Run: make bench-data   (SIZE_MIB=1024 by default; python bench/data_path.py [SIZE_MIB])

Measures, on one local Kubo daemon:
  encrypt+upload    the publish path: age-encrypt (streamed) to a temporary file, then add it as CIDv1
  raw ipfs add      `ipfs add --cid-version 1` of the plaintext, same size
  download+decrypt  the fetch path: `cat` streamed into the age decryptor, SHA-256 checked, written to disk
  raw ipfs cat      `ipfs cat CID > file` of the ciphertext
Each of ours runs in a fresh child process so its peak RSS (ru_maxrss) is its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datalicense import agecrypt  # noqa: E402
from datalicense.localstack import KuboDaemon  # noqa: E402

CHILD = r"""
import hashlib, json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from datalicense import agecrypt
from datalicense.storage import Storage
mode, api, src, dst, key_hex, cid = sys.argv[2:8]
key = bytes.fromhex(key_hex)
s = Storage(api)
t = time.perf_counter()
if mode == "publish":
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        agecrypt.encrypt_stream(fin, fout, key)
    cid = s.add_file(dst)
else:
    with s.open_stream(cid) as stream, open(dst, "wb") as fout:
        agecrypt.decrypt_stream(stream, fout, key)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "cid": cid, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def make_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size >> 20):
            f.write(hashlib.sha256(block + i.to_bytes(8, "big")).digest() * 32768)  # distinct 1 MiB blocks


def child(mode: str, api: str, src: Path, dst: Path, key: bytes, cid: str = "-") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, api, str(src), str(dst), key.hex(), cid],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SIZE_MIB", "1024"))
    size = size_mib << 20
    with tempfile.TemporaryDirectory(prefix="datalicense-bench-") as tmp, KuboDaemon() as kubo:
        tmp = Path(tmp)
        env = dict(os.environ, IPFS_PATH=str(kubo.repo))
        plain = tmp / "plain.bin"
        make_file(plain, size)
        key = agecrypt.new_content_key()

        t = time.perf_counter()
        subprocess.run([kubo.binary, "add", "-Q", "--cid-version", "1", str(plain)], env=env, check=True,
                       capture_output=True)
        raw_add = time.perf_counter() - t

        pub = child("publish", kubo.api_multiaddr, plain, tmp / "cipher.age", key)
        (tmp / "cipher.age").unlink()

        t = time.perf_counter()
        with open(tmp / "raw.out", "wb") as f:
            subprocess.run([kubo.binary, "cat", pub["cid"]], env=env, check=True, stdout=f)
        raw_cat = time.perf_counter() - t
        (tmp / "raw.out").unlink()

        fetch = child("fetch", kubo.api_multiaddr, plain, tmp / "plain.out", key, pub["cid"])
        ok = _same(plain, tmp / "plain.out")

    mib = size / (1 << 20)
    rows = [
        ("encrypt+upload (publish path)", pub["seconds"], pub["maxrss_kib"]),
        ("raw ipfs add --cid-version 1", raw_add, None),
        ("download+decrypt (fetch path)", fetch["seconds"], fetch["maxrss_kib"]),
        ("raw ipfs cat", raw_cat, None),
    ]
    print(f"\nData path, {size_mib} MiB file, local Kubo, {os.cpu_count()} cores (round trip identical: {ok})\n")
    print("| operation | seconds | MiB/s | share of raw | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for i, (name, secs, rss) in enumerate(rows):
        rate = mib / secs
        raw = rows[1][1] if i < 2 else rows[3][1]
        share = f"{(mib / secs) / (mib / raw):.0%}" if i in (0, 2) else ""
        mem = f"{rss / 1024:.0f} MiB" if rss else ""
        print(f"| {name} | {secs:.1f} | {rate:.0f} | {share} | {mem} |")


def _same(a: Path, b: Path) -> bool:
    def digest(p: Path) -> str:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
        return h.hexdigest()

    return digest(a) == digest(b)


if __name__ == "__main__":
    main()

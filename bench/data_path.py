"""Data-path throughput, CPU and memory beside the reference tools and raw Kubo, on one daemon, in one run.

Run: make bench-data   (SIZE_MIB=1024 by default; python bench/data_path.py [SIZE_MIB] [ROUNDS])

Publish side (plaintext file -> CID):
  ours              the publish path (datalicense.infra.pipeline.encrypt_and_add, as Seller.upload runs it): pyrage
                    encrypts straight into Kubo's add request while a second thread hashes the plaintext
  reference         `age -r R < file | ipfs add --cid-version 1 -Q`
  reference + hash  the same with the plaintext's SHA-256 beside it (`tee >(sha256sum)`), which a publish needs
  raw ipfs add      `ipfs add --cid-version 1 -Q file` (the plaintext: no encryption)
  pyrage alone      pyrage.encrypt_io from the file to /dev/null (no hashing, no upload)
Fetch side (CID -> verified plaintext):
  ours              the fetch path (open_stream with the exact size + pipeline.decrypt_verify into
                    safefile.atomic_output: download, decryption and hashing+writing on three threads, fsync)
  ours, no file     the same into /dev/null, to compare like for like with the reference
  reference         `ipfs cat CID | age -d -i KEY | sha256sum`
  reference, file   the same writing the plaintext to a file too (`| tee out | sha256sum`; no fsync)
  raw ipfs cat      `ipfs cat CID > /dev/null`

Every measurement is repeated ROUNDS times (default 3), interleaved, on a machine other work may share; the
table shows the median, and the best in brackets. CPU is in cores (CPU seconds / wall seconds): the client
side (our process, or the pipeline's processes) and the Kubo daemon. Each of ours runs in a fresh child
process, so its peak RSS (ru_maxrss) is its own; peak RSS is also measured at 256 MiB.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datalicense import agecrypt  # noqa: E402
from datalicense.services.localstack import KuboDaemon  # noqa: E402
from datalicense.infra.ipfs import Storage  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
import pyrage
from datalicense.protocol import age as agecrypt
from datalicense.infra import pipeline
from datalicense.infra.safefile import atomic_output
from datalicense.infra.ipfs import Storage
mode, api, src, dst, key_hex, cid, size = sys.argv[2:9]
key = bytes.fromhex(key_hex)
s = Storage(api)
r0 = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
if mode == "publish":
    with open(src, "rb") as fin:
        _, _, cid, size = pipeline.encrypt_and_add(fin, s, key)
elif mode == "encrypt":
    rcp = pyrage.x25519.Recipient.from_str(agecrypt.recipient_of(key))
    with open(src, "rb") as fin, open(os.devnull, "wb") as fout:
        pyrage.encrypt_io(fin, fout, [rcp])
elif mode == "fetch":
    with atomic_output(dst) as fout, s.open_stream(cid, exact_size=int(size)) as stream:
        pipeline.decrypt_verify(stream, fout, key)
else:  # fetch-null
    with open(os.devnull, "wb") as fout, s.open_stream(cid, exact_size=int(size)) as stream:
        pipeline.decrypt_verify(stream, fout, key)
elapsed = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
print(json.dumps({"seconds": elapsed, "cpu": cpu, "cid": cid, "size": int(size), "maxrss_kib": r1.ru_maxrss}))
"""


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(os.urandom(1 << 20))


def _daemon_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, kubo: KuboDaemon, tmp: Path):
        self.kubo = kubo
        self.tmp = tmp
        self.env = dict(os.environ, IPFS_PATH=str(kubo.repo))
        assert kubo.proc is not None
        self.pid = kubo.proc.pid

    def child(self, mode: str, src: Path, key: bytes, cid: str = "-", size: int = 0) -> dict:
        d0 = _daemon_cpu(self.pid)
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, self.kubo.api_multiaddr, str(src),
                              str(self.tmp / "plain.out"), key.hex(), cid, str(size)],
                             capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["daemon_cpu"] = _daemon_cpu(self.pid) - d0
        (self.tmp / "plain.out").unlink(missing_ok=True)
        return res

    def shell(self, cmd: str) -> dict:
        d0 = _daemon_cpu(self.pid)
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run(cmd, shell=True, env=self.env, capture_output=True, text=True, check=True,
                             executable="/bin/bash")
        elapsed = time.perf_counter() - t
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"seconds": elapsed, "cpu": c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime,
                "daemon_cpu": _daemon_cpu(self.pid) - d0, "stdout": out.stdout.strip(), "maxrss_kib": None}

    def forget(self, *cids: str) -> None:
        """Unpin and collect, so that the next add stores everything again (outside the timing)."""
        s = Storage(self.kubo.api_multiaddr, timeout=600)
        for cid in cids:
            if cid:
                s.unpin_cid(cid)
        s.gc()


def main() -> None:
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SIZE_MIB", "1024"))
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("ROUNDS", "3"))
    size = size_mib << 20
    ipfs = None
    runs: dict[str, list[dict]] = {}
    rss_256: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="datalicense-bench-") as tmpdir, KuboDaemon() as kubo:
        tmp = Path(tmpdir)
        b = Bench(kubo, tmp)
        ipfs = kubo.binary
        plain = tmp / "plain.bin"
        make_file(plain, size)
        key = agecrypt.new_content_key()
        ident = tmp / "key.txt"
        ident.write_text(agecrypt.identity_string(key) + "\n")
        recipient = agecrypt.recipient_of(key)
        ok = True
        for _ in range(rounds):
            raw = b.shell(f"{ipfs} add --cid-version 1 -Q {plain}")
            runs.setdefault("raw_add", []).append(raw)
            b.forget(raw["stdout"])
            ref = b.shell(f"age -r {recipient} < {plain} | {ipfs} add --cid-version 1 -Q")
            runs.setdefault("ref_add", []).append(ref)
            b.forget(ref["stdout"])
            ref_sha = b.shell(f"set -o pipefail; tee >(sha256sum > /dev/null) < {plain} | age -r {recipient} | "
                              f"{ipfs} add --cid-version 1 -Q")
            runs.setdefault("ref_add_sha", []).append(ref_sha)
            b.forget(ref_sha["stdout"])
            runs.setdefault("encrypt", []).append(b.child("encrypt", plain, key))
            pub = b.child("publish", plain, key)
            runs.setdefault("our_add", []).append(pub)
            cid, csize = pub["cid"], pub["size"]
            runs.setdefault("raw_cat", []).append(b.shell(f"{ipfs} cat {cid} > /dev/null"))
            ref_cat = b.shell(f"set -o pipefail; {ipfs} cat {cid} | age -d -i {ident} | sha256sum")
            runs.setdefault("ref_cat", []).append(ref_cat)
            runs.setdefault("ref_cat_file", []).append(b.shell(
                f"set -o pipefail; {ipfs} cat {cid} | age -d -i {ident} | tee {tmp / 'ref.out'} | sha256sum"))
            (tmp / "ref.out").unlink()
            runs.setdefault("our_cat_null", []).append(b.child("fetch-null", plain, key, cid, csize))
            runs.setdefault("our_cat", []).append(b.child("fetch", plain, key, cid, csize))
            ok = ok and ref_cat["stdout"].split()[0] == _sha256(plain)
            b.forget(cid)
        if size_mib != 256:  # peak memory at 256 MiB too
            small = tmp / "small.bin"
            make_file(small, 256 << 20)
            plain.unlink()
            pub = b.child("publish", small, key)
            rss_256 = {"publish": pub["maxrss_kib"],
                       "fetch": b.child("fetch", small, key, pub["cid"], pub["size"])["maxrss_kib"]}

    mib = size / (1 << 20)
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    best = {k: min(r["seconds"] for r in v) for k, v in runs.items()}

    def cores(k: str, field: str) -> str:
        return f"{statistics.median(r[field] / r['seconds'] for r in runs[k]):.2f}"

    def rss(k: str) -> str:
        vals = [r["maxrss_kib"] for r in runs[k] if r.get("maxrss_kib")]
        return f"{max(vals) / 1024:.0f} MiB" if vals else ""

    rows = [
        ("publish: ours (encrypt into the add request, hash beside)", "our_add", "ref_add"),
        ("publish: reference `age -r R < f \\| ipfs add --cid-version 1 -Q`", "ref_add", None),
        ("publish: reference + plaintext SHA-256 (`tee >(sha256sum) < f \\| age \\| ipfs add`)", "ref_add_sha", None),
        ("publish: raw `ipfs add --cid-version 1` (no encryption)", "raw_add", None),
        ("pyrage encryption alone (file to /dev/null)", "encrypt", None),
        ("fetch: ours (download, decrypt, hash, write + fsync)", "our_cat", "ref_cat"),
        ("fetch: ours into /dev/null", "our_cat_null", "ref_cat"),
        ("fetch: reference `ipfs cat \\| age -d -i K \\| sha256sum`", "ref_cat", None),
        ("fetch: reference writing the file (`… \\| age -d \\| tee out \\| sha256sum`, no fsync)", "ref_cat_file", None),
        ("fetch: raw `ipfs cat > /dev/null`", "raw_cat", None),
    ]
    print(f"\nData path, {size_mib} MiB file, one local Kubo, {os.cpu_count()} cores, median of {rounds} rounds "
          f"[best] (reference pipeline output verified: {ok})\n")
    print("| operation | seconds | MiB/s | vs reference | client CPU (cores) | Kubo CPU (cores) | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, k, ref in rows:
        vs = f"{med[ref] / med[k]:.2f}x [{best[ref] / best[k]:.2f}x]" if ref else ""
        print(f"| {name} | {med[k]:.2f} [{best[k]:.2f}] | {mib / med[k]:.0f} [{mib / best[k]:.0f}] | {vs} | "
              f"{cores(k, 'cpu')} | {cores(k, 'daemon_cpu')} | {rss(k)} |")
    if rss_256:
        print(f"\nPeak RSS at 256 MiB: publish {rss_256['publish'] / 1024:.0f} MiB, fetch {rss_256['fetch'] / 1024:.0f} "
              f"MiB; at {size_mib} MiB: publish {rss('our_add')}, fetch {rss('our_cat')}")


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    main()

"""`make demo`, the main job, runs to its end from a checkout whose path contains a dot (brownie once turned the
script path into a module name there) and prints the story only: no warnings, no tracebacks."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_from_a_path_with_a_dot(tmp_path):
    dst = tmp_path / "my.projects" / "data.license"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    for tool in ("node_modules", ".tools"):  # what `make setup` installs, shared rather than copied
        (dst / tool).symlink_to(ROOT / tool)
    shutil.copytree(ROOT / "build", dst / "build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATALICENSE_")}
    env["PATH"] = f"{ROOT / '.tools' / 'bin'}:{ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{env['PATH']}"
    p = subprocess.run([sys.executable, "scripts/demo.py"], cwd=dst, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout
    for step in ("1.", "2.", "3.", "4.", "5.", "6.", "7."):
        assert f"\n{step} " in out, out
    assert "identical to the original: True" in out and "== done in" in out
    assert "claimed" in out and "Refunded" in out
    assert "Warning" not in out + p.stderr and "Traceback" not in out + p.stderr, out + p.stderr

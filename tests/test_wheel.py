"""The wheel stands alone. Built from the package's own files, installed with the project's pinned dependencies
into a fresh virtual environment outside the checkout, the `datalicense` command runs from a scratch folder and
finds everything through package data and configuration, never through the checkout's layout: the compiled
contracts it deploys (datalicense/artifacts), the web page (datalicense/webpage), the deployments
($DATALICENSE_DEPLOYMENTS), Kubo (PATH). An audit hook in that environment refuses every file opened under the
checkout, so a stray `parent.parent` fails the test instead of passing by luck.

About 45 s: the build (setuptools from the registry, pinned in pyproject.toml, cached by pip), the install (pip's
cache), and the commands on this run's chain and Kubo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent

#: Installed as a .pth hook in the fresh environment: every Python process there refuses (and logs) any open or
#: listing of a path inside the checkout.
GUARD = '''
import os, sys
_ROOT = {root!r} + os.sep
_LOG = {log!r}

def _guard(event, args):
    if event not in ("open", "os.listdir", "os.scandir") or not args or args[0] is None or isinstance(args[0], int):
        return
    path = os.path.realpath(os.path.abspath(os.fsdecode(args[0])))
    if path.startswith(_ROOT):
        with open(_LOG, "a") as log:
            log.write(f"{{event}} {{path}}\\n")
        raise PermissionError(f"the installed package read the checkout: {{path}}")

sys.addaudithook(_guard)
'''

#: Run by the installed interpreter: where the package is, what it finds, and a deployment from its own artifacts.
PROBE = '''
import json, os, sys
from pathlib import Path

import datalicense
from web3 import Web3
from datalicense.services.localstack import find_ipfs
from datalicense.services.deploy import artifact, deploy_marketplace
from datalicense.services.web import DIST

w3 = Web3(Web3.HTTPProvider(os.environ["DATALICENSE_LOCAL_RPC"]))
contracts = deploy_marketplace(w3, Path(os.environ["DATALICENSE_DEPLOYMENTS"]) / "33.json")
print(json.dumps({
    "package": datalicense.__file__,
    "sys_path": sys.path,
    "ipfs": find_ipfs(),
    "page": os.path.isfile(os.path.join(DIST, "index.html")) and str(DIST),
    "bytecode": {n: artifact(n)["bytecode"] for n in ("DataLicense", "DataLicenseLens", "RevenuePool")},
    "deployed": {n: c["address"] for n, c in contracts.items()},
}))
'''


def _pins() -> dict[str, str]:
    """requirements.txt as {normalised name: version}."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.lower())] = version.strip()
    return pins


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, wheel): the wheel built from a copy of the package's files, installed into a fresh venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "datalicense", src / "datalicense", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    assert (src / "datalicense" / "artifacts" / "DataLicense.json").is_file(), "no exported contracts: run `make setup`"
    assert (src / "datalicense" / "webpage" / "index.html").is_file(), "no built web page: run `make setup`"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # build isolation: the backend is the one pyproject.toml pins, from the registry (pip caches it)
    subprocess.run(pip + ["wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(src)], check=True, timeout=300,
                   capture_output=True, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("datalicense-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120, cwd=tmp)
    py = str(venv / "bin" / "python")
    # the project's pins as constraints: nothing is resolved afresh (checked below)
    subprocess.run(pip + ["--python", py, "install", "-q", "--no-compile", "-c", str(ROOT / "requirements.txt"),
                          str(wheel)],
                   check=True, timeout=600, capture_output=True, cwd=tmp)
    purelib = subprocess.run([py, "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True, cwd=tmp).stdout.strip()
    (Path(purelib) / "_checkout_guard.py").write_text(
        GUARD.format(root=str(ROOT.resolve()), log=str(tmp / "guard.log")))
    (Path(purelib) / "_checkout_guard.pth").write_text("import _checkout_guard\n")
    return venv, wheel


def test_wheel_installs_with_the_pinned_dependencies(installed):
    venv, wheel = installed
    listing = "import importlib.metadata as m\nfor d in m.distributions(): print(f'{d.name}=={d.version}')"
    frozen = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", listing], check=True, capture_output=True,
                            text=True, cwd=venv.parent).stdout.splitlines()
    pins = _pins()
    unpinned = [ln for ln in frozen if "==" in ln and not ln.startswith("datalicense==")
                and pins.get(re.sub(r"[-_.]+", "-", ln.split("==")[0].lower())) != ln.split("==")[1]]
    assert not unpinned, f"installed versions not pinned in requirements.txt: {unpinned}"
    assert not [ln for ln in frozen if "brownie" in ln], "the package pulled in brownie"
    assert any(ln.startswith("datalicense==") for ln in frozen)


def test_installed_command_works_outside_the_checkout(installed, kubo, tmp_path):
    venv, _ = installed
    work = tmp_path / "cwd"
    work.mkdir()
    ipfs_dir = os.path.dirname(os.path.realpath(shutil.which("ipfs") or ROOT / ".tools" / "bin" / "ipfs"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATALICENSE_", "PYTHON", "VIRTUAL_ENV", "BROWNIE"))}
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), ipfs_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME=str(tmp_path / "home"),
        DATALICENSE_HOME=str(tmp_path / "datalicense"),
        DATALICENSE_LOCAL_RPC=os.environ["DATALICENSE_LOCAL_RPC"],
        DATALICENSE_DEPLOYMENTS=str(tmp_path / "deployments"),
        DATALICENSE_IPFS_API=kubo.api_multiaddr,
    )
    guard_log = venv.parent / "guard.log"

    def run(*args: str) -> str:
        p = subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=work, timeout=180)
        read = guard_log.read_text() if guard_log.exists() else ""
        assert not read, f"{args}: the installed package read the checkout:\n{read}"
        assert p.returncode == 0, f"{args}: exit {p.returncode}\n{p.stderr}"
        return p.stdout

    cli = str(venv / "bin" / "datalicense")
    assert "publish" in run(cli, "--help")
    assert "0.1.0" in run(cli, "--version")

    probe = json.loads(run(str(venv / "bin" / "python"), "-I", "-c", PROBE))
    site = str(venv.resolve())
    assert probe["package"].startswith(site), probe["package"]
    assert not [p for p in probe["sys_path"] if p.startswith(str(ROOT.resolve()))], probe["sys_path"]
    assert probe["page"] and probe["page"].startswith(site), "the web page is not in the installed package"
    assert os.path.dirname(probe["ipfs"]) == ipfs_dir, "Kubo not found through PATH"
    for name, code in probe["bytecode"].items():  # what the checkout exported (test_foundation: == the build)
        assert code == json.loads((ROOT / "datalicense" / "artifacts" / f"{name}.json").read_text())["bytecode"]

    # the deployment it just made from its own artifacts, found through DATALICENSE_DEPLOYMENTS (no --address)
    data = work / "readings.csv"
    data.write_text("station,reading\n1,20.5\n2,21.0\n")
    out = json.loads(run(cli, "--account", "dev:3", "--json", "publish", str(data), "--title", "Wheel readings",
                         "--price", "0.001"))
    ds = out["dataset_id"]
    listing = json.loads(run(cli, "--json", "list"))
    assert any(d.get("dataset_id") == ds for d in listing), listing
    assert "Wheel readings" in run(cli, "--account", "dev:4", "show", str(ds))
    assert json.loads((tmp_path / "deployments" / "33.json").read_text())["contracts"]["DataLicense"]["address"] \
        == probe["deployed"]["DataLicense"]

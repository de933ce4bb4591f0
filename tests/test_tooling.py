"""Tooling: the compiler stand-in honours --allow-paths, set-up quotes what it writes and builds Go read-only,
and the keystore password never reaches child processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from datalicense.services import localstack
from datalicense.services.localstack import SECRET_ENV, GanacheFork, KuboDaemon, child_env

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SHIM = ROOT / "tools" / "solc-shim.js"
SETUP = ROOT / "tools" / "setup.sh"
PASSWORD = "hunter2-keystore-password"



def _standard_json(import_path: str) -> str:
    src = f'// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport "{import_path}";\ncontract A {{}}\n'
    return json.dumps({"language": "Solidity", "sources": {"contracts/A.sol": {"content": src}},
                       "settings": {"outputSelection": {"*": {"*": ["abi"]}}}})


def _shim(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(SHIM), *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def _errors(p: subprocess.CompletedProcess[str]) -> list[str]:
    return [e["message"] for e in json.loads(p.stdout).get("errors", []) if e["severity"] == "error"]


@pytest.mark.parametrize("target", ["/etc/passwd", "outside"])
def test_shim_refuses_an_import_outside_the_allowed_paths(tmp_path, target):
    outside = tmp_path / "Outside.sol"
    outside.write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract Outside {}\n")
    path = str(outside) if target == "outside" else target
    p = _shim("--standard-json", "--allow-paths", str(ROOT / "contracts"), stdin=_standard_json(path))
    (message,) = _errors(p)
    assert "File outside of allowed directories" in message and path in message, message
    # allowed once its folder is named, as with native solc
    if target == "outside":
        p = _shim("--standard-json", "--allow-paths", f"{ROOT / 'contracts'},{tmp_path}", stdin=_standard_json(path))
        assert _errors(p) == [] and "Outside.sol" in " ".join(json.loads(p.stdout)["sources"])


def test_shim_refuses_relative_escapes_and_links_out(tmp_path):
    # solc clamps a relative import at the root of the source unit names ("etc/passwd"), searched in the roots
    p = _shim("--standard-json", stdin=_standard_json("../../../../../../../../etc/passwd"))
    (message,) = _errors(p)
    assert "not found" in message and "root:" not in p.stdout
    # a link inside an allowed folder that leads out of it is refused too
    (tmp_path / "allowed").mkdir()
    (tmp_path / "secret.sol").write_text("contract S {}")
    (tmp_path / "allowed" / "link.sol").symlink_to(tmp_path / "secret.sol")
    for cwd, target in ((tmp_path / "allowed", "link.sol"), (ROOT, str(tmp_path / "allowed" / "link.sol"))):
        p = _shim("--standard-json", "--allow-paths", str(tmp_path / "allowed"), stdin=_standard_json(target),
                  cwd=cwd)
        (message,) = _errors(p)
        assert "File outside of allowed directories" in message and "secret.sol" in message
    p = _shim("--standard-json", "--allow-paths", str(tmp_path), stdin=_standard_json("link.sol"),
              cwd=tmp_path / "allowed")
    assert _errors(p) == []  # the link's target is inside an allowed folder


def test_shim_still_compiles_the_project_imports():
    """OpenZeppelin through the project's remapping, read by the import callback as brownie compiles."""
    src = ('// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport "@openzeppelin/contracts/utils/Strings.sol";\n'
           'contract A { function f() external pure returns (string memory) { return Strings.toString(7); } }\n')
    inp = json.dumps({"language": "Solidity", "sources": {"contracts/A.sol": {"content": src}},
                      "settings": {"remappings": ["@openzeppelin=node_modules/@openzeppelin"],
                                   "outputSelection": {"*": {"*": ["abi"]}}}})
    p = _shim("--standard-json", "--allow-paths", str(ROOT), stdin=inp)
    assert _errors(p) == [] and "contracts/A.sol" in json.loads(p.stdout)["contracts"]


def test_shim_combined_json_refuses_outside_imports(tmp_path):
    main = tmp_path / "proj" / "Main.sol"
    main.parent.mkdir()
    main.write_text('// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport "/etc/passwd";\ncontract M {}\n')
    p = _shim(str(main), "--combined-json", "abi", cwd=ROOT)
    assert p.returncode != 0 and "File outside of allowed directories" in p.stderr


def _setup_functions() -> str:
    text = SETUP.read_text()
    out = []
    for name in ("shquote", "write_solc_standin"):
        start = text.index(f"{name}() {{")
        out.append(text[start:text.index("\n}\n", start) + 3])
    return "".join(out)


def test_setup_quotes_the_paths_it_writes_into_the_solc_stand_in(tmp_path):
    """A project folder whose name has spaces, quotes, $(...), backquotes and a newline stays one word."""
    root = tmp_path / "my proj $(touch PWNED) `touch PWNED2` 'q' \"dq\"\nx"
    (root / "tools").mkdir(parents=True)
    shutil.copy(SHIM, root / "tools" / "solc-shim.js")
    out = tmp_path / "solc-v0.8.24"
    script = _setup_functions() + '\nwrite_solc_standin "$1" "$2" "$3"\n'
    subprocess.run(["bash", "-c", script, "setup", str(out), str(root), "0.8.24"], check=True, cwd=tmp_path,
                   timeout=30)
    env = dict(os.environ, NODE_PATH=str(ROOT / "node_modules"))
    p = subprocess.run([str(out), "--version"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert p.returncode == 0 and "Version: 0.8.24+commit" in p.stdout, p.stderr
    assert not list(tmp_path.rglob("PWNED*"))
    assert str(root) not in out.read_text().splitlines()[1]  # the comment names no path
    assert "<<SHIM" not in SETUP.read_text()


def test_setup_builds_go_in_read_only_module_mode():
    text = SETUP.read_text()
    assert "GOFLAGS=-mod=readonly go build" in text and "-mod=mod" not in text


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed: set-up needs it only to build Kubo when no ipfs 0.28+ is on PATH, and then this check runs")
def test_kubo_module_resolves_in_read_only_mode():
    """go.mod and go.sum are complete: the read-only build set-up runs needs nothing written to them."""
    p = subprocess.run(["go", "list", "-deps", "github.com/ipfs/kubo/cmd/ipfs"], cwd=ROOT / "tools" / "kubo",
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, GOFLAGS="-mod=readonly"))
    assert p.returncode == 0, p.stderr[-2000:]


# ----------------------------------------------------------------------------------- the keystore password


def test_password_variable_is_the_one_chain_reads(monkeypatch):
    from datalicense.infra.chain import _password

    (name,) = SECRET_ENV
    monkeypatch.setenv(name, PASSWORD)
    assert _password("a keystore") == PASSWORD
    assert name not in child_env(EXTRA="1") and child_env(EXTRA="1")["EXTRA"] == "1"


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reading a child's environment needs Linux /proc (the supported platform; elsewhere child_env is still used)")
def test_kubo_daemon_does_not_get_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("DATALICENSE_PASSWORD", PASSWORD)
    with KuboDaemon(repo=tmp_path / "repo") as daemon:
        env = _environ(daemon.proc.pid)
        assert env.get("IPFS_PATH") == str(tmp_path / "repo")
        assert "DATALICENSE_PASSWORD" not in env and PASSWORD not in json.dumps(env)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reading a child's environment needs Linux /proc (the supported platform; elsewhere child_env is still used)")
def test_fork_ganache_does_not_get_the_password(monkeypatch):
    import brownie

    monkeypatch.setenv("DATALICENSE_PASSWORD", PASSWORD)
    with GanacheFork(brownie.web3.provider.endpoint_uri) as fork:
        env = _environ(fork.proc.pid)
        assert "PATH" in env
        assert "DATALICENSE_PASSWORD" not in env and PASSWORD not in json.dumps(env)


def test_child_processes_are_started_only_with_child_env():
    """Every subprocess start in localstack passes env=child_env(...)."""
    text = Path(localstack.__file__).read_text()
    starts = text.count("subprocess.run(") + text.count("subprocess.Popen(")
    assert starts == 3 and text.count("env=env") + text.count("env=child_env(") == starts
    assert "dict(os.environ" not in text


def test_tools_are_found_by_configuration_not_by_the_checkout(monkeypatch, tmp_path):
    """Kubo and Ganache: the variable if set (and then it must name a program), else the Python environment's
    scripts folder, else PATH; a wrong setting is an error, not a silent fall-back to another binary."""
    from datalicense.errors import DataLicenseError

    fake = tmp_path / "ipfs"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("DATALICENSE_IPFS_BIN", str(fake))
    with pytest.raises(DataLicenseError, match="DATALICENSE_IPFS_BIN=.* is not an executable"):
        localstack.find_ipfs()
    fake.chmod(0o755)
    assert localstack.find_ipfs() == str(fake)
    monkeypatch.delenv("DATALICENSE_IPFS_BIN")
    monkeypatch.setattr(localstack.sysconfig, "get_path", lambda name: str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert localstack.find_ipfs() == str(fake)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DataLicenseError, match="no Kubo"):
        localstack.find_ipfs()

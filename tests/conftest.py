"""Shared fixtures: the deployed marketplace on the local Rootstock look-alike, accounts, tokens, keys."""

from __future__ import annotations

import os

import pytest
from brownie import DataLicense, DataLicenseLens, ReentrantToken, TestToken, accounts

from helpers import BOND, FEE_BPS, LENSES, clients, free_ports

# Constants, records and helpers the tests share are in helpers.py (`from helpers import ...`); this file holds
# fixtures and hooks only.


def pytest_configure(config):
    """Brownie's throwaway chain for this run listens on a free port: two runs, or a run beside a user's stack
    (`make up`), never meet (brownie would otherwise attach to whatever answers on the fixed port)."""
    from brownie._config import CONFIG

    from datalicense.services.localstack import _free_port

    dev = CONFIG.networks.get("development")
    if dev and "cmd_settings" in dev:
        dev["cmd_settings"]["port"] = _free_port()


@pytest.fixture(autouse=True)
def isolation(request, module_isolation):
    """Every test starts from the same chain state: brownie's fn_isolation (a snapshot after the module's fixtures,
    reverted after the test), except for `unit` tests, which touch no chain (a revert costs up to a quarter second)."""
    if request.node.get_closest_marker("unit") is not None:
        yield
        return
    from brownie import chain
    from brownie._config import CONFIG

    chain.snapshot()
    yield
    if not CONFIG.argv["interrupt"]:
        chain.revert()


@pytest.fixture(scope="session", autouse=True)
def local_rpc():
    """`--network local` (the client, the CLI, child processes) means the chain brownie started for this run."""
    from brownie import web3

    os.environ["DATALICENSE_LOCAL_RPC"] = web3.provider.endpoint_uri


@pytest.fixture(scope="module")
def admin():
    return accounts[0]


@pytest.fixture(scope="module")
def fee_recipient():
    return accounts[1]


@pytest.fixture(scope="module")
def arbiter():
    return accounts[2]


@pytest.fixture(scope="module")
def seller():
    return accounts[3]


@pytest.fixture(scope="module")
def buyer():
    return accounts[4]


@pytest.fixture(scope="module")
def agent():
    return accounts[5]


@pytest.fixture(scope="module")
def stranger():
    return accounts[6]


@pytest.fixture(scope="module")
def market(admin, fee_recipient, arbiter):
    m = DataLicense.deploy(admin, fee_recipient, arbiter, FEE_BPS, BOND, {"from": admin})
    LENSES[m.address] = DataLicenseLens.deploy(m, {"from": admin})
    return m


@pytest.fixture(scope="module")
def lens(market):
    return LENSES[market.address]


@pytest.fixture(scope="module")
def token(admin, market, buyer):
    t = TestToken.deploy("Test RIF", "tRIF", {"from": admin})
    market.setAssetAllowed(t, True, {"from": admin})
    t.mint(buyer, 10**24, {"from": admin})
    return t


@pytest.fixture(scope="module")
def evil_token(admin, market, buyer):
    t = ReentrantToken.deploy({"from": admin})
    market.setAssetAllowed(t, True, {"from": admin})
    t.mint(buyer, 10**24, {"from": admin})
    return t


@pytest.fixture(scope="session")
def kubo():
    """A throwaway Kubo daemon: own repository, loopback ports picked by the OS, offline; stopped after."""
    from datalicense.services.localstack import KuboDaemon

    daemon = KuboDaemon().start()
    yield daemon
    daemon.stop()


@pytest.fixture
def make(kubo, market, tmp_path):
    """make(n, home): a web3.py Client for the local chain's account dev:n (None: no account), over this run's Kubo,
    with its own home."""
    return clients(kubo.api_multiaddr, market.address, tmp_path)


@pytest.fixture
def gateway(make):
    """The seller's HTTP 402 gateway on a loopback port (reads only), generous rate limits."""
    from datalicense.services.gateway import Gateway, Limits, Running

    with Running(Gateway(make(None, "gateway"), Limits(per_ip_rate=200, per_ip_burst=400))) as running:
        yield running


@pytest.fixture
def run_process(kubo, market, tmp_path):
    """The `datalicense` command in a child process (`python -m datalicense.cli.main`), on the real chain and Kubo,
    with its own home under tmp_path. Returns a CompletedProcess."""
    import subprocess
    import sys

    def run(*args, account="dev:3", check=True, home="home"):
        env = dict(os.environ, DATALICENSE_HOME=str(tmp_path / home), DATALICENSE_IPFS_API=kubo.api_multiaddr)
        cmd = [sys.executable, "-m", "datalicense.cli.main", "--address", market.address]
        if account:
            cmd += ["--account", account]
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return run


@pytest.fixture
def run_inprocess(kubo, market, tmp_path, monkeypatch, capsys):
    """The `datalicense` entry point (main: one-line errors, exit codes), run in this process to spare a Python
    start-up per command; the chain and Kubo are the real ones. Returns a CompletedProcess."""
    import subprocess
    import sys

    from datalicense.cli import main as cli

    def run(*args, account="dev:3", check=True, home="home"):
        monkeypatch.setenv("DATALICENSE_HOME", str(tmp_path / home))
        monkeypatch.setenv("DATALICENSE_IPFS_API", kubo.api_multiaddr)
        argv = ["datalicense", "--address", market.address] + (["--account", account] if account else []) + list(args)
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        p = subprocess.CompletedProcess(argv, code, out, err)
        if check:
            assert p.returncode == 0, p.stderr
        assert "Traceback" not in p.stderr
        return p

    return run


@pytest.fixture
def user(tmp_path):
    """A user's shell on a stack of its own (`datalicense up` in it): a data folder of its own, the stack on free
    ports, nothing from the tests' environment. `user(line)` runs a shell line; `.work`, `.ports` (rpc, ipfs,
    gateway, swarm, web, serve) and `.env` describe it. The stack is stopped after the test."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    rpc, ipfs, gateway, swarm, web, serve = free_ports(6)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATALICENSE_")}
    env.update(
        DATALICENSE_HOME=str(tmp_path / "home"),
        DATALICENSE_STACK_RPC_PORT=str(rpc),
        DATALICENSE_STACK_IPFS_PORT=str(ipfs),
        DATALICENSE_STACK_GATEWAY_PORT=str(gateway),
        DATALICENSE_STACK_SWARM_PORT=str(swarm),
        DATALICENSE_STACK_WEB_PORT=str(web),
        DATALICENSE_STACK_SERVE_PORT=str(serve),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), str(root / ".tools" / "bin"),
                              str(root / "node_modules" / ".bin"), env.get("PATH", "")]),
    )
    work = tmp_path / "work"
    work.mkdir()

    def sh(line: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        if check:
            assert p.returncode == 0, f"{line}\n{p.stdout}\n{p.stderr}"
            assert "Traceback" not in p.stderr, p.stderr
        return p

    sh.work = work  # type: ignore[attr-defined]
    sh.ports = (rpc, ipfs, gateway, swarm, web, serve)  # type: ignore[attr-defined]
    sh.env = env  # type: ignore[attr-defined]
    yield sh
    sh("datalicense down", check=False)

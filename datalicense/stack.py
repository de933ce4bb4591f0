"""The local stack that stays up: `datalicense up | down | status` (and `make up | down | status`).

Under the data folder (`--home`, $DATALICENSE_HOME, default ~/.datalicense), in `stack/`:

    chain/            Ganache's database (--database.dbPath): the chain survives `down` and `up`
    ipfs/             the Kubo repository
    deployments/      33.json: the marketplace deployed once on this chain
    ganache.pid|log   kubo.pid|log
    stack.json        where everything runs; the CLI reads it for its defaults on `--network local`

Fixed loopback ports, chosen apart from everything the tests and the demo use (they pick free ports or use
brownie's own chain), each overridable from the environment:

    chain RPC    8560   DATALICENSE_STACK_RPC_PORT      (the default URL of `--network local`)
    web page     8600   DATALICENSE_STACK_WEB_PORT      (`datalicense web`)
    HTTP 402     8402   DATALICENSE_STACK_SERVE_PORT    (`datalicense serve`)
    Kubo API     5160   DATALICENSE_STACK_IPFS_PORT
    Kubo gateway 8160   DATALICENSE_STACK_GATEWAY_PORT
    Kubo swarm   4160   DATALICENSE_STACK_SWARM_PORT

Starting twice is harmless (running services are left alone); the marketplace is deployed only when the
recorded address has no code on the chain. The deployment is made with web3 from the compiled artifacts, so it
needs no brownie.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataLicenseError
from .localstack import _multiaddr_to_url, child_env, find_ganache, find_ipfs

CHAIN_ID = 33
MNEMONIC = "test test test test test test test test test test test junk"
GAS_LIMIT = 6_800_000
GAS_PRICE = 60_000_000
DEFAULT_PORTS = {"rpc": 8560, "ipfs": 5160, "gateway": 8160, "swarm": 4160, "web": 8600, "serve": 8402}
PORT_ENV = {
    "rpc": "DATALICENSE_STACK_RPC_PORT",
    "ipfs": "DATALICENSE_STACK_IPFS_PORT",
    "gateway": "DATALICENSE_STACK_GATEWAY_PORT",
    "swarm": "DATALICENSE_STACK_SWARM_PORT",
    "web": "DATALICENSE_STACK_WEB_PORT",
    "serve": "DATALICENSE_STACK_SERVE_PORT",
}
#: The services `up` starts after the chain and Kubo: the page and the HTTP 402 gateway (no keys in either).
SERVERS = {"web": "the web page", "serve": "the HTTP 402 gateway"}
#: Marketplace roles on the local chain (the dev accounts of the mnemonic).
ADMIN, FEE_RECIPIENT, ARBITER = 0, 1, 2
FEE_BPS = 250
DISPUTE_BOND = 10**15
STARTUP_TIMEOUT = 90.0


def ports() -> dict[str, int]:
    out = {}
    for name, default in DEFAULT_PORTS.items():
        raw = os.environ.get(PORT_ENV[name], "")
        try:
            out[name] = int(raw) if raw else default
        except ValueError as exc:
            raise ConfigError(f"{PORT_ENV[name]}={raw!r} is not a port number") from exc
    return out


def _home(home: Path | None) -> Path:
    from .home import default_home

    return Path(home) if home else default_home()


@dataclass
class Stack:
    home: Path

    def __post_init__(self) -> None:
        self.home = _home(self.home)
        self.dir = self.home / "stack"
        self.ports = ports()

    # --------------------------------------------------------------------------------------- places

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rpc']}"

    @property
    def ipfs_api(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.ports['ipfs']}/http"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def deployments_dir(self) -> Path:
        return self.dir / "deployments"

    @property
    def state_file(self) -> Path:
        return self.dir / "stack.json"

    def _pid_file(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    def _log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    # ------------------------------------------------------------------------------------- processes

    def pid(self, name: str) -> int | None:
        """The pid of a running service of this stack (None when it is not running)."""
        path = self._pid_file(name)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _alive(pid):
            return None
        cmdline = _cmdline(pid)
        marker = {"ganache": str(self.dir / "chain"), "kubo": "daemon", "web": "datalicense.cli",
                  "serve": "datalicense.cli"}[name]
        if cmdline is not None and marker not in cmdline:
            return None  # the pid was reused by another program
        return pid

    def status(self) -> dict[str, Any]:
        dep = self.deployments_dir / f"{CHAIN_ID}.json"
        contracts: dict[str, Any] = {}
        if dep.exists():
            try:
                contracts = {k: v["address"] for k, v in json.loads(dep.read_text())["contracts"].items()}
            except (OSError, ValueError, KeyError, TypeError):
                contracts = {}
        chain_pid, kubo_pid = self.pid("ganache"), self.pid("kubo")
        servers = {name: {"running": self.pid(name) is not None, "pid": self.pid(name),
                          "url": f"http://127.0.0.1:{self.ports[name]}/"} for name in SERVERS}
        return {
            "web": servers["web"],
            "serve": servers["serve"],
            "home": str(self.home),
            "chain": {"running": chain_pid is not None, "pid": chain_pid, "rpc": self.rpc_url, "chainId": CHAIN_ID,
                      "database": str(self.dir / "chain")},
            "ipfs": {"running": kubo_pid is not None, "pid": kubo_pid, "api": self.ipfs_api,
                     "gateway": self.gateway_url, "repo": str(self.dir / "ipfs")},
            "deployments": str(self.deployments_dir),
            "contracts": contracts,
        }

    def up(self) -> dict[str, Any]:
        from .home import private_dir

        private_dir(self.dir)
        started = []
        if self.pid("ganache") is None:
            self._start_ganache()
            started.append("chain")
        if self.pid("kubo") is None:
            self._start_kubo()
            started.append("ipfs")
        deployed = self._deploy_once()
        self._write_state()
        for name in SERVERS:
            if self.pid(name) is None:
                self._start_server(name)
                started.append(name)
        out = self.status()
        out["started"] = started
        out["deployed"] = deployed
        return out

    def down(self) -> list[str]:
        stopped = []
        for name in ("web", "serve", "kubo", "ganache"):
            pid = self.pid(name)
            if pid is not None:
                _stop(pid)
                stopped.append(name)
            self._pid_file(name).unlink(missing_ok=True)
        return stopped

    # -------------------------------------------------------------------------------------- services

    def _check_port(self, port: int, what: str) -> None:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise ConfigError(
                    f"port {port} for the {what} is taken by another program: stop it, or pick another port with "
                    f"{PORT_ENV[{'chain': 'rpc', 'Kubo API': 'ipfs', 'Kubo gateway': 'gateway', 'Kubo swarm': 'swarm'}[what]]}"
                ) from exc

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self._log(name), "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=self.dir)
        finally:
            log.close()
        self._pid_file(name).write_text(f"{proc.pid}\n")
        return proc

    def _start_ganache(self) -> None:
        port = self.ports["rpc"]
        self._check_port(port, "chain")
        db = self.dir / "chain"
        db.mkdir(mode=0o700, parents=True, exist_ok=True)
        args = [find_ganache(), "--chain.chainId", str(CHAIN_ID), "--chain.networkId", str(CHAIN_ID),
                "--hardfork", "berlin", "--miner.blockGasLimit", str(GAS_LIMIT),
                "--miner.defaultGasPrice", str(GAS_PRICE), "--wallet.mnemonic", MNEMONIC,
                "--wallet.totalAccounts", "10", "--wallet.defaultBalance", "1000000",
                "--server.host", "127.0.0.1", "--server.port", str(port), "--database.dbPath", str(db),
                "--logging.quiet", "true"]
        proc = self._spawn("ganache", args, child_env())
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._pid_file("ganache").unlink(missing_ok=True)
                raise DataLicenseError(f"the local chain exited at start: {_tail(self._log('ganache'))}")
            try:
                if int(str(_rpc(self.rpc_url, "eth_chainId")), 16) == CHAIN_ID:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        _stop(proc.pid)
        raise DataLicenseError(f"the local chain was not ready after {STARTUP_TIMEOUT:.0f}s (log: {self._log('ganache')})")

    def _start_kubo(self) -> None:
        for name, what in (("ipfs", "Kubo API"), ("gateway", "Kubo gateway"), ("swarm", "Kubo swarm")):
            self._check_port(self.ports[name], what)
        repo = self.dir / "ipfs"
        binary = find_ipfs()
        env = child_env(IPFS_PATH=str(repo))

        def ipfs(*args: str) -> None:
            p = subprocess.run([binary, *args], env=env, capture_output=True, timeout=60)
            if p.returncode != 0:
                raise DataLicenseError(f"ipfs {args[0]} failed: {p.stderr.decode(errors='replace').strip()[-300:]}")

        if not (repo / "config").exists():
            ipfs("init", "--profile", "test", "--empty-repo")
        # the ports may differ from the last start (environment overrides): set them every time
        ipfs("config", "Addresses.API", f"/ip4/127.0.0.1/tcp/{self.ports['ipfs']}")
        ipfs("config", "Addresses.Gateway", f"/ip4/127.0.0.1/tcp/{self.ports['gateway']}")
        ipfs("config", "--json", "Addresses.Swarm", json.dumps([f"/ip4/127.0.0.1/tcp/{self.ports['swarm']}"]))
        (repo / "api").unlink(missing_ok=True)
        log = self._log("kubo")
        start = log.stat().st_size if log.exists() else 0
        proc = self._spawn("kubo", [binary, "daemon", "--offline"], env)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._pid_file("kubo").unlink(missing_ok=True)
                raise DataLicenseError(f"the Kubo daemon exited at start: {_tail(log)}")
            with open(log, "rb") as f:
                f.seek(start)
                ready = b"Daemon is ready" in f.read()
            if ready and (repo / "api").exists():
                _multiaddr_to_url((repo / "api").read_text())
                return
            time.sleep(0.1)
        _stop(proc.pid)
        raise DataLicenseError(f"the Kubo daemon was not ready after {STARTUP_TIMEOUT:.0f}s (log: {log})")

    def _start_server(self, name: str) -> None:
        """`datalicense web` or `datalicense serve` on this stack (its chain, contracts and Kubo via stack.json)."""
        import sys

        port = self.ports[name]
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise ConfigError(f"port {port} for {SERVERS[name]} is taken by another program: stop it, or pick "
                                  f"another port with {PORT_ENV[name]}") from exc
        env = child_env(DATALICENSE_HOME=str(self.home))
        for k in ("DATALICENSE_LOCAL_RPC", "DATALICENSE_DEPLOYMENTS", "DATALICENSE_IPFS_API", "DATALICENSE_NETWORK"):
            env.pop(k, None)  # the stack's own, from stack.json
        proc = self._spawn(name, [sys.executable, "-m", "datalicense.cli", "--network", "local", name,
                                  "--port", str(port)], env)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._pid_file(name).unlink(missing_ok=True)
                raise DataLicenseError(f"{SERVERS[name]} exited at start: {_tail(self._log(name))}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        _stop(proc.pid)
        raise DataLicenseError(f"{SERVERS[name]} was not ready after {STARTUP_TIMEOUT:.0f}s (log: {self._log(name)})")

    # ------------------------------------------------------------------------------------ deployment

    def _deploy_once(self) -> bool:
        """Deploy the marketplace unless the recorded one has code on this chain; True when it deployed."""
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 60}))
        dep = self.deployments_dir / f"{CHAIN_ID}.json"
        if dep.exists():
            try:
                data = json.loads(dep.read_text())
                if all(w3.eth.get_code(Web3.to_checksum_address(data["contracts"][n]["address"]))
                       for n in ("DataLicense", "DataLicenseLens", "RevenuePool")):
                    return False
            except (OSError, ValueError, KeyError, TypeError):
                pass
        deploy_marketplace(w3, dep)
        return True

    def _write_state(self) -> None:
        state = {"chainId": CHAIN_ID, "rpc": self.rpc_url, "ipfs": self.ipfs_api, "gateway": self.gateway_url,
                 "deployments": str(self.deployments_dir)}
        tmp = self.state_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.state_file)


def artifact(name: str) -> dict[str, Any]:
    """ABI and creation bytecode of a project contract, from $DATALICENSE_ARTIFACTS (a folder of compiled
    contracts, such as brownie's build/contracts) or else from the copy the package ships (datalicense/artifacts,
    exported from the build by `make setup` / scripts/export_abi.py). Never from the checkout's layout."""
    folder = os.environ.get("DATALICENSE_ARTIFACTS")
    path = Path(folder or str(resources.files("datalicense") / "artifacts")) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
        code = data["bytecode"]
        abi = data["abi"]
    except FileNotFoundError as exc:
        hint = ("fix DATALICENSE_ARTIFACTS" if folder else
                "in a checkout run `make setup` (it compiles and exports the contracts); else reinstall the package")
        raise ConfigError(f"no compiled {name} at {path}: {hint}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the compiled {name} at {path}: {exc}; run `make setup`") from exc
    if not code or "__" in code:
        raise ConfigError(f"{path} has no deployable bytecode for {name} (unlinked or abstract)")
    return {"abi": abi, "bytecode": code if code.startswith("0x") else "0x" + code}


def deploy_marketplace(w3: Any, record: Path) -> dict[str, Any]:
    """Deploy DataLicense, DataLicenseLens and a RevenuePool implementation from the dev accounts; write `record`
    in the deployments format (datalicense/deployments.py)."""
    from .chain import Transactor, load_account

    admin = load_account(f"dev:{ADMIN}")
    fee_recipient = load_account(f"dev:{FEE_RECIPIENT}").address
    arbiter = load_account(f"dev:{ARBITER}").address
    tx = Transactor(w3, admin)
    contracts: dict[str, Any] = {}

    def deploy(name: str, *args: Any) -> str:
        a = artifact(name)
        factory = w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
        rcpt = tx.send(factory.constructor(*args), what=f"deploy {name}")
        address = rcpt.raw["contractAddress"]
        contracts[name] = {"address": address, "block": rcpt.block, "tx": rcpt.tx_hash}
        return str(address)

    market = deploy("DataLicense", admin.address, fee_recipient, arbiter, FEE_BPS, DISPUTE_BOND)
    deploy("DataLicenseLens", market)
    deploy("RevenuePool", market)
    record.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = record.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"chainId": CHAIN_ID, "contracts": contracts}, indent=2) + "\n")
    os.replace(tmp, record)
    return contracts


def apply_defaults(home: Path | None, ipfs: str | None) -> str | None:
    """For `--network local`: when this data folder has a stack and nothing else names the local chain, its chain
    (DATALICENSE_LOCAL_RPC), its deployments (DATALICENSE_DEPLOYMENTS) and its Kubo (returned as the IPFS
    endpoint) become the defaults. Anything set explicitly wins."""
    d = defaults(home)
    if d is None:
        return ipfs
    local = os.environ.get("DATALICENSE_LOCAL_RPC")
    if local and local.rstrip("/") != d["rpc"].rstrip("/"):
        return ipfs  # another local chain was named (the tests' own): leave everything as it is
    os.environ["DATALICENSE_LOCAL_RPC"] = d["rpc"]
    os.environ.setdefault("DATALICENSE_DEPLOYMENTS", d["deployments"])
    return ipfs or os.environ.get("DATALICENSE_IPFS_API") or d["ipfs"]


def defaults(home: Path | None) -> dict[str, Any] | None:
    """What the stack of this data folder records (rpc, ipfs, deployments), or None when it was never started."""
    path = _home(home) / "stack" / "stack.json"
    try:
        data = json.loads(path.read_text())
        return {"rpc": str(data["rpc"]), "ipfs": str(data["ipfs"]), "deployments": str(data["deployments"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------------------------------ internals


def _rpc(url: str, method: str) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())["result"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not reaped) is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _cmdline(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _stop(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM the service's process group (it was started in its own session), SIGKILL it if it stays."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
            except ChildProcessError:
                pass
            if not _alive(pid):
                return
            time.sleep(0.1)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()[-500:]
    except OSError:
        return "(no log)"

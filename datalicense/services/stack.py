"""The local stack that stays up: `datalicense up | down | status` (and `make up | down | status`).

Under the data folder (`--home`, $DATALICENSE_HOME, default ~/.datalicense), in `stack/`:

    chain/            Ganache's database (--database.dbPath): the chain survives `down` and `up`
    chain.json        Ganache's private port and path (the front forwards there; nothing else is told)
    ipfs/             the Kubo repository
    deployments/      33.json: the marketplace deployed once on this chain
    ganache.pid|log   front.pid|log   kubo.pid|log   web.pid|log   serve.pid|log
    stack.json        where everything runs; the CLI reads it for its defaults on `--network local`

The chain's RPC port is a front (datalicense/services/chainfront.py) that refuses web pages from elsewhere: the dev
accounts' keys are public and Ganache answers any Origin, so Ganache itself listens on a free loopback port under a
private path, without WebSockets, and only the front knows where.

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
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from datalicense.services.deploy import CHAIN_ID, deploy_marketplace
from datalicense.errors import ConfigError, DataLicenseError
from datalicense.infra.stackdefaults import apply_defaults, defaults, state_file  # noqa: F401 - the CLI's names
from datalicense.services.localstack import (_free_port, _multiaddr_to_url, alive, child_env, cmdline, find_ganache, find_ipfs,
                         stop_group, tail)
from datalicense.infra.home import default_home, private_dir

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
PORT_WHAT = {"rpc": "the chain", "ipfs": "the Kubo API", "gateway": "the Kubo gateway", "swarm": "the Kubo swarm",
             "web": "the web page", "serve": "the HTTP 402 gateway"}
#: The services `up` starts after the chain and Kubo: the page and the HTTP 402 gateway (no keys in either).
SERVERS = {"web": "the web page", "serve": "the HTTP 402 gateway"}
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
        return state_file(self.home)

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
        if not alive(pid):
            return None
        line = cmdline(pid)
        marker = {"ganache": str(self.dir / "chain"), "front": "datalicense.services.chainfront", "kubo": "daemon",
                  "web": "datalicense.cli.main", "serve": "datalicense.cli.main"}[name]
        if line is not None and marker not in line:
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
        chain_pid, front_pid, kubo_pid = self.pid("ganache"), self.pid("front"), self.pid("kubo")
        servers = {name: {"running": self.pid(name) is not None, "pid": self.pid(name),
                          "url": f"http://127.0.0.1:{self.ports[name]}/"} for name in SERVERS}
        return {
            "web": servers["web"],
            "serve": servers["serve"],
            "home": str(self.home),
            "chain": {"running": chain_pid is not None and front_pid is not None, "pid": chain_pid,
                      "front": front_pid, "rpc": self.rpc_url, "chainId": CHAIN_ID, "database": str(self.dir / "chain")},
            "ipfs": {"running": kubo_pid is not None, "pid": kubo_pid, "api": self.ipfs_api,
                     "gateway": self.gateway_url, "repo": str(self.dir / "ipfs")},
            "deployments": str(self.deployments_dir),
            "contracts": contracts,
        }

    def up(self) -> dict[str, Any]:
        private_dir(self.dir)
        started = []
        chain = self.pid("ganache")
        if chain is not None and self._private_rpc() is None:
            stop_group(chain)  # a chain started before the front, answering on the public port itself: restart it
            chain = None
        if chain is None:
            front = self.pid("front")
            if front is not None:
                stop_group(front)  # it forwards to the chain that stopped
            self._start_ganache()
            started.append("chain")
        if self.pid("front") is None:
            self._start_front()
            if "chain" not in started:
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
        for name in ("web", "serve", "front", "kubo", "ganache"):
            pid = self.pid(name)
            if pid is not None:
                stop_group(pid)
                stopped.append(name)
            self._pid_file(name).unlink(missing_ok=True)
        return stopped

    # -------------------------------------------------------------------------------------- services

    def _check_port(self, name: str) -> None:
        """ConfigError when the port of `name` (a key of PORT_ENV) is taken."""
        port = self.ports[name]
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise ConfigError(f"port {port} for {PORT_WHAT[name]} is taken by another program: stop it, or pick "
                                  f"another port with {PORT_ENV[name]}") from exc

    def _spawn(self, name: str, args: list[str], env: dict[str, str], ready: Callable[[], bool],
               what: str) -> None:
        """Start a service in its own session, logging to NAME.log, and wait until `ready()`; stop it and say why
        when it exits or is not ready in time."""
        log = open(self._log(name), "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=self.dir)
        finally:
            log.close()
        self._pid_file(name).write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._pid_file(name).unlink(missing_ok=True)
                raise DataLicenseError(f"{what} exited at start: {tail(self._log(name))}")
            if ready():
                return
            time.sleep(0.1)
        stop_group(proc.pid)
        raise DataLicenseError(f"{what} was not ready after {STARTUP_TIMEOUT:.0f}s (log: {self._log(name)})")

    @property
    def _chain_file(self) -> Path:
        return self.dir / "chain.json"

    def _private_rpc(self) -> str | None:
        """Ganache's private RPC URL (None when no chain was started under the front)."""
        try:
            data = json.loads(self._chain_file.read_text())
            return f"http://127.0.0.1:{int(data['port'])}/{str(data['path']).strip('/')}"
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _start_ganache(self) -> None:
        """Ganache on a free loopback port under a private path, without WebSockets (the front is its door)."""
        db = self.dir / "chain"
        db.mkdir(mode=0o700, parents=True, exist_ok=True)
        port, path = _free_port(), secrets.token_hex(16)
        fd = os.open(self._chain_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"port": port, "path": path}, f)
        url = str(self._private_rpc())
        args = [find_ganache(), "--chain.chainId", str(CHAIN_ID), "--chain.networkId", str(CHAIN_ID),
                "--hardfork", "berlin", "--miner.blockGasLimit", str(GAS_LIMIT),
                "--miner.defaultGasPrice", str(GAS_PRICE), "--wallet.mnemonic", MNEMONIC,
                "--wallet.totalAccounts", "10", "--wallet.defaultBalance", "1000000",
                "--server.host", "127.0.0.1", "--server.port", str(port), "--server.rpcEndpoint", f"/{path}",
                "--server.ws", "false", "--database.dbPath", str(db), "--logging.quiet", "true"]
        self._spawn("ganache", args, child_env(), lambda: _answers(url), "the local chain")

    def _start_front(self) -> None:
        """The chain's public port: datalicense.services.chainfront, forwarding to Ganache's private URL."""
        self._check_port("rpc")
        args = [sys.executable, "-m", "datalicense.services.chainfront", "--port", str(self.ports["rpc"]), "--upstream",
                str(self._private_rpc()), "--page-port", str(self.ports["web"])]
        for option, variable in (("--allow-origin", "DATALICENSE_ALLOWED_ORIGINS"),
                                 ("--allow-host", "DATALICENSE_ALLOWED_HOSTS")):
            if os.environ.get(variable):
                args += [option, os.environ[variable]]
        self._spawn("front", args, child_env(), lambda: _answers(self.rpc_url), "the local chain's front")

    def _start_kubo(self) -> None:
        for name in ("ipfs", "gateway", "swarm"):
            self._check_port(name)
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

        def ready() -> bool:
            with open(log, "rb") as f:
                f.seek(start)
                if b"Daemon is ready" not in f.read() or not (repo / "api").exists():
                    return False
            _multiaddr_to_url((repo / "api").read_text())
            return True

        self._spawn("kubo", [binary, "daemon", "--offline"], env, ready, "the Kubo daemon")

    def _start_server(self, name: str) -> None:
        """`datalicense web` or `datalicense serve` on this stack (its chain, contracts and Kubo via stack.json)."""
        port = self.ports[name]
        self._check_port(name)
        env = child_env(DATALICENSE_HOME=str(self.home))
        for k in ("DATALICENSE_LOCAL_RPC", "DATALICENSE_DEPLOYMENTS", "DATALICENSE_IPFS_API", "DATALICENSE_NETWORK"):
            env.pop(k, None)  # the stack's own, from stack.json
        self._spawn(name, [sys.executable, "-m", "datalicense.cli.main", "--network", "local", name, "--port", str(port)],
                    env, lambda: _listening(port), SERVERS[name])

    # ------------------------------------------------------------------------------------ deployment

    def _deploy_once(self) -> bool:
        """Deploy the marketplace unless the recorded one has code on this chain; True when it deployed."""
        from web3 import Web3  # start-up: web3 only when deploying

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


# ------------------------------------------------------------------------------------------ internals


def _answers(url: str) -> bool:
    """Whether the chain at `url` answers as the stack's chain (its chain id)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(str(json.loads(resp.read())["result"]), 16) == CHAIN_ID
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0

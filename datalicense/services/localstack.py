"""Throwaway local services: a Kubo (IPFS) daemon with its own repository on loopback ports.

Used by the tests, the demo and `datalicense` users who want a private IPFS node for a session.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType
import json
import socket
import urllib.request

from datalicense.errors import DataLicenseError
from datalicense.protocol.rehearsal import rehearsal_chain_id

#: Variables of this process's environment that child processes (Kubo, the fork's Ganache) never get: the
#: keystore password datalicense.infra.chain reads (`_password`).
SECRET_ENV = frozenset({"DATALICENSE_PASSWORD"})


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this process's, without SECRET_ENV, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env.update(extra)
    return env


def find_tool(name: str, variable: str) -> str | None:
    """An external program: the path in $variable, else `name` in this Python environment's scripts folder (where
    `make setup` links the project's Kubo and Ganache into .venv/bin, and where a user may put them), else on PATH.
    Never looked up by the checkout's layout, so an installed package finds the same tools."""
    configured = os.environ.get(variable)
    if configured:
        if not os.access(configured, os.X_OK):
            raise DataLicenseError(f"{variable}={configured} is not an executable file: fix or unset it")
        return configured
    here = Path(sysconfig.get_path("scripts")) / name
    if os.access(here, os.X_OK):
        return str(here)
    return shutil.which(name)


def find_ipfs() -> str:
    """Path of the Kubo binary: $DATALICENSE_IPFS_BIN, `ipfs` in this Python environment's scripts folder, or on
    PATH."""
    found = find_tool("ipfs", "DATALICENSE_IPFS_BIN")
    if found:
        return found
    raise DataLicenseError(
        "no Kubo (ipfs) binary found: run `make setup` (builds it), install Kubo and put `ipfs` on PATH, "
        "or set DATALICENSE_IPFS_BIN"
    )


def _multiaddr_to_url(addr: str) -> str:
    parts = addr.strip().split("/")
    # /ip4/127.0.0.1/tcp/PORT
    if len(parts) >= 5 and parts[1] in ("ip4", "ip6") and parts[3] == "tcp":
        host = parts[2] if parts[1] == "ip4" else f"[{parts[2]}]"
        return f"http://{host}:{parts[4]}"
    raise DataLicenseError(f"unexpected Kubo API address {addr!r}")


def _terminate(proc: "subprocess.Popen[bytes] | None") -> None:
    """SIGTERM a process group started with start_new_session, SIGKILL it if it does not go."""
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class KuboDaemon:
    """A Kubo daemon in a fresh repository, offline, with RPC API and gateway on free loopback ports.

    Use as a context manager; `api_url`, `api_multiaddr` and `gateway_url` (the HTTP gateway, for browsers)
    are set once it is ready.
    """

    def __init__(self, repo: str | Path | None = None, offline: bool = True, startup_timeout: float = 60.0,
                 api_port: int | None = None, swarm_port: int | None = None, routing: str | None = None,
                 config: dict[str, object] | None = None):
        """offline=False: a node that talks to peers (swarm on loopback; no bootstrap peers, no mDNS, as the test
        profile sets). An online node gets fixed ports at its first start (free ones unless api_port/swarm_port
        name them), so a restart keeps its RPC endpoint and address: what another node was told still works.
        routing: Routing.Type ("none" for loopback peers that find each other by `swarm connect` alone).
        config: more `ipfs config --json KEY VALUE` settings, applied at init."""
        self._own_repo = repo is None
        self.repo = Path(repo) if repo else Path(tempfile.mkdtemp(prefix="datalicense-kubo-"))
        self.offline = offline
        self.startup_timeout = startup_timeout
        self.binary = find_ipfs()
        self.proc: subprocess.Popen[bytes] | None = None
        self.api_multiaddr = ""
        self.api_url = ""
        self.api_port = api_port
        self.swarm_port = swarm_port
        self.routing = routing
        self.config = dict(config or {})
        self._log = self.repo.parent / f"{self.repo.name}.log"

    def _ipfs(self, *args: str) -> None:
        env = child_env(IPFS_PATH=str(self.repo))
        subprocess.run([self.binary, *args], env=env, check=True, capture_output=True, timeout=60)

    def start(self) -> "KuboDaemon":
        env = child_env(IPFS_PATH=str(self.repo))
        if not (self.repo / "config").exists():
            fixed = not self.offline or self.api_port is not None or self.swarm_port is not None
            api = self.api_port if self.api_port is not None else (_free_port() if fixed else 0)
            swarm = self.swarm_port if self.swarm_port is not None else (_free_port() if fixed else 0)
            self._ipfs("init", "--profile", "test", "--empty-repo")
            self._ipfs("config", "Addresses.API", f"/ip4/127.0.0.1/tcp/{api}")
            self._ipfs("config", "Addresses.Gateway", "/ip4/127.0.0.1/tcp/0")
            self._ipfs("config", "--json", "Addresses.Swarm", json.dumps([f"/ip4/127.0.0.1/tcp/{swarm}"]))
            if self.routing:
                self._ipfs("config", "Routing.Type", self.routing)
            for key, value in self.config.items():
                self._ipfs("config", "--json", key, json.dumps(value))
        api_file = self.repo / "api"
        api_file.unlink(missing_ok=True)
        args = [self.binary, "daemon"] + (["--offline"] if self.offline else [])
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DataLicenseError(f"Kubo daemon exited at start: {self._log.read_text()[-2000:]}")
            if api_file.exists() and "Daemon is ready" in self._log.read_text(errors="replace"):
                self.api_multiaddr = api_file.read_text().strip()
                self.api_url = _multiaddr_to_url(self.api_multiaddr)
                for line in self._log.read_text(errors="replace").splitlines():
                    if line.startswith("Gateway server listening on "):
                        self.gateway_url = _multiaddr_to_url(line.split()[-1])
                return self
            time.sleep(0.1)
        self.stop()
        raise DataLicenseError(f"Kubo daemon not ready after {self.startup_timeout:.0f}s (log: {self._log})")

    def stop(self, remove_repo: bool | None = None) -> None:
        _terminate(self.proc)
        self.proc = None
        if remove_repo if remove_repo is not None else self._own_repo:
            shutil.rmtree(self.repo, ignore_errors=True)
            self._log.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the daemon (fault tests); the repository is kept so it can be started again."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> "KuboDaemon":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def find_ganache() -> str:
    """The Ganache CLI: $DATALICENSE_GANACHE_BIN, `ganache` in this Python environment's scripts folder, or on
    PATH."""
    found = find_tool("ganache", "DATALICENSE_GANACHE_BIN")
    if found:
        return found
    raise DataLicenseError("--fork needs Ganache: run `make setup` or `npm install -g ganache@7.9.2`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GanacheFork:
    """A Ganache fork of another node on a free loopback port: reads see the upstream state, writes stay local.

    Legacy transactions only (berlin), the deterministic dev accounts funded. It runs under the rehearsal chain id
    of the upstream's (datalicense.protocol.rehearsal): what is signed for it, the upstream refuses. Its RPC answers
    only under a private path (`url`), without WebSockets: a web page that finds the port cannot use the unlocked
    dev accounts.
    """

    def __init__(self, upstream: str, startup_timeout: float = 60.0):
        self.upstream = upstream
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/{secrets.token_hex(16)}"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "GanacheFork":
        def rpc(url: str, method: str) -> object:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
            req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())["result"]

        try:
            chain_id = rehearsal_chain_id(int(str(rpc(self.upstream, "eth_chainId")), 16))
        except OSError as exc:
            raise DataLicenseError(f"cannot reach {self.upstream} to fork it ({exc}): is the node running?") from exc
        args = [find_ganache(), "--fork.url", self.upstream, "--chain.chainId", str(chain_id),
                "--server.port", str(self.port), "--server.host", "127.0.0.1", "--hardfork", "berlin",
                "--server.rpcEndpoint", "/" + self.url.rsplit("/", 1)[1], "--server.ws", "false",
                "--logging.quiet", "true", "--wallet.mnemonic",
                "test test test test test test test test test test test junk", "--miner.defaultGasPrice", "60000000"]
        self.proc = subprocess.Popen(args, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise DataLicenseError(f"Ganache fork of {self.upstream} exited: {err.strip()[-500:]}")
            try:
                rpc(self.url, "eth_blockNumber")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise DataLicenseError(f"Ganache fork of {self.upstream} not ready after {self.startup_timeout:.0f}s")

    def stop(self) -> None:
        _terminate(self.proc)
        self.proc = None

    def __enter__(self) -> "GanacheFork":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------- services started in their own session


def alive(pid: int) -> bool:
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


def cmdline(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def stop_group(pid: int, timeout: float = 30.0) -> None:
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
            if not alive(pid):
                return
            time.sleep(0.1)


def tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()[-500:]
    except OSError:
        return "(no log)"

"""A new user's first hour: `datalicense up`, the README's "From a terminal" commands verbatim on the default
network, `down`, `up` again (same chain, datasets and licences), `down` leaves nothing running.

The stack runs in a temporary data folder on free ports (environment overrides), so it never touches a user's
stack, and the commands get none of the tests' own settings (no DATALICENSE_LOCAL_RPC, IPFS or deployments):
they find the chain, Kubo and the marketplace the way a user's shell does, from the stack `up` started.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def readme_terminal_commands() -> list[str]:
    """The command lines of the first ```sh block of the README's "From a terminal" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### From a terminal\n", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's 'From a terminal' section has no ```sh block"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_readme_terminal_commands_on_the_stack_that_stays_up(user):
    commands = readme_terminal_commands()
    assert any(" publish " in c for c in commands) and any(" withdraw" in c for c in commands)

    before = user("datalicense status").stdout
    assert "local stack down" in before
    first = user("datalicense up").stdout
    assert "local stack up" in first and "next:" in first
    again = user("datalicense up").stdout  # starting twice is harmless
    assert "already up" in again
    state = json.loads(user("datalicense --json status").stdout)
    pids = [state["chain"]["pid"], state["ipfs"]["pid"]]
    market = state["contracts"]["DataLicense"]
    assert all(pids) and market

    out = {}
    for line in commands:
        out[line] = user(line).stdout
    said = "\n".join(out.values())
    assert "published as dataset 1" in said
    listing = next(v for k, v in out.items() if k.split("#")[0].strip() == "datalicense list")
    assert "Clinic visits 2025" in listing and "text/csv" in listing
    assert "licence 1 bought for 0.002 RBTC" in said
    assert "delivered 1," in said
    assert "licence 1 confirmed" in said
    assert (user.work / "bought.csv").read_bytes() == (user.work / "clinic.csv").read_bytes()
    assert re.search(r"^\s+1\s+dataset 1\s+Settled\s+valid", said, re.M), said
    assert "withdrew 0.00195 RBTC" in said

    assert "stopped" in user("datalicense down").stdout
    for pid in pids:
        assert not _alive(pid)
    assert "local stack down" in user("datalicense status").stdout
    assert "reach the local node" in user("datalicense list", check=False).stderr

    # the same chain, contracts, datasets and licences come back
    user("datalicense up")
    state = json.loads(user("datalicense --json status").stdout)
    assert state["contracts"]["DataLicense"] == market
    listing = user("datalicense list").stdout
    assert "Clinic visits 2025" in listing and "sold 1" in listing
    mine = user("datalicense --account dev:4 licences").stdout
    assert re.search(r"^\s+1\s+dataset 1\s+Settled\s+valid", mine, re.M), mine
    pids = [state["chain"]["pid"], state["ipfs"]["pid"]]

    user("datalicense down")
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)
    assert not any(_port_open(p) for p in user.ports)
    assert "not running" in user("datalicense down").stdout


def readme_python_example() -> str:
    """The first ```python block of the README's "From Python" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### From Python", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "the README's 'From Python' section has no ```python block"
    return block.group(1)


def test_readme_python_example_on_the_stack(user, tmp_path):
    """The README's Python example as written on the stack `up` started; only its /tmp/ paths are moved into this
    test's own folder."""
    code = readme_python_example().replace('"/tmp/', f'"{tmp_path}/')
    assert "/tmp/" not in code.replace(str(tmp_path), "")
    user("datalicense up")
    (user.work / "clinic.csv").write_text("visit,clinic,minutes\n1,north,12\n2,south,30\n")
    user(f"python -c {shlex.quote(code)}")
    assert (tmp_path / "clinic-bought.csv").read_bytes() == (user.work / "clinic.csv").read_bytes()

"""`datalicense --help` (and a command's --help) is quick: it loads no web3, no client and no role. The command
modules import what talks to the chain inside the commands, each such import with its reason
(tests/test_layers.py), and the package's public names (`from datalicense import Client`) load on first use.

A fresh interpreter runs the entry point and reports, at exit, which heavy modules it loaded. The check is first
shown to see a heavy module loaded.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

HEAVY = ("web3", "eth_account", "datalicense.client", "datalicense.roles.buyer", "datalicense.infra.chain")

PROBE = """
import atexit, sys
atexit.register(lambda: print("LOADED", *[m for m in {heavy!r} if m in sys.modules], file=sys.stderr))
{before}
sys.argv = ["datalicense", *{args!r}]
from datalicense.cli.main import main
main()
"""


def loaded(args: list[str], before: str = "") -> tuple[int, list[str], str]:
    """(exit code, the heavy modules loaded, stdout) of `datalicense ARGS` in a fresh interpreter."""
    p = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args, before=before)],
                       capture_output=True, text=True, timeout=120)
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("LOADED")][-1]
    return p.returncode, line.split()[1:], p.stdout


def test_the_probe_sees_a_heavy_module():
    code, heavy, _ = loaded(["--help"], before="import web3")
    assert code == 0 and "web3" in heavy


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["pool", "--help"], ["pool", "build", "--help"],
                                  ["publish", "--help"], ["get", "--help"], ["up", "--help"]],
                         ids=lambda a: " ".join(a))
def test_help_loads_no_web3_and_no_role(args):
    code, heavy, out = loaded(args)
    assert code == 0 and "Usage: datalicense" in out
    assert heavy == [], f"`datalicense {' '.join(args)}` loaded {heavy}"


def test_the_public_api_still_loads_on_first_use():
    code = ("import sys, datalicense; assert 'web3' not in sys.modules; "
            "from datalicense import Client, PublishResult, ConfigError; "
            "import datalicense.client as c; assert c.Client is Client and 'web3' in sys.modules; "
            "assert {'Client', 'DatasetInfo'} <= set(dir(datalicense)) and set(datalicense.__all__) <= set(dir(datalicense))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


INTERRUPT_DURING_IMPORT = """
import importlib.abc, os, signal
class _CtrlC(importlib.abc.MetaPathFinder):  # a real SIGINT while the command line's modules load
    def find_spec(self, name, path=None, target=None):
        if name == "datalicense.cli.options":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, _CtrlC())
"""


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130():
    p = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, args=["list"], before=INTERRUPT_DURING_IMPORT)],
                       capture_output=True, text=True, timeout=120)
    said = [ln for ln in p.stderr.splitlines() if not ln.startswith("LOADED")]
    assert p.returncode == 130 and len(said) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "interrupted" in said[0]

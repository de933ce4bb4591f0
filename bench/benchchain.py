"""The benchmarks' chain: brownie's throwaway Ganache on a free port (as the tests' conftest does), so a benchmark
never attaches to another run's chain or to a user's stack listening on the configured port."""

from __future__ import annotations

from brownie import network
from brownie._config import CONFIG

from datalicense.services.localstack import _free_port


def connect(name: str = "development") -> None:
    """Connect brownie to the network NAME; a development network (one brownie launches) gets a free port first."""
    settings = CONFIG.networks.get(name, {})
    if "cmd_settings" in settings:
        settings["cmd_settings"]["port"] = _free_port()
    network.connect(name)

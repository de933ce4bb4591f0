"""One example per command, shown at the end of its --help with the global options
(tests/test_cli_conventions.py checks each command has one)."""

from __future__ import annotations

import click

#: One example per command, shown at the end of its --help (tests/test_cli_conventions.py checks each has one).
EXAMPLES: dict[str, str] = {
    "publish": 'datalicense --account dev:3 publish clinic.csv --title "Clinic visits 2025" --price 0.002 --agent dev:5',
    "list": "datalicense list --text clinic --max-price 0.01",
    "show": "datalicense show 1",
    "buy": "datalicense --account dev:4 buy 1 --terms 1 --version 1",
    "whoami": "datalicense --account dev:4 whoami",
    "delivery-key": "datalicense --account dev:6 delivery-key",
    "rotate-key": "datalicense --account dev:4 rotate-key 1",
    "fetch": "datalicense --account dev:4 fetch 1 -o bought.csv",
    "deliver": "datalicense --account dev:3 deliver 1",
    "confirm": "datalicense --account dev:4 confirm 1",
    "settle": "datalicense settle 1",
    "refund": "datalicense --account dev:4 refund 1",
    "dispute": "datalicense --account dev:4 dispute 1 --data",
    "withdraw": "datalicense --account dev:3 withdraw",
    "licences": "datalicense --account dev:4 licences",
    "pool": "datalicense pool show 0xPOOL",
    "pool build": "datalicense --account dev:3 pool build contributors.csv --create",
    "pool show": "datalicense --account dev:7 pool show 0xPOOL",
    "pool claim": "datalicense --account dev:7 pool claim 0xPOOL",
    "pool revoke": "datalicense --account dev:7 pool revoke 0xPOOL",
    "pool version": 'datalicense --account dev:3 pool version 0xPOOL records.csv contributors.csv --title "v2"',
    "pool epoch": "datalicense --account dev:3 pool epoch 0xPOOL contributors-v2.csv",
    "agent": "datalicense --account dev:5 agent",
    "pins": "datalicense --account dev:3 pins 1",
    "pins repair": "datalicense --account dev:3 pins repair 1",
    "pins erase": "datalicense --account dev:3 pins erase 1 --version 1",
    "retire": "datalicense --account dev:3 retire 1",
    "up": "datalicense up",
    "down": "datalicense down",
    "status": "datalicense status",
    "set-agent": "datalicense --account dev:3 set-agent 1 dev:5",
    "set-terms": "datalicense --account dev:3 set-terms 1 --price 0.003 --delivery-hours 12",
    "set-price": "datalicense --account dev:3 set-price 1 0.003",
    "pause": "datalicense --account dev:3 pause 1",
    "resume": "datalicense --account dev:3 resume 1",
    "new-version": 'datalicense --account dev:3 new-version 1 clinic-v2.csv --title "Clinic visits 2025, v2"',
    "transfer": "datalicense --account dev:3 transfer 1 dev:7",
    "accept": "datalicense --account dev:7 accept 1",
    "rule": "datalicense --account dev:2 rule 1 --buyer-bps 5000",
    "resolve-default": "datalicense resolve-default 1",
    "sales": "datalicense --account dev:3 sales",
    "get": "datalicense --account dev:4 get http://127.0.0.1:8402/datasets/1 -o data.csv --max-request 0.01",
    "serve": "datalicense --account dev:3 serve --port 8402",
    "refunds": "datalicense --account dev:4 refunds --list",
    "web": "datalicense web --port 8600",
}
GLOBALS_EPILOG = ("Global options, before or after the command: --network (DATALICENSE_NETWORK, default local), "
                  "--account (DATALICENSE_ACCOUNT), --ipfs (DATALICENSE_IPFS_API), --address (DATALICENSE_ADDRESS), "
                  "--home (DATALICENSE_HOME), --fork (DATALICENSE_FORK), --chain-id (DATALICENSE_CHAIN_ID), --json "
                  "(DATALICENSE_JSON), --progress/--no-progress; see `datalicense --help`.")


def document(group: click.Group, prefix: str = "") -> None:
    """Give every command its example and the global options at the end of its --help."""
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        example = EXAMPLES.get(path)
        cmd.epilog = (f"Example: {example}\n\n" if example else "") + GLOBALS_EPILOG
        if isinstance(cmd, click.Group):
            document(cmd, path + " ")

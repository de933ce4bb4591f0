"""What every command receives: the command line's context (`Ctx`: the global options, the client opened on first
use, output as text or JSON) and small helpers to print strangers' text. Commands take it with `@pass_ctx`.

Nothing here opens a connection or imports web3 until a command asks for `c.client`: `datalicense --help` and a
command's --help stay fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from datalicense.protocol.addresses import ZERO  # noqa: F401 - the one ZERO, for the CLI's modules
from datalicense.protocol.textsafe import escape

if TYPE_CHECKING:
    from datalicense.client import Client


class Ctx:
    """The global options of one command line, and the client they open (once, on first use)."""

    def __init__(self, network: str, account: str | None, ipfs: str | None, address: str | None,
                 home: str | None, as_json: bool, progress: bool, chain_id: int | None = None,
                 namespace: str | None = None):
        self.chain_id = chain_id
        self.namespace = namespace
        self.network = network
        self.account = account
        self.ipfs = ipfs
        self.address = address
        self.home = Path(home) if home else None
        self.as_json = as_json
        self.show_progress = progress
        self._client: Client | None = None

    def progress(self, label: str, total: int | None) -> Callable[[int], None]:
        if not self.show_progress or self.as_json:
            return lambda n: None
        from tqdm import tqdm  # reason: start-up; only commands that move data draw a bar

        bar = tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                   leave=False)

        def tick(n: int) -> None:
            bar.update(n)
            if total is not None and bar.n >= total:
                bar.close()

        return tick

    @property
    def client(self) -> Client:
        if self._client is None:
            from datalicense.client import Client  # reason: start-up; web3 loads only when a command needs the chain

            self._client = Client.connect(self.network, self.account, self.ipfs, self.address, self.home,
                                          progress=self.progress, namespace=self.namespace, chain_id=self.chain_id)
        return self._client

    def connect_without_account(self) -> Client:
        """A client of the same options without an account (the servers: they hold no key)."""
        from datalicense.client import Client  # reason: start-up, as in `client`

        return Client.connect(self.network, None, self.ipfs, self.address, self.home, namespace=self.namespace,
                              chain_id=self.chain_id)

    def out(self, data: dict[str, Any] | list[Any], human: str) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            click.echo(escape(human, newlines=True))  # chain and IPFS text never reaches the terminal raw

    def note(self, text: str) -> None:
        """A line for the person at the terminal, on stderr; nothing under --json."""
        if not self.as_json:
            click.echo(text, err=True)

    def addr(self, a: str) -> str:
        from datalicense.infra.chain import display_address  # reason: start-up (web3), as in `client`

        return display_address(a, self.client.conn.chain_id)

    def amount(self, units: int, asset: str) -> str:
        """`units` of `asset` with its symbol (0.002 RBTC)."""
        return self.client.reader.amount_text(units, asset)


pass_ctx = click.make_pass_decorator(Ctx)


def tx_line(r: Any) -> str:
    """A receipt as the commands print it."""
    return f"tx {r.tx_hash} (gas {r.gas_used:,})"


def clip(text: str, width: int) -> str:
    """Stranger's text on one line, escaped, at most `width` characters."""
    t = escape(text)
    return t if len(t) <= width else t[: width - 1] + "…"


def size_text(n: int | None) -> str:
    """A byte count as people read it (12.3 KiB)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "?"


def when(ts: int) -> str:
    """A date and time in the reader's time zone (--json keeps the unix time)."""
    from datalicense.infra.chain import local_time  # reason: start-up (web3), as in `client`

    return local_time(ts)

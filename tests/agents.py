"""The seller's delivery agent as tests and benchmarks run it beside a gateway or a page: in a thread, following the
chain, stopped on leaving the `with` block."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from datalicense.services.agent import Agent


class AgentThread:
    """The seller's delivery agent following the chain in a thread."""

    def __init__(self, client: Any, db: Path):
        self.agent = Agent(client, db, poll_interval=0.2)
        self.thread = threading.Thread(target=self.agent.run, daemon=True)

    def __enter__(self) -> "AgentThread":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.agent.stop()
        self.thread.join(10)

"""A uvicorn server run from a background thread: the gateway and the page in tests, benchmarks and the stack."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """`with BackgroundServer(config_for, "the page's server") as s: s.url`: started on a free port (or the one
    given), ready when the block starts, stopped when it ends."""

    def __init__(self, config_for: Callable[[str, int], Any], what: str, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        port = port or free_port(host)
        self.what = what
        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(config_for(host, port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"{self.what} did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

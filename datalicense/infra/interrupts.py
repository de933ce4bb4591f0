"""Ctrl-C that cannot be lost: while a block runs on the main thread, every SIGINT is remembered as well as raised.

An interrupt raised inside a library's callback (the encryption reads the file and writes the upload through
Python callbacks of a Rust extension, an HTTP client, a queue) can be caught and dropped on its way out; a publish
that then went on would send a transaction its user asked to stop. The remembered interrupt is raised again after
the block, before anything is sent.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class Interrupts:
    """Whether a SIGINT came while the block ran."""

    def __init__(self) -> None:
        self.seen = False

    def raise_if_seen(self) -> None:
        if self.seen:
            raise KeyboardInterrupt("interrupted before the publish transaction was sent: nothing was published")


@contextmanager
def interrupts_kept() -> Iterator[Interrupts]:
    """Remember every SIGINT during the block (on the main thread; elsewhere signals never arrive, nothing to do)."""
    kept = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield kept
        return
    before = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        kept.seen = True
        if callable(before) and before not in (signal.SIG_IGN, signal.SIG_DFL):
            before(signum, frame)  # Python's default: raise KeyboardInterrupt
        elif before != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield kept
    finally:
        signal.signal(signal.SIGINT, before)

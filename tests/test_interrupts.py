"""Ctrl-C during a publish's upload is kept even when a library catches and drops the KeyboardInterrupt on its way
out (a clean-clone run published a dataset after its SIGINT had landed mid-upload)."""

from __future__ import annotations

import os
import signal

import pytest

from datalicense.infra.interrupts import interrupts_kept

pytestmark = pytest.mark.unit


def test_an_interrupt_a_library_swallowed_still_stops_the_publish():
    with interrupts_kept() as kept:
        try:  # a library's callback that catches everything
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
    with pytest.raises(KeyboardInterrupt, match="nothing was published"):
        kept.raise_if_seen()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_no_interrupt_no_refusal():
    with interrupts_kept() as kept:
        pass
    kept.raise_if_seen()
    assert not kept.seen

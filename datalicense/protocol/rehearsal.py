"""The chain id of a rehearsal (`--fork`): pure, no I/O.

A fork that kept its upstream's chain id would accept transactions signed exactly as the upstream does: anything
rehearsed on it (a purchase, a delivery, a signed revocation the pool checks against `block.chainid`), read back
from the fork's RPC by anyone, could be sent to the real chain and would be mined there. So a fork runs under its
own chain id, derived from the upstream's, and clients sign for the chain id the node reports (EIP-155 puts it in
every signature), which the upstream refuses.

The mapping is fixed and reversible, so a client connected to a fork knows which real chain it rehearses: it reads
that chain's deployments, addresses (EIP-1191 casing), content keys and delivery-key messages as the real chain's,
and keeps its own local state apart. Rehearsal ids start at REHEARSAL_BASE, far above the ids real networks use
and below the largest a wallet accepts (2**52 - 1, so that EIP-155's v = 2 * id + 36 stays a safe JavaScript
integer).
"""

from __future__ import annotations

from datalicense.errors import ConfigError

REHEARSAL_BASE = 0x5EA1 << 32  # 104,045,582,745,600
MAX_UPSTREAM = 1 << 32


def rehearsal_chain_id(upstream: int) -> int:
    """The chain id a fork of the chain `upstream` runs under (a fork of a fork: the same as its parent's)."""
    real = real_chain_id(upstream)
    if not 0 < real < MAX_UPSTREAM:
        raise ConfigError(f"chain id {real} cannot be rehearsed on a fork: only chain ids 1 .. {MAX_UPSTREAM - 1}")
    return REHEARSAL_BASE + real


def rehearsed_chain_id(node: int) -> int | None:
    """The real chain a node with chain id `node` rehearses, or None when it is not a rehearsal."""
    real = node - REHEARSAL_BASE
    return real if 0 < real < MAX_UPSTREAM else None


def real_chain_id(node: int) -> int:
    """The chain a node stands for: its own id, or the rehearsed chain's for a fork."""
    rehearsed = rehearsed_chain_id(node)
    return node if rehearsed is None else rehearsed

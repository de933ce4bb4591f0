"""Addresses: the one parser every input goes through (CLI options, pool CSVs, the page's API, the HTTP 402 client,
configuration), and the network's own casing for display.

A mixed-case address carries a checksum: one mistyped character almost always breaks it, so it is checked, never
lower-cased away (lower-casing first is how `withdraw --to` with a typo once paid a stranger).
- all lower case or all upper case (after 0x): no checksum, accepted as is;
- mixed case: a valid EIP-55 checksum, or a valid EIP-1191 checksum for the connected chain (Rootstock mainnet 30 and
  testnet 31 show EIP-1191; wallets elsewhere show EIP-55). Without a chain (a file read offline), EIP-1191 for
  either Rootstock chain;
- anything else is refused in one line saying which address and why.

The page's JavaScript (web/src/addresses.js) mirrors this and runs the same vectors (tests/vectors/addresses.json)
in Chromium. Pure: no I/O.
"""

from __future__ import annotations

import re

from eth_utils import keccak

from datalicense.errors import AddressError

#: The zero address: no account (RBTC as an asset, no agent, no pool); the one constant the package uses.
ZERO = "0x0000000000000000000000000000000000000000"

#: Chains whose wallets and explorers show EIP-1191 checksums (RSKIP-60).
EIP1191_CHAINS = (30, 31)

_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}")


def _cased(body: str, digest: str) -> str:
    """`body` (40 lower-case hex digits) with each letter upper-cased where the digest's nibble is 8 or more."""
    return "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(body))


def eip55(address: str) -> str:
    """EIP-55 casing of a well-formed address (what web3.py takes)."""
    body = address[2:].lower()
    return "0x" + _cased(body, keccak(text=body).hex())


def eip1191(address: str, chain_id: int) -> str:
    """EIP-1191 casing of a well-formed address for `chain_id`."""
    body = address[2:].lower()
    return "0x" + _cased(body, keccak(text=f"{chain_id}0x{body}").hex())


def display(address: str, chain_id: int) -> str:
    """The network's own casing: EIP-1191 on Rootstock mainnet and testnet, EIP-55 elsewhere."""
    return eip1191(address, chain_id) if chain_id in EIP1191_CHAINS else eip55(address)


def checksums(address: str, chain_id: int | None) -> set[str]:
    """The mixed-case spellings of `address` accepted on `chain_id` (None: no chain known)."""
    chains = EIP1191_CHAINS if chain_id is None else (chain_id,)
    return {eip55(address)} | {eip1191(address, c) for c in chains}


def parse_address(text: str, chain_id: int | None = None) -> str:
    """The address `text` names, in EIP-55 casing; AddressError (one line, naming it) if it is not an address or its
    checksum does not match on `chain_id`."""
    a = str(text).strip()
    if not _SHAPE.fullmatch(a):
        raise AddressError("syntax", f"{str(text)[:64]!r} is not an address (0x followed by 40 hex characters)")
    body = a[2:]
    if body != body.lower() and body != body.upper() and a not in checksums(a, chain_id):
        on = f"chain {chain_id}" if chain_id is not None else "any network"
        raise AddressError("checksum", f"{a}: checksum does not match: mistyped? (its mixed case is no checksum "
                                       f"valid on {on}; check it, or give it in lower case if you are sure)")
    return eip55(a)

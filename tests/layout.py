"""DataLicense's storage read the compiler's way, for tests that check a decoder (the lens, the package's records)
against something that does not share its code: solc's storage layout (standard JSON, the project's compiler
settings) gives each variable's slot, offset and size, a mapping's entry is at keccak(key . slot), and the raw word
comes from the node (eth_getStorageAt)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from brownie import web3
from eth_abi import encode
from eth_utils import keccak

ROOT = Path(__file__).resolve().parent.parent


def _solc() -> Path:
    return Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx")) / "solc-v0.8.24"


def storage_layout(source: str = "contracts/DataLicense.sol", contract: str = "DataLicense") -> dict[str, Any]:
    """A contract's storage layout as solc reports it."""
    request = {
        "language": "Solidity",
        "sources": {source: {"urls": [source]}},
        "settings": {
            "remappings": ["@openzeppelin=node_modules/@openzeppelin"],
            "evmVersion": "paris",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {source: {contract: ["storageLayout"]}},
        },
    }
    out = subprocess.run([str(_solc()), "--standard-json", "--allow-paths", "."], input=json.dumps(request),
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    errors = [e["formattedMessage"] for e in result.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    return result["contracts"][source][contract]["storageLayout"]


class Storage:
    """One deployment's storage, read by the layout: neither the lens nor the package is asked, so a decoder that
    reads a word wrongly disagrees with it."""

    def __init__(self, layout: dict[str, Any], address: str):
        self.variables = {v["label"]: v for v in layout["storage"]}
        self.types = layout["types"]
        self.address = address

    def _word(self, slot: int) -> int:
        return int.from_bytes(bytes(web3.eth.get_storage_at(self.address, slot)), "big")

    def _locate(self, label: str, keys: tuple[Any, ...]) -> tuple[int, int, str]:
        var = self.variables[label]
        slot, offset, kind = int(var["slot"]), int(var["offset"]), var["type"]
        for key in keys:
            mapping = self.types[kind]
            key_type = "address" if self.types[mapping["key"]]["label"] == "address" else "uint256"
            slot = int.from_bytes(keccak(encode([key_type, "uint256"], [key, slot])), "big")
            offset, kind = 0, mapping["value"]
        return slot, offset, kind

    def _cut(self, word: int, offset: int, kind: str) -> int:
        size = int(self.types[kind]["numberOfBytes"])
        return (word >> (8 * offset)) & ((1 << (8 * size)) - 1)

    def value(self, label: str, *keys: Any) -> int:
        """A whole variable (or a mapping's entry), cut out of its slot by offset and size."""
        slot, offset, kind = self._locate(label, keys)
        return self._cut(self._word(slot), offset, kind)

    def struct(self, label: str, *keys: Any) -> dict[str, int]:
        """{member: value} of a struct entry (all of DataLicense's fit one slot), each cut out by offset and size."""
        slot, _, kind = self._locate(label, keys)
        w = self._word(slot)
        members = self.types[kind]["members"]
        assert all(int(m["slot"]) == 0 for m in members), f"{kind} no longer fits one slot"
        return {m["label"]: self._cut(w, int(m["offset"]), m["type"]) for m in members}

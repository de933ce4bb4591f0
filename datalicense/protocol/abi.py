"""Contract ABIs shipped with the package (exported from the compiled contracts by scripts/export_abi.py)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def abi(name: str) -> list[dict[str, Any]]:
    """ABI of a project contract, e.g. abi("DataLicense")."""
    text = resources.files("datalicense").joinpath("abi", f"{name}.json").read_text()
    return json.loads(text)

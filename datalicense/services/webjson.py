"""The page's API speaks one JSON casing, camelCase (the page's and the contract ABI's): every answer goes through
`ApiJSON`, which renames the snake_case keys of records made for Python (a `LicenceInfo.as_dict()`: licence_id,
price_text) once, here, so no route can answer in both casings (tests/test_web_api.py walks them all).

Amounts the page formats itself (web/src/amounts.js, the mirror of datalicense/protocol/amounts.py) come with their
asset; `asset_list` describes each asset an answer names: [{"asset", "decimals", "symbol"}] (a list: an object's
keys are field names, never data such as addresses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiJSON", "asset_list", "camel", "camel_key"]


def camel_key(key: str) -> str:
    """licence_id -> licenceId; a key without "_" is kept as it is."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest) if rest else key


def camel(value: Any) -> Any:
    """A JSON value with every object key in camelCase (values are left as they are)."""
    if isinstance(value, dict):
        return {camel_key(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel(v) for v in value]
    return value


class ApiJSON(JSONResponse):
    """A JSON answer of the page's API, in camelCase."""

    def render(self, content: Any) -> bytes:
        return super().render(camel(content))


def asset_list(assets: Iterable[str], info: Callable[[str], tuple[int, str]]) -> list[dict[str, Any]]:
    """[{"asset", "decimals", "symbol"}] of each asset named once (info: MarketReader.asset_info)."""
    out = []
    for asset in sorted(set(assets)):
        decimals, symbol = info(asset)
        out.append({"asset": asset, "decimals": decimals, "symbol": symbol})
    return out

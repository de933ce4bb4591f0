"""Which browser requests a local chain's RPC answers: pure, no I/O.

The local chain (Ganache, `datalicense up`) holds the development accounts, whose keys follow from a public
mnemonic, the marketplace's admin among them. Any web page open in the user's browser can send requests to
127.0.0.1; a browser marks each with the page's `Origin` (and a page reached under a rebound name with that name in
`Host`, which datalicense.protocol.hosts decides). So the chain's front (datalicense.services.chainfront) answers:

- requests without an Origin: terminals, scripts, the page's own server and a wallet's background work (unless
  the browser marks one as coming from another site, `Sec-Fetch-Site: cross-site` or `same-site`);
- browser extensions (`chrome-extension://ID`, `moz-extension://ID`, `safari-web-extension://ID`): the user's
  wallet, which signs with its own keys;
- the stack's own page (http://127.0.0.1|localhost|[::1]:PORT) and origins configured for it
  ($DATALICENSE_ALLOWED_ORIGINS);

and refuses every other Origin, `null` included. Even an allowed browser origin may call only what a wallet needs:
`eth_*` reads and `eth_sendRawTransaction` (transactions it signed itself), `net_*`, `web3_*`; never the node's own
keys (`eth_accounts`, `eth_sendTransaction`, `eth_sign*`, `personal_*`) nor the methods that rewrite the chain
(`evm_*`, `miner_*`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from datalicense.errors import ConfigError
from datalicense.protocol.hosts import LOCAL_NAMES

EXTENSION_SCHEMES = ("chrome-extension", "moz-extension", "safari-web-extension")
_EXTENSION_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]{2,45}\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:[0-9]{1,5})?")
#: What a browser may call besides these prefixes: nothing (an allow list, so a node's new methods stay closed).
BROWSER_PREFIXES = ("eth_", "net_", "web3_")
#: eth_ methods that use the node's own keys: never for a browser.
NODE_KEY_METHODS = frozenset({"eth_accounts", "eth_coinbase", "eth_sendTransaction", "eth_sign", "eth_signTransaction",
                              "eth_signTypedData", "eth_signTypedData_v3", "eth_signTypedData_v4"})


def _normal(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


@dataclass(frozen=True)
class OriginRule:
    """The browser origins one chain front answers besides extensions (exact, lower case, no trailing slash)."""

    allowed: frozenset[str]

    def allows(self, origin: str | None, fetch_site: str | None = None) -> bool:
        """True for a request without an Origin (and not marked by a browser as from another site), a browser
        extension's, or an allowed page's."""
        if origin is None:
            return (fetch_site or "").strip().lower() not in ("cross-site", "same-site")
        text = _normal(origin)
        scheme, sep, rest = text.partition("://")
        if sep and scheme in EXTENSION_SCHEMES:
            return _EXTENSION_ID.fullmatch(rest) is not None
        return text in self.allowed

    def refusal(self, origin: str) -> str:
        """The one line a refused origin gets."""
        shown = origin[:100].encode("ascii", "replace").decode() or "(none, from another site)"
        return (f"origin {shown!r} may not use this chain's RPC: only its own page and wallet extensions may "
                "(allow another page with DATALICENSE_ALLOWED_ORIGINS)")


def browser_may_call(method: object) -> bool:
    """Whether a request from an allowed browser origin may call `method` (see the module's docstring)."""
    return (isinstance(method, str) and method.startswith(BROWSER_PREFIXES) and method not in NODE_KEY_METHODS)


def browser_refusal(method: object) -> str:
    shown = str(method)[:60].encode("ascii", "replace").decode()
    return (f"{shown} is not served to a browser page: a wallet signs with its own keys and sends raw transactions "
            "(eth_sendRawTransaction); the node's accounts and test methods are for the terminal")


def origin_rule(page_ports: Iterable[int] = (), configured: Iterable[str] = ()) -> OriginRule:
    """The rule of a chain front whose page listens on `page_ports` (on the local names), with configured origins
    (ConfigError if one is not scheme://host[:port])."""
    allowed = {f"http://{name}:{port}" for port in page_ports for name in LOCAL_NAMES}
    for entry in configured:
        text = _normal(entry)
        if not text:
            continue
        if not _ORIGIN.fullmatch(text):
            raise ConfigError(f"{entry.strip()[:100]!r} is not an origin (give scheme://host or scheme://host:port, "
                              "e.g. http://localhost:3000)")
        allowed.add(text)
    return OriginRule(frozenset(allowed))

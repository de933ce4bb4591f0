"""Which `Host` a local server answers (DNS rebinding): pure, no I/O.

A web page from anywhere can make the user's browser send requests to 127.0.0.1 under a name its owner controls
(the name is rebound to 127.0.0.1 after the page loaded); the browser then treats the local server's answers as
that page's own. The only thing such a request cannot fake is its Host header, which carries the stranger's name.
So the page's server and the HTTP 402 gateway answer only:

- the local names 127.0.0.1, localhost and [::1] with the server's own port (no port: only when it is 80);
- the address the server is bound to, when it is a specific one (not 0.0.0.0 or ::), with the port;
- names configured for it (`--allow-host`, $DATALICENSE_ALLOWED_HOSTS; the gateway's --public-url): a name alone
  allows any port, `name:port` that port only.

Names compare without case; nothing else is normalised: "localhost." or "127.1" is another name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from datalicense.errors import ConfigError

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")
_IPV6 = re.compile(r"\[[0-9a-f:.]{2,45}\]")
_ANY = ("0.0.0.0", "::", "[::]", "")


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port or None) of a Host header value or a configured name, the name in lower case and an IPv6 address
    in brackets; None when it is not one."""
    text = value.strip().lower()
    port: int | None = None
    if text.startswith("["):
        end = text.find("]")
        name, rest = text[:end + 1], text[end + 1:]
        if end < 0 or not _IPV6.fullmatch(name):
            return None
    else:
        name, sep, rest = text.partition(":")
        rest = sep + rest
        if not _NAME.fullmatch(name) or ".." in name:
            return None
    if rest:
        digits = rest[1:]
        if not rest.startswith(":") or not digits.isdigit() or len(digits) > 5 or not 0 < int(digits) < 65536:
            return None
        port = int(digits)
    return name, port


def bracketed(host: str) -> str:
    """An IPv6 address as a Host header writes it ("::1" -> "[::1]"); other names unchanged."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class HostRule:
    """The Host values one server answers: `local` names with `port`, `named` (name, port or None for any)."""

    port: int
    local: frozenset[str]
    named: frozenset[tuple[str, int | None]]

    def allows(self, header: str | None) -> bool:
        parsed = split_host(header or "")
        if parsed is None:
            return False
        name, port = parsed
        if name in self.local and (port == self.port or (port is None and self.port == 80)):
            return True
        return (name, None) in self.named or (name, port if port is not None else 80) in self.named

    def refusal(self, header: str | None) -> str:
        """The one line a refused request gets."""
        shown = (header or "")[:100].encode("ascii", "replace").decode() or "(none)"
        return (f"host {shown!r} is not served here: open http://127.0.0.1:{self.port}/ or allow the name with "
                "--allow-host (DATALICENSE_ALLOWED_HOSTS)")


def host_rule(port: int, bind_host: str = "127.0.0.1", configured: Iterable[str] = ()) -> HostRule:
    """The rule of a server listening on (bind_host, port) with these configured names (ConfigError if one is not
    a name, a name:port, or a bracketed IPv6 address)."""
    local = set(LOCAL_NAMES)
    if bind_host.strip().lower() not in _ANY:
        bound = split_host(bracketed(bind_host))
        if bound is not None:
            local.add(bound[0])
    named = set()
    for entry in configured:
        if not entry.strip():
            continue
        parsed = split_host(entry)
        if parsed is None:
            raise ConfigError(f"{entry.strip()[:100]!r} is not a host name (give NAME or NAME:PORT, e.g. "
                            "data.example.org or data.example.org:8443)")
        named.add(parsed)
    return HostRule(port, frozenset(local), frozenset(named))


def parse_list(text: str | None) -> list[str]:
    """Names from a comma- or space-separated setting ($DATALICENSE_ALLOWED_HOSTS)."""
    return [p for p in re.split(r"[\s,]+", text or "") if p]

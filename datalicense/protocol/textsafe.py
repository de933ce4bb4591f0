"""Text from strangers, made safe to print on a terminal.

Anything that comes from the chain or IPFS (manifest title, description, media type, token symbols, revert
reasons, daemon messages) may carry bytes a terminal acts on: an escape sequence can move the cursor and
overwrite the price, change colours to hide text, or write to the clipboard (OSC 52); bidirectional overrides
reorder what is shown. `escape` replaces every such character with a visible escape, so what the user sees is
what the text contains:

- C0 controls U+0000-U+001F (ESC included, so no ANSI/VT sequence can start), DEL U+007F, and the C1 controls
  U+0080-U+009F (CSI U+009B, OSC U+009D, ... which some terminals act on alone);
- format characters (Unicode category Cf): bidi embeddings and overrides U+202A-U+202E, isolates
  U+2066-U+2069, LRM/RLM/ALM, zero-width spaces and joiners, the BOM, soft hyphen, ...;
- line and paragraph separators U+2028/U+2029, surrogates, private-use and unassigned code points.

Escapes read as in Python: `\\x1b`, `\\u202e`, `\\U000e0001`. A newline is kept only with `newlines=True`
(for text the program itself lays out in lines); carriage return and tab are always escaped. Backslashes are
left as they are. JSON output needs none of this: `json.dumps` (ensure_ascii) escapes the same characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["escape", "is_safe"]

# Categories never printed raw: controls, format, surrogates, private use, unassigned, line/paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Fast path: printable ASCII (and newline) needs no look-up.
_PLAIN = re.compile(r"[\x20-\x7e\n]*")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: Any, *, newlines: bool = False) -> str:
    """text (str() of it if it is not a str) with every control, format or invisible character escaped.

    newlines=True keeps "\\n" (only for text whose lines the program lays out itself; a stranger's text
    should be escaped without it, so it cannot start a line that looks like the program's own).
    """
    if not isinstance(text, str):
        text = str(text)
    if _PLAIN.fullmatch(text) and (newlines or "\n" not in text):
        return text
    out = []
    for ch in text:
        if ch == "\n" and newlines:
            out.append(ch)
        elif ch == "\n" or _unsafe(ch):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def is_safe(text: str, *, newlines: bool = False) -> bool:
    """True when escape(text) would return text unchanged."""
    return escape(text, newlines=newlines) == text

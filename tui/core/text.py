"""Making untrusted text safe to print: the one escaping rule for everything quoted back to a user.

File names, target keys, secret names, journal ids and certificate fields come from users, files and
clusters. Printed raw, an ESC or BEL in one drives the terminal (colours, title, bell) and a newline
splits a one-line error in two. :func:`printable` writes every control character as ``\\XX`` (its
UTF-8 bytes, as openssl does in names), so ``plc\\n1.der`` prints as ``plc\\0A1.der``; :func:`one_line`
is for whole messages at the output boundary.

Only the standard library is used: command modules import this at start-up.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators (which Python's splitlines and
# some terminals treat as line breaks).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return "".join(f"\\{b:02X}" for b in match.group(0).encode("utf-8"))


def printable(text: str) -> str:
    """``text`` with control characters written as ``\\XX`` so it cannot drive a terminal.

    Use it on user-supplied parts (names, paths, ids) before they go into a message: a newline then
    shows as ``\\0A`` instead of being lost to whitespace folding.
    """
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def one_line(text: str) -> str:
    """A whole message as one safe line: runs of whitespace (newlines included) become one space, and
    any control character left is escaped. The last guard before stderr; quote names with
    :func:`printable` first so their newlines stay visible."""
    return printable(" ".join(text.split()))

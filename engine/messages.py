"""How messages quote what a user wrote: whole when short, its head and length when long.

A 1 MB regex or eventtype search echoed in full by every error that mentions it turns a
one-line message into megabytes of output.
"""

from __future__ import annotations

QUOTE_CHARS = 200


def quoted(value: str, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, or the repr of its first ``limit`` characters and its length."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"

"""One line for an error of bad input, the way every command prints it (no traceback)."""

from __future__ import annotations

from pydantic import ValidationError

from engine.outputs import os_reason


def one_line(exc: BaseException) -> str:
    """``exc`` as a single line: a setting that failed validation, a path and what the system
    said about it (without ``[Errno N]``), or the message with its whitespace folded."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"setting {where}: {first.get('msg', 'invalid')}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {os_reason(exc)}"
    return " ".join(str(exc).split()) or type(exc).__name__

"""Eval's time functions: now(), time() and strftime(), on an :class:`EvalClock`.

Search Reference, "Date and Time functions": ``now()`` "returns the time that the search was
started" (epoch seconds); ``time()`` the wall-clock time, with microseconds; ``strftime(X, Y)``
"takes a UNIX time value as the first argument and renders the time as a string using the
format specified", in the user's time zone, with Splunk's extra variables (``%N``/``%3N``/
``%6N``/``%9N`` and ``%Q`` subseconds, ``%s`` epoch, ``%:z``/``%::z`` offsets, ``%k``/``%l``/
``%e`` space-padded numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.values import Value, to_number, to_text

Func = Callable[[list[Value]], Value]
CLOCKED: dict[str, tuple[int, int]] = {"now": (0, 0), "time": (0, 0), "strftime": (2, 2)}
"""Functions that read the clock, with their argument counts."""


def _offset(moment: datetime, colons: int) -> str:
    delta = moment.utcoffset()
    seconds = int(delta.total_seconds()) if delta is not None else 0
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if colons == 0:
        return f"{sign}{hours:02d}{minutes:02d}"
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{secs:02d}" if colons > 1 else text


def render(moment: datetime, fmt: str, epoch: float) -> str:
    """``fmt`` applied to ``moment`` with Splunk's extensions; the rest is C strftime."""
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        char = fmt[i]
        if char != "%" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        j = i + 1
        width = ""
        while j < n and fmt[j].isdigit():
            width += fmt[j]
            j += 1
        colons = 0
        while j < n and fmt[j] == ":":
            colons += 1
            j += 1
        if j >= n:
            out.append(fmt[i:])
            break
        directive = fmt[j]
        i = j + 1
        if directive in "NQqf":
            # Date and time format variables: %N defaults to 9 digits, %Q to 3, %f to 6.
            digits = int(width or {"N": 9, "Q": 3, "q": 3, "f": 6}[directive])
            fraction = f"{moment.microsecond:06d}000"
            out.append(fraction[: min(digits, 9)])
        elif directive == "s":
            out.append(str(int(epoch)))
        elif directive == "z":
            out.append(_offset(moment, colons))
        elif directive in "kle":
            number = {"k": moment.hour, "l": (moment.hour % 12) or 12, "e": moment.day}[directive]
            out.append(f"{number:2d}")
        else:
            out.append(moment.strftime("%" + directive))
    return "".join(out)


def clocked(name: str, clock: EvalClock) -> Func:
    """The function ``name`` (one of :data:`CLOCKED`) bound to ``clock``."""
    if name == "now":
        stamp = int(clock.now.timestamp())
        return lambda args: stamp
    if name == "time":
        precise = f"{clock.now.timestamp():.6f}"
        return lambda args: precise

    def strftime(args: list[Value]) -> Value:
        epoch, fmt = to_number(args[0]), to_text(args[1])
        if epoch is None or fmt is None:
            return None
        try:
            moment = datetime.fromtimestamp(epoch, UTC).astimezone(clock.zone)
        except (OverflowError, OSError, ValueError):
            return None
        return render(moment, fmt, epoch)

    return strftime

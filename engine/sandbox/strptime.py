"""Splunk's strptime: TIME_FORMAT directives, including Splunk's extensions.

Splunk parses TIME_FORMAT with a glibc-like strptime plus extensions (%N/%3N/%6N/%9N and %Q
subseconds, %s epoch, %z/%:z/%::z offsets, %Z zone names, %k/%l/%e space-padded numbers).
A format compiles to one anchored PCRE2 pattern (so backtracking resolves e.g. ``%s.%3N``)
and a list of converters for its groups. Parsing returns the parts and the end offset, so
callers can enforce MAX_TIMESTAMP_LOOKAHEAD.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

from engine.regex import Regex, RegexError, compile_regex, match_groups, match_span

PARSE_CACHE_SIZE = 512
"""Distinct timestamp texts remembered per format (cleared when full, so memory is bounded).
Events arrive in time order, so nearby events repeat the same second."""

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_RX = (
    "(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY_RX = (
    "(?i:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    "|sat(?:urday)?|sun(?:day)?)"
)
_ZONE_HOURS: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "SGT": 8,
    "HKT": 8,
    "JST": 9,
    "KST": 9,
    "AEST": 10,
    "AEDT": 11,
    "ACST": 9.5,
    "AWST": 8,
    "NZST": 12,
    "NZDT": 13,
    "AST": -4,
    "ADT": -3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
}
_ZONE_RX = "(?i:[a-z]{1,5}(?![a-z]))"


class TimeFormatError(ValueError):
    """A TIME_FORMAT that cannot be compiled (unknown directive, dangling %)."""


@dataclass(slots=True, unsafe_hash=True)
class ParsedTime:
    """The parts a format found; absent parts are None (the caller fills them in).

    Equality and hashing ignore ``end``: equal parts are the same moment wherever they were.
    Never mutated (it is a cache key); not frozen only because a frozen dataclass takes five
    times longer to build, once per event.
    """

    end: int = field(compare=False)
    year: int | None = None
    month: int | None = None
    day: int | None = None
    yday: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    microsecond: int = 0
    pm: bool | None = None
    tz: tzinfo | None = None
    epoch: float | None = None
    zone_text: str | None = None

    @property
    def has_date(self) -> bool:
        return self.epoch is not None or self.month is not None or self.yday is not None

    def at(self, end: int) -> ParsedTime:
        """The same parts found elsewhere (positional: ``dataclasses.replace`` costs more than
        the parse it saves)."""
        return ParsedTime(
            end,
            self.year,
            self.month,
            self.day,
            self.yday,
            self.hour,
            self.minute,
            self.second,
            self.microsecond,
            self.pm,
            self.tz,
            self.epoch,
            self.zone_text,
        )


# Each directive: (regex body with one group, converter key).
_DIRECTIVES: dict[str, tuple[str, str]] = {
    "Y": (r"([+-]?\d{4})", "year"),
    "y": (r"(\d{2})", "year2"),
    "m": (r" *(\d{1,2})", "month"),
    "d": (r" *(\d{1,2})", "day"),
    "e": (r" *(\d{1,2})", "day"),
    "j": (r" *(\d{1,3})", "yday"),
    "H": (r" *(\d{1,2})", "hour"),
    "k": (r" *(\d{1,2})", "hour"),
    "I": (r" *(\d{1,2})", "hour12"),
    "l": (r" *(\d{1,2})", "hour12"),
    "M": (r" *(\d{1,2})", "minute"),
    "S": (r" *(\d{1,2})", "second"),
    "p": (r"((?i:[ap]\.?m\.?))", "ampm"),
    "b": (f"({_MONTH_RX})", "monthname"),
    "B": (f"({_MONTH_RX})", "monthname"),
    "h": (f"({_MONTH_RX})", "monthname"),
    "a": (f"({_WEEKDAY_RX})", "skip"),
    "A": (f"({_WEEKDAY_RX})", "skip"),
    "N": (r"(\d{1,9})", "subsec"),
    "Q": (r"(\d{1,9})", "subsec"),
    "q": (r"(\d{1,9})", "subsec"),
    "f": (r"(\d{1,9})", "subsec"),
    "s": (r"(\d{1,10}(?:\.\d{1,9})?)", "epoch"),
    "z": (r"([+-]\d{2}:?\d{2}|[+-]\d{2}(?![\d:])|Z(?![A-Za-z]))", "offset"),
    "Z": (f"([+-]\\d{{2}}:?\\d{{2}}|{_ZONE_RX})", "zone"),
}
_COMPOSITES = {
    "T": "%H:%M:%S",
    "F": "%Y-%m-%d",
    "D": "%m/%d/%y",
    "R": "%H:%M",
    "r": "%I:%M:%S %p",
    "c": "%a %b %e %H:%M:%S %Y",
    "+": "%a %b %e %H:%M:%S %Z %Y",
}


Converter = Callable[[Sequence[bytes | None], int], "ParsedTime | None"]


@dataclass(frozen=True, slots=True)
class TimeFormat:
    """A compiled TIME_FORMAT: its anchored regex and one converter for its groups."""

    text: str
    regex: Regex
    kinds: tuple[str, ...]
    convert: Converter = field(compare=False, repr=False)
    groups: tuple[int, ...] = field(init=False, compare=False, repr=False)
    _parsed: dict[bytes, ParsedTime] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        # One group per directive, in order: the numbers the converter's values come from.
        object.__setattr__(self, "groups", tuple(range(1, len(self.kinds) + 1)))

    def parse(self, text: str, pos: int = 0) -> ParsedTime | None:
        """Parse at exactly ``pos`` (no searching); None when the text does not fit."""
        encoded = text.encode("utf-8")
        if len(encoded) == len(text):
            return self.parse_encoded(encoded, pos)
        parsed = self.parse_encoded(encoded, len(text[:pos].encode("utf-8")))
        if parsed is None:
            return None
        return parsed.at(len(encoded[: parsed.end].decode("utf-8", "replace")))

    def parse_encoded(
        self, encoded: bytes, byte_pos: int, stop: int | None = None
    ) -> ParsedTime | None:
        """:meth:`parse` on UTF-8 bytes; ``end`` is then a byte offset. ``stop`` ends the
        subject there, as if it were cut (a MAX_TIMESTAMP_LOOKAHEAD window, without a copy).

        The parts are a function of the matched text alone (the regex is anchored at
        ``byte_pos``), so repeated timestamp texts are converted once.
        """
        match = self.regex.search_bytes(encoded, byte_pos, stop)
        if match is None:
            return None
        end = match_span(match)[1]
        text = encoded[byte_pos:end]
        cache = self._parsed
        parsed = cache.get(text)
        if parsed is None:
            parsed = self.convert(match_groups(match, self.groups), end)
            if parsed is None:
                return None
            if len(cache) >= PARSE_CACHE_SIZE:
                cache.clear()
            cache[text] = parsed
        return parsed if parsed.end == end else parsed.at(end)


def _expand(fmt: str) -> str:
    out = fmt
    for _ in range(3):
        for key, value in _COMPOSITES.items():
            out = out.replace(f"%{key}", value)
    return out


def _translate(fmt: str, *, capture: bool = True) -> tuple[str, tuple[str, ...]]:
    """The regex of a format; ``capture=False`` makes every group non-capturing."""
    parts: list[str] = []
    kinds: list[str] = []
    i = 0
    fmt = _expand(fmt)
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            if char.isspace():
                parts.append(r"\s*")
                while i + 1 < len(fmt) and fmt[i + 1].isspace():
                    i += 1
            else:
                parts.append(_escape(char))
            i += 1
            continue
        j = i + 1
        width = ""
        while j < len(fmt) and fmt[j].isdigit():
            width += fmt[j]
            j += 1
        colons = 0
        while j < len(fmt) and fmt[j] == ":":
            colons += 1
            j += 1
        if j < len(fmt) and fmt[j] == "E" and fmt[j + 1 : j + 2] == "z":
            j += 1
        if j >= len(fmt):
            raise TimeFormatError(f"TIME_FORMAT {fmt!r}: dangling '%' at the end")
        directive = fmt[j]
        i = j + 1
        if directive == "%":
            parts.append("%")
        elif directive in "nt":
            parts.append(r"\s*")
        elif directive == "z" and colons:
            body = r"[+-]\d{2}:\d{2}" + (r":\d{2}" if colons > 1 else "")
            parts.append(f"({body})" if capture else f"(?:{body})")
            kinds.append("offset")
        elif directive in _DIRECTIVES:
            body, kind = _DIRECTIVES[directive]
            body = body if capture else body.replace("(", "(?:", 1)
            if kind == "subsec" and parts and parts[-1] in _FRACTION_SEPARATORS:
                body = _epoch_fraction(parts, kinds, body, capture=capture)
            parts.append(body)
            kinds.append(f"subsec{width or 9}" if kind == "subsec" else kind)
        else:
            raise TimeFormatError(f"TIME_FORMAT {fmt!r}: unsupported directive '%{directive}'")
    return "".join(parts), tuple(kinds)


def _escape(char: str) -> str:
    return "\\" + char if not char.isalnum() else char


_FRACTION_SEPARATORS = frozenset({r"\.", r"\,"})
_EPOCH_BODIES = (_DIRECTIVES["s"][0], _DIRECTIVES["s"][0].replace("(", "(?:", 1))


def _epoch_fraction(parts: list[str], kinds: list[str], body: str, *, capture: bool) -> str:
    """``%s.%6N``: the separator and subseconds after an epoch are optional, since Splunk
    reads ``1331904609`` with that format (pytest-splunk-addon's e2e verdicts); ``%s`` then
    stops at the separator so the fraction goes to the subsecond directive (which keeps its
    width of precision), not to a float epoch. Other formats keep a required fraction: no
    evidence says Splunk skips a missing ``.%3N`` after ``%S``."""
    if not (len(parts) >= 2 and kinds and kinds[-1] == "epoch" and parts[-2] in _EPOCH_BODIES):
        return body
    separator = parts.pop()
    parts[-1] = r"(\d{1,10})" if capture else r"(?:\d{1,10})"
    return f"(?:{separator}{body})?"


@lru_cache(maxsize=512)
def compile_time_format(
    fmt: str, *, digit_guard: bool = False, shape: str | None = None
) -> TimeFormat:
    """Compile a TIME_FORMAT (cached).

    ``digit_guard`` forbids a digit right after the match; ``shape`` is a regex the text must
    also match at the start (automatic recognition uses it to keep ``%s`` to 10 digits).
    """
    body, kinds = _translate(fmt)
    if not kinds:
        raise TimeFormatError(f"TIME_FORMAT {fmt!r} has no time directives")
    guard = r"(?!\d)" if digit_guard else ""
    ahead = f"(?=(?:{shape}))" if shape else ""
    try:
        regex = compile_regex(rf"\G{ahead}(?:{body}){guard}")
    except RegexError as exc:
        raise TimeFormatError(f"TIME_FORMAT {fmt!r} cannot be compiled: {exc}") from exc
    return TimeFormat(fmt, regex, kinds, _converter(kinds))


def format_search_body(fmt: str) -> str:
    """The unanchored, group-free regex of a format (for building search patterns)."""
    return _translate(fmt, capture=False)[0]


def zone_from_name(name: str) -> tzinfo | None:
    """A fixed-offset zone for a known abbreviation, a +hhmm text or GMT+hh:mm; else None."""
    if name[:1] in "+-":
        return _offset_zone(name)
    if name[:3].upper() in ("GMT", "UTC") and name[3:4] in ("+", "-"):
        return _offset_zone(name[3:])
    hours = _ZONE_HOURS.get(name.upper())
    if hours is None:
        return None
    return UTC if hours == 0 else timezone(timedelta(hours=hours), name.upper())


def _offset_zone(text: str) -> tzinfo | None:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if not digits.isdigit() or len(digits) not in (2, 4, 6):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    seconds = int(digits[4:6] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes, seconds=seconds) * sign
    return UTC if not delta else timezone(delta)


def _set_monthname(parts: list[Any], raw: bytes) -> None:
    parts[_MONTH] = _MONTHS[raw[:3].decode("ascii").lower()]


def _set_subsec(width: int) -> Callable[[list[Any], bytes], None]:
    keep = min(width, 6)

    def setter(parts: list[Any], raw: bytes) -> None:
        # %3N reads the digits present but keeps only its width of precision.
        parts[_MICROSECOND] = int(raw[:keep].decode("ascii").ljust(6, "0"))

    return setter


def _set_year2(parts: list[Any], raw: bytes) -> None:
    two = int(raw)
    parts[_YEAR] = 1900 + two if two >= 69 else 2000 + two


def _set_ampm(parts: list[Any], raw: bytes) -> None:
    parts[_PM] = raw[:1] in (b"p", b"P")


def _set_epoch(parts: list[Any], raw: bytes) -> None:
    parts[_EPOCH] = float(raw)


def _set_zone(parts: list[Any], raw: bytes) -> None:
    text = raw.decode("ascii")
    parts[_ZONE_TEXT] = text
    zone = zone_from_name(text)
    if zone is not None:
        parts[_TZ] = zone


def _set_offset(parts: list[Any], raw: bytes) -> None:
    text = raw.decode("ascii")
    zone = zone_from_name(text)
    if zone is None:
        raise _NotATime
    parts[_ZONE_TEXT] = text
    parts[_TZ] = zone


class _NotATime(Exception):
    """Raised by a setter when its group cannot be part of a valid time."""


# Slots of the parts list a converter fills (the order of ParsedTime's fields after ``end``).
(_YEAR, _MONTH, _DAY, _YDAY, _HOUR, _MINUTE, _SECOND, _MICROSECOND, _PM, _TZ, _EPOCH) = range(11)
_ZONE_TEXT = 11
_HOUR12 = 12
_SETTERS: dict[str, Callable[[list[Any], bytes], None]] = {
    "monthname": _set_monthname,
    "year2": _set_year2,
    "ampm": _set_ampm,
    "epoch": _set_epoch,
    "zone": _set_zone,
    "offset": _set_offset,
}


_NUMBER_SLOTS = {
    "year": _YEAR,
    "month": _MONTH,
    "day": _DAY,
    "yday": _YDAY,
    "hour": _HOUR,
    "minute": _MINUTE,
    "second": _SECOND,
    "hour12": _HOUR12,
}


def _converter(kinds: tuple[str, ...]) -> Converter:
    """One function that turns a format's groups into :class:`ParsedTime` (or None).

    Plain numbers (most groups of most formats) are read in one loop without a call per group;
    the rest go through their setters. It runs once per distinct timestamp text.
    """
    numbers = tuple(
        (index, _NUMBER_SLOTS[kind]) for index, kind in enumerate(kinds) if kind in _NUMBER_SLOTS
    )
    steps = tuple(
        (index, _set_subsec(int(kind[6:])) if kind.startswith("subsec") else _SETTERS[kind])
        for index, kind in enumerate(kinds)
        if kind != "skip" and kind not in _NUMBER_SLOTS
    )
    has_ampm = "ampm" in kinds

    def convert(values: Sequence[bytes | None], end: int) -> ParsedTime | None:
        parts: list[Any] = [
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            0,
            None,
            None,
            None,
            None,
            None,
        ]
        for index, slot in numbers:
            raw = values[index]
            if raw is not None:
                parts[slot] = int(raw)
        try:
            for index, setter in steps:
                raw = values[index]
                if raw is not None:
                    setter(parts, raw)
        except _NotATime:
            return None
        (year, month, day, yday, hour, minute, second, micro, pm, tz, epoch, zone, hour12) = parts
        if hour12 is not None:
            if not 1 <= hour12 <= 12:
                return None
            hour = (hour12 % 12) + (12 if pm else 0)
        elif has_ampm and hour is not None and pm is not None and hour <= 12:
            hour = (hour % 12) + (12 if pm else 0)
        if not (
            (month is None or 1 <= month <= 12)
            and (day is None or 1 <= day <= 31)
            and (yday is None or 1 <= yday <= 366)
            and (hour is None or hour <= 23)
            and (minute is None or minute <= 59)
            and (second is None or second <= 60)
        ):
            return None
        return ParsedTime(
            end,
            year,
            month,
            day,
            yday,
            hour,
            minute,
            second,
            micro,
            pm,
            tz,
            epoch,
            zone,
        )

    return convert

"""The timestamp catalogue: shapes a log writes its times in, found, decoded and written as
Splunk TIME_FORMAT.

Each shape is a Python regex with named groups (one per strptime directive); a match becomes a
:class:`Found` whose TIME_FORMAT is written from the matched text itself (separators, fraction
width and offset style are the data's own) and whose instant is decoded independently of Splunk,
so a plan can be verified against it. A timestamp is found anywhere in an event's head, and,
further into a long event (a JSON document, a long kv line), as the value of a key. These
regexes only classify text; Splunk reads the times with :func:`read_time`'s strptime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from engine.regex import RegexLimitError
from engine.sandbox.strptime import TimeFormatError, compile_time_format, zone_from_name
from engine.sandbox.timestamps import auto_recognizer

HEAD_CHARS = 512
"""How far into an event a timestamp is looked for anywhere."""

KEYED_CHARS = 16_384
"""How far into an event a timestamp is looked for as the value of a key."""

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MON = r"(?P<b>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*)"
_DAY = r"(?P<a>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*)"
_HMS = r"(?P<H>[01]\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60)"
_FRAC = r"(?:[.,:](?P<N>\d{1,9})(?!\.\d))?"
"""A fraction of a second, but not the head of a dotted number after the seconds
(``12:13:14,989.80`` is a time, then a value)."""
_OFFSET = r"[+-](?:[01]\d|2[0-3]):?[0-5]\d"
_ZONE = (
    rf"(?:(?P<z>Z(?![A-Za-z])|{_OFFSET})| (?P<zs>{_OFFSET})"
    r"| (?P<Z>UTC|GMT|[ECMP][SD]T|CES?T|BST|EES?T|JST|IST)(?![A-Za-z]))?"
)
_END = r"(?!\d|:\d)"
_AMPM = r"(?: ?(?P<p>[AaPp][Mm])\b)?"
_Y4 = r"(?P<Y>(?:19|20)\d\d)"
_M2 = r"(?P<m>0[1-9]|1[0-2])"
_D2 = r"(?P<d>0[1-9]|[12]\d|3[01])"
_D12 = r"(?P<d>[ 0]?[1-9]|[12]\d|3[01])"

SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"(?<!\d){_Y4}-{_M2}-{_D2}(?:T| |-){_HMS}{_FRAC}{_ZONE}{_END}")),
    (
        "iso_dots",
        re.compile(
            rf"(?<!\d){_Y4}-{_M2}-{_D2}-(?P<H>[01]\d|2[0-3])\.(?P<M>[0-5]\d)\.(?P<S>[0-5]\d)"
            rf"(?:\.(?P<N>\d{{1,9}}))?(?!\d)"
        ),
    ),
    ("slash_ymd", re.compile(rf"(?<!\d){_Y4}/{_M2}/{_D2}[ T]{_HMS}{_FRAC}{_ZONE}{_END}")),
    (
        "ymd_sep",  # 2023.04.28 10:00:04, 2023:04:28-00:00:04 (same separator in the date)
        re.compile(
            rf"(?<![\d.:]){_Y4}(?P<sep>[.:]){_M2}(?P=sep){_D2}[-T ]{_HMS}{_FRAC}{_ZONE}{_END}"
        ),
    ),
    (
        "clf",
        re.compile(
            rf"(?<!\d){_D2}/{_MON}/{_Y4}:{_HMS}{_FRAC}(?: (?P<z>[+-](?:[01]\d|2[0-3])[0-5]\d))?"
        ),
    ),
    ("ctime", re.compile(rf"\b{_DAY} {_MON} +{_D12} {_HMS}{_FRAC} {_Y4}\b")),
    ("bsd_year", re.compile(rf"\b{_MON} +{_D12},? {_Y4} {_HMS}{_FRAC}{_END}")),
    ("bsd", re.compile(rf"\b{_MON} +{_D12} {_HMS}{_FRAC}(?: {_Y4}(?!\d))?{_END}")),
    (
        "dmy_mon",
        re.compile(
            rf"(?<!\d)(?P<d>0?[1-9]|[12]\d|3[01])[-/ ]{_MON}[-/ ]{_Y4}[: ]{_HMS}{_FRAC}{_ZONE}"
            r"(?!\d)"
        ),
    ),
    (
        "date_key_time",  # date=2019-06-14 time=10:40:20 (a date key and a time key)
        re.compile(rf'(?<!\d){_Y4}-{_M2}-{_D2}"? [A-Za-z_]{{1,16}}="?{_HMS}{_FRAC}{_END}'),
    ),
    (
        "short_ymd",
        re.compile(
            r"(?<![\d/.-])(?P<y>\d\d)/(?P<m>0[1-9]|1[0-2])/(?P<d>0[1-9]|[12]\d|3[01]) "
            rf"{_HMS}{_FRAC}{_END}"
        ),
    ),
    (
        "mdy",  # month first: the reading of an ambiguous slashed date (US layout)
        re.compile(
            rf"(?<![\d/])(?P<m>0[1-9]|1[0-2])/{_D2}/{_Y4}[ :]"
            rf"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60){_FRAC}{_AMPM}{_END}"
        ),
    ),
    (
        "mdy_short",  # 03/13/24 02:10:45 AM (two-digit year last)
        re.compile(
            rf"(?<![\d/])(?P<m>0[1-9]|1[0-2])/{_D2}/(?P<y>\d\d)[ :]"
            rf"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60){_FRAC}{_AMPM}{_END}"
        ),
    ),
    (
        "dmy",  # day first: 27/06/2026:22:38:17, 14.06.2019 10:40:20, 14-06-2019 10:40:20
        re.compile(
            rf"(?<![\d/.-]){_D2}(?P<sep>[/.-]){_M2}(?P=sep){_Y4}[ :T]"
            rf"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60){_FRAC}{_ZONE}{_END}"
        ),
    ),
    (
        "ymd_compact",
        re.compile(rf"(?<!\d){_Y4}{_M2}{_D2}[-T ]?{_HMS}{_FRAC}{_ZONE}{_END}"),
    ),
    (
        "ymd_compact_t",  # 20240829T010058Z (ISO 8601 basic format)
        re.compile(
            rf"(?<!\d){_Y4}{_M2}{_D2}T(?P<H>[01]\d|2[0-3])(?P<M>[0-5]\d)(?P<S>[0-5]\d)"
            rf"{_FRAC}(?:(?P<z>Z(?![A-Za-z])|[+-](?:[01]\d|2[0-3])[0-5]\d))?(?!\d)"
        ),
    ),
    ("md_dot", re.compile(rf"(?<![\d.]){_M2}\.{_D2} {_HMS}{_FRAC}{_END}")),
    (
        "compact",
        re.compile(
            r"(?<![\d.])(?P<y>\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01]) "
            r"(?P<H>[01]\d|2[0-3])(?P<M>[0-5]\d)(?P<S>[0-5]\d)(?![\d.])"
        ),
    ),
    (
        "compact_colon",  # MySQL 5.x: 190614 10:40:20, hour space-padded
        re.compile(
            r"(?<![\d.])(?P<y>\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01]) +"
            rf"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d){_FRAC}{_END}"
        ),
    ),
    (
        "level_md",  # klog: I0614 10:40:20.912134 (severity letter, month, day)
        re.compile(rf"(?<=\b[IWEFDV])(?P<m>0[1-9]|1[0-2]){_D2} {_HMS}{_FRAC}{_END}"),
    ),
    ("md", re.compile(rf"(?<![\d/.-]){_M2}-{_D2} {_HMS}{_FRAC}{_END}")),
    (
        "epoch",  # seconds, with a fraction, or with milli-, micro- or nanoseconds appended
        re.compile(
            r"(?<![\w./-])(?P<s>1[0-9]{9})(?:(?P<sub>\d{3}|\d{6}|\d{9})|\.(?P<N>\d{1,9}))?"
            r"(?![\w/-]|:\d\d:)"
        ),
    ),
)
SHAPE_ORDER = {name: index for index, (name, _) in enumerate(SHAPES)}
_PATTERNS = dict(SHAPES)
"""Catalogue order: the last tie-break between shapes found equally often at one place."""

_DIRECTIVES = {
    "Y": "%Y",
    "y": "%y",
    "m": "%m",
    "d": "%d",
    "b": "%b",
    "a": "%a",
    "H": "%H",
    "M": "%M",
    "S": "%S",
    "s": "%s",
}
_NOT_DIRECTIVES = frozenset({"sep"})
KEY_BEFORE = re.compile(
    r"""(?:(?P<qual>[A-Za-z]{2,16})[ _-])?(?<![\\\w.@-])(?P<q>["']?)"""
    r"""(?P<key>[A-Za-z_@][\w.@-]{0,63})(?P=q)\s*[:=]\s*["']?$"""
)
"""The key a value follows (``"ts": "``, ``time=``, ``End Time: ``), with the word before it
(``End``), which may say which moment the key names. A backslash escape (``\\n``) is no key."""
_KEY_AHEAD = re.compile(
    r"""(?<![\\\w.@-])(?P<q>["']?)(?P<key>[A-Za-z_@][\w.@-]{0,63})(?P=q)\s*[:=]\s*["']?"""
)


@dataclass(frozen=True)
class Found:
    """One timestamp span in one event, with the format written from its text."""

    shape: str
    start: int
    end: int
    time_format: str
    value: datetime
    has_year: bool
    has_zone: bool
    core_end: int
    """Where the seconds (or epoch seconds) end: the part every layout variant shares."""


def _directive(name: str, text: str) -> str:
    if name == "N":
        return f"%{-(-len(text) // 3) * 3}N"  # Splunk documents %3N, %6N and %9N
    if name == "sub":
        return f"%{len(text)}N"
    if name == "b":
        return "%b" if len(text) == 3 else "%B"
    if name == "a":
        return "%a" if len(text) == 3 else "%A"
    if name in ("z", "zs"):
        if text == "Z":
            return "Z"  # literal Zulu designator, read with TZ = UTC (portable across versions)
        return "%:z" if ":" in text else "%z"
    if name == "Z":
        return "%Z"
    if name == "p":
        return "%p"
    return _DIRECTIVES[name]


def _format_of(match: re.Match[str]) -> str:
    """The Splunk TIME_FORMAT of ``match``: directives for groups, literal text in between."""
    spans = sorted(
        (match.start(name), match.end(name), name)
        for name in match.re.groupindex
        if name not in _NOT_DIRECTIVES
        and match.group(name) is not None
        and match.start(name) < match.end(name)
    )
    out: list[str] = []
    position = match.start()
    twelve_hour = match.groupdict().get("p") is not None
    for start, end, name in spans:
        out.append(_literal(match.string[position:start]))
        directive = _directive(name, match.string[start:end])
        out.append("%I" if twelve_hour and name == "H" else directive)
        position = end
    out.append(_literal(match.string[position : match.end()]))
    return "".join(out)


def _literal(text: str) -> str:
    """Literal format text; whitespace runs collapse (strptime skips any run of whitespace)."""
    return re.sub(r"\s+", " ", text).replace("%", "%%")


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _decode(match: re.Match[str], default: tzinfo) -> datetime | None:
    """The instant ``match`` denotes (year 2000 when the text has none), or ``None`` if invalid."""
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    fraction = groups.get("N", groups.get("sub", ""))
    micro = int((fraction + "000000")[:6]) if fraction else 0
    if "s" in groups:
        return datetime.fromtimestamp(int(groups["s"]), UTC) + timedelta(microseconds=micro)
    if "Y" in groups:
        year = int(groups["Y"])
    elif "y" in groups:
        year = 2000 + int(groups["y"])
    else:
        year = 2000
    month = _MONTHS[groups["b"][:3].lower()] if "b" in groups else int(groups["m"])
    hour = int(groups["H"])
    if "p" in groups:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if groups["p"].lower() == "pm" else 0)
    offset = groups.get("z") or groups.get("zs")
    zone = zone_from_name(groups["Z"]) if "Z" in groups else _zone(offset, default)
    try:
        return datetime(
            year,
            month,
            int(groups["d"]),
            hour,
            int(groups["M"]),
            min(int(groups["S"]), 59),
            micro,
            tzinfo=zone or default,
        )
    except ValueError:
        return None


def _found(shape: str, match: re.Match[str], default: tzinfo) -> Found | None:
    value = _decode(match, default)
    if value is None:
        return None
    groups = match.groupdict()
    return Found(
        shape=shape,
        start=match.start(),
        end=match.end(),
        time_format=_format_of(match),
        value=value,
        has_year=bool(groups.get("Y") or groups.get("y") or groups.get("s")),
        has_zone=bool(groups.get("z") or groups.get("zs") or groups.get("Z") or groups.get("s")),
        core_end=match.end("S" if groups.get("S") else "s"),
    )


def find_timestamps(head: str, *, default: tzinfo = UTC) -> list[Found]:
    """Every catalogued timestamp in ``head``, leftmost first (overlaps kept: callers choose)."""
    found: list[Found] = []
    for shape, pattern in SHAPES:
        for match in pattern.finditer(head):
            hit = _found(shape, match, default)
            if hit is not None:
                found.append(hit)
    found.sort(key=lambda item: (item.start, -(item.end - item.start)))
    return found


def find_event_timestamps(event: str, *, default: tzinfo = UTC) -> list[Found]:
    """The timestamps of an event: anywhere in its head, then as key values further in."""
    found = find_timestamps(event[:HEAD_CHARS], default=default)
    if len(event) <= HEAD_CHARS:
        return found
    seen = {hit.start for hit in found}
    text = event[:KEYED_CHARS]
    for key in _KEY_AHEAD.finditer(text, HEAD_CHARS - 64):
        position = key.end()
        if position in seen:
            continue
        for shape, pattern in SHAPES:
            match = pattern.match(text, position)
            hit = None if match is None else _found(shape, match, default)
            if hit is not None:
                found.append(hit)
                seen.add(position)
                break
    return found


def clip(hit: Found, text: str, stop: str, *, default: tzinfo = UTC) -> Found | None:
    """``hit`` ended before the first ``stop`` character inside it (a delimited cell's end), or
    None when the text before it is no longer a timestamp of the same shape."""
    cut = text.find(stop, hit.start, hit.end)
    if cut < 0:
        return hit
    match = _PATTERNS[hit.shape].match(text[:cut], hit.start)
    return None if match is None else _found(hit.shape, match, default)


def read_time(text: str, time_format: str | None, zone: tzinfo) -> datetime | None:
    """``text`` read with Splunk's strptime, or its automatic recognition when no format.

    The year is 2000 when the text has none (callers compare such times without the year).
    """
    try:
        if time_format is None:
            parsed = auto_recognizer().find(text)
        else:
            parsed = compile_time_format(time_format).parse(text)
    except (TimeFormatError, RegexLimitError):
        return None
    if parsed is None:
        return None
    if parsed.epoch is not None:
        whole = datetime.fromtimestamp(int(parsed.epoch), UTC)
        micro = parsed.microsecond or round((parsed.epoch - int(parsed.epoch)) * 1_000_000)
        return whole + timedelta(microseconds=micro)
    if parsed.month is None or parsed.day is None or parsed.hour is None:
        return None
    try:
        return datetime(
            parsed.year if parsed.year is not None else 2000,
            parsed.month,
            parsed.day,
            parsed.hour,
            parsed.minute or 0,
            min(parsed.second or 0, 59),
            parsed.microsecond,
            tzinfo=parsed.tz or zone,
        )
    except ValueError:
        return None

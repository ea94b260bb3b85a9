"""Timestamp inference: where each event's time is, how Splunk must read it, and proof it does.

A catalogue of timestamp shapes (ISO 8601, syslog, Apache, ctime, slashed and compact dates,
epoch seconds/milliseconds) finds candidate spans in every sampled event. The shape found in
most events (earliest position on ties) wins; its Splunk TIME_FORMAT is written from the
matched text itself, so separators, fraction width and offset style are the data's own. A
TIME_PREFIX is then derived (start of event, a JSON/kv key, a fixed literal, the n-th
delimiter, or a generalised shape) and the whole plan is verified by reading every sampled
event with Splunk's strptime and comparing against the value decoded from the match.
Discovery regexes classify text only; the TIME_PREFIX candidates are PCRE, as Splunk runs them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from engine.generator.model import TimestampPlan
from engine.regex import RegexError, RegexLimitError, compile_regex
from engine.sandbox.strptime import TimeFormatError, compile_time_format, zone_from_name
from engine.sandbox.timestamps import auto_recognizer

HEAD_CHARS = 512
"""How far into an event a timestamp is looked for."""

MAX_EVENTS = 300
"""Sampled events used to infer and verify the plan."""

MIN_SUCCESS = 0.5
"""A plan that reads fewer events than this is not trusted (DATETIME_CONFIG=CURRENT instead)."""

LOOKAHEAD_MARGIN = 4

SMALL_SAMPLE = 5
"""Fewer timestamps than this are too little evidence to pin one TIME_FORMAT."""

AUTOMATIC_MARGIN = 12
"""Extra lookahead for automatic recognition on a small sample (room for ``.123+01:30``)."""

TIME_KEYS = frozenset(
    (
        "ts",
        "time",
        "timestamp",
        "datetime",
        "date_time",
        "eventtime",
        "event_time",
        "logtime",
        "log_time",
        "time_generated",
        "timegenerated",
        "created",
        "created_at",
    )
)
"""Keys whose value is the event time by convention; preferred over other keyed timestamps."""


_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MON = r"(?P<b>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*)"
_DAY = r"(?P<a>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*)"
_HMS = r"(?P<H>[01]\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60)"
_FRAC = r"(?:[.,:](?P<N>\d{1,9}))?"
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

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
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
        "date_key_time",  # date=2019-06-14 time=10:40:20 (FortiGate and other kv layouts)
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
        "mdy",
        re.compile(
            rf"(?<![\d/])(?P<m>0[1-9]|1[0-2])/{_D2}/{_Y4}[ :]"
            rf"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d):(?P<S>[0-5]\d|60){_FRAC}{_AMPM}{_END}"
        ),
    ),
    (
        "ymd_compact",
        re.compile(rf"(?<!\d){_Y4}{_M2}{_D2}[-T ]?{_HMS}{_FRAC}{_ZONE}{_END}"),
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
        "epoch",
        re.compile(
            r"(?<![\w./-])(?P<s>1[0-9]{9})(?:(?P<ms>\d{3})|\.(?P<N>\d{1,9}))?(?![\w/-]|:\d\d:)"
        ),
    ),
)

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
    "ms": "%3N",
}
_PCRE_SPECIAL = frozenset("\\^$.|?*+()[]{}-/#")
_KEY_BEFORE = re.compile(r"""(?P<q>["']?)(?P<key>[A-Za-z_@][\w.@-]{0,63})(?P=q)\s*[:=]\s*["']?$""")


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
        if match.group(name) is not None and match.start(name) < match.end(name)
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
    fraction = groups.get("N", "")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    if "s" in groups:
        if "ms" in groups:
            micro = int(groups["ms"]) * 1000
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


def find_timestamps(head: str, *, default: tzinfo = UTC) -> list[Found]:
    """Every catalogued timestamp in ``head``, leftmost first (overlaps kept: callers choose)."""
    found: list[Found] = []
    for shape, pattern in _SHAPES:
        for match in pattern.finditer(head):
            value = _decode(match, default)
            if value is None:
                continue
            groups = match.groupdict()
            found.append(
                Found(
                    shape=shape,
                    start=match.start(),
                    end=match.end(),
                    time_format=_format_of(match),
                    value=value,
                    has_year=bool(groups.get("Y") or groups.get("y") or groups.get("s")),
                    has_zone=bool(
                        groups.get("z") or groups.get("zs") or groups.get("Z") or groups.get("s")
                    ),
                    core_end=match.end("S" if groups.get("S") else "s"),
                )
            )
    found.sort(key=lambda item: (item.start, -(item.end - item.start)))
    return found


def _escape(text: str) -> str:
    """``text`` as a PCRE literal; whitespace becomes ``\\s`` (.conf values cannot end in one)."""
    return "".join(
        "\\s" if char.isspace() else ("\\" + char if char in _PCRE_SPECIAL else char)
        for char in text
    )


def _prefix_candidates(heads: Sequence[str], hits: Sequence[Found]) -> list[str]:
    """TIME_PREFIX candidates: from all hits, then from the largest group sharing a last char.

    Verification picks among them, so a few events with a different layout cannot hide the
    prefix that most events share.
    """
    befores = [head[: hit.start] for head, hit in zip(heads, hits, strict=True)]
    groups = Counter(before[-1:] for before in befores)
    char, _ = groups.most_common(1)[0]
    majority = [before for before in befores if before[-1:] == char]
    return list(dict.fromkeys([*_prefixes_for(befores), *_prefixes_for(majority)]))


def _prefixes_for(befores: Sequence[str]) -> list[str]:
    """TIME_PREFIX candidates that end exactly where each text of ``befores`` ends."""
    out: list[str] = []
    if all(before == "" for before in befores):
        return ["^"]
    keys = {
        (match.group("q"), match.group("key")) if match else None
        for match in map(_KEY_BEFORE.search, befores)
    }
    if len(keys) == 1 and None not in keys:
        quote, key = next(iter(keys)) or ("", "")
        key_re = f"{quote}{_escape(key)}{quote}" if quote else rf"(?<![\w.@-]){_escape(key)}"
        out.append(key_re + r"""\s*[:=]\s*["']?""")
    last_chars = {before[-1:] for before in befores}
    if len(last_chars) == 1:
        char = last_chars.pop()
        counts = {before.count(char) for before in befores}
        if char and len(counts) == 1:
            count = counts.pop()
            single = f"[^{_escape(char)}]*{_escape(char)}"
            out.append("^" + (single if count == 1 else f"(?:{single}){{{count}}}"))
    shapes = {re.sub(r"\d+", r"\\d+", _escape(before)) for before in befores}
    if len(shapes) == 1 and len(next(iter(shapes))) <= 32:
        out.append("^" + shapes.pop())
    words = {re.sub(r"[A-Za-z]+", "[A-Za-z]+", shape) for shape in shapes}
    if len(shapes) > 1 and len(words) == 1 and len(next(iter(words))) <= 32:
        out.append("^" + words.pop())  # e.g. a severity letter before the time (klog)
    tokens = {len(before.split()) for before in befores if before.endswith((" ", "\t"))}
    if len(tokens) == 1 and all(before.endswith((" ", "\t")) for before in befores):
        out.append(rf"^(?:\S+\s+){{{tokens.pop()}}}")
    if len(set(befores)) == 1 and len(befores[0]) <= 64:
        out.append("^" + _escape(befores[0]))
    return out


def _prefix_end(pattern: str, head: str) -> int | None:
    try:
        match = compile_regex(pattern).search(head)
    except (RegexError, RegexLimitError):
        return None
    return None if match is None else match.end()


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


def _zulu(time_format: str) -> bool:
    """The format ends with a literal ``Z`` (UTC), not a ``%Z`` zone name."""
    return time_format.endswith("Z") and not time_format.endswith("%Z")


def _lenient(time_format: str, widest: int) -> str:
    """``time_format`` reading any subsecond width up to ``widest`` and either offset style."""
    return re.sub(r"%\dN", f"%{widest}N", time_format).replace("%:z", "%z")


def _same_instant(got: datetime, want: datetime, *, has_year: bool) -> bool:
    if not has_year:
        got = got.astimezone(want.tzinfo).replace(year=want.year)
    return abs((got - want).total_seconds()) < 0.001


def _key_rank(head: str, hit: Found) -> int:
    """0 when the timestamp is the value of a conventional time key (``ts``, ``@timestamp``...)."""
    match = _KEY_BEFORE.search(head, 0, hit.start)
    if match is None:
        return 1
    key = match.group("key").lower().lstrip("@_")
    return 0 if key in TIME_KEYS else 1


def _choose_shape(
    heads: Sequence[str], found: Sequence[Sequence[Found]]
) -> tuple[str, list[tuple[int, Found]]] | None:
    """The shape present in most events; conventional time keys, then position, break ties."""
    per_shape: dict[str, list[tuple[int, int, Found]]] = {}
    for index, hits in enumerate(found):
        best: dict[str, tuple[int, Found]] = {}
        for hit in hits:
            rank = _key_rank(heads[index], hit)
            if hit.shape not in best or rank < best[hit.shape][0]:
                best[hit.shape] = (rank, hit)
        for shape, (rank, hit) in best.items():
            per_shape.setdefault(shape, []).append((index, rank, hit))
    if not per_shape:
        return None

    def order(shape: str) -> tuple[int, float, float]:
        hits = per_shape[shape]
        ranks = sum(rank for _, rank, _ in hits) / len(hits)
        return (-len(hits), ranks, sum(hit.start for _, _, hit in hits) / len(hits))

    shape = min(per_shape, key=order)
    return shape, [(index, hit) for index, _, hit in per_shape[shape]]


def infer_timestamps(events: Sequence[str], *, default_tz: str = "UTC") -> TimestampPlan:
    """The TIME_PREFIX/TIME_FORMAT/lookahead/TZ plan that reads the most sampled events."""
    sampled = list(events[:MAX_EVENTS])
    heads = [event[:HEAD_CHARS] for event in sampled]
    zone = ZoneInfo(default_tz)
    found = [find_timestamps(head, default=zone) for head in heads]
    chosen = _choose_shape(heads, found)
    if chosen is None or not sampled:
        return TimestampPlan(None, None, 0)
    _, hits = chosen
    hit_heads = [heads[index] for index, _ in hits]
    hit_found = [hit for _, hit in hits]
    example = hit_heads[0][hit_found[0].start : hit_found[0].end]
    common = [fmt for fmt, _ in Counter(hit.time_format for hit in hit_found).most_common(4)]
    widest = max((int(w) for fmt in common for w in re.findall(r"%(\d)N", fmt)), default=0)
    lenient = [_lenient(fmt, widest) for fmt in common]
    candidates = list(dict.fromkeys([*common, *lenient]))
    has_year = all(hit.has_year for hit in hit_found)
    has_zone = all(hit.has_zone for hit in hit_found)
    zulu = all(_zulu(hit.time_format) for hit in hit_found)
    tz = "UTC" if zulu else None if has_zone else default_tz
    plan_zone = ZoneInfo(tz) if tz else zone
    best: TimestampPlan | None = None
    for prefix in _prefix_candidates(hit_heads, hit_found):
        ends = [_prefix_end(prefix, head) for head in heads]
        for time_format in candidates:
            plan = _verify(sampled, heads, ends, found, prefix, time_format, tz, plan_zone)
            plan = replace(plan, has_year=has_year, example=example)
            if best is None or plan.success > best.success:
                best = plan
        if best is not None and best.success >= 0.999:
            break
    small = len(hit_found) < SMALL_SAMPLE
    if best is not None and (best.success < 0.999 or small):
        best = _try_automatic(
            best, sampled, heads, found, hit_heads, hit_found, zone, default_tz, prefer=small
        )
    if best is None or best.success < MIN_SUCCESS:
        return TimestampPlan(None, None, 0, success=best.success if best else 0.0)
    return best


def _try_automatic(
    best: TimestampPlan,
    sampled: Sequence[str],
    heads: Sequence[str],
    found: Sequence[Sequence[Found]],
    hit_heads: Sequence[str],
    hit_found: Sequence[Found],
    zone: tzinfo,
    default_tz: str,
    *,
    prefer: bool,
) -> TimestampPlan:
    """Splunk's automatic recognition instead of ``best`` when it reads more events.

    With ``prefer`` (a handful of timestamps: too little evidence to pin one layout) it also
    wins ties, and its window leaves room for an offset or fraction the sample did not show.
    """
    for prefix in _prefix_candidates(hit_heads, hit_found):
        ends = [_prefix_end(prefix, head) for head in heads]
        margin = AUTOMATIC_MARGIN if prefer else LOOKAHEAD_MARGIN
        plan = _verify(sampled, heads, ends, found, prefix, None, default_tz, zone, margin)
        better = plan.success > best.success or (prefer and plan.success >= best.success)
        if better and not best.automatic:
            best = replace(
                plan,
                time_format=best.time_format,
                has_year=best.has_year,
                example=best.example,
                automatic=True,
            )
    return best


def _verify(
    events: Sequence[str],
    heads: Sequence[str],
    ends: Sequence[int | None],
    found: Sequence[Sequence[Found]],
    prefix: str,
    time_format: str | None,
    tz: str | None,
    zone: tzinfo,
    margin: int = LOOKAHEAD_MARGIN,
) -> TimestampPlan:
    """Read every event as Splunk will; success counts readings that agree with the catalogue.

    Each event is read in exactly the window MAX_TIMESTAMP_LOOKAHEAD gives it (the longest
    timestamp plus ``margin``). ``time_format`` None reads with automatic recognition.
    """
    starts: list[tuple[str, int, Found]] = []
    for head, end, hits in zip(heads, ends, found, strict=True):
        hit = None if end is None else next((item for item in hits if item.start == end), None)
        if hit is not None and end is not None:
            starts.append((head, end, hit))
    lookahead = max((hit.end - end for _, end, hit in starts), default=0) + margin
    ok = 0
    for head, end, hit in starts:
        got = read_time(head[end : end + lookahead], time_format, zone)
        if got is not None and _same_instant(got, hit.value, has_year=hit.has_year):
            ok += 1
    return TimestampPlan(
        time_prefix=None if prefix == "^" else prefix,
        time_format=time_format,
        lookahead=lookahead,
        tz=tz,
        success=round(ok / len(events), 4) if events else 0.0,
    )

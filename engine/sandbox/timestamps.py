"""Timestamp assignment at index time (props.conf TIME_* settings, Getting Data In).

Order as Splunk applies it: DATETIME_CONFIG=CURRENT/NONE stamps the index time; otherwise
TIME_PREFIX is searched (no match: no timestamp from the event), the next
MAX_TIMESTAMP_LOOKAHEAD characters are parsed with TIME_FORMAT at their start or, without a
TIME_FORMAT, searched for a commonly used format. The zone is the event's own offset, then TZ,
then the default zone. Dates outside MAX_DAYS_AGO / MAX_DAYS_HENCE around ``now`` are rejected.
When nothing usable is found, the event takes the previous event's time and records why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.regex import Regex, RegexLimitError, compile_regex, match_span
from engine.sandbox.stanzas import SettingError, setting_bool, setting_int, setting_regex
from engine.sandbox.strptime import (
    PARSE_CACHE_SIZE,
    ParsedTime,
    TimeFormat,
    TimeFormatError,
    compile_time_format,
    format_search_body,
    zone_from_name,
)

DEFAULT_LOOKAHEAD = 128
DEFAULT_MAX_DAYS_AGO = 2000
DEFAULT_MAX_DAYS_HENCE = 2
MAX_DAYS_AGO_LIMIT = 10951

_ISO_TIMES = (
    "%H:%M:%S.%N %z",
    "%H:%M:%S,%N %z",
    "%H:%M:%S.%N %Z",
    "%H:%M:%S.%N",
    "%H:%M:%S,%N",
    "%H:%M:%S %z",
    "%H:%M:%S %Z",
    "%H:%M:%S",
    "%H:%M",
)
# Formats tried when TIME_FORMAT is absent, most specific first (they also decide which
# alternative wins at one position). A search body replaces the format's own regex when the
# plain translation would be too loose (epoch digits).
AUTO_FORMATS: tuple[tuple[str, str | None], ...] = (
    *((f"%Y-%m-%dT{t}", None) for t in _ISO_TIMES),
    *((f"%Y-%m-%d {t}", None) for t in _ISO_TIMES),
    ("%Y/%m/%d %H:%M:%S.%N", None),
    ("%Y/%m/%d %H:%M:%S", None),
    ("%a %b %d %H:%M:%S.%N %Y", None),
    ("%a %b %d %H:%M:%S %Z %Y", None),
    ("%a %b %d %H:%M:%S %Y", None),
    ("%a, %d %b %Y %H:%M:%S %z", None),
    ("%a %d %b %Y %I:%M:%S %p %Z", None),
    ("%b %d %Y %H:%M:%S", None),
    ("%b %d %H:%M:%S.%N", None),
    ("%b %d %H:%M:%S", None),
    ("%d/%b/%Y:%H:%M:%S.%N %z", None),
    ("%d/%b/%Y:%H:%M:%S %z", None),
    ("%d/%b/%Y:%H:%M:%S", None),
    ("%d/%b/%Y %H:%M:%S", None),
    ("%d %b %Y %H:%M:%S.%N", None),
    ("%d %b %Y %H:%M:%S", None),
    ("%d-%b-%Y %H:%M:%S.%N", None),
    ("%d-%b-%Y %H:%M:%S", None),
    ("%m/%d/%Y %I:%M:%S %p", None),
    ("%m/%d/%Y %H:%M:%S.%N", None),
    ("%m/%d/%Y %H:%M:%S", None),
    ("%m/%d/%Y:%H:%M:%S", None),
    ("%m/%d/%y %I:%M:%S %p", None),
    ("%m/%d/%y %H:%M:%S", None),
    ("%y/%m/%d %H:%M:%S", None),
    ("%d.%m.%Y %H:%M:%S", None),
    ("%Y%m%dT%H%M%S", r"\d{8}T\d{6}"),
    ("%y%m%d %H:%M:%S", r"\d{6} {1,2}\d{1,2}:\d{2}:\d{2}"),
    ("%y%m%d %H%M%S", r"\d{6} \d{6}"),
    ("%s.%N", r"1\d{9}\.\d{1,9}"),
    ("%s%3N", r"1\d{12}"),
    ("%s", r"1\d{9}"),
    ("%Y-%m-%d", None),
    ("%m/%d/%Y", None),
    ("%H:%M:%S.%N", None),
    ("%H:%M:%S", None),
)


_DIGITS = frozenset(b"0123456789")
_MONTH_PREFIXES = frozenset(b"jan feb mar apr may jun jul aug sep oct nov dec".split())


def _lead(fmt: str) -> str:
    """What a format starts with: digits, a month name or a weekday name (disjoint sets)."""
    if fmt[:2] in ("%b", "%B", "%h"):
        return "month"
    if fmt[:2] in ("%a", "%A"):
        return "weekday"
    return "digit"


@dataclass(frozen=True, slots=True)
class _AutoRecognizer:
    """One group-free PCRE2 alternation over :data:`AUTO_FORMATS` to find where a timestamp
    starts, then the formats led the same way (digits, month or weekday) tried there in order."""

    search: Regex
    by_lead: dict[str, tuple[TimeFormat, ...]]

    def find(self, text: str) -> ParsedTime | None:
        encoded = text.encode("utf-8")
        for match in self.search.finditer_bytes(encoded):
            start = match.start()
            if encoded[start] in _DIGITS:
                lead = "digit"
            elif encoded[start : start + 3].lower() in _MONTH_PREFIXES:
                lead = "month"
            else:
                lead = "weekday"
            for time_format in self.by_lead[lead]:
                parsed = time_format.parse_encoded(encoded, start)
                if parsed is not None:
                    if len(encoded) == len(text):
                        return parsed
                    return parsed.at(len(encoded[: parsed.end].decode("utf-8", "replace")))
        return None


def _build_auto() -> _AutoRecognizer:
    alternatives: list[str] = []
    by_lead: dict[str, list[TimeFormat]] = {"digit": [], "month": [], "weekday": []}
    for fmt, shape in AUTO_FORMATS:
        source = shape if shape is not None else format_search_body(fmt)
        guard = r"(?<!\d)" if _lead(fmt) == "digit" else r"(?<![A-Za-z])"
        alternatives.append(f"{guard}(?:{source})(?!\\d)")
        by_lead[_lead(fmt)].append(compile_time_format(fmt, digit_guard=True, shape=shape))
    return _AutoRecognizer(
        search=compile_regex("|".join(alternatives)),
        by_lead={lead: tuple(formats) for lead, formats in by_lead.items()},
    )


@lru_cache(maxsize=1)
def auto_recognizer() -> _AutoRecognizer:
    """The shared recognizer, built on first use (not at import)."""
    return _build_auto()


def zone_setting(name: str, *, key: str = "TZ") -> tzinfo:
    """A zone from a setting: an IANA name, UTC/GMT, an abbreviation or GMT+hh:mm."""
    fixed = zone_from_name(name)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingError(f"{key} = {name!r} is not a known time zone") from exc


def _zone_aliases(raw: str) -> dict[str, tzinfo]:
    """TZ_ALIAS = EST=GMT+10:00,EDT=GMT+11:00: zone texts in events mapped to other zones."""
    aliases: dict[str, tzinfo] = {}
    for pair in raw.split(","):
        if not pair.strip():
            continue
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SettingError(f"TZ_ALIAS entry {pair.strip()!r} is not key=value")
        aliases[name.strip().upper()] = zone_setting(value.strip(), key="TZ_ALIAS")
    return aliases


@dataclass(frozen=True, slots=True)
class TimestampSettings:
    """The TIME_* settings of one resolved props stanza set."""

    mode: str  # "extract", "current" or "none"
    prefix: Regex | None
    lookahead: int
    time_format: TimeFormat | None
    tz: tzinfo | None
    max_days_ago: int
    max_days_hence: int
    zone_aliases: dict[str, tzinfo]
    date_from_system_time: bool

    @classmethod
    def from_props(cls, settings: Mapping[str, str]) -> TimestampSettings:
        config = settings.get("DATETIME_CONFIG", "").strip().upper()
        mode = {"CURRENT": "current", "NONE": "none"}.get(config, "extract")
        raw_format = settings.get("TIME_FORMAT", "")
        try:
            time_format = compile_time_format(raw_format) if raw_format.strip() else None
        except TimeFormatError as exc:
            raise SettingError(str(exc)) from exc
        tz_name = settings.get("TZ", "").strip()
        # MAX_TIMESTAMP_LOOKAHEAD = 0 or -1 turns the limit off.
        lookahead = setting_int(settings, "MAX_TIMESTAMP_LOOKAHEAD", DEFAULT_LOOKAHEAD, minimum=-1)
        return cls(
            mode=mode,
            prefix=setting_regex(settings, "TIME_PREFIX"),
            lookahead=max(lookahead, 0),
            time_format=time_format,
            tz=zone_setting(tz_name) if tz_name else None,
            max_days_ago=min(
                setting_int(settings, "MAX_DAYS_AGO", DEFAULT_MAX_DAYS_AGO, minimum=1),
                MAX_DAYS_AGO_LIMIT,
            ),
            max_days_hence=setting_int(settings, "MAX_DAYS_HENCE", DEFAULT_MAX_DAYS_HENCE),
            zone_aliases=_zone_aliases(settings.get("TZ_ALIAS", "")),
            date_from_system_time=setting_bool(
                settings, "DETERMINE_TIMESTAMP_DATE_WITH_SYSTEM_TIME", False
            ),
        )


_SOURCE_DATE = compile_regex(
    r"(?<!\d)((?:19|20)\d\d)([-_./]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)"
)


def date_in_source(source: str) -> date | None:
    """The date a source name carries (``app-2020-06-23.log``, ``20200623.log``, ``/2020/06/23/``):
    Splunk dates events that have a time but no date from it. The file name is tried first,
    then the whole path; the last date found in each wins (the most specific part)."""
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    for text in (name, source):
        found = None
        for match in _SOURCE_DATE.finditer(text):
            found = match
        if found is not None:
            year, _, month, day = (found.group(i) or "" for i in range(1, 5))
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                continue
    return None


def _moment(parsed: ParsedTime, year: int, month: int, day: int, zone: tzinfo) -> datetime | None:
    """The parsed time of day on that date (None when the date does not exist)."""
    try:
        return datetime(
            year,
            month,
            day,
            parsed.hour or 0,
            parsed.minute or 0,
            min(parsed.second or 0, 59),
            parsed.microsecond,
            tzinfo=zone,
        )
    except ValueError:
        return None


class Timestamper:
    """Assigns times to consecutive events of one source (it remembers the previous time).

    ``input_time`` is the time the input layer gives an event (a monitored file's modification
    time, HEC's ``time`` query parameter): DATETIME_CONFIG = NONE keeps it, and it is the
    fallback before the current time. ``source_date`` dates events whose timestamp has no date
    when no earlier event of the source had one.
    """

    def __init__(
        self,
        settings: TimestampSettings,
        *,
        now: datetime,
        default_tz: tzinfo,
        input_time: datetime | None = None,
        source_date: date | None = None,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if input_time is not None and input_time.tzinfo is None:
            raise ValueError("input_time must be timezone-aware")
        self.settings = settings
        self.now = now
        self.default_tz = default_tz
        self.input_time = input_time
        self.source_date = source_date
        self.previous: datetime | None = None
        self._local_now: dict[tzinfo, datetime] = {}
        self._oldest = now - timedelta(days=settings.max_days_ago)
        self._newest = now + timedelta(days=settings.max_days_hence)
        # Moments of dated parses (a function of the parts alone; undated ones depend on the
        # previous event), bounded like the parse cache. A format hands out one ParsedTime per
        # distinct text, so identity finds repeats without hashing thirteen parts; the entry
        # keeps the object alive, so its id is not reused while it is there.
        self._moments: dict[int, tuple[ParsedTime, datetime]] = {}

    def detect(self, raw: str, *, use_prefix: bool = True) -> ParsedTime | None:
        """The timestamp parts found in ``raw`` (no range checks): also the "has a date" test."""
        settings = self.settings
        if settings.mode != "extract":
            return None
        time_format = settings.time_format
        if time_format is not None and raw.isascii():
            # Characters are bytes: the prefix and the format run on one encoding of the event,
            # the lookahead window ends the subject instead of being copied out of it.
            encoded = raw.encode("ascii")
            start = 0
            if use_prefix and settings.prefix is not None:
                matched = settings.prefix.search_bytes(encoded)
                if matched is None:
                    return None
                start = match_span(matched)[1]
            stop = start + settings.lookahead if settings.lookahead else None
            return time_format.parse_encoded(encoded, start, stop)
        start = 0
        if use_prefix and settings.prefix is not None:
            found = settings.prefix.search_end(raw)
            if found is None:
                return None
            start = found
        window = raw[start : start + settings.lookahead] if settings.lookahead else raw[start:]
        if settings.time_format is not None:
            return settings.time_format.parse(window)
        return auto_recognizer().find(window)

    def detect_date(self, line: str) -> ParsedTime | None:
        """BREAK_ONLY_BEFORE_DATE's test: a timestamp with a date (any TIME_FORMAT match
        counts, since the user said what a timestamp looks like)."""
        try:
            found = self.detect(line)
        except RegexLimitError:
            return None  # PCRE gave up: as in Splunk, the line counts as having no date
        if found is None or found.has_date or self.settings.time_format is not None:
            return found
        return None

    def assign(
        self, raw: str, *, known: ParsedTime | None = None, use_prefix: bool = True
    ) -> tuple[datetime, str | None]:
        """(time, error) for an event; ``known`` is the event's timestamp if already parsed.

        On failure the time is Splunk's fallback and the error says why.
        """
        if self.settings.mode == "current":
            return self.now, None
        if self.settings.mode == "none":
            return self.input_time or self.now, None
        try:
            found = known if known is not None else self.detect(raw, use_prefix=use_prefix)
        except RegexLimitError as exc:
            return self._fallback(f"timestamp search stopped: {exc}")
        if found is None:
            return self._fallback(self._why_missing(raw, use_prefix=use_prefix))
        moments = self._moments
        seen = moments.get(id(found))
        if seen is not None and seen[0] is found:
            moment = seen[1]
        else:
            try:
                converted = self._to_datetime(found)
                error = None if converted is None else self._out_of_range(converted)
            except OverflowError:  # a valid date whose zone moves it past year 1 or 9999
                converted = None
            if converted is None:
                return self._fallback("timestamp parts do not form a valid date")
            moment = converted
            if error is not None:
                return self._fallback(error)
            if found.has_date:
                if len(moments) >= PARSE_CACHE_SIZE:
                    moments.clear()
                moments[id(found)] = (found, moment)
        self.previous = moment
        return moment, None

    def _why_missing(self, raw: str, *, use_prefix: bool) -> str:
        settings = self.settings
        if use_prefix and settings.prefix is not None and settings.prefix.search(raw) is None:
            return f"TIME_PREFIX {settings.prefix.pattern!r} did not match"
        if settings.time_format is not None:
            return (
                f"TIME_FORMAT {settings.time_format.text!r} did not match within "
                f"MAX_TIMESTAMP_LOOKAHEAD={settings.lookahead}"
            )
        return f"no timestamp recognized in the first {settings.lookahead} characters"

    def _fallback(self, error: str) -> tuple[datetime, str]:
        """Splunk's fallback: the last acceptable event's time, else the input layer's time,
        else the current time."""
        return (self.previous or self.input_time or self.now), error

    def too_old(self, parsed: ParsedTime) -> bool:
        """Whether ``parsed`` is dated before what MAX_DAYS_AGO accepts."""
        try:
            moment = self._to_datetime(parsed)
        except OverflowError:
            return False
        return moment is not None and moment < self._oldest

    def _zone(self, parsed: ParsedTime) -> tzinfo:
        aliases = self.settings.zone_aliases
        if aliases and parsed.zone_text is not None:
            alias = aliases.get(parsed.zone_text.upper())
            if alias is not None:
                return alias
        if parsed.tz is not None:
            return parsed.tz
        return self.settings.tz or self.default_tz

    def _to_datetime(self, parsed: ParsedTime) -> datetime | None:
        if parsed.epoch is not None:
            whole = datetime.fromtimestamp(int(parsed.epoch), UTC)
            fraction = parsed.microsecond or round((parsed.epoch % 1) * 1_000_000)
            return whole + timedelta(microseconds=fraction)
        zone = self._zone(parsed)
        if parsed.year is not None and parsed.month is not None and parsed.day is not None:
            # A full date: nothing to infer.
            return _moment(parsed, parsed.year, parsed.month, parsed.day, zone)
        local_now = self._local_now.get(zone)
        if local_now is None:
            local_now = self._local_now[zone] = self.now.astimezone(zone)
        try:
            day = self._date(parsed, local_now)
        except (ValueError, OverflowError):  # no such day, or past date.max (9999, day 366)
            return None
        if day is None:
            return None
        moment = _moment(parsed, day.year, day.month, day.day, zone)
        if moment is None:
            return None
        if not parsed.has_date and self.settings.date_from_system_time:
            # A time of day more than three hours ahead of now belongs to yesterday.
            if moment > self.now + timedelta(hours=3):
                moment -= timedelta(days=1)
        elif parsed.year is None and parsed.has_date:
            limit = self._newest
            if moment > limit:
                try:
                    moment = moment.replace(year=moment.year - 1)
                except ValueError:
                    return None
        return moment

    def _date(self, parsed: ParsedTime, local_now: datetime) -> date | None:
        if not parsed.has_date:
            if self.settings.date_from_system_time:
                return local_now.date()
            # The last parsed event's date, else the source name's, else the input layer's.
            if self.previous is not None:
                return self.previous.astimezone(local_now.tzinfo).date()
            if self.source_date is not None:
                return self.source_date
            if self.input_time is not None:
                return self.input_time.astimezone(local_now.tzinfo).date()
            return local_now.date()
        year = parsed.year if parsed.year is not None else local_now.year
        if parsed.month is None:
            if parsed.yday is None:
                return None
            return date(year, 1, 1) + timedelta(days=parsed.yday - 1)
        if parsed.day is None:
            return date(year, parsed.month, 1)
        return date(year, parsed.month, parsed.day)

    def _out_of_range(self, moment: datetime) -> str | None:
        settings = self.settings
        if moment < self._oldest:
            return (
                f"timestamp {moment.isoformat()} is more than MAX_DAYS_AGO="
                f"{settings.max_days_ago} days before now ({self.now.date().isoformat()})"
            )
        if moment > self._newest:
            return (
                f"timestamp {moment.isoformat()} is more than MAX_DAYS_HENCE="
                f"{settings.max_days_hence} days after now ({self.now.date().isoformat()})"
            )
        return None


class Unreadable(StrEnum):
    """Why no TA can give an event a time of its own."""

    TIMELESS = "no timestamp in the event"
    TOO_OLD = f"dated before what Splunk accepts even with MAX_DAYS_AGO = {MAX_DAYS_AGO_LIMIT}"


class TimestampReach:
    """Which events no props.conf setting can give a time of their own, whatever a TA says.

    Either the automatic recognition (the one BREAK_ONLY_BEFORE_DATE uses by default), searching
    the whole event, finds no timestamp at all (no date, time of day or epoch), or the one it
    finds is dated before what Splunk accepts even with MAX_DAYS_AGO at its maximum. Splunk gives
    such an event the time of the one before it. An event a TA fails to time for any other reason
    carries a timestamp the TA missed; so does one on which PCRE gives up (it is not excused).
    """

    def __init__(self, *, now: datetime, default_tz: tzinfo) -> None:
        widest = TimestampSettings.from_props(
            {"MAX_DAYS_AGO": str(MAX_DAYS_AGO_LIMIT), "MAX_TIMESTAMP_LOOKAHEAD": "0"}
        )
        self._stamper = Timestamper(widest, now=now, default_tz=default_tz)

    def unreadable(self, raw: str) -> Unreadable | None:
        """Why no TA can time ``raw``, or None when a TA can."""
        try:
            found = self._stamper.detect(raw)
        except RegexLimitError:
            return None
        if found is None:
            return Unreadable.TIMELESS
        return Unreadable.TOO_OLD if self._stamper.too_old(found) else None

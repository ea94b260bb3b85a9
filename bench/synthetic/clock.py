"""Timestamp layouts and the event clock: what the raw text shows and the instant it means.

A :class:`Layout` renders an instant in one of the forms Splunk's strptime reads (ISO variants,
syslog with and without year, day-first and month-first dates, ctime, RFC 1123, compact forms,
epoch seconds and milliseconds) and gives the ground-truth reading: an offset printed in the
text is kept, no offset means UTC, and a year-less form is compared on the placeholder year 2000
(``time_has_year`` false), as FORMAT.md says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from random import Random

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 990
"""Event times start between 2024-01-01 and late 2026: inside Splunk's default MAX_DAYS_AGO
(2,000 days) of the real clock for years to come, and never in the future."""

OFFSETS = (0, 60, 120, -300, -420, 330, 540, -180, 600, -480)
"""Minutes east of UTC of the zones a format may print."""


@dataclass(frozen=True)
class Layout:
    """One timestamp form. ``pattern`` uses ``{Y}`` style parts (see :func:`_parts`)."""

    name: str
    pattern: str
    has_year: bool = True
    fraction: int = 0
    """Digits of the second's fraction the pattern prints (0, 3, 6 or 9)."""
    zone: str = ""
    """How the offset is printed: "" none (UTC), "Z", "colon" (+02:00), "compact" (+0200)."""
    ambiguous_day: bool = False
    """Day and month are both numbers: the sample needs a day above 12 to tell them apart."""
    epoch: str = ""
    """"s", "ms" or "s.ms" for epoch layouts (``pattern`` is then unused)."""

    @property
    def precision(self) -> int:
        """Digits of the second's fraction the text shows (nanoseconds carry microseconds)."""
        return min(self.fraction, 6) or (3 if self.epoch in ("ms", "s.ms") else 0)

    def render(self, instant: datetime, offset_minutes: int) -> str:
        if self.epoch:
            seconds = (instant - EPOCH) // timedelta(seconds=1)
            millis = instant.microsecond // 1000
            return {"s": str(seconds), "ms": f"{seconds}{millis:03d}"}.get(
                self.epoch, f"{seconds}.{millis:03d}"
            )
        local = instant.astimezone(self.tz(offset_minutes))
        return self.pattern.format(**_parts(local, offset_minutes))

    def tz(self, offset_minutes: int) -> timezone:
        return (
            timezone(timedelta(minutes=offset_minutes))
            if self.zone in ("colon", "compact")
            else UTC
        )

    def truth(self, instant: datetime, offset_minutes: int) -> str:
        """The expected ``time``: ISO-8601 with the offset the text implies, year 2000 when
        the text has none, to the precision the text shows."""
        local = instant.astimezone(self.tz(offset_minutes))
        if not self.has_year:
            local = local.replace(year=2000)
        spec = {0: "seconds", 3: "milliseconds"}.get(self.precision, "microseconds")
        return local.isoformat(timespec=spec)


def _parts(local: datetime, offset_minutes: int) -> dict[str, str]:
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    micro = f"{local.microsecond:06d}"
    return {
        "Y": f"{local.year:04d}",
        "y": f"{local.year % 100:02d}",
        "m": f"{local.month:02d}",
        "d": f"{local.day:02d}",
        "e": f"{local.day:2d}",
        "b": MONTHS[local.month - 1],
        "a": WEEKDAYS[local.weekday()],
        "H": f"{local.hour:02d}",
        "I": f"{(local.hour % 12) or 12:02d}",
        "p": "AM" if local.hour < 12 else "PM",
        "M": f"{local.minute:02d}",
        "S": f"{local.second:02d}",
        "f3": micro[:3],
        "f6": micro,
        "f9": micro + "000",
        "zc": f"{sign}{hours:02d}:{minutes:02d}",
        "z": f"{sign}{hours:02d}{minutes:02d}",
    }


def _iso(name: str, sep: str, fraction: int, mark: str, zone: str) -> Layout:
    frac = f"{mark}{{f{fraction}}}" if fraction else ""
    suffix = {"": "", "Z": "Z", "colon": "{zc}", "compact": "{z}"}[zone]
    pattern = f"{{Y}}-{{m}}-{{d}}{sep}{{H}}:{{M}}:{{S}}{frac}{suffix}"
    return Layout(name, pattern, fraction=fraction, zone=zone)


LAYOUTS: tuple[Layout, ...] = (
    _iso("iso_t", "T", 0, ".", ""),
    _iso("iso_t_ms_z", "T", 3, ".", "Z"),
    _iso("iso_t_us_z", "T", 6, ".", "Z"),
    _iso("iso_t_ns_z", "T", 9, ".", "Z"),
    _iso("iso_t_ms_offset", "T", 3, ".", "colon"),
    _iso("iso_t_offset", "T", 0, ".", "colon"),
    _iso("iso_t_us", "T", 6, ".", ""),
    _iso("iso_space", " ", 0, ".", ""),
    _iso("iso_space_ms", " ", 3, ".", ""),
    _iso("iso_space_comma_ms", " ", 3, ",", ""),
    _iso("iso_space_us", " ", 6, ".", ""),
    _iso("iso_space_offset", " ", 0, ".", "compact"),
    Layout("ymd_slash", "{Y}/{m}/{d} {H}:{M}:{S}"),
    Layout("apache", "{d}/{b}/{Y}:{H}:{M}:{S} {z}", zone="compact"),
    Layout("syslog", "{b} {e} {H}:{M}:{S}", has_year=False),
    Layout("syslog_ms", "{b} {e} {H}:{M}:{S}.{f3}", has_year=False, fraction=3),
    Layout("syslog_year", "{b} {e} {Y} {H}:{M}:{S}"),
    Layout("ctime", "{a} {b} {e} {H}:{M}:{S} {Y}"),
    Layout("rfc1123", "{a}, {d} {b} {Y} {H}:{M}:{S} GMT"),
    Layout("dmy_dot", "{d}.{m}.{Y} {H}:{M}:{S}", ambiguous_day=True),
    Layout("dmy_slash", "{d}/{m}/{Y} {H}:{M}:{S}", ambiguous_day=True),
    Layout("dmy_colon", "{d}/{m}/{Y}:{H}:{M}:{S}", ambiguous_day=True),
    Layout("dmony_ms", "{d}-{b}-{Y} {H}:{M}:{S}.{f3}", fraction=3),
    Layout("dmony_space", "{d} {b} {Y} {H}:{M}:{S}"),
    Layout("mdy_slash", "{m}/{d}/{Y} {H}:{M}:{S}", ambiguous_day=True),
    Layout("mdy_12h", "{m}/{d}/{y} {I}:{M}:{S} {p}", ambiguous_day=True),
    Layout("compact", "{y}{m}{d} {H}{M}{S}"),
    Layout("compact_t", "{Y}{m}{d}T{H}{M}{S}Z", zone="Z"),
    Layout("logcat", "{m}-{d} {H}:{M}:{S}.{f3}", has_year=False, fraction=3),
    Layout("epoch_s", "", epoch="s"),
    Layout("epoch_ms", "", epoch="ms"),
    Layout("epoch_s_ms", "", epoch="s.ms"),
)
ACCEPT_DATE = Layout("accept_date", "{d}/{b}/{Y}:{H}:{M}:{S}.{f3}", fraction=3)
"""A proxy's bracketed accept date: year and milliseconds, behind a year-less syslog header
(one family's own layout, not drawn for the others)."""
BY_NAME = {layout.name: layout for layout in (*LAYOUTS, ACCEPT_DATE)}

QUOTABLE = tuple(layout for layout in LAYOUTS if " " not in layout.pattern)
"""Layouts without spaces: they sit unquoted in key=value pairs and delimited columns."""


class Clock:
    """The instants of one format's events, in order, and how they are written."""

    def __init__(self, rng: Random, layout: Layout) -> None:
        self.layout = layout
        self.offset = rng.choice(OFFSETS) if layout.zone in ("colon", "compact") else 0
        start = START + timedelta(days=rng.randrange(SPAN_DAYS), seconds=rng.randrange(86400))
        if layout.ambiguous_day:
            start = start.replace(day=rng.randint(13, 20))
        self._now = start.replace(microsecond=0)
        self._gap = rng.choice((0.2, 1.0, 5.0, 30.0, 300.0))
        self._rng = rng

    def tick(self) -> datetime:
        """The next event's instant, at the layout's precision, never before the last one."""
        unit = 10 ** (6 - self.layout.precision)
        step = timedelta(seconds=self._rng.expovariate(1 / self._gap))
        moved = self._now + step
        self._now = moved.replace(microsecond=moved.microsecond // unit * unit)
        return self._now

    def stamp(self, instant: datetime) -> str:
        return self.layout.render(instant, self.offset)

    def truth(self, instant: datetime) -> str:
        return self.layout.truth(instant, self.offset)

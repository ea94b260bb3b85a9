"""Timestamp inference: which of an event's times is its time, how Splunk must read it, and
proof that it does.

Every sampled event's timestamps are found with the catalogue (:mod:`timestamp_shapes`) and
grouped into *slots*: the value of one key (``"eventTime": ...``, ``ts=``), or one shape at a
place without a key (a header's leading time, a delimited column). A slot ranks by the moment it
names (:mod:`time_keys`: the event's own time before a generic stamp, before other moments, before
a collector's ``@timestamp``) among the slots found in nearly as many events as the best-covered
one, then by how many events carry it, then by position. When the winner is a key, keys ranked
after it that events may carry instead (a key that varies between events, a collector stamp as
the last resort) follow it in one ordered TIME_PREFIX, ``^(?:[\\s\\S]*?A|[\\s\\S]*?B)``: the first
alternative found in an event wins, as Splunk's PCRE tries them. TIME_FORMAT is written from the
matched text; the plan (prefix, format or automatic recognition, lookahead, TZ) is verified by
reading every sampled event as Splunk will and comparing with the instant the catalogue decoded
from the preferred slot. Discovery regexes classify text only; TIME_PREFIX candidates are PCRE.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from engine.generator.model import TimestampPlan
from engine.generator.time_keys import (
    COLLECTOR,
    GENERIC,
    OCCURRENCE,
    OTHER_MOMENT,
    UNNAMED,
    json_key_parents,
    key_rank,
)
from engine.generator.timestamp_shapes import (
    KEY_BEFORE,
    KEYED_CHARS,
    SHAPE_ORDER,
    Found,
    clip,
    find_event_timestamps,
    read_time,
)
from engine.regex import RegexError, RegexLimitError, compile_regex
from engine.sandbox.timestamps import DEFAULT_MAX_DAYS_AGO, DEFAULT_MAX_DAYS_HENCE

MAX_EVENTS = 300
"""Sampled events used to infer and verify the plan."""

MIN_SUCCESS = 0.5
"""A plan that reads fewer events than this is not trusted (DATETIME_CONFIG=CURRENT instead)."""

MIN_STAMPED = 0.25
"""Share of events with a timestamp below which a header time seen in a few is not trusted."""

LOOKAHEAD_MARGIN = 4

SMALL_SAMPLE = 5
"""Fewer timestamps than this are too little evidence to pin one TIME_FORMAT."""

AUTOMATIC_MARGIN = 12
"""Extra lookahead for automatic recognition on a small sample (room for ``.123+01:30``)."""

START_WITHIN = 40
"""An unkeyed timestamp this close to the event start is the header's (the event's time)."""

MIN_PREFERRED = 0.8
"""A slot competes on rank only when found in this share of the events the best-covered slot
is found in: a rarely present key is another thing's time, not the event's."""

MAX_FALLBACKS = 3
"""Keys that may follow the preferred one in an ordered TIME_PREFIX."""

EPOCH_AGREEMENT = timedelta(hours=14, minutes=1)
"""A bare epoch and a calendar time of one event this close are one moment (any UTC offset)."""

ZONE_STEP_S = 900
"""UTC offsets are whole quarter hours."""

_KEY_WINDOW = 100
_PCRE_SPECIAL = frozenset("\\^$.|?*+()[]{}-/#")
_VALUE_AFTER = r"""\s*[:=]\s*["']?"""


@dataclass
class _Slot:
    """Where events keep one timestamp: a key's value, or a shape at a keyless place."""

    key: str | None
    quote: str = ""
    shape: str = ""
    ranks: Counter[int] = field(default_factory=Counter)
    hits: dict[int, Found] = field(default_factory=dict)
    """Event index -> the slot's first timestamp in that event."""
    bracketed: int = 0
    """Hits standing alone in brackets (``[09/Dec/2023:10:00:00.123]``): a field of the record."""

    @property
    def rank(self) -> int:
        return self.ranks.most_common(1)[0][0]

    def order(
        self, best_coverage: int, now: datetime
    ) -> tuple[bool, int, int, float, int, bool, int]:
        """Sort key: competing (found nearly as often as the best), rank, coverage, position,
        dates Splunk accepts by default (of two readings of one ambiguous date, the recent
        one: they share a position, so an old epoch that opens a line still beats a yearless
        header after it), a key before a place, catalogue order."""
        hits = self.hits.values()
        starts = [hit.start for hit in hits]
        shapes = Counter(hit.shape for hit in hits)
        oldest = now - timedelta(days=DEFAULT_MAX_DAYS_AGO)
        newest = now + timedelta(days=DEFAULT_MAX_DAYS_HENCE)
        plausible = sum(1 for hit in hits if not hit.has_year or oldest <= hit.value <= newest)
        return (
            len(self.hits) < MIN_PREFERRED * best_coverage,
            self.rank,
            -len(self.hits),
            sum(starts) / len(starts),
            -plausible,
            self.key is None,
            SHAPE_ORDER[shapes.most_common(1)[0][0]],
        )

    def prefix(self) -> str | None:
        """The key's TIME_PREFIX (None for a keyless slot)."""
        if self.key is None:
            return None
        key = _escape(self.key)
        return (f"{self.quote}{key}{self.quote}" if self.quote else rf"(?<![\w.@-]){key}") + (
            _VALUE_AFTER
        )


@dataclass(frozen=True)
class _Sample:
    """The sampled events and the timestamp each should get (None: it has none to read)."""

    events: Sequence[str]
    intended: Sequence[Found | None]


def _escape(text: str) -> str:
    """``text`` as a PCRE literal; a tab becomes ``\\t`` and other whitespace ``\\s`` (.conf
    values cannot end in one)."""
    return "".join(
        "\\t"
        if char == "\t"
        else "\\s"
        if char.isspace()
        else ("\\" + char if char in _PCRE_SPECIAL else char)
        for char in text
    )


def _column(line: str, start: int, delimiter: str) -> int:
    """The index of the delimited column ``start`` falls in (quotes respected)."""
    try:
        return len(next(csv.reader([line[:start]], delimiter=delimiter))) - 1
    except (csv.Error, StopIteration):
        return line.count(delimiter, 0, start)


def _agrees(epoch: Found, other: Found) -> bool:
    if other.has_year:
        return abs(epoch.value - other.value) <= EPOCH_AGREEMENT
    moved = epoch.value.astimezone(other.value.tzinfo).replace(year=other.value.year)
    return abs(moved - other.value) <= EPOCH_AGREEMENT


def _uncorroborated(hit: Found, hits: Sequence[Found]) -> bool:
    """A bare epoch number that a calendar time of the same event contradicts (an id)."""
    calendars = [other for other in hits if other.shape != "epoch"]
    return bool(calendars) and not any(_agrees(hit, other) for other in calendars)


class _SlotFinder:
    """Groups the timestamps of the sampled events into slots."""

    def __init__(self, columns: Sequence[str], delimiter: str | None) -> None:
        self.columns = columns
        self.delimiter = delimiter
        self.slots: dict[tuple[str | None, str], _Slot] = {}

    def add(self, index: int, event: str, hits: Sequence[Found], zone: tzinfo) -> None:
        if self.delimiter:
            cells = (self._in_cell(event, hit, zone) for hit in hits)
            hits = [hit for hit in cells if hit is not None]
        parents: dict[str, list[tuple[str, ...]]] | None = None
        for hit in hits:
            placed: list[tuple[_Slot, int]] = []
            match = KEY_BEFORE.search(event, max(0, hit.start - _KEY_WINDOW), hit.start)
            if match is not None:
                key = match.group("key")
                if parents is None:
                    parents = json_key_parents(event) if "{" in event else {}
                nesting = _nesting(parents, event, key, match.end())
                rank = key_rank(key, qualifier=match.group("qual") or "", parents=nesting)
                slot = self.slots.setdefault((key, ""), _Slot(key, quote=match.group("q")))
                placed.append((slot, rank))
            if match is None or hit.start <= START_WITHIN:
                # A time near the start is also the header's, whatever word leads to it (a
                # thread name before ``:`` is no key): found by place, ranked as its key.
                ident, keyless_rank = self._keyless(event, hit, hits)
                slot = self.slots.setdefault(ident, _Slot(None, shape=hit.shape))
                placed.append((slot, keyless_rank if match is None else rank))
            for slot, slot_rank in placed:
                if index not in slot.hits:
                    slot.hits[index] = hit
                    slot.ranks[slot_rank] += 1
                    slot.bracketed += (
                        event[hit.start - 1 : hit.start] + event[hit.end : hit.end + 1] == "[]"
                    )

    def _in_cell(self, event: str, hit: Found, zone: tzinfo) -> Found | None:
        """``hit`` ended with its delimited cell (a comma after the seconds starts the next
        cell), unless the cell is quoted."""
        if event.count('"', 0, hit.start) % 2 == 1:
            return hit
        return clip(hit, event, self.delimiter or "", default=zone)

    def _keyless(
        self, event: str, hit: Found, hits: Sequence[Found]
    ) -> tuple[tuple[str | None, str], int]:
        if self.columns and self.delimiter:
            column = _column(event, hit.start, self.delimiter)
            if column < len(self.columns):
                name = self.columns[column]
                return (None, f"{hit.shape}@{name}"), key_rank(name)
        if hit.shape == "epoch" and _uncorroborated(hit, hits):
            return (None, hit.shape), OTHER_MOMENT
        return (None, hit.shape), GENERIC if hit.start <= START_WITHIN else UNNAMED


def _nesting(
    parents: dict[str, list[tuple[str, ...]]], event: str, key: str, position: int
) -> tuple[str, ...]:
    """The JSON objects the occurrence of ``key`` ending before ``position`` is nested in."""
    chains = parents.get(key)
    if not chains:
        return ()
    occurrence = len(re.findall(f'"{re.escape(key)}"\\s*:', event[:position])) - 1
    return chains[occurrence] if 0 <= occurrence < len(chains) else ()


def _ranked(slots: Sequence[_Slot]) -> list[_Slot]:
    best = max(len(slot.hits) for slot in slots)
    now = datetime.now(UTC)
    return sorted(slots, key=lambda slot: slot.order(best, now))


def _one_moment(yearless: Found, dated: Found) -> bool:
    """Whether a dated reading is the same instant as a yearless one, seen from another zone:
    equal to the second but for a whole quarter-hour offset of at most 14 hours."""
    moved = dated.value.astimezone(yearless.value.tzinfo).replace(year=yearless.value.year)
    apart = abs((moved - yearless.value).total_seconds())
    off = apart % ZONE_STEP_S
    return apart <= EPOCH_AGREEMENT.total_seconds() and min(off, ZONE_STEP_S - off) < 1


def _dated_twin(ranked: Sequence[_Slot]) -> _Slot | None:
    """A slot that reads, with its year, the very moment the preferred yearless slot reads
    (a CEF ``rt=`` epoch, or a bracketed ``[09/Dec/2023:10:00:00.123]`` behind a syslog header):
    the same time, but Splunk would have to guess the year (and lose the fraction) of the
    other. It must be there in nearly every event the preferred slot reads (the yearless time
    stays its TIME_PREFIX alternative for the others), and collector stamps or other moments
    never qualify. Keyless, it must be a bracketed field of the record: a bare time opening
    the message is an application's own line re-shipped by syslog, whose header is the
    event's time."""
    primary = ranked[0]
    if any(hit.has_year for hit in primary.hits.values()):
        return None
    for slot in ranked[1:]:
        if slot.rank > UNNAMED or (slot.key is None and slot.bracketed < len(slot.hits)):
            continue
        pairs = [(hit, slot.hits[i]) for i, hit in primary.hits.items() if i in slot.hits]
        if all(dated.has_year for _, dated in pairs) and sum(
            _one_moment(yearless, dated) for yearless, dated in pairs
        ) >= MIN_PREFERRED * len(primary.hits):
            return slot
    return None


def _chain(ranked: Sequence[_Slot], *, twin: bool = True) -> list[_Slot]:
    """The preferred slot (a dated ``twin`` of a yearless one first), then (when it is a key)
    the keys events may carry instead, and a keyless header time as the last alternative."""
    dated = _dated_twin(ranked) if twin else None
    if dated is not None and dated.key is None:
        return [dated, ranked[0]]
    if dated is not None:
        ranked = [dated, *(slot for slot in ranked if slot is not dated)]
    primary = ranked[0]
    if primary.key is None:
        return [primary]
    keyed = [
        slot
        for slot in ranked[1:]
        if slot.key is not None and slot.rank in (OCCURRENCE, GENERIC, COLLECTOR)
    ]
    chain = [primary, *keyed[:MAX_FALLBACKS]]
    header = next(
        (
            slot
            for slot in ranked
            if slot.key is None and slot.rank == GENERIC and not _same_times(slot, primary)
        ),
        None,
    )
    return [*chain, header] if header is not None else chain


def _same_times(one: _Slot, other: _Slot) -> bool:
    """Whether two slots hold the same timestamps (a key's value found by place as well)."""
    return any(other.hits.get(index) == hit for index, hit in one.hits.items())


def _intended(chain: Sequence[_Slot], count: int) -> list[Found | None]:
    return [next((slot.hits[i] for slot in chain if i in slot.hits), None) for i in range(count)]


def _prefix_candidates(events: Sequence[str], hits: Sequence[Found]) -> list[str]:
    """TIME_PREFIX candidates: from all hits, then from the largest group sharing a last char.

    Verification picks among them, so a few events with a different layout cannot hide the
    prefix that most events share.
    """
    befores = [event[: hit.start] for event, hit in zip(events, hits, strict=True)]
    groups = Counter(before[-1:] for before in befores)
    char, _ = groups.most_common(1)[0]
    majority = [before for before in befores if before[-1:] == char]
    return list(dict.fromkeys([*_prefixes_for(befores), *_prefixes_for(majority)]))


def _prefixes_for(befores: Sequence[str]) -> list[str]:
    """TIME_PREFIX candidates that end exactly where each text of ``befores`` ends."""
    out: list[str] = []
    if all(before == "" for before in befores):
        return ["^"]
    present = [before for before in befores if before]
    if len(present) < len(befores):
        # Some events lead with the time, others with a header (a syslog priority): optional.
        optional = {re.sub(r"\d+", r"\\d+", _escape(before)) for before in present}
        if len(optional) == 1 and len(next(iter(optional))) <= 32:
            out.append(f"^(?:{optional.pop()})?")
    tokens = {len(before.split()) for before in befores if before.endswith((" ", "\t"))}
    spaced = len(tokens) == 1 and all(before.endswith((" ", "\t")) for before in befores)
    last_chars = {before[-1:] for before in befores}
    if len(last_chars) == 1:
        char = last_chars.pop()
        counts = {before.count(char) for before in befores}
        # counting spaces breaks where a header pads (``Dec  9``): tokens are counted instead
        if char and len(counts) == 1 and not (char == " " and spaced):
            count = counts.pop()
            single = f"[^{_escape(char)}]*{_escape(char)}"
            out.append("^" + (single if count == 1 else f"(?:{single}){{{count}}}"))
    shapes = {re.sub(r"\d+", r"\\d+", _escape(before)) for before in befores}
    if len(shapes) == 1 and len(next(iter(shapes))) <= 32:
        out.append("^" + shapes.pop())
    words = {re.sub(r"[A-Za-z]+", "[A-Za-z]+", shape) for shape in shapes}
    if len(shapes) > 1 and len(words) == 1 and len(next(iter(words))) <= 32:
        out.append("^" + words.pop())  # e.g. a severity letter before the time (klog)
    if spaced:
        out.append(rf"^(?:\S+\s+){{{tokens.pop()}}}")
    if len(set(befores)) == 1 and len(befores[0]) <= 64:
        out.append("^" + _escape(befores[0]))
    return out


def _slot_prefixes(slot: _Slot, events: Sequence[str]) -> list[str]:
    indexes = sorted(slot.hits)
    positional = _prefix_candidates([events[i] for i in indexes], [slot.hits[i] for i in indexes])
    own = slot.prefix()
    return list(dict.fromkeys([own, *positional] if own else positional))


def _chained(prefixes: Sequence[str]) -> str:
    """One TIME_PREFIX trying each key in order over the whole event, then a keyless header
    prefix (anchored at the start) last."""
    keyed = [rf"[\s\S]*?{prefix}" for prefix in prefixes if not prefix.startswith("^")]
    header = [prefix[1:] for prefix in prefixes if prefix.startswith("^")]
    return "^(?:" + "|".join([*keyed, *header]) + ")"


def _prefix_end(pattern: str, event: str) -> int | None:
    try:
        match = compile_regex(pattern).search(event[:KEYED_CHARS])
    except (RegexError, RegexLimitError):
        return None
    return None if match is None else match.end()


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


def _formats(hits: Sequence[Found]) -> list[str]:
    common = [fmt for fmt, _ in Counter(hit.time_format for hit in hits).most_common(4)]
    widest = max((int(w) for fmt in common for w in re.findall(r"%(\d)N", fmt)), default=0)
    return list(dict.fromkeys([*common, *(_lenient(fmt, widest) for fmt in common)]))


def infer_timestamps(
    events: Sequence[str],
    *,
    default_tz: str = "UTC",
    columns: Sequence[str] = (),
    delimiter: str | None = None,
) -> TimestampPlan:
    """The TIME_PREFIX/TIME_FORMAT/lookahead/TZ plan that reads the most sampled events.

    ``columns`` (with their ``delimiter``) name the fields of a delimited format, so a column's
    timestamp ranks by its name as a key's would.
    """
    sampled = list(events[:MAX_EVENTS])
    zone = ZoneInfo(default_tz)
    finder = _SlotFinder(columns, delimiter)
    timeless = 0
    for index, event in enumerate(sampled):
        hits = find_event_timestamps(event, default=zone)
        timeless += not hits
        finder.add(index, event, hits, zone)
    if not finder.slots:
        return TimestampPlan(None, None, 0, events=len(sampled), timeless=timeless)
    ranked = _ranked(list(finder.slots.values()))
    chain = _chain(ranked)
    plan = _planned(chain, sampled, default_tz)
    if chain[0] is not ranked[0]:
        # a dated twin: kept unless the yearless time alone reads more events
        alone = _chain(ranked, twin=False)
        plain = _planned(alone, sampled, default_tz)
        if plain.success > plan.success:
            chain, plan = alone, plain
    if not _trusted(plan, chain[0], len(sampled), timeless):
        plan = TimestampPlan(None, None, 0, success=plan.success)
    return replace(plan, events=len(sampled), timeless=timeless)


def _planned(chain: Sequence[_Slot], sampled: Sequence[str], default_tz: str) -> TimestampPlan:
    return _best_plan(chain, _Sample(sampled, _intended(chain, len(sampled))), default_tz)


def _trusted(plan: TimestampPlan, primary: _Slot, events: int, timeless: int) -> bool:
    """Whether the plan reads enough events to be shipped rather than DATETIME_CONFIG=CURRENT.

    A majority of the events, or, for the event's own or a header's time (not a date some
    messages mention), a majority of the events that carry a timestamp, if they are not rare:
    lines without any (bare messages between headed ones) take the time of the event before.
    """
    if plan.success >= MIN_SUCCESS:
        return True
    stamped = events - timeless
    if primary.rank > GENERIC or stamped < MIN_STAMPED * events:
        return False
    return plan.success * events >= MIN_SUCCESS * stamped


def _best_plan(chain: Sequence[_Slot], sample: _Sample, default_tz: str) -> TimestampPlan:
    """The prefix and format (or automatic recognition) that read the most intended times."""
    hits = [hit for hit in sample.intended if hit is not None]
    first = next(i for i, hit in enumerate(sample.intended) if hit is not None)
    example = sample.events[first][hits[0].start : hits[0].end]
    has_year = all(hit.has_year for hit in hits)
    zone = ZoneInfo(default_tz)
    tz = "UTC" if all(_zulu(h.time_format) for h in hits) else None
    if tz is None and not all(hit.has_zone for hit in hits):
        tz = default_tz
    plan_zone = ZoneInfo(tz) if tz else zone
    prefixes = _slot_prefixes(chain[0], sample.events)
    if len(chain) > 1:
        own = [_slot_prefixes(slot, sample.events)[0] for slot in chain]
        prefixes = [_chained(own), *prefixes]
    best = TimestampPlan(None, None, 0, success=-1.0)
    for prefix in prefixes:
        ends = [_prefix_end(prefix, event) for event in sample.events]
        for time_format in _formats(hits):
            plan = _verify(sample, ends, prefix, time_format, tz, plan_zone)
            if plan.success > best.success:
                best = replace(plan, has_year=has_year, example=example)
        if best.success >= 0.999:
            break
    small = len(hits) < SMALL_SAMPLE
    if best.success < 0.999 or small:
        best = _try_automatic(best, sample, prefixes, zone, default_tz, prefer=small)
    return best


def _try_automatic(
    best: TimestampPlan,
    sample: _Sample,
    prefixes: Sequence[str],
    zone: tzinfo,
    default_tz: str,
    *,
    prefer: bool,
) -> TimestampPlan:
    """Splunk's automatic recognition instead of ``best`` when it reads more events.

    With ``prefer`` (a handful of timestamps: too little evidence to pin one layout) it also
    wins ties, and its window leaves room for an offset or fraction the sample did not show.
    """
    for prefix in prefixes:
        ends = [_prefix_end(prefix, event) for event in sample.events]
        margin = AUTOMATIC_MARGIN if prefer else LOOKAHEAD_MARGIN
        plan = _verify(sample, ends, prefix, None, default_tz, zone, margin)
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
    sample: _Sample,
    ends: Sequence[int | None],
    prefix: str,
    time_format: str | None,
    tz: str | None,
    zone: tzinfo,
    margin: int = LOOKAHEAD_MARGIN,
) -> TimestampPlan:
    """Read every event as Splunk will; success counts readings of each event's intended time.

    Each event is read in exactly the window MAX_TIMESTAMP_LOOKAHEAD gives it (the longest
    timestamp plus ``margin``). ``time_format`` None reads with automatic recognition.
    """
    placed = [
        (event, end, hit)
        for event, end, hit in zip(sample.events, ends, sample.intended, strict=True)
        if hit is not None and end is not None
    ]
    # A format is read exactly at the prefix end; automatic recognition searches its window.
    reach = [
        hit.end - end
        for _, end, hit in placed
        if end == hit.start or (time_format is None and end < hit.start)
    ]
    lookahead = max(reach, default=0) + margin
    ok = 0
    for event, end, hit in placed:
        got = read_time(event[end : end + lookahead], time_format, zone)
        if got is not None and _same_instant(got, hit.value, has_year=hit.has_year):
            ok += 1
    return TimestampPlan(
        time_prefix=None if prefix == "^" else prefix,
        time_format=time_format,
        lookahead=lookahead,
        tz=tz,
        success=round(ok / len(sample.events), 4) if sample.events else 0.0,
    )

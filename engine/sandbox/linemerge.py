"""SHOULD_LINEMERGE: Splunk's aggregator joining lines into multi-line events.

props.conf.spec rules, checked for each new line in this order:
MAX_EVENTS (default 256) lines already in the event -> break; the previous line matched
MUST_BREAK_AFTER -> break; a line since the last MUST_BREAK_AFTER matched MUST_NOT_BREAK_AFTER
-> no break; the line matches MUST_NOT_BREAK_BEFORE -> no break; it matches BREAK_ONLY_BEFORE
-> break; BREAK_ONLY_BEFORE_DATE (default true) and the line has a date (found with the
TIME_PREFIX/TIME_FORMAT settings) -> break; otherwise the line joins the event. Lines are
joined with ``\\n``: the text LINE_BREAKER matched is gone, as in Splunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from engine.regex import Regex, RegexLimitError
from engine.sandbox.linebreak import Line
from engine.sandbox.stanzas import setting_bool, setting_int, setting_regex
from engine.sandbox.strptime import ParsedTime

DEFAULT_MAX_EVENTS = 256


@dataclass(frozen=True, slots=True)
class MergeRules:
    """The line-merging settings of one resolved props stanza set."""

    break_only_before_date: bool
    break_only_before: Regex | None
    must_break_after: Regex | None
    must_not_break_after: Regex | None
    must_not_break_before: Regex | None
    max_events: int

    @classmethod
    def from_props(cls, settings: Mapping[str, str]) -> MergeRules:
        return cls(
            break_only_before_date=setting_bool(settings, "BREAK_ONLY_BEFORE_DATE", True),
            break_only_before=setting_regex(settings, "BREAK_ONLY_BEFORE"),
            must_break_after=setting_regex(settings, "MUST_BREAK_AFTER"),
            must_not_break_after=setting_regex(settings, "MUST_NOT_BREAK_AFTER"),
            must_not_break_before=setting_regex(settings, "MUST_NOT_BREAK_BEFORE"),
            max_events=setting_int(settings, "MAX_EVENTS", DEFAULT_MAX_EVENTS, minimum=1),
        )


@dataclass(slots=True)
class MergedEvent:
    """Lines joined into one event; ``date`` is the date found in its first line while
    merging (None when none was looked for or found), so timestamping need not parse it again.
    Never mutated (not frozen: built once per event, and a frozen dataclass takes twice as long
    to build)."""

    text: str
    linecount: int
    truncated: bool
    date: ParsedTime | None = None


def _matches(regex: Regex | None, line: str) -> bool:
    """Whether a rule matches; a match PCRE gives up on counts as none, as in Splunk."""
    if regex is None:
        return False
    try:
        return regex.search(line) is not None
    except RegexLimitError:
        return False


class _Pending:
    __slots__ = ("date", "lines", "no_break", "truncated")

    def __init__(self, line: Line, date: ParsedTime | None) -> None:
        self.lines = [line.text]
        self.truncated = line.truncated
        self.no_break = False
        self.date = date

    def add(self, line: Line) -> None:
        self.lines.append(line.text)
        self.truncated = self.truncated or line.truncated

    def event(self) -> MergedEvent:
        return MergedEvent("\n".join(self.lines), len(self.lines), self.truncated, self.date)


def merge_lines(
    lines: Iterable[Line], rules: MergeRules, *, detect_date: Callable[[str], ParsedTime | None]
) -> Iterator[MergedEvent]:
    """Aggregate lines into events by the SHOULD_LINEMERGE rules."""
    pending: _Pending | None = None
    must_break = False
    for line in lines:
        if pending is None:
            pending = _Pending(line, None)
        else:
            starts, date = _breaks_before(line, pending, rules, must_break, detect_date)
            if starts:
                yield pending.event()
                pending = _Pending(line, date)
            else:
                pending.add(line)
        must_break = _matches(rules.must_break_after, line.text)
        if must_break:
            pending.no_break = False
        elif _matches(rules.must_not_break_after, line.text):
            pending.no_break = True
    if pending is not None:
        yield pending.event()


def _breaks_before(
    line: Line,
    pending: _Pending,
    rules: MergeRules,
    must_break: bool,
    detect_date: Callable[[str], ParsedTime | None],
) -> tuple[bool, ParsedTime | None]:
    """Whether ``line`` starts a new event, and the date found in it if one was looked for."""
    if len(pending.lines) >= rules.max_events or must_break:
        return True, None
    if pending.no_break or _matches(rules.must_not_break_before, line.text):
        return False, None
    if _matches(rules.break_only_before, line.text):
        return True, None
    if rules.break_only_before_date:
        date = detect_date(line.text)
        return date is not None, date
    return False, None

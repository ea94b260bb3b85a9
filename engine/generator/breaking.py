"""Event breaking: LINE_BREAKER (SHOULD_LINEMERGE=false), TRUNCATE and EVENT_BREAKER.

One event per line is the default. Events span lines only when a clear event-start pattern
exists (a timestamp at a fixed place on the line, or the root element of XML records) and the
lines that do not start events really read as the inside of the previous one: indented, stack
frames, inside a bracket or quote the event left open, or the same multi-line record shape
repeated. A line that merely lacks the start pattern (a variant without the syslog header, a
message of another layout) is an event of its own: gluing it to its neighbour loses both. The
start pattern is learned from the data itself: the text up to the end of each line's timestamp
is tokenised (digit runs, letter runs, spaces, punctuation) and the token sequence all start
lines share becomes a strict regex, then checked with PCRE over the lines. When the sample shows
single lines only, families whose events may carry continuation lines the sample did not show
(stack traces) break at every line except before one that looks like a continuation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from engine.generator.formats import pick_lines
from engine.generator.model import BreakingPlan, FormatGuess
from engine.generator.timestamp_shapes import find_timestamps
from engine.regex import RegexLimitError, compile_regex

SINGLE_LINE = r"([\r\n]+)"
_EXCEPTION = r"(?:[\w$]+(?:\.[\w$]+)*\.[\w$]*(?:Exception|Error)\b|[A-Z]\w+(?:Exception|Error):)"
_TRACE = rf"[ \t]|Caused by: |\.\.\. \d+ more|Traceback \(most recent call last\)|{_EXCEPTION}"
UNLESS_CONTINUED = rf"([\r\n]+)(?![\r\n]|{_TRACE})"
"""One event per line, except that an indented line, an exception (``java.io.IOException``,
``ValueError: ...``) or a stack trace's ``Caused by:``, ``... N more`` or ``Traceback`` line stays
with the event above it. ``[\r\n]`` in the lookahead keeps PCRE from backtracking into a CRLF
and breaking between its two bytes."""
MAX_LINES = 2000
"""Lines of the subset examined for event starts."""

START_WITHIN = 40
"""A timestamp starting an event sits within this many characters of the line start."""

MIN_START_SHARE = 0.02
"""Share of lines that must start events for a start pattern to be believed (events can be
long: a stack trace or an XML record is dozens of lines)."""

SINGLE_LINE_SHARE = 0.995
"""If this share of lines starts events, events are single lines (the rest is junk)."""

MIN_TRUNCATE = 10_000
MAX_TRUNCATE = 1_000_000
_TOKEN = re.compile(r"\d+|[A-Za-z]+| +|\t+|.", re.S)
_PCRE_SPECIAL = frozenset("\\^$.|?*+()[]{}/#")
_ROOT_TAG = re.compile(r"^<([A-Za-z_][\w:.-]*)[\s>/]")
MIN_CONTINUED_SHARE = 0.5
"""Share of the lines that start no event which must read as continuations."""

MIN_SHARED_SHAPE = 0.8
"""Share of records that must repeat one continuation shape (``key: value`` records)."""

_CONTINUATION = re.compile(rf"^(?:{_TRACE}|at [\w$.<>]+\(|[}}\])])")
_CONTINUATION_KEY = re.compile(r"^([A-Za-z_][\w .-]{0,40}?)\s*[:=]")
MAY_CONTINUE = frozenset(
    {"unstructured", "multiline", "syslog3164", "syslog5424", "apache_error", "kv"}
)
"""Families whose events may gain continuation lines the sample did not show."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _kind(token: str) -> str:
    if token[0].isdigit():
        return "d"
    if token[0].isalpha():
        return "a"
    if token[0] == " ":
        return " "
    if token[0] == "\t":
        return "\t"
    return token


def _shape_regex(texts: Sequence[str]) -> str | None:
    """A regex matching every text of ``texts`` from its start (None: no shared shape).

    It is as loose as the sample allows and no looser where unseen lines may differ: digit runs
    keep their width only when it is fixed and long (years, compact dates, epochs), words stay
    literal only when one or two letters (``T``), so new months, levels or PRI values still
    start events.
    """
    tokenised = [_tokens(text) for text in texts]
    if len({len(tokens) for tokens in tokenised}) != 1:
        return None  # the texts do not share one shape up to the end of the timestamp
    parts: list[str] = []
    for position in range(len(tokenised[0])):
        column = [tokens[position] for tokens in tokenised]
        kinds = {_kind(token) for token in column}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        low, high = min(map(len, column)), max(map(len, column))
        if kind == "d":
            parts.append(f"\\d{{{low}}}" if low == high and low >= 4 else r"\d+")
        elif kind == "a":
            constant = len(set(column)) == 1 and high <= 2
            parts.append(column[0] if constant else "[A-Za-z]+")
        elif kind == " ":
            parts.append(" +")
        elif kind == "\t":
            parts.append(r"\t+")
        else:
            parts.append("\\" + kind if not kind.isalnum() else kind)
    pattern = "".join(parts)
    return pattern if re.search(r"\\d", pattern) else None


def _timestamp_start(lines: Sequence[str]) -> str | None:
    """The event-start regex built from where lines carry their leading timestamp."""
    heads: dict[str, list[str]] = {}
    for line in lines:
        hits = find_timestamps(line[: START_WITHIN + 40])
        if hits and hits[0].start <= START_WITHIN:
            heads.setdefault(hits[0].shape, []).append(line[: hits[0].core_end])
    if not heads:
        return None
    found = max(heads.values(), key=len)
    if len(found) < MIN_START_SHARE * len(lines):
        return None
    return _shape_regex(found)


def _xml_start(lines: Sequence[str]) -> str | None:
    """The start of an XML record: a repeated ``<?xml`` declaration, else the root element
    (the first element at the start of a line) when it recurs."""
    declarations = sum(1 for line in lines if line.startswith("<?xml"))
    if declarations >= 2:
        return r"<\?xml[\s?]"
    tags = [match.group(1) for match in map(_ROOT_TAG.match, lines) if match]
    if not tags:
        return None
    root = tags[0]
    if tags.count(root) < 2 and len(lines) > 2:
        return None
    return f"<{re.escape(root)}[\\s>/]"


def _starts(pattern: str, lines: Sequence[str]) -> list[bool]:
    regex = compile_regex(f"^(?:{pattern})")
    out: list[bool] = []
    for line in lines:
        try:
            out.append(regex.search(line) is not None)
        except RegexLimitError:
            out.append(False)
    return out


def _balance(text: str) -> tuple[int, int]:
    """(brackets opened minus closed, double quotes) in ``text``."""
    opened = sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
    return opened, text.count('"')


def _own_timestamp(line: str) -> bool:
    """A line that leads with a timestamp of its own is an event of another layout."""
    hits = find_timestamps(line[: START_WITHIN + 40])
    return bool(hits) and hits[0].start <= START_WITHIN


def looks_continued(line: str) -> bool:
    """Whether a line reads as the inside of the event above it, on its own: indented, a stack
    frame, an exception, or a closing bracket."""
    return _CONTINUATION.match(line) is not None


def _records(lines: Sequence[str], starts: Sequence[bool]) -> list[list[str]]:
    records: list[list[str]] = []
    for line, start in zip(lines, starts, strict=True):
        if start or not records:
            records.append([line])
        else:
            records[-1].append(line)
    return records


def _shared_shape(records: Sequence[Sequence[str]]) -> bool:
    """Records that nearly all carry the same two or more continuation lines (the same keys or
    token kinds in the same order): a multi-line record layout. Single lines of another layout
    between events (a variant without the header) come one at a time and in some records only.
    """
    shapes = Counter(
        tuple(
            match.group(1) if (match := _CONTINUATION_KEY.match(line)) else _shape_of(line)
            for line in record[1:]
        )
        for record in records
    )
    shape, count = shapes.most_common(1)[0]
    return len(shape) >= 2 and count >= 2 and count >= MIN_SHARED_SHAPE * len(records)


def _shape_of(line: str) -> str:
    return "".join(_kind(token) for token in _tokens(line)[:4])


def _continuations(lines: Sequence[str], starts: Sequence[bool], fmt: FormatGuess) -> bool:
    """True when the lines that start no event read as the inside of the previous event."""
    if all(starts):
        return False
    if fmt.kind == "xml":
        return True
    records = _records(lines, starts)
    inside = total = 0
    for record in records:
        depth, quotes = _balance(record[0])
        for line in record[1:]:
            total += 1
            left_open = depth > 0 or quotes % 2 == 1
            if looks_continued(line) or (left_open and not _own_timestamp(line)):
                inside += 1
            more_depth, more_quotes = _balance(line)
            depth, quotes = depth + more_depth, quotes + more_quotes
    return total > 0 and (inside >= MIN_CONTINUED_SHARE * total or _shared_shape(records))


def _truncate(max_event_bytes: int) -> int:
    """Twice the longest sampled event, in whole thousands, within Splunk-friendly bounds."""
    wanted = -(-2 * max_event_bytes // 1000) * 1000
    return max(MIN_TRUNCATE, min(MAX_TRUNCATE, wanted))


def _longest_event(lines: Sequence[str], starts: Sequence[bool] | None) -> int:
    if starts is None:
        return max((len(line.encode("utf-8")) for line in lines), default=0)
    longest = current = 0
    for line, start in zip(lines, starts, strict=True):
        size = len(line.encode("utf-8")) + 1
        current = size if start else current + size
        longest = max(longest, current)
    return longest


def _longest_between(breaker: str, text: str) -> int:
    """Bytes of the longest piece ``breaker`` (group 1 as the break) cuts ``text`` into."""
    data = text.encode("utf-8")
    longest = position = 0
    for match in compile_regex(breaker).finditer_bytes(data):
        longest = max(longest, match.start(1) - position)
        position = match.end(1)
    return max(longest, len(data) - position)


def plan_breaking(lines: Sequence[str], fmt: FormatGuess) -> BreakingPlan:
    """The breaking plan for the sample's lines (LF-terminated lines without terminators)."""
    nonblank = [line for line in lines if line.strip()]
    picked = nonblank[:MAX_LINES]
    if fmt.kind == "json" and fmt.details.get("root") in ("array", "stream"):
        # Top-level objects: a closing brace, the separator (dropped), the next opening brace.
        breaker = r"\}(\s*,?\s*[\r\n]+\s*)\{"
        if fmt.details.get("root") == "stream":
            breaker = r"\}([\r\n]+)\{"  # column 0 only: nested objects are indented
        return BreakingPlan(
            breaker,
            _truncate(_longest_between(breaker, "\n".join(nonblank))),
            breaker,
            True,
            None,
            "JSON spread over lines: break between top-level objects",
        )
    start = _xml_start(picked) if fmt.kind == "xml" else _timestamp_start(picked)
    skip = _skip_pattern(fmt)
    if start is not None:
        starts = _starts(start, picked)
        share = sum(starts) / len(picked)
        breaker = f"([\\r\\n]+)(?={start})"
        if MIN_START_SHARE <= share < SINGLE_LINE_SHARE and _continuations(picked, starts, fmt):
            return BreakingPlan(
                line_breaker=breaker,
                truncate=_truncate(_longest_event(picked, starts)),
                event_breaker=breaker,
                multiline=True,
                event_start=start,
                reason=f"{share:.0%} of lines start an event; the others continue it",
            )
    sample_lines = pick_lines(nonblank, MAX_LINES) if len(nonblank) > MAX_LINES else picked
    truncate = _truncate(_longest_event(sample_lines, None))
    if fmt.kind in MAY_CONTINUE and skip is None and not any(map(looks_continued, picked)):
        return BreakingPlan(
            line_breaker=UNLESS_CONTINUED,
            truncate=truncate,
            event_breaker=UNLESS_CONTINUED,
            reason="one event per line; an indented or stack-trace line the sample did not "
            "show stays with its event",
        )
    return BreakingPlan(
        line_breaker=SINGLE_LINE,
        truncate=truncate,
        event_breaker=SINGLE_LINE,
        reason="one event per line",
        skip=skip,
    )


def _skip_pattern(fmt: FormatGuess) -> str | None:
    """Lines that are not events: ``#`` headers (Zeek, W3C) or a delimited file's header row."""
    if not fmt.header_lines:
        return None
    comment = fmt.details.get("comment")
    if comment:
        return f"^{re.escape(comment)}"
    header = fmt.details.get("header_line")
    if header:
        literal = "".join("\\" + c if c in _PCRE_SPECIAL else c for c in header)
        return f"^{literal}$"
    return None

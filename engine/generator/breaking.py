"""Event breaking: LINE_BREAKER (SHOULD_LINEMERGE=false), TRUNCATE and EVENT_BREAKER.

One event per line is the default. Events span lines when a clear event-start pattern exists
(a timestamp at a fixed place on the line, or the root element of XML records) and the lines
that do not start events look like continuations (indented, or free text in unstructured
logs). The start pattern is learned from the data itself: the text up to the end of each
line's timestamp is tokenised (digit runs, letter runs, spaces, punctuation) and the token
sequence all start lines share becomes a strict regex, then checked with PCRE over the lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from engine.generator.formats import classify_line, pick_lines
from engine.generator.model import BreakingPlan, FormatGuess
from engine.generator.timestamps import find_timestamps
from engine.regex import RegexLimitError, compile_regex

SINGLE_LINE = r"([\r\n]+)"
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
_ROOT_TAG = re.compile(r"^<([A-Za-z_][\w:.-]*)[\s>/]")
_UNSTRUCTURED = frozenset({"unstructured", "multiline"})


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


def _shape_regex(texts: Sequence[str], *, names_from: Sequence[int] | None = None) -> str | None:
    """A strict regex matching every text of ``texts`` from its start (None: no shared shape).

    Words are kept literally when every text has the same one, except from ``names_from[i]``
    on (the timestamp), where words of three letters or more are month or day names and must
    stay open to the other values.
    """
    tokenised = [_tokens(text) for text in texts]
    if len({len(tokens) for tokens in tokenised}) != 1:
        return None  # the texts do not share one shape up to the end of the timestamp
    offsets = [
        [sum(map(len, tokens[:index])) for index in range(len(tokens))] for tokens in tokenised
    ]
    length = len(tokenised[0])
    parts: list[str] = []
    for position in range(length):
        column = [tokens[position] for tokens in tokenised]
        kinds = {_kind(token) for token in column}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        low, high = min(map(len, column)), max(map(len, column))
        in_time = names_from is not None and any(
            offsets[row][position] >= names_from[row] for row in range(len(texts))
        )
        if in_time and kind == "d" and high <= 2:
            low = 1  # day of month and hour may be unpadded or space-padded
        if in_time and kind == " ":
            high = 2
        width = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        if kind == "d":
            parts.append(r"\d" + width)
        elif kind == "a":
            constant = len(set(column)) == 1 and not (in_time and low >= 3)
            parts.append(column[0] if constant else "[A-Za-z]" + width)
        elif kind == " ":
            parts.append(" +" if high > 1 else " ")
        elif kind == "\t":
            parts.append(r"\t+")
        else:
            parts.append("\\" + kind if not kind.isalnum() else kind)
    pattern = "".join(parts)
    return pattern if re.search(r"\\d", pattern) else None


def _timestamp_start(lines: Sequence[str]) -> str | None:
    """The event-start regex built from where lines carry their leading timestamp."""
    heads: dict[str, list[tuple[str, int]]] = {}
    for line in lines:
        hits = find_timestamps(line[: START_WITHIN + 40])
        if hits and hits[0].start <= START_WITHIN:
            head = (line[: hits[0].end], hits[0].start)
            heads.setdefault(hits[0].time_format, []).append(head)
    if not heads:
        return None
    found = max(heads.values(), key=len)
    if len(found) < MIN_START_SHARE * len(lines):
        return None
    return _shape_regex([text for text, _ in found], names_from=[start for _, start in found])


def _xml_start(lines: Sequence[str]) -> str | None:
    tags = Counter(
        match.group(1) for match in map(_ROOT_TAG.match, lines) if match and lines[0] != "<?xml"
    )
    if not tags:
        return None
    tag, count = tags.most_common(1)[0]
    if count < 2 and len(lines) > 2:
        return None
    return f"<{re.escape(tag)}[\\s>/]"


def _starts(pattern: str, lines: Sequence[str]) -> list[bool]:
    regex = compile_regex(f"^(?:{pattern})")
    out: list[bool] = []
    for line in lines:
        try:
            out.append(regex.search(line) is not None)
        except RegexLimitError:
            out.append(False)
    return out


def _continuations(lines: Sequence[str], starts: Sequence[bool], fmt: FormatGuess) -> bool:
    """True when the lines that start no event read as the inside of the previous event."""
    rest = [line for line, start in zip(lines, starts, strict=True) if not start]
    if not rest:
        return False
    if fmt.kind == "xml":
        return True
    indented = sum(1 for line in rest if line[:1].isspace())
    if indented >= 0.3 * len(rest):
        return True
    if fmt.kind in _UNSTRUCTURED:
        return sum(1 for line in rest if classify_line(line) is None) >= 0.5 * len(rest)
    return False


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


def plan_breaking(lines: Sequence[str], fmt: FormatGuess) -> BreakingPlan:
    """The breaking plan for the sample's lines (LF-terminated lines without terminators)."""
    nonblank = [line for line in lines if line.strip()]
    picked = nonblank[:MAX_LINES]
    if fmt.kind == "json" and fmt.details.get("root") == "array":
        breaker = r"\}(\s*,?\s*[\r\n]+\s*)\{"
        return BreakingPlan(
            breaker,
            _truncate(len("\n".join(nonblank).encode("utf-8"))),
            breaker,
            True,
            None,
            "JSON array: break between top-level objects",
        )
    start = _xml_start(picked) if fmt.kind == "xml" else _timestamp_start(picked)
    if start is not None:
        starts = _starts(start, picked)
        share = sum(starts) / len(picked)
        if MIN_START_SHARE <= share < SINGLE_LINE_SHARE and _continuations(picked, starts, fmt):
            breaker = f"([\\r\\n]+)(?={start})"
            return BreakingPlan(
                line_breaker=breaker,
                truncate=_truncate(_longest_event(picked, starts)),
                event_breaker=breaker,
                multiline=True,
                event_start=start,
                reason=f"{share:.0%} of lines start an event; the others continue it",
            )
    sample_lines = pick_lines(nonblank, MAX_LINES) if len(nonblank) > MAX_LINES else picked
    comment = fmt.details.get("comment") if fmt.header_lines else None
    return BreakingPlan(
        line_breaker=SINGLE_LINE,
        truncate=_truncate(_longest_event(sample_lines, None)),
        event_breaker=SINGLE_LINE,
        reason="one event per line",
        skip=f"^{re.escape(comment)}" if comment else None,
    )

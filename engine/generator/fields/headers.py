"""Learn the fixed header of unstructured application log lines (``<time> <level> [thread] x:``).

Many application logs start every line with the same columns: a timestamp, maybe a pid or a
node name, a level word, a ``[thread]`` and a ``component:``. The level word is the anchor:
when most lines carry one at the same token position, the tokens before it are typed columns
and the optional bracket/dash/component after it are recognised by shape. The result is one
anchored regex whose named groups are the columns; it ends after the header's whitespace so the
rest of the line can be mined for templates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from engine.generator.fields.naming import unique_name

LEVELS = frozenset(
    [
        "trace",
        "debug",
        "info",
        "information",
        "informational",
        "notice",
        "warn",
        "warning",
        "error",
        "err",
        "crit",
        "critical",
        "alert",
        "emerg",
        "emergency",
        "fatal",
        "severe",
        "fine",
        "finer",
        "finest",
        "config",
        "verbose",
        "note",
        "log",
        "panic",
        "system",
    ]
)
MAX_HEADER_TOKENS = 12
MIN_SHARE = 0.7
OPTIONAL_SHARE = 0.3

_TIMESTAMP_PART = re.compile(
    r"(?:\d+[-/:.,T]){1,}\d+(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{6}|\d{8}"
    r"|UTC|GMT|[A-Z]{1,3}[DS]?T|[+-]\d{2}:?\d{2}"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*,?"
)
_INT = re.compile(r"-?\d+")
_DATE_TIME = re.compile(r"\d[\d\-/.:,T ]{6,}\d(?:Z|[+-]\d{2}:?\d{2})?")
_BRACKET_BODY = r"[^\]\n]*(?:\][^\s\]][^\]\n]*)*"
_LOCATION = re.compile(r"\[[^\s@]+@\d+\]")
_LOCATED_BODY = r"(?:(?<{thread}>[^:\s\]]+(?:\][^:\s\]]*)*):)?(?<{source}>[^\s@\]]+)@(?<{line}>\d+)"
_COMPONENT = re.compile(r"[A-Za-z_$][\w.$\-]*:")
_SOURCE = re.compile(r"[A-Z][A-Z0-9_]{1,15}")
"""An upper-case source column after the level (``Info  CBS  Loaded ...``)."""


LETTER_LEVELS = frozenset("VDIWEFA")
"""Android logcat style one-letter levels (only uppercase, only as a whole token)."""
DELIMITERS = ("|", "\t")
"""Column separators of header-less delimited lines (``time|component|pid|message``)."""


def _level_index(tokens: Sequence[str]) -> int | None:
    for i, token in enumerate(tokens[:MAX_HEADER_TOKENS]):
        if token.strip("[]():<>").lower() in LEVELS or token in LETTER_LEVELS:
            return i
    return None


def _after_bracket(tokens: Sequence[str]) -> Sequence[str]:
    """The tokens after a leading ``[...]`` that may span several tokens."""
    if not tokens or not tokens[0].startswith("["):
        return tokens
    for i, token in enumerate(tokens):
        if token.endswith("]"):
            return tokens[i + 1 :]
    return ()


def _column(values: Sequence[str], used: set[str], *, last: bool) -> str:
    """The regex piece for one pre-level column, given its tokens across lines."""
    if all(_TIMESTAMP_PART.fullmatch(v.rstrip(",")) for v in values):
        return r"\S+"
    if len(set(values)) == 1 and not any(c.isalnum() for c in values[0]):
        return re.escape(values[0])
    bracketed = all(v.startswith("[") and v.endswith("]") for v in values)
    inner = [v[1:-1] for v in values] if bracketed else list(values)
    if all(_INT.fullmatch(v) for v in inner):
        name = unique_name("pid" if last or bracketed else "id", used)
        return rf"\[(?<{name}>-?\d+)\]" if bracketed else rf"(?<{name}>-?\d+)"
    if bracketed:
        return rf"\[(?<{unique_name('component', used)}>[^\]\s]*)\]"
    return rf"(?<{unique_name('component', used)}>\S+)"


def learn_header(lines: Sequence[str]) -> str | None:
    """An anchored header regex shared by most lines, or None when there is no level anchor."""
    split = [line.split(None, MAX_HEADER_TOKENS + 2) for line in lines if line.strip()]
    if not split:
        return None
    positions = Counter(i for tokens in split if (i := _level_index(tokens)) is not None)
    if not positions:
        return None
    index, count = positions.most_common(1)[0]
    if count < MIN_SHARE * len(split):
        return None
    anchored = [t for t in split if _level_index(t) == index and len(t) > index]
    used: set[str] = set()
    pieces = [_column([t[i] for t in anchored], used, last=i == index - 1) for i in range(index)]
    level = anchored[0][index]
    if level in LETTER_LEVELS:
        pieces.append(rf"(?<{unique_name('level', used)}>[A-Z])")
    elif level.startswith("["):
        pieces.append(rf"\[(?<{unique_name('level', used)}>[A-Za-z]+)\]")
    else:
        pieces.append(rf"(?<{unique_name('level', used)}>[A-Za-z]+):?")
    rest: list[Sequence[str]] = [t[index + 1 :] for t in anchored]
    if sum(1 for r in rest if r and r[0].startswith("[")) >= OPTIONAL_SHARE * len(rest):
        body = _BRACKET_BODY
        if sum(1 for r in rest if r and _LOCATION.fullmatch(r[0])) >= OPTIONAL_SHARE * len(rest):
            located = _LOCATED_BODY.format(
                thread=unique_name("thread_name", used),
                source=unique_name("source_class", used),
                line=unique_name("line", used),
            )
            body = f"{located}|{body}"
        pieces.append(rf"(?:\s+\[(?<{unique_name('thread', used)}>{body})\])?")
        rest = [_after_bracket(r) for r in rest]
    if sum(1 for r in rest if r and r[0] == "-") >= OPTIONAL_SHARE * len(rest):
        pieces.append(r"(?:\s+-)?")
        rest = [r[1:] if r and r[0] == "-" else r for r in rest]
    if sum(1 for r in rest if r and _COMPONENT.fullmatch(r[0])) >= OPTIONAL_SHARE * len(rest):
        name = unique_name("component", used)
        pieces.append(rf"(?:\s+(?<{name}>[A-Za-z_$][\w.$\-]*):)?")
    elif sum(1 for r in rest if len(r) > 1 and _SOURCE.fullmatch(r[0])) >= MIN_SHARE * len(rest):
        name = unique_name("component", used)
        pieces.append(rf"(?:\s+(?<{name}>[A-Z][A-Z0-9_]{{1,15}})(?=\s))?")
    joined = "".join(p if p.startswith("(?:\\s+") else rf"\s+{p}" for p in pieces[1:])
    return "^" + pieces[0] + joined + r"\s*"


def learn_delimited_prefix(lines: Sequence[str]) -> str | None:
    """Leading columns of header-less ``a|b|c|free text`` lines, or None.

    The modal number of separators must be the same on most lines; every column before the
    last becomes a group (timestamps excepted) and the last column is left to the templates.
    """
    for delimiter in DELIMITERS:
        counts = Counter(line.count(delimiter) for line in lines if line.strip())
        if not counts:
            return None
        columns, count = counts.most_common(1)[0]
        if columns < 2 or count < MIN_SHARE * sum(counts.values()):
            continue
        rows = [line.split(delimiter) for line in lines if line.count(delimiter) == columns]
        used: set[str] = set()
        escaped = "\\t" if delimiter == "\t" else re.escape(delimiter)
        pieces = []
        for i in range(columns):
            values = [row[i].strip() for row in rows]
            integers = all(_INT.fullmatch(v) for v in values)
            if not integers and all(
                _TIMESTAMP_PART.fullmatch(v) or _DATE_TIME.fullmatch(v) for v in values
            ):
                pieces.append(f"[^{escaped}]*")
                continue
            name = "pid" if integers else "component"
            pieces.append(rf"\s*(?<{unique_name(name, used)}>[^{escaped}]*?)\s*")
        return "^" + escaped.join(pieces) + escaped + r"\s*"
    return None


_LEADING_BRACKETS = re.compile(r"^\s*((?:\[[^\]\n]{0,200}\]\s*){2,8})")
_BRACKET = re.compile(r"\[([^\]\n]*)\]")


def learn_bracket_header(lines: Sequence[str]) -> str | None:
    """Leading ``[time][LEVEL ][logger]`` columns (log4j-style layouts written without spaces
    between groups), or None: each group becomes a column named by what it holds."""
    groups: list[list[str]] = []
    for line in lines:
        match = _LEADING_BRACKETS.match(line)
        groups.append(_BRACKET.findall(match.group(1)) if match else [])
    counts = Counter(len(g) for g in groups if g)
    if not counts:
        return None
    width, count = counts.most_common(1)[0]
    if count < MIN_SHARE * len(lines):
        return None
    rows = [[cell.strip() for cell in g] for g in groups if len(g) == width]
    used: set[str] = set()
    pieces = []
    for i in range(width):
        values = [row[i] for row in rows]
        if all(_TIMESTAMP_PART.fullmatch(v) or _DATE_TIME.fullmatch(v) for v in values):
            pieces.append(r"\[[^\]]*\]")
            continue
        if all(v.lower() in LEVELS for v in values):
            name = "level"
        elif all(_INT.fullmatch(v) for v in values):
            name = "pid"
        else:
            name = "component"
        pieces.append(rf"\[\s*(?<{unique_name(name, used)}>[^\]]*?)\s*\]")
    return "^\\s*" + r"\s*".join(pieces) + r"\s*"

"""Format detection: which family the samples belong to, learned from a bounded line subset.

Each line is classified on its own by cheap shape tests, most specific first (a CEF payload
behind a syslog header is CEF, not syslog); whole-sample structures (a JSON document spread over
lines, CSV/TSV/PSV with a header, W3C ``#Fields:``, Zeek ``#fields``, XML records) are checked
first because no single line shows them. Junk lines only lower the winner's confidence. These
regexes only classify text; Splunk never runs them, so Python's ``re`` is the right engine.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Sequence

from engine.generator.model import FormatGuess, FormatKind

MAX_LINES = 400
"""Lines looked at per decision; picked evenly across the subset so the head does not dominate."""

MIN_SHARE = 0.5
"""Share of classified lines a line-level format needs to win."""

_SYSLOG_PRI = r"(?:<\d{1,3}>\s?)?"
_BSD_TIME = r"[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d"
_ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_TAG = r"[^\s:\[]+(?:\[[^\]\s]*\])?:"
_LINE_TESTS: tuple[tuple[FormatKind, re.Pattern[str]], ...] = (
    ("cef", re.compile(r"CEF:\d+\|(?:[^|]*\|){6}")),
    ("leef", re.compile(r"LEEF:\d(?:\.\d)?\|(?:[^|]*\|){4}")),
    ("syslog5424", re.compile(r"^<\d{1,3}>\d{1,2} (?:-|\S+) \S+ \S+ \S+ \S+ (?:-|\[)")),
    (
        "apache_access",
        re.compile(
            r"^(?:\S+ )?\S+(?:, \S+)* \S+ \S+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
            r"\"[^\"]*\" \d{3} (?:\d+|-)"
        ),
    ),
    ("apache_error", re.compile(r"^\[\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[")),
    ("syslog3164", re.compile(rf"^{_SYSLOG_PRI}(?:{_BSD_TIME}|{_ISO_TIME}) \S+ {_TAG}(?: |$)")),
    ("xml", re.compile(r"^\s*<(?:\?xml|[A-Za-z][\w:.-]*[\s>/])")),
)
_NGINX_FORWARDED = re.compile(r"^(?:\S+ )?\S+, \S+")
_KV_PAIR = re.compile(r"""(?:^|[\s,;|])([A-Za-z_][\w.\-]{0,63})=("[^"]*"|'[^']*'|[^\s,;|]*)""")
_HEADER_NAME = re.compile(r"^[A-Za-z_][\w .\-/()#]{0,63}$")
_NUMBERISH = re.compile(r"^[-+]?\d[\d.,:/ -]*$")
_DELIMITERS: tuple[tuple[str, FormatKind], ...] = ((",", "csv"), ("\t", "tsv"), ("|", "psv"))


def pick_lines(lines: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    """Up to ``limit`` non-blank lines spread evenly over ``lines`` (order kept)."""
    nonblank = [line for line in lines if line.strip()]
    if len(nonblank) <= limit:
        return nonblank
    step = len(nonblank) / limit
    return [nonblank[int(i * step)] for i in range(limit)]


def _json_document(text: str) -> FormatGuess | None:
    """JSON spread over lines: one value (object or array) or a stream of objects."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{" or "\n" not in stripped:
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):  # RecursionError: nested beyond the stack
        return _json_stream(stripped)
    root = "array" if isinstance(value, list) else "object"
    return FormatGuess("json", 1.0, details={"root": root})


def _json_stream(text: str) -> FormatGuess | None:
    """Pretty-printed objects one after another (each may span many lines)."""
    decoder = json.JSONDecoder()
    position, count = 0, 0
    while position < len(text):
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            # The analysed subset may cut the last object: the rest must be a partial one.
            if count >= 2 and text[position] == "{":
                break
            return None
        if not isinstance(value, dict):
            return None
        count += 1
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return FormatGuess("json", 1.0, details={"root": "stream", "objects": str(count)})


def _ndjson(lines: Sequence[str]) -> FormatGuess | None:
    objects = 0
    for line in lines:
        candidate = line.strip()
        if candidate.startswith("{") and candidate.endswith("}"):
            try:
                objects += isinstance(json.loads(candidate), dict)
            except (ValueError, RecursionError):
                continue
    share = objects / len(lines) if lines else 0.0
    if share < MIN_SHARE:
        return None
    return FormatGuess("ndjson", share, details={"matched": f"{objects}/{len(lines)}"})


def _hash_headers(lines: Sequence[str]) -> FormatGuess | None:
    """Zeek TSV (``#separator`` + ``#fields``) and W3C extended (``#Fields:``) logs."""
    fields_line = next((line for line in lines if line.startswith(("#fields", "#Fields:"))), None)
    if fields_line is None:
        return None
    header_lines = sum(1 for line in lines[:50] if line.startswith("#"))
    if fields_line.startswith("#fields"):
        names = tuple(fields_line.split("\t")[1:])
        return FormatGuess(
            "zeek_tsv",
            1.0,
            header=names,
            delimiter="\t",
            header_lines=header_lines,
            details={"comment": "#"},
        )
    names = tuple(fields_line[len("#Fields:") :].split())
    return FormatGuess(
        "w3c", 1.0, header=names, delimiter=" ", header_lines=header_lines, details={"comment": "#"}
    )


def _looks_like_header(cells: Sequence[str]) -> bool:
    names = [cell.strip() for cell in cells]
    return (
        all(_HEADER_NAME.match(name) for name in names)
        and len(set(names)) == len(names)
        and not any(_NUMBERISH.match(name) for name in names)
    )


def _rows(lines: Sequence[str], delimiter: str) -> list[list[str]]:
    """``lines`` read as delimited rows; a row with a cell beyond the csv module's size limit
    (a one-line giant) reads as empty, so it counts as a row of the wrong width."""
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[list[str]] = []
    while True:
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows
        except csv.Error:
            rows.append([])


def _delimited(lines: Sequence[str]) -> FormatGuess | None:
    """CSV/TSV/PSV: a header row, then rows with the same number of cells."""
    if len(lines) < 2:
        return None
    for delimiter, kind in _DELIMITERS:
        rows = _rows(lines[:MAX_LINES], delimiter)
        if len(rows[0]) < 3 or not _looks_like_header(rows[0]):
            continue
        width = len(rows[0])
        same = sum(1 for row in rows[1:] if len(row) == width)
        share = same / (len(rows) - 1)
        if share >= 0.9:
            names = tuple(cell.strip() for cell in rows[0])
            return FormatGuess(
                kind,
                share,
                header=names,
                delimiter=delimiter,
                header_lines=1,
                details={"header_line": lines[0]},
            )
    return None


def _kv_share(line: str) -> bool:
    """At least three key=value pairs covering most of the line."""
    pairs = _KV_PAIR.findall(line)
    if len(pairs) < 3:
        return False
    covered = sum(len(key) + len(value) + 1 for key, value in pairs)
    return covered >= 0.5 * len(line.strip())


def classify_line(line: str) -> FormatKind | None:
    """The line-level family of one line, or ``None`` when it shows no known shape."""
    for kind, test in _LINE_TESTS:
        if test.search(line):
            if kind == "apache_access" and _NGINX_FORWARDED.match(line):
                return "nginx_access"
            return kind
    if _kv_share(line):
        return "kv"
    return None


def detect_format(text: str, lines: Sequence[str]) -> FormatGuess:
    """Guess the format family of a sample (``text``: the analysed subset, ``lines``: its lines)."""
    document = _json_document(text)
    if document is not None and not _ndjson(pick_lines(lines)):
        return document
    picked = pick_lines(lines)
    if not picked:
        return FormatGuess("unstructured", 0.0)
    for whole in (_hash_headers(lines), _ndjson(picked), _delimited(picked)):
        if whole is not None:
            return whole
    votes = Counter(kind for kind in map(classify_line, picked) if kind is not None)
    if votes:
        kind, count = votes.most_common(1)[0]
        share = count / len(picked)
        if kind == "apache_access" and votes.get("nginx_access"):
            kind, count = "nginx_access", count + votes["nginx_access"]
            share = count / len(picked)
        if share >= MIN_SHARE or (kind == "xml" and share >= 0.2):
            details = {"matched": f"{count}/{len(picked)}"}
            if kind == "syslog3164" and picked[0].startswith("<"):
                details["priority"] = "true"
            return FormatGuess(kind, round(share, 3), details=details)
    return FormatGuess("unstructured", 0.5)

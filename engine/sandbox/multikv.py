"""KV_MODE = multi: an event holding a table becomes one result per table row.

props.conf.spec: "multi - Invokes the 'multikv' search command, which extracts fields from
table-formatted events." Search Reference, multikv: "creates a new event for each table row and
assigns field names from the title row of the table"; "Auto-detection of header rows favors
rows that are text, and are ALLCAPS or Capitalized"; "It works more easily with the
fixed-alignment though can sometimes handle merely ordered fields"; the original event is not
kept (rmorig defaults to true). multikv.conf.spec: a table is "pre" (optional), "header"
(optional: "if not defined, fields are named Column_N"), "body" (required) and "post".

Without a multikv.conf (there is no default one), the sandbox reads the default behaviour as:
the header is the first line of two or more whitespace-separated tokens that all contain a
letter and none is a number (lines before it are the pre section); body rows are the non-blank
lines after it up to a blank line (the post section). A row with as many tokens as the header is
read in order; otherwise each token goes to the header column whose span it starts in (fixed
alignment). Header names are cleaned like CLEAN_KEYS (``r_op/s`` -> ``r_op_s``). Each row keeps
the original event's fields and metadata; its _raw is the row's line.
"""

from __future__ import annotations

import re

from engine.sandbox.events import Event
from engine.sandbox.extractions import clean_key

_TOKEN = re.compile(r"\S+")
_NUMBER = re.compile(r"[-+]?\d[\d.,:%/]*")


def _is_header(tokens: list[str]) -> bool:
    return len(tokens) >= 2 and all(
        any(ch.isalpha() for ch in token) and _NUMBER.fullmatch(token) is None for token in tokens
    )


def _header_names(spans: list[re.Match[str]]) -> list[str]:
    names: list[str] = []
    for index, token in enumerate(spans):
        name = clean_key(token.group()) or f"Column_{index + 1}"
        names.append(name if name not in names else f"{name}_{index + 1}")
    return names


def _row_values(line: str, header: list[re.Match[str]], names: list[str]) -> list[tuple[str, str]]:
    tokens = list(_TOKEN.finditer(line))
    if len(tokens) == len(names):
        return [(name, token.group()) for name, token in zip(names, tokens, strict=True)]
    starts = [span.start() for span in header]
    pairs: dict[str, list[str]] = {}
    for token in tokens:
        column = max((i for i, start in enumerate(starts) if start <= token.start()), default=0)
        pairs.setdefault(names[column], []).append(token.group())
    return [(name, " ".join(values)) for name, values in pairs.items()]


def table_rows(event: Event) -> list[Event]:
    """The results multikv makes of ``event``: one per body row (none when it holds no table)."""
    lines = iter(event.raw.splitlines())
    for line in lines:
        spans = list(_TOKEN.finditer(line))
        if _is_header([span.group() for span in spans]):
            break
    else:
        return []
    names = _header_names(spans)
    rows: list[Event] = []
    for line in lines:
        if not line.strip():
            if rows:
                break  # the post section
            continue
        row = Event(
            raw=line,
            sourcetype=event.sourcetype,
            source=event.source,
            host=event.host,
            time=event.time,
            time_error=event.time_error,
            truncated=event.truncated,
            linecount=1,
            offset=event.offset,
            fields={name: list(values) for name, values in event.fields.items()},
            indexed=set(event.indexed),
        )
        for name, value in _row_values(line, spans, names):
            if value and not row.fields.get(name):
                row.fields[name] = [value]
        rows.append(row)
    return rows

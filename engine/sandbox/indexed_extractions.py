"""INDEXED_EXTRACTIONS: structured inputs (csv/tsv/psv/w3c/json) parsed at input time.

props.conf.spec: structured data bypasses LINE_BREAKER and line merging: each record is an
event and its columns (or JSON keys) become indexed fields. FIELD_DELIMITER / FIELD_QUOTE
(defaults by type), HEADER_FIELD_DELIMITER / HEADER_FIELD_QUOTE for the header,
HEADER_FIELD_LINE_NUMBER (1-based, 0 = first data line), FIELD_HEADER_REGEX (header follows
the match), FIELD_NAMES (no header line), PREAMBLE_REGEX (lines ignored), TIMESTAMP_FIELDS
(values joined by a space are the timestamp text). Header names: characters other than ASCII
letters, digits and ``_`` become ``_``. JSON nested keys are joined with ``.``; array elements
are values of ``name{}``. Header and preamble lines are not events.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from engine.regex import Regex
from engine.sandbox.stanzas import SettingError, setting_int, setting_regex

KINDS = ("csv", "tsv", "psv", "w3c", "json")
_DELIMITERS = {"csv": ",", "tsv": "\t", "psv": "|", "w3c": " "}
_NAMED_DELIMITERS = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ",", "pipe": "|"}
JSON_PENDING_LIMIT = 1 << 20
"""Characters of an unterminated JSON value kept before it is given up as a plain line."""


@dataclass(frozen=True, slots=True)
class StructuredSettings:
    """The INDEXED_EXTRACTIONS settings of one resolved props stanza set."""

    kind: str
    delimiter: str
    quote: str
    header_delimiter: str
    header_quote: str
    header_line: int
    header_regex: Regex | None
    field_names: tuple[str, ...] | None
    timestamp_fields: tuple[str, ...]
    preamble: Regex | None

    @classmethod
    def from_props(cls, settings: Mapping[str, str]) -> StructuredSettings | None:
        raw_kind = settings.get("INDEXED_EXTRACTIONS", "").strip()
        if not raw_kind:
            return None
        kind = raw_kind.lower()
        if kind not in KINDS:
            raise SettingError(
                f"INDEXED_EXTRACTIONS = {raw_kind!r} is not supported (use one of "
                f"{', '.join(KINDS)})"
            )
        delimiter = _char_setting(settings, "FIELD_DELIMITER", _DELIMITERS.get(kind, ","))
        quote = _char_setting(settings, "FIELD_QUOTE", '"')
        names = settings.get("FIELD_NAMES", "").strip()
        return cls(
            kind=kind,
            delimiter=delimiter,
            quote=quote,
            header_delimiter=_char_setting(settings, "HEADER_FIELD_DELIMITER", delimiter),
            header_quote=_char_setting(settings, "HEADER_FIELD_QUOTE", quote),
            header_line=setting_int(settings, "HEADER_FIELD_LINE_NUMBER", 0),
            header_regex=setting_regex(settings, "FIELD_HEADER_REGEX"),
            field_names=tuple(clean_name(n, i) for i, n in enumerate(_split_list(names)))
            if names
            else None,
            timestamp_fields=tuple(_split_list(settings.get("TIMESTAMP_FIELDS", ""))),
            preamble=setting_regex(settings, "PREAMBLE_REGEX"),
        )


def _char_setting(settings: Mapping[str, str], key: str, default: str) -> str:
    raw = settings.get(key)
    if raw is None or raw == "":
        return default
    value = _NAMED_DELIMITERS.get(raw.strip().lower(), raw if raw.strip() == "" else raw.strip())
    if len(value) != 1:
        raise SettingError(f"{key} = {raw!r} must be a single character (or tab/space)")
    return value


def _split_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def clean_name(name: str, index: int) -> str:
    """A header name as Splunk indexes it: non-alphanumerics become ``_``."""
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in name.strip())
    return cleaned or f"field{index + 1}"


@dataclass(slots=True)
class Record:
    """One structured event: its raw text, indexed fields and timestamp text (if any)."""

    raw: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    timestamp_text: str | None = None


def _lines(chunks: Iterable[str]) -> Iterator[str]:
    """Physical lines without their line endings, streamed from text chunks."""
    partial = ""
    for chunk in chunks:
        parts = (partial + chunk).split("\n")
        partial = parts.pop()
        for part in parts:
            yield part.removesuffix("\r")
    if partial:
        yield partial.removesuffix("\r")


def structured_records(chunks: Iterable[str], settings: StructuredSettings) -> Iterator[Record]:
    """The events of a structured input."""
    if settings.kind == "json":
        yield from _json_records(chunks, settings)
    else:
        yield from _delimited_records(_lines(chunks), settings)


def _parse_row(text: str, delimiter: str, quote: str) -> list[str]:
    row = next(csv.reader([text], delimiter=delimiter, quotechar=quote, strict=False), [])
    return row


def _records_of(lines: Iterator[str], quote: str) -> Iterator[tuple[int, str]]:
    """Logical records: physical lines joined while a quoted value spans line ends."""
    number = 0
    for line in lines:
        number += 1
        record = line
        while record.count(quote) % 2 == 1:
            following = next(lines, None)
            if following is None:
                break
            number += 1
            record = f"{record}\n{following}"
        yield number, record


def _delimited_records(lines: Iterator[str], settings: StructuredSettings) -> Iterator[Record]:
    names: tuple[str, ...] | None = settings.field_names
    for number, record in _records_of(lines, settings.quote):
        if not record.strip():
            continue
        if settings.preamble is not None and settings.preamble.search(record) is not None:
            continue
        if names is None:
            names = _header(number, record, settings)
            continue
        if settings.kind == "w3c" and record.startswith("#"):
            if record.startswith("#Fields:") and settings.field_names is None:
                names = _header(number, record, settings)
            continue
        yield _row_record(record, names, settings)


def _header(number: int, record: str, settings: StructuredSettings) -> tuple[str, ...] | None:
    """Field names from a header candidate, or None while the header is still ahead."""
    if settings.header_line and number < settings.header_line:
        return None
    text = record
    if settings.header_regex is not None:
        match = settings.header_regex.search(record)
        if match is None:
            return None
        text = record[match.end() :]
    elif settings.kind == "w3c":
        if not record.startswith("#Fields:"):
            return None
        text = record[len("#Fields:") :].strip()
    row = _parse_row(text, settings.header_delimiter, settings.header_quote)
    return tuple(clean_name(name, i) for i, name in enumerate(row))


def _row_record(record: str, names: tuple[str, ...], settings: StructuredSettings) -> Record:
    values = _parse_row(record, settings.delimiter, settings.quote)
    fields: dict[str, list[str]] = {}
    for index, value in enumerate(values):
        if value == "" or (settings.kind == "w3c" and value == "-"):
            continue
        name = names[index] if index < len(names) else f"EXTRA_FIELD_{index + 1 - len(names)}"
        fields.setdefault(name, []).append(value)
    return Record(record, fields, _timestamp_text(fields, _timestamp_fields(settings, names)))


def _timestamp_fields(settings: StructuredSettings, names: tuple[str, ...]) -> tuple[str, ...]:
    if settings.timestamp_fields:
        return settings.timestamp_fields
    if settings.kind == "w3c" and "date" in names and "time" in names:
        return ("date", "time")
    return ()


def _timestamp_text(fields: Mapping[str, list[str]], names: tuple[str, ...]) -> str | None:
    if not names:
        return None
    parts = [fields[name][0] for name in names if fields.get(name)]
    return " ".join(parts) if parts else ""


def flatten_json(value: object, prefix: str = "") -> dict[str, list[str]]:
    """JSON keys as Splunk names them: ``a.b`` for nesting, ``a{}`` for array elements."""
    out: dict[str, list[str]] = {}
    _flatten(value, prefix, out)
    return out


def _flatten(value: object, name: str, out: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{name}.{key}" if name else str(key), out)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, f"{name}{{}}", out)
    elif name:
        out.setdefault(name, []).append(_scalar(value))


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


_DECODER = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)


def _json_records(chunks: Iterable[str], settings: StructuredSettings) -> Iterator[Record]:
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        records, buffer = _take_json(buffer, settings, final=False)
        yield from records
    records, _ = _take_json(buffer, settings, final=True)
    yield from records


def _take_json(
    buffer: str, settings: StructuredSettings, *, final: bool
) -> tuple[list[Record], str]:
    records: list[Record] = []
    index = 0
    size = len(buffer)
    while True:
        while index < size and buffer[index] in " \t\r\n":
            index += 1
        if index >= size:
            return records, ""
        try:
            value, end = _DECODER.raw_decode(buffer, index)
        except json.JSONDecodeError:
            if not final and size - index < JSON_PENDING_LIMIT:
                return records, buffer[index:]
            # Not JSON: the rest of the line is indexed as a plain event, as Splunk does.
            newline = buffer.find("\n", index)
            end = size if newline < 0 else newline
            line = buffer[index:end].rstrip("\r")
            if line.strip():
                records.append(Record(line))
            index = end
            continue
        raw = buffer[index:end]
        fields = flatten_json(value)
        records.append(Record(raw, fields, _timestamp_text(fields, settings.timestamp_fields)))
        index = end

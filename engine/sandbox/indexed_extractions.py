"""INDEXED_EXTRACTIONS: structured inputs (csv/tsv/psv/w3c/json/hec) parsed at input time.

props.conf.spec: structured data bypasses LINE_BREAKER and line merging: each record is an
event and its columns (or JSON keys) become indexed fields. FIELD_DELIMITER / FIELD_QUOTE
(defaults by type), HEADER_FIELD_DELIMITER / HEADER_FIELD_QUOTE for the header,
HEADER_FIELD_LINE_NUMBER (1-based, 0 = first data line), FIELD_HEADER_REGEX (header follows
the match), FIELD_NAMES (no header line), PREAMBLE_REGEX (lines ignored), TIMESTAMP_FIELDS
(values joined by a space are the timestamp text). Header names: characters other than ASCII
letters, digits and ``_`` become ``_``. JSON nested keys are joined with ``.``; array elements
are values of ``name{}``. Header and preamble lines are not events. HEC: "Interpret file as a
stream of JSON events in the same format as the HTTP Event Collector (HEC) input": each envelope
is an event with its own time, metadata and indexed ``fields`` (:mod:`engine.sandbox.hec`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.json_leaves import json_leaves
from engine.regex import Regex
from engine.sandbox import hec
from engine.sandbox.json_stream import json_documents
from engine.sandbox.stanzas import SettingError, setting_bool, setting_int, setting_regex

KINDS = ("csv", "tsv", "psv", "w3c", "json", "hec")
_DELIMITERS = {"csv": ",", "tsv": "\t", "psv": "|", "w3c": " "}
_NAMED_CHARACTERS = {
    "space": " ",
    "tab": "\t",
    "\\t": "\t",
    "fs": "\x1c",
    "gs": "\x1d",
    "rs": "\x1e",
    "us": "\x1f",
}
WHITESPACE = "ws"
"""FIELD_DELIMITER = whitespace / ws: any run of spaces and tabs separates fields."""
NO_QUOTE = ""
"""FIELD_QUOTE = none: values are never quoted."""
MAX_LINE_CHARS = 8 << 20
"""A physical line longer than this is cut (bounded memory on garbage input)."""
MAX_RECORD_LINES = 256
"""Lines one quoted CSV value may span (like MAX_EVENTS) before an unbalanced quote is
given up on."""


@dataclass(frozen=True, slots=True)
class StructuredSettings:
    """The INDEXED_EXTRACTIONS settings of one resolved props stanza set."""

    kind: str
    delimiter: str
    quote: str
    header_delimiter: str
    header_quote: str
    acceptable: frozenset[str]
    missing_value: Regex | None
    trim_array_braces: bool
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
        quote = _char_setting(settings, "FIELD_QUOTE", '"', quote=True)
        names = settings.get("FIELD_NAMES", "").strip()
        acceptable = settings.get("HEADER_FIELD_ACCEPTABLE_SPECIAL_CHARACTERS", "")
        return cls(
            kind=kind,
            delimiter=delimiter,
            quote=quote,
            header_delimiter=_char_setting(settings, "HEADER_FIELD_DELIMITER", delimiter),
            header_quote=_char_setting(settings, "HEADER_FIELD_QUOTE", quote, quote=True),
            acceptable=frozenset(acceptable),
            missing_value=setting_regex(settings, "MISSING_VALUE_REGEX"),
            trim_array_braces=setting_bool(settings, "JSON_TRIM_BRACES_IN_ARRAY_NAMES", False),
            header_line=setting_int(settings, "HEADER_FIELD_LINE_NUMBER", 0),
            header_regex=setting_regex(settings, "FIELD_HEADER_REGEX"),
            field_names=tuple(
                clean_name(n, i, frozenset(acceptable)) for i, n in enumerate(_split_list(names))
            )
            if names
            else None,
            # Header names are cleaned, so TIMESTAMP_FIELDS may name them either way (JSON
            # keys are not cleaned).
            timestamp_fields=tuple(
                name if kind == "json" else clean_name(name, i, frozenset(acceptable))
                for i, name in enumerate(_split_list(settings.get("TIMESTAMP_FIELDS", "")))
            ),
            preamble=setting_regex(settings, "PREAMBLE_REGEX"),
        )


def _char_setting(
    settings: Mapping[str, str], key: str, default: str, *, quote: bool = False
) -> str:
    """One delimiter or quote character; the spec's names (tab, fs, \\xHH...) are accepted."""
    raw = settings.get(key)
    if raw is None or raw == "":
        return default
    name = raw.strip().lower() if raw.strip() else raw
    if name in _NAMED_CHARACTERS:
        return _NAMED_CHARACTERS[name]
    if name in ("whitespace", "ws") and not quote:
        return WHITESPACE
    if name == "none" and quote:
        return NO_QUOTE
    if len(name) == 4 and name.startswith("\\x"):
        try:
            return chr(int(name[2:], 16))
        except ValueError:
            pass
    if len(name) != 1:
        raise SettingError(f"{key} = {raw!r} must be a single character (or tab, space, \\xHH...)")
    return raw if not raw.strip() else raw.strip()


def _split_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def clean_name(name: str, index: int, acceptable: frozenset[str] = frozenset()) -> str:
    """A header name as Splunk indexes it: characters that are neither alphanumeric nor a
    space (nor listed in HEADER_FIELD_ACCEPTABLE_SPECIAL_CHARACTERS) become ``_``."""
    cleaned = "".join(
        c if (c.isascii() and c.isalnum()) or c == " " or c in acceptable else "_"
        for c in name.strip()
    )
    return cleaned or f"field{index + 1}"


@dataclass(slots=True)
class Record:
    """One structured event: its raw text, indexed fields and timestamp text (if any); a HEC
    envelope also brings its time and metadata (host, source, sourcetype, index)."""

    raw: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    timestamp_text: str | None = None
    time: datetime | None = None
    meta: dict[str, str] = field(default_factory=dict)


def _lines(chunks: Iterable[str]) -> Iterator[str]:
    """Physical lines without their line endings, streamed from text chunks."""
    partial = ""
    for chunk in chunks:
        parts = (partial + chunk).split("\n")
        partial = parts.pop()
        for part in parts:
            yield part.removesuffix("\r")
        if len(partial) > MAX_LINE_CHARS:
            yield partial
            partial = ""
    if partial:
        yield partial.removesuffix("\r")


def structured_records(chunks: Iterable[str], settings: StructuredSettings) -> Iterator[Record]:
    """The events of a structured input."""
    if settings.kind == "json":
        yield from _json_records(chunks, settings)
    elif settings.kind == "hec":
        yield from _hec_records(chunks)
    else:
        yield from _delimited_records(_lines(chunks), settings)


def _reader_options(delimiter: str, quote: str) -> tuple[str, dict[str, object]]:
    """The C csv reader's options for a delimiter and quote setting (and the delimiter that
    the text uses once FIELD_DELIMITER = whitespace has turned tabs into spaces)."""
    if delimiter == WHITESPACE:
        delimiter = " "
    options: dict[str, object] = {
        "delimiter": delimiter,
        "skipinitialspace": delimiter == " ",
        "strict": False,
    }
    if quote in (NO_QUOTE, delimiter):
        options["quoting"] = csv.QUOTE_NONE
    else:
        options["quotechar"] = quote
    return delimiter, options


def _whitespace_row(text: str) -> str:
    return text.replace("\t", " ").strip(" ")


def _parse_row(text: str, delimiter: str, quote: str) -> list[str]:
    if delimiter == WHITESPACE:
        text = _whitespace_row(text)
    _, options = _reader_options(delimiter, quote)
    return next(csv.reader([text], **options), [])  # type: ignore[arg-type]


class _RowReader:
    """Parses data rows with one C csv reader fed a record at a time: building a reader per
    row costs more than parsing the row. Same options, same results as :func:`_parse_row`
    (the reader restarts at every record; it sees the end of input after each one)."""

    __slots__ = ("_pending", "_reader", "_whitespace")

    def __init__(self, delimiter: str, quote: str) -> None:
        self._pending: str | None = None
        self._whitespace = delimiter == WHITESPACE
        _, options = _reader_options(delimiter, quote)
        self._reader = csv.reader(self, **options)  # type: ignore[arg-type]

    def __iter__(self) -> _RowReader:
        return self

    def __next__(self) -> str:
        text = self._pending
        if text is None:
            raise StopIteration
        self._pending = None
        return text

    def parse(self, text: str) -> list[str]:
        self._pending = _whitespace_row(text) if self._whitespace else text
        return next(self._reader, [])


def _records_of(lines: Iterator[str], quote: str) -> Iterator[tuple[int, str]]:
    """Logical records: physical lines joined while a quoted value spans line ends."""
    number = 0
    for line in lines:
        number += 1
        parts = [line]
        quotes = line.count(quote) if quote else 0
        while quotes % 2 == 1 and len(parts) < MAX_RECORD_LINES:
            following = next(lines, None)
            if following is None:
                break
            number += 1
            parts.append(following)
            quotes += following.count(quote)
        yield number, "\n".join(parts)


def _delimited_records(lines: Iterator[str], settings: StructuredSettings) -> Iterator[Record]:
    names: tuple[str, ...] | None = settings.field_names
    # A quote character equal to the delimiter (FIELD_QUOTE = \t with TSV) means no quoting.
    quote = NO_QUOTE if settings.quote == settings.delimiter else settings.quote
    rows = _RowReader(settings.delimiter, settings.quote)
    columns: _Columns | None = None
    for number, record in _records_of(lines, quote):
        if not record.strip():
            continue
        if settings.preamble is not None and settings.preamble.search(record) is not None:
            continue
        if settings.header_line and number <= settings.header_line:
            # Lines up to HEADER_FIELD_LINE_NUMBER are never events; FIELD_NAMES overrides it.
            if number == settings.header_line and settings.field_names is None:
                names = _header(record, settings)
            continue
        if names is None:
            names = _header(record, settings)
            continue
        if settings.kind == "w3c" and record.startswith("#"):
            if record.startswith("#Fields:") and settings.field_names is None:
                names = _header(record, settings)
            continue
        if columns is None or columns.names is not names:
            columns = _Columns.of(names, settings)
        yield _row_record(record, rows.parse(record), columns, settings)


def _header(record: str, settings: StructuredSettings) -> tuple[str, ...] | None:
    """Field names from a header candidate, or None while the header is still ahead."""
    text = record
    if settings.header_regex is not None:
        match = settings.header_regex.search(record)
        if match is None:
            return None
        # The header follows the match; a capturing group, when present, marks it exactly.
        captured = match.group(1) if settings.header_regex.groups else None
        text = captured if captured is not None else record[match.end() :]
    elif settings.kind == "w3c":
        if not record.startswith("#Fields:"):
            return None
        text = record[len("#Fields:") :].strip()
    row = _parse_row(text, settings.header_delimiter, settings.header_quote)
    return tuple(clean_name(name, i, settings.acceptable) for i, name in enumerate(row))


@dataclass(frozen=True, slots=True)
class _Columns:
    """A header's names and what each of its rows needs from them, worked out once."""

    names: tuple[str, ...]
    distinct: bool
    timestamp_fields: tuple[str, ...]
    checked: bool
    """Values are tested against MISSING_VALUE_REGEX (or W3C's ``-``)."""

    @classmethod
    def of(cls, names: tuple[str, ...], settings: StructuredSettings) -> _Columns:
        return cls(
            names=names,
            distinct=len(set(names)) == len(names),
            timestamp_fields=_timestamp_fields(settings, names),
            checked=settings.missing_value is not None or settings.kind == "w3c",
        )


def _row_record(
    record: str, values: list[str], columns: _Columns, settings: StructuredSettings
) -> Record:
    names = columns.names
    width = len(names)
    if not columns.checked and columns.distinct and len(values) <= width:
        # The usual row: one value per distinct column name, nothing to test but emptiness.
        fields = {name: [value] for name, value in zip(names, values, strict=False) if value}
    else:
        fields = {}
        for index, value in enumerate(values):
            if value == "" or (columns.checked and _is_missing(value, settings)):
                continue
            name = names[index] if index < width else f"EXTRA_FIELD_{index + 1 - width}"
            found = fields.get(name)
            if found is None:
                fields[name] = [value]
            else:
                found.append(value)
    return Record(record, fields, _timestamp_text(fields, columns.timestamp_fields))


def _is_missing(value: str, settings: StructuredSettings) -> bool:
    """MISSING_VALUE_REGEX placeholders (W3C logs write ``-``) are not values."""
    if settings.missing_value is None:
        return settings.kind == "w3c" and value == "-"
    match = settings.missing_value.search(value)
    return match is not None and match.span() == (0, len(value))


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


def flatten_json(value: object, *, trim_braces: bool = False) -> dict[str, list[str]]:
    """JSON keys as Splunk indexes them (:func:`engine.json_leaves.json_leaves`), ``a`` for
    array elements with JSON_TRIM_BRACES_IN_ARRAY_NAMES = true; repeated names are
    multivalued, and a document that is a bare value names no field."""
    out: dict[str, list[str]] = {}
    for name, text in json_leaves(value, array_suffix="" if trim_braces else "{}"):
        if name:
            found = out.get(name)
            if found is None:
                out[name] = [text]
            else:
                found.append(text)
    return out


def _json_records(chunks: Iterable[str], settings: StructuredSettings) -> Iterator[Record]:
    for document in json_documents(chunks):
        if not document.parsed:
            # Not JSON: the line is indexed as a plain event, as Splunk does.
            yield Record(document.text)
            continue
        try:
            fields = flatten_json(document.value, trim_braces=settings.trim_array_braces)
        except RecursionError:  # decoded at the edge of the stack, one level too deep to walk
            yield Record(document.text)
            continue
        yield Record(document.text, fields, _timestamp_text(fields, settings.timestamp_fields))


def _hec_records(chunks: Iterable[str]) -> Iterator[Record]:
    for document in json_documents(chunks, hec.DECODER):
        try:
            envelope = hec.read_envelope(document.value) if document.parsed else None
        except hec.HecFormatError:
            envelope = None
        if envelope is None:
            yield Record(document.text)  # not an envelope: indexed as it is
        else:
            yield Record(envelope.raw, envelope.fields, time=envelope.time, meta=envelope.meta)

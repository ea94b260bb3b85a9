"""Search-time field extractions: EXTRACT- (props.conf) and REPORT- (transforms.conf).

Rules follow props.conf.spec / transforms.conf.spec:

* EXTRACT-<class> = <regex> [in <src_field>]: Splunk runs ``(?ms)<regex>`` once against _raw (or
  each value of <src_field>); named groups become fields; ``_KEY_n``/``_VAL_n`` pairs name fields
  from the event and are collected from every match. The ``in`` keyword is matched
  case-insensitively (TAs written by Splunk use ``in``/``IN``/``In``); <src_field> is
  ``[A-Za-z0-9_]+``, so a regex that has to end in ``in <word>`` writes ``[i]n <word>``.
* REPORT-<class> = t1, t2: each transform's REGEX is applied repeatedly (every match of the
  source); FORMAT ``name::$1 other::literal`` or ``$1::$2``, default FORMAT = named groups;
  DELIMS/FIELDS for delimiter-based extraction; MV_ADD, CLEAN_KEYS, KEEP_EMPTY_VALS, SOURCE_KEY.
  LOOKAHEAD is an index-time setting and is ignored here.

Which value wins when two extractions name the same field (:class:`FieldSink`): the first
search-time extraction that sets a field keeps it; a later extractor appends only when it has
MV_ADD = true; within one REPORT transform repeated matches append only with MV_ADD = true. An
index-time (indexed) field is appended to once by the first search-time extraction of the same
name: this is the double extraction the spec warns about (INDEXED_EXTRACTIONS with KV_MODE).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.messages import quoted
from engine.regex import (
    DEPTH_LIMIT,
    MATCH_LIMIT,
    ByteMatch,
    Regex,
    RegexError,
    compile_regex,
    match_groups,
)
from engine.sandbox.events import Event

DEFAULT_FIELDS = frozenset(
    {"_raw", "_time", "host", "source", "sourcetype", "linecount", "index", "splunk_server"}
)
_KEY_PREFIX = "_KEY_"
_VAL_PREFIX = "_VAL_"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class SearchTimeConfigError(ValueError):
    """A search-time setting that cannot be used as written."""


class ExtractionConfigError(SearchTimeConfigError):
    """A search-time extraction that cannot be compiled (bad regex, missing groups...)."""


def parse_bool(value: str | None, *, default: bool) -> bool:
    """Splunk's boolean spellings; anything unrecognised falls back to the default."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return default


def parse_int(value: str | None, *, default: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError as exc:
        raise SearchTimeConfigError(f"expected an integer, got {quoted(value)}") from exc


def clean_key(name: str) -> str:
    """CLEAN_KEYS: non-alphanumerics become ``_``; leading underscores and digits are stripped."""
    cleaned = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name)
    return cleaned.lstrip("_0123456789")


def _epoch_text(moment: datetime) -> str:
    stamp = moment.timestamp()
    if stamp == int(stamp):
        return str(int(stamp))
    return f"{stamp:.6f}".rstrip("0")


class EventView:
    """Field access for one event: extracted/indexed fields first, then Splunk's default fields."""

    __slots__ = ("_encoded", "_text", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._text: str | None = None
        self._encoded = b""

    def encode(self, text: str) -> bytes:
        """UTF-8 of a subject; the last one is kept, since every EXTRACT reads the same _raw."""
        if text is not self._text:
            self._text, self._encoded = text, text.encode("utf-8")
        return self._encoded

    def get(self, name: str) -> list[str] | None:
        values = self.event.fields.get(name)
        if values:
            return values
        return self.default(name)

    def default(self, name: str) -> list[str] | None:
        event = self.event
        if name == "_raw":
            return [event.raw]
        if name == "sourcetype":
            return [event.sourcetype] if event.sourcetype else None
        if name == "source":
            return [event.source] if event.source else None
        if name == "host":
            return [event.host] if event.host else None
        if name == "linecount":
            return [str(event.linecount)]
        if name == "_time":
            return [_epoch_text(event.time)] if event.time is not None else None
        return None


@dataclass(slots=True)
class FieldSink:
    """Writes the values one extractor finds, applying Splunk's "who wins" rules (module doc)."""

    event: Event
    touched: set[str]
    accumulate: bool = False
    append_existing: bool = False
    keep_empty: bool = False
    own: set[str] = field(default_factory=set)

    def add(self, name: str, value: str) -> None:
        self.add_all(((name, value),))

    def add_all(self, pairs: Iterable[tuple[str, str]]) -> None:
        """:meth:`add` for each pair in order (one call for all the values an extractor found)."""
        fields = self.event.fields
        own, touched = self.own, self.touched
        if not fields:
            self._add_to_empty(pairs, fields)
            return
        indexed = self.event.indexed
        for name, value in pairs:
            if not name or (value == "" and not self.keep_empty):
                continue
            if name in own:
                if self.accumulate:
                    fields[name].append(value)
                continue
            current = fields.get(name)
            if not current:
                if name in DEFAULT_FIELDS:
                    continue
                fields[name] = [value]
            elif (name in indexed and name not in touched) or self.append_existing:
                current.append(value)
            else:
                continue
            own.add(name)
            touched.add(name)

    def _add_to_empty(self, pairs: Iterable[tuple[str, str]], fields: dict[str, list[str]]) -> None:
        """:meth:`add_all` on an event without fields (the first extractor of most events):
        no value is there to keep or to append to, so only repeats within ``pairs`` matter."""
        keep_empty, accumulate = self.keep_empty, self.accumulate
        for name, value in pairs:
            if not name or (value == "" and not keep_empty):
                continue
            found = fields.get(name)
            if found is None:
                if name not in DEFAULT_FIELDS:
                    fields[name] = [value]
            elif accumulate:
                found.append(value)
        self.own.update(fields)
        self.touched.update(fields)


def _limits(settings: Mapping[str, str]) -> tuple[int, int]:
    return (
        parse_int(settings.get("MATCH_LIMIT"), default=MATCH_LIMIT),
        parse_int(settings.get("DEPTH_LIMIT"), default=DEPTH_LIMIT),
    )


def _compile(pattern: str, *, match_limit: int, depth_limit: int) -> Regex:
    try:
        return compile_regex(pattern, match_limit=match_limit, depth_limit=depth_limit)
    except RegexError as exc:
        raise ExtractionConfigError(str(exc)) from exc


def _key_val_pairs(regex: Regex) -> list[tuple[int, int]]:
    """Group numbers of the ``_KEY_<s>``/``_VAL_<s>`` pairs a regex defines."""
    names = regex.groupindex
    return [
        (number, names[_VAL_PREFIX + name[len(_KEY_PREFIX) :]])
        for name, number in names.items()
        if name.startswith(_KEY_PREFIX) and _VAL_PREFIX + name[len(_KEY_PREFIX) :] in names
    ]


@dataclass(frozen=True, slots=True)
class NamedGroups:
    """The named groups of a regex that are not _KEY_/_VAL_ pairs: names and group numbers in
    pattern order, so a match reads just those groups (numbers are cheaper than names)."""

    names: tuple[str, ...]
    numbers: tuple[int, ...]

    @classmethod
    def of(cls, regex: Regex, pairs: tuple[tuple[int, int], ...]) -> NamedGroups:
        paired = {n for pair in pairs for n in pair}
        named = [
            (name, number) for name, number in regex.groupindex.items() if number not in paired
        ]
        return cls(tuple(name for name, _ in named), tuple(number for _, number in named))

    def emit(self, match: ByteMatch, sink: FieldSink) -> None:
        """The groups that took part, in pattern order."""
        sink.add_all(
            [
                (name, value.decode("utf-8", "replace"))
                for name, value in zip(self.names, match_groups(match, self.numbers), strict=True)
                if value is not None
            ]
        )


def _group_text(match: ByteMatch, group: int) -> str | None:
    if group > match.group_count:
        return None
    value = match.group(group)
    return None if value is None else value.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class InlineExtraction:
    """One EXTRACT-<class>."""

    name: str
    regex: Regex
    src_field: str
    named: NamedGroups
    key_vals: tuple[tuple[int, int], ...]

    @classmethod
    def parse(
        cls, name: str, value: str, *, match_limit: int, depth_limit: int
    ) -> InlineExtraction:
        pattern, src_field = split_src_field(value.strip())
        regex = _compile("(?ms)" + pattern, match_limit=match_limit, depth_limit=depth_limit)
        key_vals = tuple(_key_val_pairs(regex))
        named = NamedGroups.of(regex, key_vals)
        if not named.names and not key_vals:
            raise ExtractionConfigError(f"{name}: regex has no named capturing group")
        return cls(name, regex, src_field, named, key_vals)

    def apply(self, view: EventView, sink: FieldSink) -> None:
        for subject in view.get(self.src_field) or ():
            encoded = view.encode(subject)
            if self.key_vals:
                for each in self.regex.finditer_bytes(encoded):
                    _emit_key_vals(each, self.key_vals, sink, clean=True)
            if self.named.names and (match := self.regex.search_bytes(encoded)) is not None:
                self.named.emit(match, sink)


def split_src_field(value: str) -> tuple[str, str]:
    """``<regex> in <src_field>`` -> (regex, field); plain regexes read _raw."""
    head, sep, tail = value.rpartition(" ")
    if sep and tail and all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in tail):
        before, sep2, keyword = head.rstrip(" ").rpartition(" ")
        if sep2 and keyword.lower() == "in" and before.strip():
            return before.rstrip(" "), tail
    return value, "_raw"


def _emit_key_vals(
    match: ByteMatch, pairs: tuple[tuple[int, int], ...], sink: FieldSink, *, clean: bool
) -> None:
    for key_group, val_group in pairs:
        key = _group_text(match, key_group)
        value = _group_text(match, val_group)
        if key is None or value is None:
            continue
        sink.add(clean_key(key) if clean else key, value)


# --------------------------------------------------------------------------- transforms


def parse_quoted_list(value: str) -> list[str]:
    """transforms.conf "quoted string list": ``"a", "b"`` or bare comma-separated items."""
    items: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t,":
            i += 1
        if i >= n:
            break
        if value[i] == '"':
            i += 1
            buf: list[str] = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    nxt = value[i + 1]
                    buf.append({"t": "\t", "n": "\n", "r": "\r"}.get(nxt, nxt))
                    i += 2
                    continue
                buf.append(value[i])
                i += 1
            items.append("".join(buf))
            i += 1
        else:
            start = i
            while i < n and value[i] != ",":
                i += 1
            items.append(value[start:i].strip())
    return items


def _split_unquoted(text: str, delims: str, *, collapse: bool) -> list[str]:
    """Split on delimiter characters outside double quotes; quotes are removed.

    With ``collapse`` (no FIELDS) runs of delimiters act as one and empty parts are dropped.
    Without it (FIELDS given) a run still counts as one separator while no character repeats
    in it (``", "`` between values, the spec's commalist example) and a repeated character
    starts a new one, so ``a,,c`` keeps an empty second value.
    """
    parts: list[str] = []
    buf: list[str] = []
    run: set[str] = set()
    in_quote = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in delims and not in_quote:
            if not run or (not collapse and ch in run):
                parts.append("".join(buf))
                buf = []
                run = set()
            run.add(ch)
            i += 1
            continue
        run = set()
        if ch == "\\" and in_quote and i + 1 < n and text[i + 1] in '"\\':
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            in_quote = not in_quote
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return [p for p in parts if p] if collapse else parts


@dataclass(frozen=True, slots=True)
class _FormatPair:
    name: str | int
    value: str | int


def _format_part(token: str) -> str | int:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        token = token[1:-1]
    if token.startswith("$") and token[1:].isdigit():
        return int(token[1:])
    return token


def parse_format(value: str) -> list[_FormatPair]:
    """Search-time FORMAT: ``<name>::<value>`` items separated by spaces; quotes allowed."""
    pairs: list[_FormatPair] = []
    for token in _split_format_tokens(value):
        name, sep, val = token.partition("::")
        if not sep:
            raise ExtractionConfigError(f"FORMAT item {token!r} is not <field>::<value>")
        pairs.append(_FormatPair(_format_part(name), _format_part(val)))
    return pairs


def _split_format_tokens(value: str) -> Iterator[str]:
    buf: list[str] = []
    in_quote = False
    for ch in value.strip():
        if ch == '"':
            in_quote = not in_quote
        if ch.isspace() and not in_quote:
            if buf:
                yield "".join(buf)
                buf = []
            continue
        buf.append(ch)
    if buf:
        yield "".join(buf)


@dataclass(frozen=True, slots=True)
class Transform:
    """One search-time transforms.conf stanza used by REPORT-."""

    name: str
    source_keys: tuple[str, ...]
    mv_add: bool
    clean_keys: bool
    keep_empty: bool
    regex: Regex | None = None
    format: tuple[_FormatPair, ...] = ()
    named: NamedGroups = NamedGroups((), ())
    key_vals: tuple[tuple[int, int], ...] = ()
    pair_delims: str = ""
    kv_delims: str = ""
    field_names: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, stanza: Mapping[str, str]) -> Transform:
        source_key = stanza.get("SOURCE_KEY", "_raw").strip() or "_raw"
        if source_key.startswith("fields:"):
            keys = tuple(k.strip() for k in source_key[7:].split(",") if k.strip())
        else:
            keys = (source_key.removeprefix("field:"),)
        common = {
            "name": name,
            "source_keys": keys,
            "mv_add": parse_bool(stanza.get("MV_ADD"), default=False),
            "clean_keys": parse_bool(stanza.get("CLEAN_KEYS"), default=True),
            "keep_empty": parse_bool(stanza.get("KEEP_EMPTY_VALS"), default=False),
        }
        regex_text = stanza.get("REGEX", "").strip()
        if regex_text:
            match_limit, depth_limit = _limits(stanza)
            regex = _compile(regex_text, match_limit=match_limit, depth_limit=depth_limit)
            if regex.groups == 0:
                raise ExtractionConfigError(f"transform {name}: REGEX has no capturing group")
            fmt = tuple(parse_format(stanza.get("FORMAT", "")))
            for pair in fmt:
                for part in (pair.name, pair.value):
                    if isinstance(part, int) and part > regex.groups:
                        raise ExtractionConfigError(
                            f"transform {name}: FORMAT uses ${part} but REGEX has "
                            f"{regex.groups} group(s)"
                        )
            key_vals = tuple(_key_val_pairs(regex))
            return cls(
                regex=regex,
                format=fmt,
                named=NamedGroups.of(regex, key_vals),
                key_vals=key_vals,
                **common,  # type: ignore[arg-type]
            )
        delims = parse_quoted_list(stanza.get("DELIMS", ""))
        if not delims or not delims[0]:
            raise ExtractionConfigError(f"transform {name}: neither REGEX nor DELIMS is set")
        return cls(
            pair_delims=delims[0],
            kv_delims=delims[1] if len(delims) > 1 else "",
            field_names=tuple(parse_quoted_list(stanza.get("FIELDS", ""))),
            **common,  # type: ignore[arg-type]
        )

    def subjects(self, view: EventView) -> list[str]:
        if len(self.source_keys) > 1:
            joined = [" ".join(view.get(k) or ()) for k in self.source_keys]
            return [" ".join(part for part in joined if part)]
        return list(view.get(self.source_keys[0]) or ())

    def apply(self, view: EventView, sink: FieldSink) -> None:
        for subject in self.subjects(view):
            if self.regex is not None:
                self._apply_regex(self.regex, subject, sink)
            else:
                self._apply_delims(subject, sink)

    def _key(self, key: str) -> str:
        return clean_key(key) if self.clean_keys else key

    def _apply_regex(self, regex: Regex, subject: str, sink: FieldSink) -> None:
        for match in regex.finditer_bytes(subject.encode("utf-8")):
            if self.key_vals:
                _emit_key_vals(match, self.key_vals, sink, clean=self.clean_keys)
            if self.format:
                for pair in self.format:
                    name = _resolve(match, pair.name)
                    value = _resolve(match, pair.value)
                    if name is None or value is None:
                        continue
                    sink.add(self._key(name) if isinstance(pair.name, int) else name, value)
            else:
                self.named.emit(match, sink)

    def _apply_delims(self, subject: str, sink: FieldSink) -> None:
        if self.kv_delims:
            for pair in _split_unquoted(subject, self.pair_delims, collapse=True):
                cut = min((i for i, ch in enumerate(pair) if ch in self.kv_delims), default=-1)
                if cut <= 0:
                    continue
                sink.add(self._key(pair[:cut]), pair[cut + 1 :])
            return
        values = _split_unquoted(subject, self.pair_delims, collapse=not self.field_names)
        if self.field_names:
            for name, value in zip(self.field_names, values, strict=False):
                sink.add(name, value)
            return
        for i in range(0, len(values) - 1, 2):
            sink.add(self._key(values[i]), values[i + 1])


def _resolve(match: ByteMatch, part: str | int) -> str | None:
    return _group_text(match, part) if isinstance(part, int) else part


def parse_transform_list(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]

"""KV_MODE: Splunk's automatic search-time key/value extraction over _raw.

* ``auto`` (default) / ``auto_escaped``: ``key=value`` and ``key="quoted value"`` pairs, keys
  cleaned like CLEAN_KEYS, empty values ignored, values trimmed of spaces (KV_TRIM_SPACES),
  at most limits.conf [kv] ``limit`` = 100 fields from the first ``maxchars`` = 10240
  characters. Keys are runs of letters, digits, ``_``, ``-`` and ``.`` before the ``=``.
  ``auto_escaped`` honours ``\\"`` and ``\\\\`` inside quoted values. With
  AUTO_KV_JSON (default true) an event that is a JSON document is also extracted as JSON.
* ``json``: every leaf under its path, objects joined with ``.``, arrays marked ``{}``
  (``a.b{}.c``); repeated paths are multivalued; at most [kv] ``maxcols`` = 512 fields.
* ``xml``: spath naming: element paths from the root joined with ``.``, attributes as
  ``path{@attr}``; repeated elements are multivalued.
* ``none`` extracts nothing; ``multi`` makes one result per table row
  (:mod:`engine.sandbox.multikv`).
Values found by KV_MODE never replace values an EXTRACT/REPORT already set (see FieldSink).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.json_leaves import json_leaves
from engine.sandbox.extractions import FieldSink, SearchTimeConfigError, clean_key, parse_bool

KV_LIMIT = 100
KV_MAXCHARS = 10240
KV_MAXCOLS = 512
KV_MODES = frozenset({"auto", "auto_escaped", "json", "xml", "none", "multi"})
_VALUE_STOPS = frozenset(' \t\r\n,;"')


class KvModeError(SearchTimeConfigError):
    """An unknown KV_MODE value."""


class _Budget:
    """Counts distinct new field names against a KV limit."""

    __slots__ = ("limit", "names", "sink")

    def __init__(self, sink: FieldSink, limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.names: set[str] = set()

    def add(self, name: str, value: str) -> None:
        if name not in self.names:
            if len(self.names) >= self.limit:
                return
            self.names.add(name)
        self.sink.add(name, value)


def extract_auto(raw: str, sink: FieldSink, *, escaped: bool, trim: bool) -> None:
    """The ``key=value`` scanner of KV_MODE=auto/auto_escaped."""
    text = raw[:KV_MAXCHARS]
    budget = _Budget(sink, KV_LIMIT)
    n = len(text)
    pos = text.find("=")
    while pos != -1:
        start = pos
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-."):
            start -= 1
        key = clean_key(text[start:pos])
        i = pos + 1
        if i < n and text[i] == '"':
            value, i = _quoted(text, i + 1, escaped=escaped)
        else:
            end = i
            while end < n and text[end] not in _VALUE_STOPS:
                end += 1
            value, i = text[i:end], end
        if trim:
            value = value.strip(" ")
        if key and value:
            budget.add(key, value)
        pos = text.find("=", max(i, pos + 1))


def _quoted(text: str, i: int, *, escaped: bool) -> tuple[str, int]:
    buf: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if escaped and ch == "\\" and i + 1 < n and text[i + 1] in '"\\':
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(buf), i + 1
        buf.append(ch)
        i += 1
    return "".join(buf), i


_JSON = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)
"""Numbers (and NaN/Infinity) keep their literal text, as Splunk shows them (``1.0`` stays
``1.0``); ``str`` is called from C, so no Python frame runs per number."""


def load_json(raw: str) -> Any:
    stripped = raw.strip()
    if not stripped or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return None
    try:
        document, end = _JSON.raw_decode(stripped)
    except (ValueError, RecursionError):  # nested deeper than the interpreter's stack
        return None
    return document if end == len(stripped) else None


def extract_json(raw: str, sink: FieldSink) -> bool:
    """KV_MODE=json (and AUTO_KV_JSON): returns whether the event was a JSON document."""
    document = load_json(raw)
    if document is None or not isinstance(document, dict | list):
        return False
    try:
        leaves = json_leaves(document)
    except RecursionError:  # decoded at the edge of the stack, one level too deep to walk
        return False
    if len(leaves) > KV_MAXCOLS and len({name for name, _ in leaves}) > KV_MAXCOLS:
        budget = _Budget(sink, KV_MAXCOLS)
        for name, value in leaves:
            budget.add(name, value)
    else:
        sink.add_all(leaves)
    return True


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_leaves(element: ElementTree.Element, path: str, emit: Callable[[str, str], None]) -> None:
    for name, value in element.attrib.items():
        emit(f"{path}{{@{_local(name)}}}", value)
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        if text:
            emit(path, text)
        return
    for child in children:
        if isinstance(child.tag, str):
            _xml_leaves(child, f"{path}.{_local(child.tag)}", emit)


def extract_xml(raw: str, sink: FieldSink) -> bool:
    stripped = raw.strip()
    if not stripped.startswith("<"):
        return False
    try:
        root = ElementTree.fromstring(stripped)
    except ElementTree.ParseError:
        return False
    budget = _Budget(sink, KV_MAXCOLS)
    _xml_leaves(root, _local(root.tag), budget.add)
    return True


@dataclass(frozen=True, slots=True)
class KvMode:
    """The KV_MODE settings of one props stanza."""

    mode: str
    auto_json: bool
    trim_spaces: bool

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> KvMode:
        mode = props.get("KV_MODE", "auto").strip().lower() or "auto"
        if mode not in KV_MODES:
            raise KvModeError(f"KV_MODE = {mode!r} is not one of {sorted(KV_MODES)}")
        return cls(
            mode=mode,
            auto_json=parse_bool(props.get("AUTO_KV_JSON"), default=True),
            trim_spaces=parse_bool(props.get("KV_TRIM_SPACES"), default=True),
        )

    def apply(self, raw: str, sink: FieldSink) -> None:
        if self.mode in ("auto", "auto_escaped"):
            if self.auto_json:
                extract_json(raw, sink)
            extract_auto(raw, sink, escaped=self.mode == "auto_escaped", trim=self.trim_spaces)
        elif self.mode == "json":
            extract_json(raw, sink)
        elif self.mode == "xml":
            extract_xml(raw, sink)

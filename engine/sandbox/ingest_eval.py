"""INGEST_EVAL (transforms.conf, index time): eval assignments on the event being indexed.

transforms.conf.spec: "The expression takes a similar format to the search-time "|eval"
command ... you can string multiple expressions together, separated by commas". "Keys which are
commonly used with DEST_KEY or SOURCE_KEY (like "_raw", "queue", etc) can be used directly in
the expression. Also available are values which would be populated by default when this event
is searched ("source", "sourcetype", "host", "splunk_server", "linecount", "index")." "By
default, other variable names refer to index-time fields which are populated in "_meta"";
``$pd:<key>$`` forces a key, ``$field:<name>$`` an index-time field and ``$mv:<name>$`` reads all
of a field's values (otherwise "normally the first value is used"). Writing a field "add[s] a
new index-time field even if one exists with the same name"; ``:=`` replaces it (``null()``
removes it); a multivalue result writes one field per value. A ``[type]`` after the target
only changes how _meta stores the number, so it is dropped here. Assignments run in order, each
seeing the ones before it ("a=5, a=a+2" adds a::5 a::7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.sandbox.events import Event
from engine.sandbox.extractions import EventView
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.parser import compile_eval
from engine.sandbox.spl_eval.values import (
    Compiled,
    EvalSyntaxError,
    Value,
    to_number,
    to_text,
    values_of,
)
from engine.sandbox.stanzas import SettingError

KEYS = frozenset({"_raw", "_time", "queue", "index", "host", "source", "sourcetype"})
"""Targets that are event keys (metadata, routing), not index-time fields."""
_READ_ONLY_KEYS = frozenset({"linecount", "splunk_server"})


@dataclass(frozen=True, slots=True)
class Assignment:
    target: str
    is_key: bool
    replace: bool
    expression: Compiled


def _split_top_level(text: str) -> list[str]:
    """Comma-separated expressions: commas inside quotes or parentheses do not split."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _assignment_operator(part: str) -> tuple[int, int] | None:
    """Where the target ends and the expression starts: the first ``=`` or ``:=`` that is not
    part of ``==``, ``!=``, ``<=`` or ``>=``."""
    for i, char in enumerate(part):
        if char in "\"'(":
            return None
        if char != "=":
            continue
        if part[i + 1 : i + 2] == "=" or (i and part[i - 1] in "!<>="):
            return None
        if i and part[i - 1] == ":":
            return i - 1, i + 1
        return i, i + 1
    return None


def _target(text: str) -> tuple[str, bool]:
    """(name, is_key) of an assignment target; ``$...$``, ``pd:``/``field:`` and ``[type]``
    are read as the spec describes."""
    name = text.strip()
    if name.endswith("]") and "[" in name:
        name = name[: name.rindex("[")].rstrip()
    if len(name) > 2 and name.startswith("$") and name.endswith("$"):
        name = name[1:-1]
    if name.startswith("pd:"):
        return name[3:], True
    if name.startswith("field:"):
        return name[6:], False
    return name, name in KEYS


def parse_ingest_eval(text: str, *, clock: EvalClock) -> tuple[Assignment, ...]:
    assignments: list[Assignment] = []
    for part in _split_top_level(text):
        operator = _assignment_operator(part)
        if operator is None:
            raise SettingError(f"INGEST_EVAL: {part!r} is not <field>=<expression>")
        name, is_key = _target(part[: operator[0]])
        if not name or name in _READ_ONLY_KEYS:
            raise SettingError(f"INGEST_EVAL: {part!r} cannot be assigned")
        try:
            expression = compile_eval(part[operator[1] :], clock=clock)
        except EvalSyntaxError as exc:
            raise SettingError(f"INGEST_EVAL: {exc}") from exc
        replace = part[operator[0]] == ":"
        assignments.append(Assignment(name, is_key, replace, expression))
    if not assignments:
        raise SettingError("INGEST_EVAL is empty")
    return tuple(assignments)


class _IndexTimeView:
    """What INGEST_EVAL reads: keys and index-time fields (first value unless ``mv:``)."""

    __slots__ = ("event", "queue", "view")

    def __init__(self, event: Event, queue: str) -> None:
        self.event = event
        self.queue = queue
        self.view = EventView(event)

    def get(self, name: str) -> list[str] | None:
        key = name[3:] if name.startswith("pd:") else name
        if key == "queue":
            return [self.queue]
        if key == "_time":
            time = self.event.time
            return None if time is None else [f"{time.timestamp():.6f}".rstrip("0").rstrip(".")]
        if key in KEYS or key in _READ_ONLY_KEYS or name.startswith("pd:"):
            return self.view.default(key) if key != "index" else self._field("index")
        if name.startswith("mv:"):
            return self._field(name[3:], every=True)
        return self._field(name.removeprefix("field:"))

    def _field(self, name: str, *, every: bool = False) -> list[str] | None:
        values = self.event.fields.get(name) if name in self.event.indexed else None
        if not values:
            return None
        return list(values) if every else values[:1]


@dataclass(frozen=True, slots=True)
class IngestEval:
    """One transforms.conf stanza with INGEST_EVAL, used by TRANSFORMS-."""

    name: str
    assignments: tuple[Assignment, ...]

    @classmethod
    def from_stanza(cls, name: str, stanza: Mapping[str, str], *, clock: EvalClock) -> IngestEval:
        try:
            return cls(name, parse_ingest_eval(stanza["INGEST_EVAL"], clock=clock))
        except SettingError as exc:
            raise SettingError(f"transforms.conf [{name}]: {exc}") from exc

    def apply(self, event: Event) -> str | None:
        """Run the assignments on ``event``; the queue when one of them routes it."""
        reader = _IndexTimeView(event, "indexQueue")
        routed: str | None = None
        for assignment in self.assignments:
            value = assignment.expression(reader.get)
            if assignment.is_key:
                queue = _write_key(event, assignment.target, value)
                if queue is not None:
                    reader.queue = routed = queue
            else:
                _write_field(event, assignment, value)
        return routed


def _write_key(event: Event, key: str, value: Value) -> str | None:
    if key == "_time":
        seconds = to_number(value)
        if seconds is not None:
            event.time, event.time_error = datetime.fromtimestamp(seconds, UTC), None
        return None
    text = to_text(value)
    if text is None:
        return None
    if key == "queue":
        return text
    if key == "_raw":
        event.raw = text
    elif key == "host":
        event.host = text
    elif key == "source":
        event.source = text
    elif key == "sourcetype":
        event.sourcetype = text
    elif key == "index":
        event.fields["index"] = [text]
    return None


def _write_field(event: Event, assignment: Assignment, value: Value) -> None:
    name = assignment.target
    new = values_of(value)  # a boolean is written as true/false
    if assignment.replace or name not in event.indexed:
        event.fields.pop(name, None)
    if not new:
        if assignment.replace:
            event.indexed.discard(name)
        return
    event.indexed.add(name)
    event.fields.setdefault(name, []).extend(new)

"""HTTP Event Collector JSON envelopes: the event endpoint's format, also read from files by
INDEXED_EXTRACTIONS = hec.

"Format events for HTTP Event Collector": each envelope is a JSON object with ``event`` (the
event data: a string, or a JSON value indexed as its JSON text), ``time`` (epoch seconds, a
number or numeric string, with an optional fraction), ``host``, ``source``, ``sourcetype``,
``index`` (the event's metadata, overriding the input's) and ``fields`` (an object whose
values are strings or arrays of strings: indexed fields, which the raw endpoint never gets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

META_KEYS = ("host", "source", "sourcetype", "index")
DECODER = json.JSONDecoder()
"""Envelopes keep JSON's own numbers, so an ``event`` object is indexed as the JSON it was."""


class HecFormatError(ValueError):
    """A JSON document that is not a HEC event envelope."""


@dataclass(slots=True)
class Envelope:
    """One event as HEC received it."""

    raw: str
    time: datetime | None = None
    meta: dict[str, str] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def envelope_time(value: Any) -> datetime:
    """HEC's ``time``: epoch seconds (``1433188255.500``), as a number or a string."""
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise HecFormatError(f"time {value!r} is not epoch seconds") from exc
    if seconds != seconds or seconds in (float("inf"), float("-inf")) or seconds < 0:
        raise HecFormatError(f"time {value!r} is not epoch seconds")
    return datetime.fromtimestamp(seconds, UTC)


def read_envelope(value: Any) -> Envelope:
    """The envelope a decoded JSON document holds (:class:`HecFormatError` when it is none)."""
    if not isinstance(value, dict):
        raise HecFormatError("a HEC envelope is a JSON object")
    if "event" not in value:
        raise HecFormatError('a HEC envelope needs an "event" key')
    event = value["event"]
    if event is None or event == "":
        raise HecFormatError("the event is empty")
    raw = (
        event
        if isinstance(event, str)
        else json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    )
    envelope = Envelope(raw)
    if value.get("time") not in (None, ""):
        envelope.time = envelope_time(value["time"])
    for key in META_KEYS:
        meta = value.get(key)
        if meta not in (None, ""):
            envelope.meta[key] = _text(meta)
    fields = value.get("fields")
    if fields is not None:
        if not isinstance(fields, dict):
            raise HecFormatError('"fields" is a JSON object of strings or arrays of strings')
        for name, values in fields.items():
            if isinstance(values, list):
                envelope.fields[name] = [_text(item) for item in values]
            elif isinstance(values, dict):
                raise HecFormatError(f'"fields" value of {name!r} is an object, not a string')
            else:
                envelope.fields[name] = [_text(values)]
    return envelope

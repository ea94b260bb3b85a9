"""Sandbox events as JSON lines in the format ``shared/tools/score.py`` reads.

One object per event: ``{"raw": ..., "time": ISO-8601 with offset or null, "fields": {...},
"host": ..., "source": ..., "sourcetype": ..., "eventtypes": [...], "tags": [...]}``. Fields are
the ones the TA extracted (Splunk internals such as _raw, _time, linecount, punct, date_* and
tag::* left out; host/source/sourcetype only when a TA extraction set them); a multi-valued
field is a list, a single value a string. host/source/sourcetype are the event's metadata after
index-time rewrites (the values search time chose its props stanza by); eventtypes and tags are
what search time assigned. The scorer reads raw, time and fields.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from engine.outputs import atomic_output, cannot_write
from engine.sandbox.events import Event
from engine.sandbox.report import is_extracted_field


def event_record(event: Event) -> dict[str, Any]:
    """The scorer's view of one event."""
    fields: dict[str, str | list[str]] = {}
    for name, values in event.fields.items():
        if not values or not is_extracted_field(name):
            continue
        fields[name] = values[0] if len(values) == 1 else list(values)
    return {
        "raw": event.raw,
        "time": event.time.isoformat() if event.time is not None else None,
        "fields": fields,
        "host": event.host,
        "source": event.source,
        "sourcetype": event.sourcetype,
        "eventtypes": list(event.eventtypes),
        "tags": list(event.tags),
    }


class EventsWriter:
    """Streams events to a JSONL file; the file appears complete or not at all."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stack = contextlib.ExitStack()
        self._handle: IO[str] | None = None
        self.count = 0

    def __enter__(self) -> EventsWriter:
        with self._stack as stack:
            partial = stack.enter_context(atomic_output(self._path))
            try:
                self._handle = stack.enter_context(
                    partial.open("w", encoding="utf-8", newline="\n")
                )
            except OSError as exc:
                raise cannot_write(self._path, exc) from exc
            self._stack = stack.pop_all()
        return self

    def write(self, event: Event) -> None:
        if self._handle is None:
            raise RuntimeError("EventsWriter used outside its with-block")
        try:
            self._handle.write(json.dumps(event_record(event), ensure_ascii=False))
            self._handle.write("\n")
        except OSError as exc:
            raise cannot_write(self._path, exc) from exc
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._handle = None
        try:
            self._stack.__exit__(exc_type, exc, traceback)
        except OSError as error:  # flushing the last block on close
            raise cannot_write(self._path, error) from error

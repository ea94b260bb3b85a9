"""Ingestion routes: how a sample reaches Splunk decides what index time does to it.

As pytest-splunk-addon picks an event ingestor per input type from a table
(``event_ingestors``), the sandbox picks a route from :data:`ROUTES`:

* ``monitor`` (default): a monitored file. Structured parsing (INDEXED_EXTRACTIONS), line
  breaking, merging, timestamps, typing. The input time is the file's modification time.
* ``hec-raw``: HEC's services/collector/raw. Line breaking, merging and timestamps apply as for
  a file; the ``time`` query parameter is the input time, which events without a timestamp take
  and DATETIME_CONFIG = NONE keeps. INDEXED_EXTRACTIONS does not apply ("Indexed field
  extraction doesn't work with data sent to the services/collector/raw endpoint").
* ``hec-event``: HEC's services/collector/event. One event per JSON envelope, no line breaking
  or merging, no timestamp extraction (auto_extract_timestamp is off by default): the
  envelope's ``time``, else the request's ``time`` parameter, else the time HEC received it.
  The envelope's host/source/sourcetype/index override the input's and choose the props the
  typing stage uses; its ``fields`` become index-time fields. TRUNCATE applies.
* ``modinput``: a modular input writing each sample file as one event (an XML stream
  ``<event>``): no line breaking; its explicit ``<time>`` when given, else the timestamp found
  in the text. TRUNCATE and typing apply.

A route turns a sample's text into indexed events; the pipeline runs search time on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from pathlib import Path

from engine.samples import SampleError
from engine.sandbox import hec
from engine.sandbox.events import Event
from engine.sandbox.indextime import (
    IndexTime,
    IndexTimeConfig,
    Metadata,
    apply_metadata,
    parse_stream,
)
from engine.sandbox.json_stream import json_documents

HEC_SOURCE = "http:sandbox"
"""HEC names an event's source after its token (``http:<token name>``) unless told otherwise."""


class InputRoute(StrEnum):
    MONITOR = "monitor"
    HEC_RAW = "hec-raw"
    HEC_EVENT = "hec-event"
    MODINPUT = "modinput"


def default_source(route: InputRoute, sample: Path) -> str:
    """The source an input gives a sample's events when none is set."""
    if route is InputRoute.MONITOR:
        return os.path.realpath(sample)  # a symlink loop is reported when the sample is read
    if route is InputRoute.MODINPUT:
        return f"sandbox://{sample.stem or sample.name}"  # <scheme>://<input name>
    return HEC_SOURCE


def _monitor(chunks: Iterable[str], index_time: IndexTime, meta: Metadata) -> Iterator[Event]:
    return parse_stream(chunks, index_time, *meta)


def _hec_raw(chunks: Iterable[str], index_time: IndexTime, meta: Metadata) -> Iterator[Event]:
    return parse_stream(chunks, index_time, *meta, structured=False)


def _hec_event(chunks: Iterable[str], index_time: IndexTime, meta: Metadata) -> Iterator[Event]:
    index_time.config(meta)  # the input's own settings compile before the first event
    return _envelope_events(chunks, index_time, meta)


def _envelope_events(
    chunks: Iterable[str], index_time: IndexTime, meta: Metadata
) -> Iterator[Event]:
    for number, document in enumerate(json_documents(chunks, hec.DECODER), start=1):
        if not document.parsed:
            raise hec.HecFormatError(f"envelope {number} is not JSON: {document.text[:80]!r}")
        try:
            envelope = hec.read_envelope(document.value)
        except hec.HecFormatError as exc:
            raise hec.HecFormatError(f"envelope {number}: {exc}") from exc
        own = (
            envelope.meta.get("sourcetype", meta[0]),
            envelope.meta.get("source", meta[1]),
            envelope.meta.get("host", meta[2]),
        )
        config = index_time.config(own)
        raw, truncated = index_time.truncate(envelope.raw, config)
        event = index_time.event(raw, own, linecount=raw.count("\n") + 1, truncated=truncated)
        if "index" in envelope.meta:
            apply_metadata(event, {"index": envelope.meta["index"]})
        event.fields = envelope.fields
        event.indexed = set(envelope.fields)
        event.time = envelope.time or index_time.input_time or index_time.now
        if index_time.finish(event, config):
            yield event


def _modinput(chunks: Iterable[str], index_time: IndexTime, meta: Metadata) -> Iterator[Event]:
    meta = (index_time.sourcetype_of(*meta), meta[1], meta[2])
    return _one_event(chunks, index_time, meta, index_time.config(meta))


def _one_event(
    chunks: Iterable[str], index_time: IndexTime, meta: Metadata, config: IndexTimeConfig
) -> Iterator[Event]:
    limit = config.truncate
    kept: list[str] = []
    size = 0
    for chunk in chunks:
        # More than TRUNCATE characters are more than TRUNCATE bytes: the rest is cut anyway.
        if not limit or size <= limit:
            kept.append(chunk)
            size += len(chunk)
    text = "".join(kept).strip("\r\n")
    if not text.strip():
        return
    raw, truncated = index_time.truncate(text, config)
    event = index_time.event(raw, meta, linecount=raw.count("\n") + 1, truncated=truncated)
    if index_time.input_time is not None:
        event.time = index_time.input_time
    else:
        event.time, event.time_error = index_time.timestamper(meta).assign(raw)
    if index_time.finish(event, config):
        yield event


Route = Callable[[Iterable[str], IndexTime, Metadata], Iterator[Event]]
ROUTES: dict[InputRoute, Route] = {
    InputRoute.MONITOR: _monitor,
    InputRoute.HEC_RAW: _hec_raw,
    InputRoute.HEC_EVENT: _hec_event,
    InputRoute.MODINPUT: _modinput,
}


def route_events(
    route: InputRoute,
    chunks: Iterable[str],
    index_time: IndexTime,
    meta: Metadata,
    *,
    sample: str,
) -> Iterator[Event]:
    """The events ``route`` makes of one sample; a malformed HEC envelope is a
    :class:`SampleError` naming the sample (HEC would refuse the request)."""
    events = ROUTES[route](chunks, index_time, meta)
    return _named_errors(events, sample)


def _named_errors(events: Iterator[Event], sample: str) -> Iterator[Event]:
    try:
        yield from events
    except hec.HecFormatError as exc:
        raise SampleError(f"sample {sample}: not a HEC event stream: {exc}") from exc

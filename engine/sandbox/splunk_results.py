"""A real Splunk's search results judged like the sandbox's own events.

The kubernetes validator runs the official Splunk image: Splunk indexes the samples with the TA
installed and a search returns each event as its export endpoint does (`_raw`, `_time` and
every field, multi-valued ones as lists). This module turns those results back into sandbox
:class:`Event` objects and measures them with the same :class:`Measurement` (coverage, CIM
compliance through the same checker, lint, verdict), so both validators give one report shape.

Splunk does not say everything the sandbox records, so two facts are read off the result the
way a Splunk engineer would: a timestamp was found when Splunk recorded where it found one
(`timestartpos`), unless the props ask for no extraction (DATETIME_CONFIG = CURRENT | NONE) or
take it from structured fields (INDEXED_EXTRACTIONS); and an event was truncated when `_raw` is
as long as TRUNCATE allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.conf.ta import TA
from engine.sandbox.events import Event
from engine.sandbox.linebreak import DEFAULT_TRUNCATE
from engine.sandbox.pipeline import Measurement, SandboxResult
from engine.sandbox.report import SampleRun
from engine.sandbox.stanzas import resolve_props
from engine.settings import SandboxSettings

NO_TIMESTAMP = "Splunk found no timestamp in the event (_time is the index time)"
METADATA = frozenset({"source", "sourcetype", "host", "eventtype", "tag"})
"""Result keys that are event metadata, not fields (internal ones start with `_`)."""


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _first(value: Any) -> str:
    values = _values(value)
    return values[0] if values else ""


def parse_splunk_time(value: str) -> datetime:
    """`_time` as the export endpoint writes it: ISO-8601 with an offset, or epoch seconds."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _timestamp_expected(props: Mapping[str, str]) -> bool:
    config = props.get("DATETIME_CONFIG", "").strip().upper()
    return config not in ("CURRENT", "NONE") and not props.get("INDEXED_EXTRACTIONS", "").strip()


def _truncate_limit(props: Mapping[str, str]) -> int:
    try:
        return int(props.get("TRUNCATE", "").strip() or DEFAULT_TRUNCATE)
    except ValueError:
        return DEFAULT_TRUNCATE


def event_from_result(result: Mapping[str, Any], *, props: Mapping[str, str]) -> Event:
    """One search result as a sandbox event; ``props`` are the effective props.conf settings
    of its sourcetype, source and host."""
    raw = _first(result.get("_raw"))
    time_text = _first(result.get("_time"))
    time_error: str | None = None
    time: datetime | None = None
    try:
        time = parse_splunk_time(time_text) if time_text else None
    except ValueError:
        time_error = f"_time {time_text!r} is not a time"
    if time is None and time_error is None:
        time_error = "no _time in the result"
    if time_error is None and "timestartpos" not in result and _timestamp_expected(props):
        time_error = NO_TIMESTAMP
    limit = _truncate_limit(props)
    fields = {
        name: _values(value)
        for name, value in result.items()
        if not name.startswith("_") and name not in METADATA
    }
    linecount = _first(result.get("linecount"))
    return Event(
        raw=raw,
        sourcetype=_first(result.get("sourcetype")),
        source=_first(result.get("source")),
        host=_first(result.get("host")),
        time=time,
        time_error=time_error,
        truncated=limit > 0 and len(raw.encode("utf-8")) >= limit,
        linecount=int(linecount) if linecount.isdigit() else raw.count("\n") + 1,
        fields=fields,
        eventtypes=_values(result.get("eventtype")),
        tags=_values(result.get("tag")),
    )


class SplunkResults:
    """Measures the results of one search per sample, sample after sample, in bounded memory."""

    def __init__(self, *, ta: TA, settings: SandboxSettings) -> None:
        conf = ta.confs.get("props")
        self._props = (
            {name: dict(item.settings) for name, item in conf.stanzas.items()} if conf else {}
        )
        self._measurement = Measurement(ta=ta, settings=settings)
        self._run: SampleRun | None = None
        self._resolved: dict[tuple[str, str, str], dict[str, str]] = {}

    @property
    def events(self) -> int:
        return self._measurement.builder.events

    def start_sample(self, run: SampleRun) -> None:
        """The results that follow are the events Splunk indexed from this sample."""
        self._run = run
        self._measurement.builder.start_sample(run)

    def add(self, result: Mapping[str, Any]) -> None:
        if self._run is None:
            raise ValueError("a search result came before any sample was started")
        key = (
            _first(result.get("sourcetype")) or self._run.sourcetype,
            _first(result.get("source")) or self._run.source,
            _first(result.get("host")) or self._run.host,
        )
        props = self._resolved.get(key)
        if props is None:
            props = resolve_props(self._props, sourcetype=key[0], source=key[1], host=key[2])
            self._resolved[key] = props
        self._measurement.add(event_from_result(result, props=props), sample=self._run.path)

    def message(self, kind: str, text: str) -> None:
        """A message Splunk attached to a search: an ERROR fails the verdict, others warn."""
        if kind.upper() in ("ERROR", "FATAL"):
            self._measurement.builder.config_error(f"Splunk: {text}")
        else:
            self._measurement.builder.warn(f"Splunk {kind.lower()}: {text}")

    def warn(self, message: str) -> None:
        self._measurement.builder.warn(message)

    def result(self) -> SandboxResult:
        return self._measurement.result()

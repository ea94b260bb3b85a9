"""The index-time half of the sandbox: raw text in, timestamped events out.

Splunk's order: input (INDEXED_EXTRACTIONS for structured data) -> parsing (LINE_BREAKER,
TRUNCATE) -> merging (SHOULD_LINEMERGE, timestamps) -> typing (TRANSFORMS-, SEDCMD-). Index-time
props come from the stanzas matching the event's original sourcetype, source and host, even
when a transform rewrites the sourcetype. Everything streams: only the current partial event is
held, so samples of any size run in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from engine.regex import Regex
from engine.sandbox.events import Event
from engine.sandbox.indexed_extractions import Record, StructuredSettings, structured_records
from engine.sandbox.indextime_transforms import IndexTimeRewrites
from engine.sandbox.linebreak import (
    DEFAULT_LINE_BREAKER,
    DEFAULT_LOOKBEHIND,
    DEFAULT_TRUNCATE,
    Line,
    LineBreaker,
    compile_line_breaker,
    truncate_utf8,
)
from engine.sandbox.linemerge import MergedEvent, MergeRules, merge_lines
from engine.sandbox.stanzas import resolve_props, setting_bool, setting_int
from engine.sandbox.timestamps import Timestamper, TimestampSettings

MAX_FAILURE_EXAMPLES = 5


@dataclass(slots=True)
class IndexTimeStats:
    """Counts for a validation report."""

    events: int = 0
    truncated: int = 0
    lines_merged: int = 0
    timestamp_failures: int = 0
    dropped: int = 0
    regex_errors: int = 0
    failure_examples: list[str] = field(default_factory=list)
    regex_error_examples: list[str] = field(default_factory=list)

    def regex_error(self, message: str) -> None:
        self.regex_errors += 1
        if len(self.regex_error_examples) < MAX_FAILURE_EXAMPLES:
            self.regex_error_examples.append(message)


@dataclass(frozen=True, slots=True)
class IndexTimeConfig:
    """Everything index time needs, compiled and validated once per sample."""

    line_breaker: Regex
    truncate: int
    lookbehind: int
    should_linemerge: bool
    merge: MergeRules
    timestamps: TimestampSettings
    structured: StructuredSettings | None
    rewrites: IndexTimeRewrites

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str], transforms: Mapping[str, Mapping[str, str]]
    ) -> IndexTimeConfig:
        return cls(
            line_breaker=compile_line_breaker(settings.get("LINE_BREAKER") or DEFAULT_LINE_BREAKER),
            truncate=setting_int(settings, "TRUNCATE", DEFAULT_TRUNCATE),
            lookbehind=setting_int(settings, "LINE_BREAKER_LOOKBEHIND", DEFAULT_LOOKBEHIND),
            should_linemerge=setting_bool(settings, "SHOULD_LINEMERGE", True),
            merge=MergeRules.from_props(settings),
            timestamps=TimestampSettings.from_props(settings),
            structured=StructuredSettings.from_props(settings),
            rewrites=IndexTimeRewrites.from_props(settings, transforms),
        )


def index_events(
    chunks: Iterable[str],
    *,
    props: Mapping[str, Mapping[str, str]],
    transforms: Mapping[str, Mapping[str, str]],
    sourcetype: str,
    source: str = "",
    host: str = "",
    now: datetime,
    default_tz: tzinfo = UTC,
    stats: IndexTimeStats | None = None,
) -> Iterator[Event]:
    """Events of one sample as Splunk would index them.

    Settings are resolved and compiled before this returns, so a bad props/transforms value
    raises :class:`~engine.sandbox.stanzas.SettingError` here, not mid-stream. Without a
    ``sourcetype``, a matching [source::...] stanza's ``sourcetype =`` assigns it, as Splunk's
    file inputs do (an explicit sourcetype, like inputs.conf's, takes precedence).
    """
    if not sourcetype:
        assigned = resolve_props(props, sourcetype="", source=source, host=host).get("sourcetype")
        sourcetype = (assigned or "").strip()
    settings = resolve_props(props, sourcetype=sourcetype, source=source, host=host)
    config = IndexTimeConfig.from_settings(settings, transforms)
    timestamper = Timestamper(config.timestamps, now=now, default_tz=default_tz)
    pipeline = _Pipeline(config, timestamper, sourcetype, source, host, stats or IndexTimeStats())
    return pipeline.run(chunks)


def _lines(chunks: Iterable[str], config: IndexTimeConfig) -> Iterator[Line]:
    breaker = LineBreaker(
        config.line_breaker,
        truncate=config.truncate,
        lookbehind=config.lookbehind,
    )
    for chunk in chunks:
        yield from breaker.feed(chunk.encode("utf-8"))
    yield from breaker.finish()


class _Pipeline:
    def __init__(
        self,
        config: IndexTimeConfig,
        timestamper: Timestamper,
        sourcetype: str,
        source: str,
        host: str,
        stats: IndexTimeStats,
    ) -> None:
        self.config = config
        self.timestamper = timestamper
        self.sourcetype = sourcetype
        self.source = source
        self.host = host
        self.stats = stats
        self.offset = 0

    def run(self, chunks: Iterable[str]) -> Iterator[Event]:
        if self.config.structured is not None:
            for record in structured_records(chunks, self.config.structured):
                event = self._structured_event(record)
                if self._finish(event):
                    yield event
            return
        lines = _lines(chunks, self.config)
        if not self.config.should_linemerge:
            for line in lines:
                event = self._event(line.text, line.text.count("\n") + 1, line.truncated)
                event.time, event.time_error = self.timestamper.assign(line.text)
                if self._finish(event):
                    yield event
            return
        merged = merge_lines(lines, self.config.merge, detect_date=self.timestamper.detect_date)
        for item in merged:
            event = self._merged_event(item)
            if self._finish(event):
                yield event

    def _event(self, raw: str, linecount: int, truncated: bool) -> Event:
        event = Event(
            raw=raw,
            sourcetype=self.sourcetype,
            source=self.source,
            host=self.host,
            truncated=truncated,
            linecount=linecount,
            offset=self.offset,
        )
        self.offset += 1
        return event

    def _merged_event(self, item: MergedEvent) -> Event:
        event = self._event(item.text, item.linecount, item.truncated)
        self.stats.lines_merged += item.linecount - 1
        # The event starts with the line whose date the merge step found: reuse that parse.
        event.time, event.time_error = self.timestamper.assign(item.text, known=item.date)
        return event

    def _structured_event(self, record: Record) -> Event:
        raw = record.raw
        limit = self.config.truncate
        truncated = False
        # A character is at most 4 UTF-8 bytes: short records need no encoding to be measured.
        if limit and len(raw) * 4 > limit:
            encoded = raw.encode("utf-8")
            cut = truncate_utf8(encoded, limit)
            if len(cut) < len(encoded):
                raw, truncated = cut.decode("utf-8"), True
        event = self._event(raw, record.raw.count("\n") + 1, truncated)
        # The record is the event's alone: its field lists become the event's.
        event.fields = record.fields
        event.indexed = set(record.fields)
        if record.timestamp_text is None:
            event.time, event.time_error = self.timestamper.assign(event.raw)
        else:
            event.time, event.time_error = self.timestamper.assign(
                record.timestamp_text, use_prefix=False
            )
        return event

    def _finish(self, event: Event) -> bool:
        """Typing stage and counting; False when the event is routed to nullQueue."""
        stats = self.stats
        rewrites = self.config.rewrites
        if (rewrites.transforms or rewrites.sedcmds) and not rewrites.apply(
            event, on_error=stats.regex_error
        ):
            stats.dropped += 1
            return False
        stats.events += 1
        if event.truncated:
            stats.truncated += 1
        if event.time_error is not None:
            stats.timestamp_failures += 1
            if len(stats.failure_examples) < MAX_FAILURE_EXAMPLES:
                stats.failure_examples.append(f"{event.time_error}: {event.raw[:200]}")
        return True

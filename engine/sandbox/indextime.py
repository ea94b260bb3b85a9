"""The index-time half of the sandbox: raw text in, timestamped events out.

Splunk's order: input (INDEXED_EXTRACTIONS for structured data) -> parsing (LINE_BREAKER,
TRUNCATE) -> merging (SHOULD_LINEMERGE, timestamps) -> typing (TRANSFORMS-, SEDCMD-). Index-time
props come from the stanzas matching the event's original sourcetype, source and host, even
when a transform rewrites the sourcetype. Everything streams: only the current partial event is
held, so samples of any size run in bounded memory.

:class:`IndexTime` holds the stages every ingestion route shares (settings compiled once per
sourcetype/source/host, timestamps, TRUNCATE, the typing stage and its counts);
:func:`index_events` is the parsing route of monitored files and HEC's raw endpoint.
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
from engine.sandbox.linemerge import MergeRules, merge_lines
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.stanzas import resolve_props, setting_bool, setting_int
from engine.sandbox.timestamps import Timestamper, TimestampSettings, date_in_source

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
        cls,
        settings: Mapping[str, str],
        transforms: Mapping[str, Mapping[str, str]],
        *,
        clock: EvalClock,
    ) -> IndexTimeConfig:
        return cls(
            line_breaker=compile_line_breaker(settings.get("LINE_BREAKER") or DEFAULT_LINE_BREAKER),
            truncate=setting_int(settings, "TRUNCATE", DEFAULT_TRUNCATE),
            lookbehind=setting_int(settings, "LINE_BREAKER_LOOKBEHIND", DEFAULT_LOOKBEHIND),
            should_linemerge=setting_bool(settings, "SHOULD_LINEMERGE", True),
            merge=MergeRules.from_props(settings),
            timestamps=TimestampSettings.from_props(settings),
            structured=StructuredSettings.from_props(settings),
            rewrites=IndexTimeRewrites.from_props(settings, transforms, clock=clock),
        )


Metadata = tuple[str, str, str]
"""(sourcetype, source, host) of an event as its input delivered it."""


class IndexTime:
    """Index time for one sample: settings per event metadata, timestamps, typing and counts.

    Settings are resolved and compiled the first time a metadata triple is seen, so a bad
    props/transforms value raises :class:`~engine.sandbox.stanzas.SettingError` then. Each
    triple has its own :class:`Timestamper` (Splunk remembers the previous time per source).
    ``input_time`` is the time the input layer gives events (a file's modification time, HEC's
    ``time``): see :class:`Timestamper`.
    """

    def __init__(
        self,
        *,
        props: Mapping[str, Mapping[str, str]],
        transforms: Mapping[str, Mapping[str, str]],
        now: datetime,
        default_tz: tzinfo = UTC,
        input_time: datetime | None = None,
        stats: IndexTimeStats | None = None,
    ) -> None:
        if now.tzinfo is None or (input_time is not None and input_time.tzinfo is None):
            raise ValueError("now and input_time must be timezone-aware")
        self.props = props
        self.transforms = transforms
        self.now = now
        self.default_tz = default_tz
        self.input_time = input_time
        self.clock = EvalClock(now, default_tz)
        self.stats = stats or IndexTimeStats()
        self.offset = 0
        self._configs: dict[Metadata, IndexTimeConfig] = {}
        self._timestampers: dict[Metadata, Timestamper] = {}

    def sourcetype_of(self, sourcetype: str, source: str, host: str) -> str:
        """Without a sourcetype, a matching [source::...] stanza's ``sourcetype =`` assigns it,
        as Splunk's file inputs do (an explicit sourcetype, like inputs.conf's, wins)."""
        if sourcetype:
            return sourcetype
        assigned = resolve_props(self.props, sourcetype="", source=source, host=host)
        return (assigned.get("sourcetype") or "").strip()

    def config(self, meta: Metadata) -> IndexTimeConfig:
        found = self._configs.get(meta)
        if found is None:
            sourcetype, source, host = meta
            settings = resolve_props(self.props, sourcetype=sourcetype, source=source, host=host)
            found = IndexTimeConfig.from_settings(settings, self.transforms, clock=self.clock)
            self._configs[meta] = found
        return found

    def timestamper(self, meta: Metadata) -> Timestamper:
        found = self._timestampers.get(meta)
        if found is None:
            found = Timestamper(
                self.config(meta).timestamps,
                now=self.now,
                default_tz=self.default_tz,
                input_time=self.input_time,
                source_date=date_in_source(meta[1]),
            )
            self._timestampers[meta] = found
        return found

    def event(self, raw: str, meta: Metadata, *, linecount: int, truncated: bool) -> Event:
        sourcetype, source, host = meta
        event = Event(
            raw=raw,
            sourcetype=sourcetype,
            source=source,
            host=host,
            truncated=truncated,
            linecount=linecount,
            offset=self.offset,
        )
        self.offset += 1
        return event

    @staticmethod
    def truncate(raw: str, config: IndexTimeConfig) -> tuple[str, bool]:
        """TRUNCATE on text that did not come through the line breaker (it cuts bytes)."""
        limit = config.truncate
        # A character is at most 4 UTF-8 bytes: short texts need no encoding to be measured.
        if not limit or len(raw) * 4 <= limit:
            return raw, False
        encoded = raw.encode("utf-8")
        cut = truncate_utf8(encoded, limit)
        if len(cut) < len(encoded):
            return cut.decode("utf-8"), True
        return raw, False

    def finish(self, event: Event, config: IndexTimeConfig) -> bool:
        """Typing stage and counting; False when the event is routed to nullQueue."""
        stats = self.stats
        rewrites = config.rewrites
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
    input_time: datetime | None = None,
    structured: bool = True,
) -> Iterator[Event]:
    """Events of one sample as Splunk would index them from a monitored file.

    Settings are resolved and compiled before this returns, so a bad props/transforms value
    raises :class:`~engine.sandbox.stanzas.SettingError` here, not mid-stream. ``structured``
    False ignores INDEXED_EXTRACTIONS (it applies to file inputs only).
    """
    index_time = IndexTime(
        props=props,
        transforms=transforms,
        now=now,
        default_tz=default_tz,
        input_time=input_time,
        stats=stats,
    )
    return parse_stream(chunks, index_time, sourcetype, source, host, structured=structured)


def parse_stream(
    chunks: Iterable[str],
    index_time: IndexTime,
    sourcetype: str,
    source: str,
    host: str,
    *,
    structured: bool = True,
) -> Iterator[Event]:
    """The parsing pipeline on a text stream (compiles its settings before returning)."""
    meta = (index_time.sourcetype_of(sourcetype, source, host), source, host)
    config = index_time.config(meta)
    if structured and config.structured is not None:
        return _structured(chunks, index_time, meta, config, config.structured)
    return _parsed(chunks, index_time, meta, config)


def _lines(chunks: Iterable[str], config: IndexTimeConfig) -> Iterator[Line]:
    breaker = LineBreaker(
        config.line_breaker,
        truncate=config.truncate,
        lookbehind=config.lookbehind,
    )
    for chunk in chunks:
        yield from breaker.feed(chunk.encode("utf-8"))
    yield from breaker.finish()


def _parsed(
    chunks: Iterable[str], index_time: IndexTime, meta: Metadata, config: IndexTimeConfig
) -> Iterator[Event]:
    timestamper = index_time.timestamper(meta)
    lines = _lines(chunks, config)
    if not config.should_linemerge:
        for line in lines:
            event = index_time.event(
                line.text, meta, linecount=line.text.count("\n") + 1, truncated=line.truncated
            )
            event.time, event.time_error = timestamper.assign(line.text)
            if index_time.finish(event, config):
                yield event
        return
    stats = index_time.stats
    merged = merge_lines(lines, config.merge, detect_date=timestamper.detect_date)
    for item in merged:
        event = index_time.event(
            item.text, meta, linecount=item.linecount, truncated=item.truncated
        )
        stats.lines_merged += item.linecount - 1
        # The event starts with the line whose date the merge step found: reuse that parse.
        event.time, event.time_error = timestamper.assign(item.text, known=item.date)
        if index_time.finish(event, config):
            yield event


def _structured(
    chunks: Iterable[str],
    index_time: IndexTime,
    meta: Metadata,
    config: IndexTimeConfig,
    settings: StructuredSettings,
) -> Iterator[Event]:
    timestamper = index_time.timestamper(meta)
    for record in structured_records(chunks, settings):
        event = _structured_event(record, index_time, meta, config, timestamper)
        if index_time.finish(event, config):
            yield event


def _structured_event(
    record: Record,
    index_time: IndexTime,
    meta: Metadata,
    config: IndexTimeConfig,
    timestamper: Timestamper,
) -> Event:
    raw, truncated = index_time.truncate(record.raw, config)
    event = index_time.event(raw, meta, linecount=record.raw.count("\n") + 1, truncated=truncated)
    # The record is the event's alone: its field lists become the event's.
    event.fields = record.fields
    event.indexed = set(record.fields)
    if record.meta:
        # A HEC envelope's metadata; index-time settings stay those of the file's.
        apply_metadata(event, record.meta)
    if record.time is not None:
        event.time = record.time
    elif record.timestamp_text is None:
        event.time, event.time_error = timestamper.assign(event.raw)
    else:
        event.time, event.time_error = timestamper.assign(record.timestamp_text, use_prefix=False)
    return event


def apply_metadata(event: Event, meta: Mapping[str, str]) -> None:
    """host/source/sourcetype/index a HEC envelope carries, over the input's."""
    event.host = meta.get("host", event.host)
    event.source = meta.get("source", event.source)
    event.sourcetype = meta.get("sourcetype", event.sourcetype)
    if "index" in meta:
        event.fields["index"] = [meta["index"]]

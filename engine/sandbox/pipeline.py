"""The sandbox run: a TA applied to sample files, event by event, into a validation report.

Each sample is streamed through index time (event breaking, timestamps, index-time transforms)
and search time (extractions, aliases, evals, lookups, eventtypes, tags), then measured and
checked against the CIM. Events are handed to sinks as they are produced (the scorer's JSONL,
for instance), so memory stays bounded whatever the sample size; only a few failing events are
kept as examples.
"""

from __future__ import annotations

import codecs
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.cim.compliance import CimChecker, FieldView, tag_stanzas
from engine.conf.lint import lint_ta
from engine.conf.ta import TA
from engine.messages import quoted
from engine.regex import RegexLimitError
from engine.samples import read_sample_chunks
from engine.sandbox.events import Event
from engine.sandbox.eventtypes import cached_search, search_matches
from engine.sandbox.indextime import IndexTime, IndexTimeStats
from engine.sandbox.report import LintItem, ReportBuilder, SampleRun, ValidationReport
from engine.sandbox.routes import InputRoute, default_source, route_events
from engine.sandbox.searchtime import SearchTimeProcessor
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.parser import compile_eval
from engine.sandbox.spl_eval.values import Compiled, EvalLimitError, EvalSyntaxError, to_values
from engine.sandbox.stanzas import SettingError, resolve_props
from engine.settings import SandboxSettings

DEFAULT_CHARSET = "UTF-8"
"""props.conf CHARSET when a stanza sets none (props.conf.spec, outside Windows)."""

DEFAULT_HOST = "localhost"
"""Splunk's host for a monitored file is the indexing machine; the sandbox names it this."""

_LAYER_PREFIXES = ("source::", "host::", "rule::", "delayedrule::")


class EventSink(Protocol):
    """Receives every event the sandbox produces, in order."""

    def write(self, event: Event) -> None: ...


@dataclass
class SandboxResult:
    report: ValidationReport
    failing_events: list[Event] = field(default_factory=list)


def _settings_of(ta: TA, name: str) -> dict[str, dict[str, str]]:
    """A conf's stanzas as plain settings (read without creating absent confs on the TA)."""
    conf = ta.confs.get(name)
    if conf is None:
        return {}
    return {stanza: dict(item.settings) for stanza, item in conf.stanzas.items()}


def sourcetype_stanzas(ta: TA) -> list[str]:
    """The props.conf stanzas of a TA that name a sourcetype (not source::/host::/default)."""
    return [
        name
        for name in _settings_of(ta, "props")
        if name != "default" and not name.startswith(_LAYER_PREFIXES)
    ]


def default_sourcetype(ta: TA, sample: Path) -> str:
    """The TA's only sourcetype stanza, else what Splunk names an unknown file: its stem."""
    stanzas = sourcetype_stanzas(ta)
    if len(stanzas) == 1:
        return stanzas[0]
    return sample.stem or sample.name


class SandboxSpl:
    """The CIM rules' SPL (filters and eval expressions) run on the sandbox's own evaluators."""

    def search_matches(self, search: str, fields: FieldView) -> bool:
        predicate = cached_search(search)
        if predicate is None:
            raise ValueError(f"search {quoted(search)} is outside the sandbox's search subset")
        try:
            return search_matches(
                predicate,
                get=lambda name: list(fields[name]) if name in fields else None,
                raw="".join(fields.get("_raw", ())),
                field_tags=fields.get("tag", ()),
                eventtypes=set(fields.get("eventtype", ())),
            )
        except RegexLimitError:
            return False

    def eval_values(self, expression: str, fields: FieldView) -> list[str] | None:
        compiled = _eval_expression(expression)
        if compiled is None:
            raise ValueError(f"eval expression {quoted(expression)} does not parse")
        try:
            value = compiled(lambda name: list(fields[name]) if name in fields else None)
        except (EvalLimitError, ValueError, TypeError):
            return None
        if isinstance(value, bool):
            return ["true"] if value else None
        return to_values(value)


@lru_cache(maxsize=512)
def _eval_expression(expression: str) -> Compiled | None:
    try:
        return compile_eval(expression)
    except EvalSyntaxError:
        return None


def _field_view(event: Event) -> dict[str, list[str]]:
    view = dict(event.fields)
    view["_raw"] = [event.raw]
    view.setdefault("sourcetype", [event.sourcetype])
    view.setdefault("source", [event.source])
    view.setdefault("host", [event.host])
    view["eventtype"] = list(event.eventtypes)
    view["tag"] = list(event.tags)
    return view


def _lint_items(ta: TA) -> list[LintItem]:
    return [
        LintItem(
            file=finding.file,
            line=finding.line,
            severity=str(finding.severity),
            message=finding.message,
            code=str(getattr(finding, "code", "")),
        )
        for finding in lint_ta(ta)
    ]


class Measurement:
    """What a validation measures of each event, whoever produced it: this pipeline, or a real
    Splunk whose search results `engine.sandbox.splunk_results` turns into events. One place
    for the coverage, CIM compliance, failing examples and verdict of both."""

    def __init__(self, *, ta: TA, settings: SandboxSettings, now: datetime | None = None) -> None:
        self.ta = ta
        self.settings = settings
        self.checker = CimChecker(
            stanza_tags=tag_stanzas(_settings_of(ta, "tags")), spl=SandboxSpl()
        )
        self.builder = ReportBuilder(
            ta=ta.app_id, ta_version=ta.version, settings=settings, now=now
        )
        self.failing: list[Event] = []

    def add(self, event: Event, *, sample: str) -> None:
        """Measure one event (its search-time fields, eventtypes and tags already applied)."""
        problem = self.builder.add_event(event, sample=sample)
        if self.checker.active:
            checks = self.checker.check(_field_view(event))
            if checks:
                self.builder.cim.add(checks, models=self.checker.models_of_tags(event.tags))
                problem = problem or not all(check.compliant for check in checks)
        if problem and len(self.failing) < self.settings.max_examples:
            self.failing.append(event)

    def result(self) -> SandboxResult:
        """The report over every event measured, with the TA's lint and its CIM mapping."""
        stanza_models = self.checker.mapped_models()
        for stanza, models in stanza_models.items():
            if len(models) > 1:
                self.builder.warn(
                    f"tags.conf [{stanza}] maps to {len(models)} data models "
                    f"({', '.join(models)}); an event type should map to one"
                )
        checked = {stanza for stanza, _ in self.builder.cim.summaries}
        for stanza, models in stanza_models.items():
            if stanza not in checked:
                self.builder.warn(
                    f"tags.conf [{stanza}] maps to {', '.join(models)} but no sample event "
                    "falls in it, so its CIM compliance is untested"
                )
        report = self.builder.build(lint=_lint_items(self.ta), stanza_models=stanza_models)
        return SandboxResult(report=report, failing_events=self.failing)


class _Run:
    """State of one sandbox run over several samples."""

    def __init__(
        self,
        *,
        ta: TA,
        settings: SandboxSettings,
        sinks: Sequence[EventSink],
        route: InputRoute,
        input_time: datetime | None,
    ) -> None:
        self.ta = ta
        self.settings = settings
        self.sinks = sinks
        self.route = route
        self.input_time = input_time
        self.now = settings.now or datetime.now(UTC)
        # UTC as the fixed zone, as TZ = UTC reads it: times in it compare and convert without
        # the zone lookups a ZoneInfo makes per timestamp (the default zone, the usual case).
        self.zone = UTC if settings.default_tz == "UTC" else ZoneInfo(settings.default_tz)
        self.props = _settings_of(ta, "props")
        self.transforms = _settings_of(ta, "transforms")
        self.processor = SearchTimeProcessor(
            transforms=self.transforms,
            eventtypes=_settings_of(ta, "eventtypes"),
            tags=_settings_of(ta, "tags"),
            lookup_files=dict(ta.lookups),
            clock=EvalClock(self.now, self.zone),
        )
        self.measurement = Measurement(ta=ta, settings=settings, now=self.now)
        self.builder = self.measurement.builder
        self._resolved: dict[tuple[str, str, str], dict[str, str]] = {}

    def props_for(self, sourcetype: str, source: str, host: str) -> dict[str, str]:
        key = (sourcetype, source, host)
        found = self._resolved.get(key)
        if found is None:
            found = resolve_props(self.props, sourcetype=sourcetype, source=source, host=host)
            self._resolved[key] = found
        return found

    def budget_left(self) -> bool:
        limit = self.settings.max_events
        return not limit or self.builder.events < limit

    def charset_for(self, run: SampleRun) -> str | None:
        """props.conf CHARSET for a sample; None for AUTO (the encoding is detected).

        props.conf.spec: "Default (otherwise): UTF-8" (AUTO only on Windows machines, which the
        sandbox does not emulate), and "If the source encoding is valid, but some characters
        from the [<spec>] are not valid in the specified encoding, then the characters are
        escaped as hex (for example, "\\xF3")": a sample without CHARSET is read as UTF-8, not
        detected. One Splunk does not know is a configuration error ("further input from that
        [<spec>] is discarded"); the sample is then read as UTF-8 so the report still shows it.
        """
        charset = self.props_for(run.sourcetype, run.source, run.host).get("CHARSET", "").strip()
        if not charset:
            return DEFAULT_CHARSET
        if charset.upper() == "AUTO":
            return None
        try:
            codecs.lookup(charset)
        except LookupError:
            self.builder.config_error(
                f"[{run.sourcetype}] CHARSET = {charset!r} is not a known encoding"
            )
            return DEFAULT_CHARSET
        return charset

    def run_sample(self, run: SampleRun, chunks: Generator[str, None, None]) -> None:
        self.builder.start_sample(run)
        if run.sourcetype not in self.props:
            self.builder.warn(
                f"no props.conf stanza [{run.sourcetype}]: Splunk's defaults apply to it"
            )
        stats = IndexTimeStats()
        if self.route is not InputRoute.MONITOR and "INDEXED_EXTRACTIONS" in self.props_for(
            run.sourcetype, run.source, run.host
        ):
            self.builder.warn(
                f"[{run.sourcetype}] INDEXED_EXTRACTIONS applies to file inputs only; "
                f"ignored for --input {self.route}"
            )
        index_time = IndexTime(
            props=self.props,
            transforms=self.transforms,
            now=self.now,
            default_tz=self.zone,
            input_time=self.input_time,
            stats=stats,
        )
        try:
            events = route_events(
                self.route,
                chunks,
                index_time,
                (run.sourcetype, run.source, run.host),
                sample=run.path,
            )
        except ValueError as exc:
            # Settings compile before the first event: a TA Splunk could not apply fails.
            chunks.close()
            self.builder.config_error(f"[{run.sourcetype}] {exc}")
            return
        try:
            while self.budget_left():
                try:
                    event = next(events, None)
                except RegexLimitError as exc:
                    # Only event breaking lets a limit through (per-event index-time regexes
                    # count as not matching): Splunk could not break this sample into events.
                    self.builder.config_error(
                        f"[{run.sourcetype}] event breaking of {run.path} stopped after "
                        f"{stats.events} events: {exc}"
                    )
                    break
                except SettingError as exc:
                    # Settings of a sourcetype an event brought along (HEC metadata).
                    self.builder.config_error(str(exc))
                    break
                if event is None:
                    break
                self.search_time(event, sample=run.path)
            else:
                self.builder.warn(
                    f"stopped after {self.settings.max_events} events (max_events); "
                    "the rest of the samples was not analysed"
                )
        finally:
            chunks.close()
        self.builder.index_time(stats, sample=run.path)

    def search_time(self, event: Event, *, sample: str) -> None:
        props = self.props_for(event.sourcetype, event.source, event.host)
        results, errors = self.processor.run(event, props)
        for error in errors:
            self.builder.warn(error)
        for result in results:
            self.measure(result, sample=sample)

    def measure(self, event: Event, *, sample: str) -> None:
        """One search result into the report, the CIM checks and the sinks."""
        self.measurement.add(event, sample=sample)
        for sink in self.sinks:
            sink.write(event)


def run_sandbox(
    *,
    ta: TA,
    samples: Sequence[Path],
    sourcetype: str | None,
    source: str | None,
    host: str | None,
    settings: SandboxSettings,
    sinks: Sequence[EventSink] = (),
    input_route: InputRoute = InputRoute.MONITOR,
    input_time: datetime | None = None,
) -> SandboxResult:
    """Apply ``ta`` to ``samples`` as Splunk would and judge the result.

    ``input_route`` is how the samples reach Splunk (:mod:`engine.sandbox.routes`);
    ``input_time`` the time that input gives events (a file's modification time, HEC's
    ``time`` parameter, a modular input's explicit time). Every sample is opened and checked
    (empty, binary, unreadable: :class:`SampleError`) before any event is produced, so bad input
    fails before sinks receive anything.
    """
    state = _Run(ta=ta, settings=settings, sinks=sinks, route=input_route, input_time=input_time)
    runs = [
        SampleRun(
            path=str(path),
            sourcetype=sourcetype or default_sourcetype(ta, path),
            source=source or default_source(input_route, path),
            host=host or DEFAULT_HOST,
            input=str(input_route),
        )
        for path in samples
    ]
    opened = [
        (run, read_sample_chunks(path, charset=state.charset_for(run)))
        for path, run in zip(samples, runs, strict=True)
    ]
    for error in state.processor.config_errors:
        state.builder.warn(error)
    for run, chunks in opened:
        if not state.budget_left():
            chunks.close()
            continue
        state.run_sample(run, chunks)
    return state.measurement.result()

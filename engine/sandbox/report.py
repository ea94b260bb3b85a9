"""The sandbox's validation report and the verdict it carries.

The report is what a TA revision is judged by (PASSED/FAILED) and what the repair loop reads, so
every failing threshold names itself with the measured value, and every problem comes with a few
concrete examples. :class:`ReportBuilder` accumulates it event by event so samples of any size
are summarised in bounded memory.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from engine.cim.compliance import ComplianceTally, DatasetSummary
from engine.sandbox.events import Event
from engine.sandbox.indextime import IndexTimeStats
from engine.sandbox.timestamps import TimestampReach, Unreadable
from engine.settings import SandboxSettings

EXCERPT_CHARS = 300
MAX_WARNINGS = 100
"""Distinct warning messages listed; later distinct ones are only counted."""
MAX_TRACKED_FIELDS = 2000
"""Distinct field names whose coverage is tracked; keeps the report bounded on odd data."""
MAX_NAME_SETS = 256
"""Distinct sets of field names whose extracted names are remembered."""

INTERNAL_FIELDS = frozenset(
    {
        "_raw",
        "_time",
        "_indextime",
        "linecount",
        "punct",
        "timestartpos",
        "timeendpos",
        "index",
        "splunk_server",
        "splunk_server_group",
        "eventtype",
        "tag",
    }
)
"""Fields Splunk adds to every event; they say nothing about what the TA extracts."""


@lru_cache(maxsize=4096)
def is_extracted_field(name: str) -> bool:
    """Whether ``name`` is a field the TA produced (not a Splunk internal or date_* field)."""
    return not (name in INTERNAL_FIELDS or name.startswith(("_", "date_", "tag::")))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"


class SampleRun(BaseModel):
    """One sample file, the metadata it was indexed with and how it arrived (input route)."""

    path: str
    sourcetype: str
    source: str
    host: str
    input: str = "monitor"
    events: int = 0


class TimestampFailure(BaseModel):
    sample: str
    event_offset: int
    raw: str
    error: str


class TimestampSummary(BaseModel):
    """Timestamps read, missed, and out of any TA's reach.

    An event the TA gives no time of its own is a failure only when a TA could
    (:class:`engine.sandbox.timestamps.TimestampReach`): no setting reads a time that is not
    there, nor makes Splunk accept a date older than MAX_DAYS_AGO's maximum. ``ratio`` is
    ``parsed`` over the events a TA can time. When there are none, it is 1 if the events carry
    timestamps (too old: no TA does better), 0 if no event carries any (a TA extracting
    timestamps from such events reads none: it should stamp them when they arrive).
    """

    parsed: int = 0
    timeless: int = 0
    """Events in which no timestamp is found at all."""
    too_old: int = 0
    """Events dated before what Splunk accepts even with MAX_DAYS_AGO at its maximum."""
    ratio: float = 1.0
    failures: list[TimestampFailure] = Field(default_factory=list)
    """Examples of events with a timestamp a TA can read that this one did not."""
    out_of_reach: list[TimestampFailure] = Field(default_factory=list)
    """Examples of the events counted in ``timeless`` and ``too_old`` (``error`` says which)."""


class FieldCoverage(BaseModel):
    name: str
    events: int
    ratio: float
    example: str = ""


class LintItem(BaseModel):
    file: str
    line: int
    severity: str
    message: str
    code: str = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class CimReport(BaseModel):
    tagged_events: int = 0
    compliant_events: int = 0
    ratio: float = 1.0
    multi_model_events: int = 0
    stanza_models: dict[str, list[str]] = Field(default_factory=dict)
    datasets: list[DatasetSummary] = Field(default_factory=list)


class ValidationReport(BaseModel):
    """Everything the sandbox measured for one TA over its samples, and the verdict."""

    ta: str
    ta_version: str = ""
    samples: list[SampleRun] = Field(default_factory=list)
    events: int = 0
    truncated_events: int = 0
    truncated_ratio: float = 0.0
    dropped_events: int = 0
    """Events an index-time transform routed to nullQueue (not counted in ``events``)."""
    index_regex_errors: int = 0
    """Index-time regex runs (TRANSFORMS-, SEDCMD-) stopped by the PCRE limits."""
    events_with_fields: int = 0
    field_event_ratio: float = 0.0
    timestamps: TimestampSummary = Field(default_factory=TimestampSummary)
    fields: list[FieldCoverage] = Field(default_factory=list)
    cim: CimReport = Field(default_factory=CimReport)
    lint: list[LintItem] = Field(default_factory=list)
    config_errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    thresholds: dict[str, float | bool] = Field(default_factory=dict)
    verdict: Verdict = Verdict.FAILED
    reasons: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def timeable_events(self) -> int:
        """The events a TA can give a time of their own: the timestamp ratio is over them."""
        return self.events - self.timestamps.timeless - self.timestamps.too_old


class ReportBuilder:
    """Accumulates per-event measurements in bounded memory; :meth:`build` decides the verdict."""

    def __init__(
        self,
        *,
        ta: str,
        ta_version: str,
        settings: SandboxSettings,
        now: datetime | None = None,
    ) -> None:
        self._settings = settings
        self._reach = TimestampReach(
            now=now or settings.now or datetime.now(UTC), default_tz=ZoneInfo(settings.default_tz)
        )
        self._report = ValidationReport(ta=ta, ta_version=ta_version)
        self._field_events: dict[str, int] = {}
        self._field_examples: dict[str, str] = {}
        self._warnings: Counter[str] = Counter()
        self._timestamp_ok = 0
        self._unreadable: Counter[Unreadable] = Counter()
        self._events = 0
        self._truncated = 0
        self._with_fields = 0
        self._sample_events: list[int] = []
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}
        # Events counted per set of extracted names (added to each name's count by build()).
        self._steady: dict[tuple[str, ...], int] = {}
        self.cim = ComplianceTally(max_examples=settings.max_examples)

    @property
    def events(self) -> int:
        return self._events

    def start_sample(self, run: SampleRun) -> None:
        self._report.samples.append(run)
        self._sample_events.append(0)

    def config_error(self, message: str) -> None:
        """A setting the sandbox (and Splunk) cannot apply; it fails the verdict."""
        if message not in self._report.config_errors:
            self._report.config_errors.append(message)

    def warn(self, message: str) -> None:
        """Record a warning; repeats are counted, not listed again (distinct ones are capped)."""
        if message not in self._warnings and len(self._warnings) >= MAX_WARNINGS:
            message = f"further distinct warnings beyond the first {MAX_WARNINGS}"
        self._warnings[message] += 1

    def index_time(self, stats: IndexTimeStats, *, sample: str) -> None:
        """What index time counted for one sample: nullQueue drops and regex errors (Splunk
        skips such a transform for the event; the report says where it happened)."""
        report = self._report
        report.dropped_events += stats.dropped
        report.index_regex_errors += stats.regex_errors
        if stats.regex_errors:
            examples = "; ".join(dict.fromkeys(stats.regex_error_examples))
            self.warn(
                f"{sample}: {stats.regex_errors} index-time regex run(s) stopped by the PCRE "
                f"limits and were treated as not matching: {examples}"
            )

    def add_event(self, event: Event, *, sample: str) -> bool:
        """Measure one event; returns True when it shows a problem worth keeping as an example."""
        report = self._report
        # Plain counters here, copied into the (slower to assign) pydantic model by build().
        self._events += 1
        self._sample_events[-1] += 1
        problem = False
        if event.truncated:
            self._truncated += 1
            problem = True
        if event.time_error is None and event.time is not None:
            self._timestamp_ok += 1
        else:
            error = event.time_error or "no timestamp"
            unreadable = self._reach.unreadable(event.raw)
            if unreadable is None:
                problem = True
                examples = report.timestamps.failures
            else:
                self._unreadable[unreadable] += 1
                examples = report.timestamps.out_of_reach
                error = str(unreadable)
            if len(examples) < self._settings.max_examples:
                examples.append(
                    TimestampFailure(
                        sample=sample,
                        event_offset=event.offset,
                        raw=excerpt(event.raw),
                        error=error,
                    )
                )
        names = self._extracted_names(event.fields)
        if names in self._steady and all(map(event.fields.__getitem__, names)):
            # Seen before with every name tracked, all with values: one count for the set.
            self._steady[names] += 1
            return problem
        extracted = self._count_fields(event.fields, names)
        if extracted:
            self._with_fields += 1
        else:
            problem = True
        return problem

    def _count_fields(self, fields: dict[str, list[str]], names: tuple[str, ...]) -> bool:
        """Per-name coverage of one event; whether it had any extracted value. A set of names
        that are all tracked becomes steady: its later events are counted per set."""
        counts = self._field_events
        extracted = False
        for name in names:
            values = fields[name]
            if not values:
                continue
            extracted = True
            seen = counts.get(name)
            if seen is not None:
                counts[name] = seen + 1
            elif len(counts) < MAX_TRACKED_FIELDS:
                counts[name] = 1
                self._field_examples[name] = excerpt(values[0], 80)
            else:
                self.warn(
                    f"more than {MAX_TRACKED_FIELDS} distinct field names: coverage lists the "
                    "first ones only (field names probably carry data)"
                )
        steady = self._steady
        if (
            names
            and names not in steady
            and len(steady) < MAX_NAME_SETS
            and all(name in counts for name in names)
        ):
            steady[names] = 0
        return extracted

    def _extracted_names(self, fields: dict[str, list[str]]) -> tuple[str, ...]:
        """The names of ``fields`` the TA extracted; events of a source mostly share one set of
        names, so the answer is remembered per set (in field order, boundedly)."""
        key = tuple(fields)
        names = self._names.get(key)
        if names is None:
            names = tuple(name for name in key if is_extracted_field(name))
            if len(self._names) >= MAX_NAME_SETS:
                self._names.clear()
            self._names[key] = names
        return names

    def build(
        self, *, lint: list[LintItem], stanza_models: dict[str, list[str]]
    ) -> ValidationReport:
        report = self._report
        settings = self._settings
        events = report.events = self._events
        for names, count in self._steady.items():
            for name in names:
                self._field_events[name] += count
            self._with_fields += count
        self._steady.clear()
        report.truncated_events = self._truncated
        report.events_with_fields = self._with_fields
        for run, count in zip(report.samples, self._sample_events, strict=True):
            run.events = count
        timestamps = report.timestamps
        timestamps.parsed = self._timestamp_ok
        timestamps.timeless = self._unreadable[Unreadable.TIMELESS]
        timestamps.too_old = self._unreadable[Unreadable.TOO_OLD]
        timeable = report.timeable_events
        if timeable:
            timestamps.ratio = self._timestamp_ok / timeable
        else:  # no event a TA can time: nothing to miss if they carry timestamps at all
            timestamps.ratio = 1.0 if timestamps.too_old else 0.0
        report.truncated_ratio = report.truncated_events / events if events else 0.0
        report.field_event_ratio = report.events_with_fields / events if events else 0.0
        report.fields = [
            FieldCoverage(
                name=name,
                events=count,
                ratio=count / events,
                example=self._field_examples.get(name, ""),
            )
            for name, count in sorted(self._field_events.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        tally = self.cim
        report.cim = CimReport(
            tagged_events=tally.tagged_events,
            compliant_events=tally.compliant_events,
            ratio=tally.ratio,
            multi_model_events=tally.multi_model_events,
            stanza_models=stanza_models,
            datasets=sorted(tally.summaries.values(), key=lambda s: (s.stanza, s.dataset)),
        )
        report.lint = lint
        report.warnings = [
            message if count == 1 else f"{message} ({count} times)"
            for message, count in self._warnings.items()
        ]
        report.thresholds = {
            "min_timestamp_ratio": settings.min_timestamp_ratio,
            "min_field_coverage": settings.min_field_coverage,
            "max_truncated_ratio": settings.max_truncated_ratio,
            "min_cim_compliance": settings.min_cim_compliance,
            "fail_on_lint_errors": settings.fail_on_lint_errors,
        }
        report.reasons = verdict_reasons(report, settings)
        report.verdict = Verdict.FAILED if report.reasons else Verdict.PASSED
        return report


def verdict_reasons(report: ValidationReport, settings: SandboxSettings) -> list[str]:
    """Why the report fails its thresholds; empty means PASSED."""
    reasons = [f"configuration error: {error}" for error in report.config_errors]
    if report.events == 0:
        if settings.require_events:
            reasons.append("no events were produced from the samples")
        return reasons + _lint_reasons(report, settings)
    timestamps = report.timestamps
    if timestamps.ratio < settings.min_timestamp_ratio:
        timeable = report.timeable_events
        over = "events"
        if timeable and timeable < report.events:
            excused = {
                "without any timestamp": timestamps.timeless,
                "older than Splunk accepts": timestamps.too_old,
            }
            but = ", ".join(f"{count} {why}" for why, count in excused.items() if count)
            over = f"the {timeable} events a TA can time (not {but})"
        reasons.append(
            f"timestamps parsed for {timestamps.ratio:.1%} of {over} "
            f"(minimum {settings.min_timestamp_ratio:.1%})"
        )
    if report.field_event_ratio < settings.min_field_coverage:
        reasons.append(
            f"fields extracted in {report.field_event_ratio:.1%} of events "
            f"(minimum {settings.min_field_coverage:.1%})"
        )
    if report.truncated_ratio > settings.max_truncated_ratio:
        reasons.append(
            f"{report.truncated_ratio:.1%} of events truncated by TRUNCATE "
            f"(maximum {settings.max_truncated_ratio:.1%})"
        )
    if report.cim.tagged_events and report.cim.ratio < settings.min_cim_compliance:
        reasons.append(
            f"CIM: {report.cim.compliant_events} of {report.cim.tagged_events} mapped events "
            f"compliant ({report.cim.ratio:.1%}, minimum {settings.min_cim_compliance:.1%})"
        )
    return reasons + _lint_reasons(report, settings)


def _lint_reasons(report: ValidationReport, settings: SandboxSettings) -> list[str]:
    errors = [item for item in report.lint if item.severity == "error"]
    if not errors or not settings.fail_on_lint_errors:
        return []
    first = errors[0]
    more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
    return [f"lint error at {first.location}: {first.message}{more}"]

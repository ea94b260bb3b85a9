"""Repairs: how a draft TA changes for what a sandbox report found wrong.

Two sources of reports. The generator's own self-check (:func:`repair_after_check`, applied
round by round on the samples it was given). And the validation reports of earlier revisions
(:func:`repair_from_report`): the lifecycle validates on every sample while generation analyses
a subset, so these reports hold what the generator could not see: events of another timestamp
layout, truncated events, non-compliant CIM eventtypes, settings the validator refused. Their
repairs read the report's structured content only (failing examples, counts, names of keys in
lint findings and configuration errors), never its prose, and are deterministic: the same
samples and the same reports give the same draft.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.conf.parse import parse_conf, render_conf
from engine.conf.ta import TA
from engine.generator.model import BreakingPlan, CimPlan, FieldPlan, Settings, TimestampPlan
from engine.sandbox.report import EXCERPT_CHARS, ValidationReport
from engine.sandbox.timestamps import (
    MAX_DAYS_AGO_LIMIT,
    Timestamper,
    TimestampReach,
    TimestampSettings,
    Unreadable,
)

MAX_TRUNCATE = 10_000_000
MAX_DAYS_HENCE_WIDE = "3650"
_FIELD_KEYS = ("EXTRACT-", "REPORT-", "FIELDALIAS-", "EVAL-", "LOOKUP-")
_FAILING_KEY = re.compile(r"((?:EXTRACT|REPORT|FIELDALIAS|EVAL|LOOKUP)-[^\s:(]+)[\s:(]")
_NAMED_KEY = re.compile(r"\b((?:EXTRACT|REPORT|FIELDALIAS|EVAL|LOOKUP)-[\w.\-]+)")
_NAMED_STANZA = re.compile(r"\[([^\]\s]+)\]")


@dataclass(frozen=True)
class Draft:
    """The plans a TA is assembled from; repairs return a changed draft."""

    breaking: BreakingPlan
    timestamps: TimestampPlan
    fields: FieldPlan
    cim: CimPlan | None
    extra: Settings

    def props(self) -> Settings:
        settings: Settings = {}
        settings.update(self.breaking.settings())
        settings.update(self.timestamps.settings())
        settings.update(self.extra)
        settings.update(self.fields.props)
        if self.cim is not None:
            settings.update(self.cim.props)
        return settings


def _drop_keys(draft: Draft, keys: set[str]) -> Draft:
    """``draft`` without the field settings ``keys`` (and transforms only they used)."""
    props = {key: value for key, value in draft.fields.props.items() if key not in keys}
    used = {
        name.strip()
        for key, value in props.items()
        if key.startswith("REPORT-")
        for name in value.split(",")
    }
    transforms = {name: value for name, value in draft.fields.transforms.items() if name in used}
    fields = tuple(item for item in draft.fields.fields if item.source not in keys)
    plan = replace(draft.fields, props=props, transforms=transforms, fields=fields)
    cim = draft.cim
    if cim is not None and keys & set(cim.props):
        kept = {key: value for key, value in cim.props.items() if key not in keys}
        cim = replace(cim, props=kept)
    return replace(draft, fields=plan, cim=cim)


def failing_keys(report: ValidationReport) -> set[str]:
    """Search-time keys whose regex or expression failed on events (match/depth limits)."""
    return {
        match.group(1) for match in map(_FAILING_KEY.match, report.warnings) if match is not None
    }


def _lint_keys(ta: TA, report: ValidationReport) -> set[str]:
    """Field-extraction keys of props.conf that the linter reports as errors."""
    rendered = parse_conf(render_conf(ta.props), path="default/props.conf")
    by_line = {
        line: key for stanza in rendered.stanzas.values() for key, line in stanza.key_lines.items()
    }
    keys: set[str] = set()
    for item in report.lint:
        if item.severity != "error":
            continue
        key = by_line.get(item.line) if item.file.endswith("props.conf") else None
        if key and key.startswith(_FIELD_KEYS):
            keys.add(key)
        elif item.file.endswith("transforms.conf"):
            keys |= _keys_using_transform(ta, item.line)
    return keys


def _keys_using_transform(ta: TA, line: int) -> set[str]:
    rendered = parse_conf(render_conf(ta.transforms), path="default/transforms.conf")
    stanza = next(
        (
            s.name
            for s in rendered.stanzas.values()
            if line >= s.line and line in s.key_lines.values()
        ),
        None,
    )
    if stanza is None:
        return set()
    return {
        key
        for settings in (ta.props.get(name) for name in ta.props.names())
        for key, value in settings.items()
        if key.startswith("REPORT-") and stanza in [part.strip() for part in value.split(",")]
    }


def _idle_keys(draft: Draft, report: ValidationReport) -> set[str]:
    """EXTRACT-/REPORT- keys none of whose fields appeared in any event."""
    seen = {item.name for item in report.fields if item.events > 0}
    by_key: dict[str, list[str]] = {}
    for item in draft.fields.fields:
        if item.source.startswith(("EXTRACT-", "REPORT-")):
            by_key.setdefault(item.source, []).append(item.name)
    return {key for key, names in by_key.items() if not any(name in seen for name in names)}


def _cim_problems(report: ValidationReport) -> str:
    """The CIM fields that kept events from compliance, e.g. ``src: multivalue``."""
    found: dict[str, set[str]] = {}
    for dataset in report.cim.datasets:
        for name, tally in dataset.fields.items():
            found.setdefault(name, set()).update(tally.problems)
    return "; ".join(
        f"{name}: {', '.join(sorted(kinds))}" for name, kinds in sorted(found.items()) if kinds
    )


def repair_after_check(draft: Draft, ta: TA, report: ValidationReport) -> tuple[Draft, list[str]]:
    """One self-check round of repairs for what ``report`` found wrong (none: nothing to fix)."""
    repairs: list[str] = []
    wider = min(draft.breaking.truncate * 4, MAX_TRUNCATE)
    if report.truncated_events and wider > draft.breaking.truncate:  # at the cap: nothing to do
        draft = replace(draft, breaking=replace(draft.breaking, truncate=wider))
        repairs.append(f"TRUNCATE raised to {wider} ({report.truncated_events} cut)")
    timestamps = draft.timestamps
    if timestamps.settings().get("MAX_TIMESTAMP_LOOKAHEAD") and report.timestamps.ratio < 1.0:
        errors = " ".join(failure.error for failure in report.timestamps.failures)
        if "MAX_DAYS_AGO" in errors and "MAX_DAYS_AGO" not in draft.extra:
            draft = replace(draft, extra={**draft.extra, "MAX_DAYS_AGO": str(MAX_DAYS_AGO_LIMIT)})
            repairs.append("MAX_DAYS_AGO raised: the samples are older than Splunk's default")
        elif "MAX_DAYS_HENCE" in errors and "MAX_DAYS_HENCE" not in draft.extra:
            draft = replace(draft, extra={**draft.extra, "MAX_DAYS_HENCE": "3650"})
            repairs.append("MAX_DAYS_HENCE raised: the samples carry future dates")
    cim = draft.cim
    if cim is not None and cim.tags and report.cim.tagged_events and report.cim.ratio < 1.0:
        problems = _cim_problems(report)
        caveat = (
            f"CIM tags withheld: {report.cim.compliant_events} of {report.cim.tagged_events} "
            f"sample events would be compliant ({problems}); the field aliases are kept."
        )
        untagged = replace(cim, eventtypes={}, tags={}, caveats=(*cim.caveats, caveat))
        draft = replace(draft, cim=untagged)
        repairs.append(f"CIM eventtypes/tags withheld: {problems}")
    broken = _lint_keys(ta, report) | _idle_keys(draft, report) | failing_keys(report)
    if broken:
        draft = _drop_keys(draft, broken)
        repairs.append(f"dropped extractions that failed or matched nothing: {sorted(broken)}")
    return draft, repairs


def failing_examples(
    reports: Sequence[ValidationReport], *, whole_only: bool = False
) -> tuple[str, ...]:
    """Events whose timestamp failed in earlier validations, once each, in report order.

    Excerpts (cut at the report's excerpt length) lose their ``...`` marker; ``whole_only``
    leaves them out (field inference must not learn a template from half an event).
    """
    found: dict[str, None] = {}
    for report in reports:
        for failure in report.timestamps.failures:
            raw = failure.raw
            cut = len(raw) == EXCERPT_CHARS + 3 and raw.endswith("...")
            if cut and whole_only:
                continue
            text = raw[:EXCERPT_CHARS] if cut else raw
            if text.strip():
                found.setdefault(text, None)
    return tuple(found)


def _stamper(draft: Draft, default_tz: str) -> Timestamper | None:
    """The sandbox's timestamper for the draft's settings (None: no timestamp extraction)."""
    settings = TimestampSettings.from_props({**draft.timestamps.settings(), **draft.extra})
    if settings.mode != "extract":
        return None
    return Timestamper(settings, now=datetime.now(UTC), default_tz=ZoneInfo(default_tz))


def _reads(draft: Draft, events: Sequence[str], default_tz: str) -> int:
    """How many of ``events`` the draft's timestamp settings read, as the sandbox reads them."""
    stamper = _stamper(draft, default_tz)
    if stamper is None:
        return 0
    return sum(1 for event in events if stamper.assign(event)[1] is None)


_DATE_WINDOW = ("MAX_DAYS_AGO", "MAX_DAYS_HENCE")


def refused_dates(draft: Draft, events: Sequence[str], default_tz: str) -> list[str]:
    """Why the sandbox refuses the dates the draft's timestamp rule reads in ``events``
    (older than MAX_DAYS_AGO, later than MAX_DAYS_HENCE), one message per refused event."""
    stamper = _stamper(draft, default_tz)
    if stamper is None:
        return []
    errors = (stamper.assign(event)[1] for event in events)
    return [e for e in errors if e is not None and any(key in e for key in _DATE_WINDOW)]


def date_range_errors(report: ValidationReport) -> list[str]:
    """The report's timestamp failures that are refused dates (its examples only)."""
    return [
        failure.error
        for failure in report.timestamps.failures
        if any(key in failure.error for key in _DATE_WINDOW)
    ]


def old_dates_window(draft: Draft, events: Sequence[str], default_tz: str) -> Settings:
    """MAX_DAYS_AGO raised to Splunk's maximum when the draft's timestamp rule reads some of
    ``events`` as older than its window allows, as the self-check raises it (nothing to add:
    an empty mapping). Dates older than even the maximum, or in the future, stay refused."""
    if "MAX_DAYS_AGO" in draft.extra:
        return {}
    if any("MAX_DAYS_AGO" in error for error in refused_dates(draft, events, default_tz)):
        return {"MAX_DAYS_AGO": str(MAX_DAYS_AGO_LIMIT)}
    return {}


@dataclass(frozen=True)
class Uncovered:
    """Sampled events no timestamp rule can give their own time, and why."""

    events: int
    timeless: tuple[str, ...] = ()
    """Events in which no timestamp is found at all."""
    too_old: tuple[str, ...] = ()
    """Events dated before what Splunk accepts even with MAX_DAYS_AGO at its maximum."""


def uncovered(draft: Draft, events: Sequence[str], default_tz: str) -> Uncovered:
    """The events the draft's timestamp rule misses because no rule can read them, judged as
    the validation report judges them (:class:`TimestampReach`)."""
    stamper = _stamper(draft, default_tz)
    if stamper is None:
        return Uncovered(len(events))
    reach = TimestampReach(now=stamper.now, default_tz=stamper.default_tz)
    found: dict[Unreadable, list[str]] = {why: [] for why in Unreadable}
    for event in events:
        if stamper.assign(event)[1] is not None:
            why = reach.unreadable(event)
            if why is not None:
                found[why].append(event)
    return Uncovered(
        len(events), tuple(found[Unreadable.TIMELESS]), tuple(found[Unreadable.TOO_OLD])
    )


def _describe(plan: TimestampPlan) -> str:
    if plan.automatic:
        return "automatic recognition"
    if plan.time_format is None:
        return "no timestamp"
    return f"TIME_FORMAT {plan.time_format}"


def _timestamp_candidates(
    plan: TimestampPlan, replanned: TimestampPlan
) -> list[tuple[TimestampPlan, str]]:
    """The rule as planned, with a wider window, re-planned with the failing events, then
    looser ones (automatic recognition, without TIME_PREFIX)."""
    wide = max(replanned.lookahead * 2, 128)
    return [
        (plan, ""),
        *(
            (
                replace(plan, lookahead=plan.lookahead * factor),
                f"MAX_TIMESTAMP_LOOKAHEAD widened to {plan.lookahead * factor}",
            )
            for factor in (2, 4)
        ),
        (replanned, f"rule re-inferred with them ({_describe(replanned)})"),
        (replace(replanned, automatic=True), "automatic recognition"),
        (
            replace(replanned, automatic=True, time_prefix=None, lookahead=wide),
            f"automatic recognition without TIME_PREFIX, MAX_TIMESTAMP_LOOKAHEAD {wide}",
        ),
    ]


def repair_timestamps(
    draft: Draft,
    report: ValidationReport,
    *,
    examples: Sequence[str],
    replanned: TimestampPlan,
    events: Sequence[str],
    default_tz: str,
) -> tuple[Draft, list[str]]:
    """Widen the date range the report's errors name; then the timestamp rule (as planned,
    re-planned, automatic) that reads the most of the failing and the analysed events."""
    repairs: list[str] = []
    failures = report.timestamps.failures
    if not failures:
        return draft, repairs
    errors = " ".join(failure.error for failure in failures)
    if "MAX_DAYS_AGO" in errors and "MAX_DAYS_AGO" not in draft.extra:
        draft = replace(draft, extra={**draft.extra, "MAX_DAYS_AGO": str(MAX_DAYS_AGO_LIMIT)})
        repairs.append("MAX_DAYS_AGO raised: validation rejected timestamps as too old")
    if "MAX_DAYS_HENCE" in errors and "MAX_DAYS_HENCE" not in draft.extra:
        draft = replace(draft, extra={**draft.extra, "MAX_DAYS_HENCE": MAX_DAYS_HENCE_WIDE})
        repairs.append("MAX_DAYS_HENCE raised: validation rejected future timestamps")
    if not examples:
        return draft, repairs
    best = -1
    chosen, why = draft, ""
    for plan, label in _timestamp_candidates(draft.timestamps, replanned):
        candidate = replace(draft, timestamps=plan)
        reads = _reads(candidate, [*examples, *events], default_tz)
        if reads > best:
            best, chosen, why = reads, candidate, label
    if why:
        read = _reads(chosen, examples, default_tz)
        repairs.append(
            f"timestamps: {why}; reads {read} of the {len(examples)} events whose timestamp "
            "failed validation"
        )
    return chosen, repairs


def _repair_cim(draft: Draft, report: ValidationReport) -> tuple[Draft, list[str]]:
    """Withhold the tags (and eventtype) of each tag stanza whose events were not compliant;
    the CIM fields that failed are listed as unmapped for its model."""
    cim = draft.cim
    if cim is None or not cim.tags:
        return draft, []
    failing = [
        summary
        for summary in report.cim.datasets
        if summary.stanza in cim.tags and summary.compliant_events < summary.events
    ]
    if not failing:
        return draft, []
    tags = dict(cim.tags)
    eventtypes = dict(cim.eventtypes)
    unmapped = {model: list(names) for model, names in cim.unmapped.items()}
    repairs: list[str] = []
    for summary in failing:
        tags.pop(summary.stanza, None)
        name, _, value = summary.stanza.partition("=")
        if name == "eventtype":
            eventtypes.pop(value, None)
        bad = sorted(n for n, tally in summary.fields.items() if tally.problems)
        missing = unmapped.setdefault(summary.model, [])
        missing.extend(n for n in bad if n not in missing)
        problems = "; ".join(f"{n}: {', '.join(sorted(summary.fields[n].problems))}" for n in bad)
        repairs.append(
            f"CIM tags of [{summary.stanza}] withheld: {summary.compliant_events} of "
            f"{summary.events} events compliant with {summary.model} in validation ({problems})"
        )
    caveat = "CIM tags withheld after validation: " + " ".join(repairs)
    repaired = replace(
        cim,
        tags=tags,
        eventtypes=eventtypes,
        unmapped={model: tuple(names) for model, names in sorted(unmapped.items())},
        caveats=(*cim.caveats, caveat),
    )
    return replace(draft, cim=repaired), repairs


def _named_keys(draft: Draft, messages: Sequence[str]) -> set[str]:
    """Field keys of the draft named in ``messages`` (``EXTRACT-x``, or a transform stanza
    ``[name]`` that a REPORT- key uses)."""
    props = {**draft.fields.props, **(draft.cim.props if draft.cim else {})}
    keys: set[str] = set()
    for message in messages:
        keys.update(key for key in _NAMED_KEY.findall(message) if key in props)
        for stanza in _NAMED_STANZA.findall(message):
            if stanza in draft.fields.transforms:
                keys.update(
                    key
                    for key, value in props.items()
                    if key.startswith("REPORT-")
                    and stanza in [part.strip() for part in value.split(",")]
                )
    return keys


def repair_from_report(
    draft: Draft,
    report: ValidationReport,
    *,
    examples: Sequence[str],
    replanned: TimestampPlan,
    events: Sequence[str],
    default_tz: str,
) -> tuple[Draft, list[str]]:
    """Repairs for what an earlier revision's validation ``report`` found wrong.

    ``examples`` are the events whose timestamp failed in the reports, ``replanned`` the
    timestamp rule inferred with them, ``events`` the analysed events.
    """
    repairs: list[str] = []
    if report.truncated_events:
        wider = min(draft.breaking.truncate * 4, MAX_TRUNCATE)
        if wider > draft.breaking.truncate:
            draft = replace(draft, breaking=replace(draft.breaking, truncate=wider))
            repairs.append(
                f"TRUNCATE raised to {wider}: validation cut {report.truncated_events} events"
            )
    draft, done = repair_timestamps(
        draft,
        report,
        examples=examples,
        replanned=replanned,
        events=events,
        default_tz=default_tz,
    )
    repairs.extend(done)
    draft, done = _repair_cim(draft, report)
    repairs.extend(done)
    errors = [item.message for item in report.lint if item.severity == "error"]
    broken = _named_keys(draft, [*errors, *report.config_errors]) | failing_keys(report)
    if broken:
        draft = _drop_keys(draft, broken)
        repairs.append(
            f"dropped extractions named in validation errors: {', '.join(sorted(broken))}"
        )
    if report.index_regex_errors and draft.breaking.skip is not None:
        draft = replace(draft, breaking=replace(draft.breaking, skip=None))
        repairs.append(
            f"index-time skip transform dropped: {report.index_regex_errors} runs hit the "
            "PCRE limits in validation"
        )
    return draft, repairs

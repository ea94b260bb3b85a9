"""The changes a model may propose, each with its static checks, how it changes a draft, what
counts as improving its target, and the README line it leaves when kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.cim.compliance import CimChecker
from engine.cim.models import CimField, cim_models, load_data_models
from engine.generator.cim_mapping import UNMAPPED_CAVEAT
from engine.generator.fields.naming import is_generic, name_problem
from engine.generator.llm.answers import (
    CimMapping,
    FieldRename,
    ProposedExtraction,
    TimestampAnswer,
)
from engine.generator.llm.material import EventGroup, RenameTarget, SeenEvent, named_groups
from engine.generator.llm.proof import Run
from engine.generator.model import CimPlan, FieldInfo, FieldPlan, TimestampPlan
from engine.generator.repair import (
    Draft,
    date_range_errors,
    old_dates_window,
    refused_dates,
)
from engine.regex import RegexError, RegexLimitError, compile_regex
from engine.sandbox.eventtypes import cached_search
from engine.sandbox.pipeline import SandboxSpl
from engine.sandbox.spl_eval.parser import compile_eval
from engine.sandbox.spl_eval.values import EvalSyntaxError

MAX_LOOKAHEAD = 1024
MAX_EXAMPLES = 3
_YEAR = re.compile(r"%[YyGsFc]|%[0-9]*N?s")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _examples(events: tuple[SeenEvent, ...], name: str) -> tuple[str, ...]:
    found: list[str] = []
    for event in events:
        for value in event.fields.get(name, ()):
            if value.strip() and value not in found:
                found.append(value)
            if len(found) >= MAX_EXAMPLES:
                return tuple(found)
    return tuple(found)


def _with_fields(plan: FieldPlan, after: Run, names: list[str], source: str) -> FieldPlan:
    """``plan.fields`` updated for ``names``: described from the run (examples, ``source``)
    when new, left out when the run no longer extracts them (a name renamed away)."""
    produced = after.metrics.fields
    fields = {item.name: item for item in plan.fields}
    for name in names:
        if name not in produced:
            fields.pop(name, None)
        elif name not in fields:
            fields[name] = FieldInfo(name, _examples(after.events, name), source)
    return replace(plan, fields=tuple(sorted(fields.values(), key=lambda item: item.name)))


@dataclass(frozen=True)
class FieldRenameProposal:
    """A generic group name of one EXTRACT renamed to a name saying what it holds."""

    rename: FieldRename
    targets: tuple[RenameTarget, ...]
    kind: str = "field_name"

    @property
    def listed(self) -> RenameTarget | None:
        return next((t for t in self.targets if t.id == self.rename.id), None)

    @property
    def target(self) -> str:
        listed = self.listed
        return f"{listed.key}:{listed.field}" if listed is not None else self.rename.id

    def record(self) -> dict[str, Any]:
        return self.rename.model_dump()

    def problem(self, run: Run) -> str | None:
        new, listed = self.rename.new_name, self.listed
        if listed is None:
            return f"{self.rename.id!r} is not a listed field"
        invalid = name_problem(new)
        if invalid is not None:
            return invalid
        if is_generic(new):
            return f"{new!r} is as generic as {listed.field!r}"
        if new in named_groups(run.draft.fields.props.get(listed.key, "")):
            return f"{listed.key} already extracts a field named {new!r}"
        return None

    def _listed(self) -> RenameTarget:
        listed = self.listed
        if listed is None:
            raise ValueError(f"{self.rename.id!r} is not a listed field")
        return listed

    def apply(self, before: Run) -> Draft:
        draft = before.draft
        listed = self._listed()
        pattern = re.sub(
            rf"\(\?P?<{re.escape(listed.field)}>",
            f"(?<{self.rename.new_name}>",
            draft.fields.props[listed.key],
        )
        props = {**draft.fields.props, listed.key: pattern}
        return replace(draft, fields=replace(draft.fields, props=props))

    def shortfall(self, before: Run, after: Run) -> str | None:
        listed = self._listed()
        new = self.rename.new_name
        regex = compile_regex(before.draft.fields.props[listed.key])
        lost = 0
        for was, now in zip(before.events, after.events, strict=True):
            try:
                match = regex.search(was.raw)
            except RegexLimitError:
                continue
            value = match.group(listed.field) if match is not None else None
            lost += bool(value) and value not in now.fields.get(new, ())
        if lost:
            return (
                f"{new!r} does not keep the values in {lost} event(s): a later setting "
                "overwrites or drops it"
            )
        return cim_value_problem(new, after.events)

    def finish(self, after: Run) -> Draft:
        listed = self._listed()
        draft = after.draft
        names = [self.rename.new_name, listed.field]
        return replace(draft, fields=_with_fields(draft.fields, after, names, listed.key))

    def note(self) -> str:
        listed = self._listed()
        return f"`{listed.field}` of `{listed.key}` is named `{self.rename.new_name}`"


def cim_value_problem(name: str, events: tuple[SeenEvent, ...]) -> str | None:
    """Why the values of ``name`` do not fit the CIM field of that name (None: no such CIM
    field, or the values fit at least one of its definitions)."""
    definitions = _cim_fields().get(name)
    if not definitions:
        return None
    checker = CimChecker(stanza_tags={}, spl=SandboxSpl())
    worst = ""
    for definition in definitions:
        issue = next(
            (
                found
                for event in events
                if name in event.fields
                for found in checker.field_issues(definition, _view(event))
            ),
            None,
        )
        if issue is None:
            return None
        worst = worst or f"{issue.problem} values"  # the value itself stays out of records
    return f"the values of {name!r} do not fit the CIM field {name!r} ({worst})"


def _view(event: SeenEvent) -> dict[str, list[str]]:
    view = {name: list(values) for name, values in event.fields.items()}
    view["_raw"] = [event.raw]
    return view


@lru_cache(maxsize=1)
def _cim_fields() -> dict[str, list[CimField]]:
    """Every CIM field name with its distinct definitions that constrain values."""
    found: dict[str, list[CimField]] = {}
    for model in load_data_models():
        for chain in model.datasets():
            for item in chain[-1].fields:
                if item.expected_values or (item.validity and item.validity != item.name):
                    known = found.setdefault(item.name, [])
                    if item not in known:
                        known.append(item)
    return found


@dataclass(frozen=True)
class ExtractionProposal:
    """A new EXTRACT for a group of events the draft covers poorly."""

    extraction: ProposedExtraction
    groups: tuple[EventGroup, ...]
    index: int
    kind: str = "extraction"

    @property
    def target(self) -> str:
        return self.extraction.group

    @property
    def key(self) -> str:
        return f"EXTRACT-ai_{_slug(self.extraction.group)}_{self.index}"

    def record(self) -> dict[str, Any]:
        return self.extraction.model_dump()

    def problem(self, run: Run) -> str | None:
        group = next((g for g in self.groups if g.id == self.extraction.group), None)
        if group is None:
            return f"{self.extraction.group!r} is not a listed event group"
        try:
            regex = compile_regex(self.extraction.regex)
        except RegexError as exc:
            return f"the regex does not compile under PCRE2: {exc}"
        names = named_groups(self.extraction.regex)
        if not names:
            return "the regex has no named group (?<field>...)"
        for name in names:
            invalid = name_problem(name)
            if invalid is not None:
                return invalid
        if self.key in run.draft.fields.props:
            return f"{self.key} is already set"
        matched = 0
        for event in group.events:
            try:
                matched += regex.search(event.raw) is not None
            except RegexLimitError:
                return "the regex hits the PCRE match limits on the group's events"
        if not matched:
            return f"the regex matches none of the events of {group.id}"
        return None

    def apply(self, before: Run) -> Draft:
        draft = before.draft
        props = {**draft.fields.props, self.key: self.extraction.regex}
        return replace(draft, fields=replace(draft.fields, props=props))

    def shortfall(self, before: Run, after: Run) -> str | None:
        if after.metrics.field_values <= before.metrics.field_values:
            return (
                "it extracts nothing the draft did not already extract "
                f"(field values {before.metrics.field_values} -> {after.metrics.field_values})"
            )
        return None

    def finish(self, after: Run) -> Draft:
        names = named_groups(self.extraction.regex)
        draft = after.draft
        return replace(draft, fields=_with_fields(draft.fields, after, names, self.key))

    def note(self) -> str:
        names = ", ".join(f"`{name}`" for name in named_groups(self.extraction.regex))
        return f"`{self.key}` extracts {names}"


@dataclass(frozen=True)
class TimestampProposal:
    """A timestamp rule where the rules found none. Its dates obey the sandbox's window as the
    rules' do: MAX_DAYS_AGO is raised for old samples (up to Splunk's maximum) as the rules
    raise it; a rule that reads any date the sandbox still refuses (older than that, or later
    than MAX_DAYS_HENCE) is rejected, naming the date."""

    answer: TimestampAnswer
    kind: str = "timestamp"
    target: str = "timestamps"

    def record(self) -> dict[str, Any]:
        return self.answer.model_dump()

    def problem(self, run: Run) -> str | None:
        answer = self.answer
        if "%" not in answer.time_format:
            return f"TIME_FORMAT {answer.time_format!r} has no strptime directive"
        if answer.time_prefix:
            try:
                compile_regex(answer.time_prefix)
            except RegexError as exc:
                return f"TIME_PREFIX does not compile under PCRE2: {exc}"
        if not 1 <= answer.max_timestamp_lookahead <= MAX_LOOKAHEAD:
            return f"MAX_TIMESTAMP_LOOKAHEAD must be 1..{MAX_LOOKAHEAD}"
        if answer.time_zone:
            try:
                ZoneInfo(answer.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                return f"{answer.time_zone!r} is not an IANA time zone"
        return None

    def apply(self, before: Run) -> Draft:
        draft = before.draft
        answer = self.answer
        plan = TimestampPlan(
            time_prefix=answer.time_prefix or None,
            time_format=answer.time_format,
            lookahead=answer.max_timestamp_lookahead,
            tz=answer.time_zone or None,
            has_year=_YEAR.search(answer.time_format) is not None,
            events=draft.timestamps.events,
            timeless=draft.timestamps.timeless,
        )
        proposed = replace(draft, timestamps=plan)
        aged = old_dates_window(proposed, [event.raw for event in before.events], self._zone)
        return replace(proposed, extra={**proposed.extra, **aged}) if aged else proposed

    @property
    def _zone(self) -> str:
        return self.answer.time_zone or "UTC"

    def shortfall(self, before: Run, after: Run) -> str | None:
        raws = [event.raw for event in after.events]
        refused = date_range_errors(after.report) or refused_dates(after.draft, raws, self._zone)
        if refused:
            return f"it reads dates the sandbox refuses: {refused[0]}"
        if after.metrics.timestamps <= before.metrics.timestamps:
            return (
                "it parses no more timestamps "
                f"({before.metrics.timestamps} -> {after.metrics.timestamps})"
            )
        return None

    def finish(self, after: Run) -> Draft:
        draft = after.draft
        events = after.metrics.events
        success = after.metrics.timestamps / events if events else 0.0
        return replace(draft, timestamps=replace(draft.timestamps, success=success))

    def note(self) -> str:
        return f"timestamps are read with `TIME_FORMAT = {self.answer.time_format}`"


def _still_unmapped(cim: CimPlan, mapped: set[str]) -> CimPlan:
    """``cim`` with the fields now ``mapped`` out of its unmapped lists and their caveats."""
    unmapped = {
        model: kept
        for model, names in cim.unmapped.items()
        if (kept := tuple(name for name in names if name not in mapped))
    }
    stale = tuple(f"{model}: {UNMAPPED_CAVEAT}" for model in cim.unmapped)
    caveats = [caveat for caveat in cim.caveats if not caveat.startswith(stale)]
    caveats += [
        f"{model}: {UNMAPPED_CAVEAT}: {', '.join(names)}." for model, names in unmapped.items()
    ]
    return replace(cim, unmapped=unmapped, caveats=tuple(caveats))


@dataclass(frozen=True)
class CimProposal:
    """An eventtype, its tags and the aliases/evals mapping events to one CIM data model.

    The self-check withholds every tag when some tagged event is not compliant, so the
    proposal replaces the current mapping's eventtypes whose events are not all compliant (and
    its aliases and evals of the same names); every event it tags must be compliant."""

    mapping: CimMapping
    sourcetype: str
    kind: str = "cim"

    @property
    def target(self) -> str:
        return self.mapping.data_model

    @property
    def eventtype(self) -> str:
        return f"{_slug(self.sourcetype)}_ai_{_slug(self.mapping.data_model)}"

    @property
    def search(self) -> str:
        terms = self.mapping.search_terms.strip()
        return f'sourcetype="{self.sourcetype}"' + (f" {terms}" if terms else "")

    def record(self) -> dict[str, Any]:
        return self.mapping.model_dump()

    def _props(self) -> dict[str, str]:
        props = {
            f"FIELDALIAS-ai_{alias.cim_field}": f"{alias.source_field} ASNEW {alias.cim_field}"
            for alias in self.mapping.aliases
        }
        props.update({f"EVAL-{item.cim_field}": item.expression for item in self.mapping.evals})
        return props

    def problem(self, run: Run) -> str | None:
        mapping = self.mapping
        roots = {info.model: info for info in cim_models() if "." not in info.path}
        info = roots.get(mapping.data_model)
        if info is None:
            return f"{mapping.data_model!r} is not a CIM data model"
        groups = [set(group) for group in info.tags]
        if set(mapping.tags) not in groups:
            wanted = " or ".join("+".join(sorted(group)) for group in groups)
            return f"tags {sorted(mapping.tags)} do not select {mapping.data_model} ({wanted})"
        if cached_search(self.search) is None:
            return f"the eventtype search {self.search!r} does not parse"
        if run.draft.cim is not None and self.eventtype in run.draft.cim.eventtypes:
            return f"eventtype {self.eventtype} is already defined"
        for name in [a.cim_field for a in mapping.aliases] + [e.cim_field for e in mapping.evals]:
            invalid = name_problem(name)
            if invalid is not None:
                return invalid
        for alias in mapping.aliases:
            invalid = name_problem(alias.source_field)
            if invalid is not None:
                return invalid
        for item in mapping.evals:
            try:
                compile_eval(item.expression)
            except EvalSyntaxError as exc:
                return f"EVAL-{item.cim_field} does not parse: {exc}"
        clash = sorted(set(run.draft.fields.props) & set(self._props()))
        if clash:
            return f"{', '.join(clash)} already set by an extraction"
        return None

    def apply(self, before: Run) -> Draft:
        draft = before.draft
        cim = draft.cim or CimPlan()
        failing = {
            summary.stanza
            for summary in before.report.cim.datasets
            if summary.compliant_events < summary.events
        }
        tags = {stanza: tags for stanza, tags in cim.tags.items() if stanza not in failing}
        kept = {stanza.removeprefix("eventtype=") for stanza in tags}
        tagged = {stanza.removeprefix("eventtype=") for stanza in cim.tags}
        eventtypes = {
            name: settings
            for name, settings in cim.eventtypes.items()
            if name in kept or name not in tagged
        }
        mapped = {a.cim_field: a.source_field for a in self.mapping.aliases}
        mapped.update({e.cim_field: e.expression for e in self.mapping.evals})
        cim = replace(
            cim,
            models=tuple(dict.fromkeys((*cim.models, self.mapping.data_model))),
            props={**cim.props, **self._props()},
            eventtypes={**eventtypes, self.eventtype: {"search": self.search}},
            tags={
                **tags,
                f"eventtype={self.eventtype}": {
                    tag: "enabled" for tag in sorted(self.mapping.tags)
                },
            },
            mapped={**cim.mapped, **mapped},
        )
        return replace(draft, cim=_still_unmapped(cim, set(mapped)))

    def shortfall(self, before: Run, after: Run) -> str | None:
        stanza = f"eventtype={self.eventtype}"
        own = [s for s in after.report.cim.datasets if s.stanza == stanza and s.events]
        if not own:
            return "its eventtype tags no sample event"
        failing = [s for s in own if s.compliant_events < s.events]
        if failing:
            worst = min(failing, key=lambda s: s.compliant_events / s.events)
            return (
                f"{worst.compliant_events} of the {worst.events} events it tags are compliant "
                f"with {worst.dataset} (the self-check would withhold its tags)"
            )
        if after.metrics.cim_compliant <= before.metrics.cim_compliant:
            return (
                "no more events are CIM-compliant "
                f"({before.metrics.cim_compliant} -> {after.metrics.cim_compliant})"
            )
        return None

    def finish(self, after: Run) -> Draft:
        return after.draft

    def note(self) -> str:
        return (
            f"eventtype `{self.eventtype}` maps events to the {self.mapping.data_model} data model"
        )

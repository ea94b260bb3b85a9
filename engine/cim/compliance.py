"""CIM compliance of sandbox events, checked the way pytest-splunk-addon's CIM tests check it.

pytest-splunk-addon maps each tags.conf stanza to the datasets whose tag groups its tags cover
(a parent and its matching children), searches the events of that stanza within the datasets'
search constraints, and requires every ``required`` field (and every ``conditional`` field whose
condition holds) in every event, single-valued unless the model says multi-valued, with a value
that passes the field's validity expression, lies in its expected values and is not one of the
negative values. Clustered fields come all together or not at all. Fields that Enterprise
Security enriches must not be extracted, and an event should map to one data model only.

Search constraints, conditions and validity expressions are SPL; they are evaluated through an
:class:`SplSupport` (the sandbox's search-time evaluator). Without one, constraints and
conditions are treated as holding and validity expressions as passing, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import unquote

from pydantic import BaseModel, Field

from engine.cim.models import (
    NEGATIVE_VALUES,
    NOT_IN_SEARCH_TYPES,
    TESTED_TYPES,
    CimField,
    DataModel,
    Dataset,
    common_fields,
    load_data_models,
)

FieldView = Mapping[str, Sequence[str]]
_Chain = tuple[DataModel, tuple[Dataset, ...]]
Problem = Literal[
    "missing", "multivalue", "invalid", "unexpected", "negative", "cluster", "not_allowed"
]


class SplSupport(Protocol):
    """The SPL pieces the CIM rules are written in, evaluated over an event's fields.

    Both methods raise ValueError for SPL they cannot parse; the checker then treats a search
    constraint as holding, a condition as not holding and a validity expression as unchecked.
    """

    def search_matches(self, search: str, fields: FieldView) -> bool:
        """Whether a search filter (``tag=x action="y" NOT (...)``) keeps the event."""
        ...

    def eval_values(self, expression: str, fields: FieldView) -> list[str] | None:
        """An eval expression's value(s), None for null()."""
        ...


@dataclass(frozen=True, slots=True)
class FieldIssue:
    field: str
    problem: Problem
    value: str = ""


@dataclass(frozen=True, slots=True)
class DatasetCheck:
    """One event against one mapped dataset chain."""

    stanza: str
    model: str
    path: str
    issues: tuple[FieldIssue, ...]
    checked_fields: tuple[CimField, ...]
    present: frozenset[str]

    @property
    def compliant(self) -> bool:
        return not self.issues


def _wildcard_match(pattern: str, value: str) -> bool:
    """SPL search value matching: case-insensitive, ``*`` matches any run of characters."""
    parts = pattern.lower().split("*")
    text = value.lower()
    if len(parts) == 1:
        return text == parts[0]
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]):
        return False
    pos = len(parts[0])
    end = len(text) - len(parts[-1])
    for part in parts[1:-1]:
        found = text.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return pos <= end


def _stanza_selector(stanza: str) -> tuple[str, str] | None:
    name, sep, value = stanza.partition("=")
    if not sep or not name.strip():
        return None
    return name.strip(), unquote(value.strip())


def tag_stanzas(tags_conf: Mapping[str, Mapping[str, str]]) -> dict[str, frozenset[str]]:
    """``field=value`` stanza -> its enabled tags (tags.conf; disabled tags are left out)."""
    out: dict[str, frozenset[str]] = {}
    for stanza, settings in tags_conf.items():
        enabled = frozenset(
            tag.strip()
            for tag, state in settings.items()
            if state.strip().lower() == "enabled" and tag.strip()
        )
        if enabled and _stanza_selector(stanza) is not None:
            out[stanza] = enabled
    return out


class CimChecker:
    """Checks events against the data models their tags.conf stanzas map to."""

    def __init__(
        self,
        *,
        stanza_tags: Mapping[str, Iterable[str]],
        spl: SplSupport | None = None,
        models: Sequence[DataModel] | None = None,
    ) -> None:
        self._spl = spl
        self._models = tuple(models) if models is not None else load_data_models()
        self._stanzas: dict[
            str, tuple[tuple[str, str], list[tuple[DataModel, tuple[Dataset, ...]]]]
        ] = {}
        for stanza, tags in stanza_tags.items():
            selector = _stanza_selector(stanza)
            if selector is None:
                continue
            tag_set = frozenset(tags)
            chains = [
                (model, chain) for model in self._models for chain in model.mapped_chains(tag_set)
            ]
            if chains:
                self._stanzas[stanza] = (selector, chains)
        self._tag_models: dict[frozenset[str], tuple[str, ...]] = {}
        self._forbidden = {
            item.name for item in common_fields() if item.type in NOT_IN_SEARCH_TYPES
        }

    def mapped_models(self) -> dict[str, list[str]]:
        """tags.conf stanza -> the data models its tags map to (more than one is a CIM error)."""
        return {
            stanza: sorted({model.name for model, _ in chains})
            for stanza, (_, chains) in self._stanzas.items()
        }

    @property
    def active(self) -> bool:
        """Whether any tags.conf stanza maps to a data model (else no event can be checked)."""
        return bool(self._stanzas)

    def models_of_tags(self, tags: Iterable[str]) -> list[str]:
        """The data models an event with ``tags`` maps to."""
        return list(self._models_of(frozenset(tags)))

    def _models_of(self, tags: frozenset[str]) -> tuple[str, ...]:
        found = self._tag_models.get(tags)
        if found is None:
            found = tuple(
                model.name
                for model in self._models
                if next(model.mapped_chains(tags), None) is not None
            )
            self._tag_models[tags] = found
        return found

    def check(self, fields: FieldView) -> list[DatasetCheck]:
        """Every mapped dataset chain this event falls in, with the problems found.

        ``fields`` must include the event's ``eventtype`` and ``tag`` values and its metadata
        (``sourcetype``, ``source``, ``host``) beside its extracted fields.
        """
        results: list[DatasetCheck] = []
        for stanza, (selector, chains) in self._stanzas.items():
            if not _selects(selector, fields):
                continue
            for model, chain in chains:
                if not all(self._holds(item.constraint, fields) for item in chain):
                    continue
                results.append(self._check_chain(stanza, model, chain, fields))
        return results

    def _holds(self, search: str, fields: FieldView) -> bool:
        # Text after a pipe rewrites fields (| eval ...) or filters (| where ...): the CIM tests
        # run it in Splunk; here the filter part before the first pipe decides.
        filter_part = search.split("|", 1)[0].strip()
        if not filter_part or self._spl is None:
            return True
        try:
            return self._spl.search_matches(filter_part, fields)
        except ValueError:
            return True

    def _check_chain(
        self, stanza: str, model: DataModel, chain: tuple[Dataset, ...], fields: FieldView
    ) -> DatasetCheck:
        node = chain[-1]
        checked = tuple(
            item
            for item in node.fields
            if item.type in TESTED_TYPES
            and (item.type == "required" or self._condition_holds(item.condition, fields))
        )
        issues: list[FieldIssue] = []
        for item in checked:
            issues.extend(self.field_issues(item, fields))
        for cluster in node.clusters:
            present = [name for name in cluster if _values(fields, name)]
            if present and len(present) != len(cluster):
                missing = [name for name in cluster if name not in present]
                issues.extend(FieldIssue(name, "cluster") for name in missing)
        forbidden = self._forbidden | {
            item.name for item in node.fields if item.type in NOT_IN_SEARCH_TYPES
        }
        issues.extend(
            FieldIssue(name, "not_allowed", ", ".join(_values(fields, name)))
            for name in sorted(forbidden)
            if _values(fields, name)
        )
        return DatasetCheck(
            stanza=stanza,
            model=model.name,
            path=".".join(item.name for item in chain),
            issues=tuple(issues),
            checked_fields=checked,
            present=frozenset(item.name for item in checked if _values(fields, item.name)),
        )

    def _condition_holds(self, condition: str, fields: FieldView) -> bool:
        if not condition:
            return True
        if self._spl is None:
            return False
        try:
            if condition.startswith("|"):
                return self._where_holds(condition, fields)
            return self._spl.search_matches(condition, fields)
        except ValueError:
            return False

    def _where_holds(self, condition: str, fields: FieldView) -> bool:
        command, _, expression = condition.lstrip("| ").partition(" ")
        if command != "where" or self._spl is None:
            return False
        values = self._spl.eval_values(expression, fields)
        return values is not None and bool(values) and values[0].lower() not in ("", "false", "0")

    def _valid(self, item: CimField, fields: FieldView) -> bool:
        if self._spl is None or not item.validity or item.validity == item.name:
            return True
        try:
            return bool(self._spl.eval_values(item.validity, fields))
        except ValueError:
            return True

    def field_issues(self, item: CimField, fields: FieldView) -> list[FieldIssue]:
        """What is wrong with one field of an event against its CIM definition (empty: fine)."""
        values = _values(fields, item.name)
        if not values:
            return [FieldIssue(item.name, "missing")]
        if len(values) > 1 and not item.multi_value:
            return [FieldIssue(item.name, "multivalue", " | ".join(values))]
        checked = ["\n".join(values)] if item.multi_value else values
        for value in checked:
            if not self._valid(item, fields):
                return [FieldIssue(item.name, "invalid", value)]
            if item.expected_values and not any(
                _wildcard_match(pattern, value) for pattern in item.expected_values
            ):
                return [FieldIssue(item.name, "unexpected", value)]
            if value.strip().lower() in NEGATIVE_VALUES:
                return [FieldIssue(item.name, "negative", value)]
        return []


def _values(fields: FieldView, name: str) -> list[str]:
    return [value for value in fields.get(name, ()) if value is not None]


def _selects(selector: tuple[str, str], fields: FieldView) -> bool:
    name, wanted = selector
    return any(_wildcard_match(wanted, value) for value in fields.get(name, ()))


class FieldTally(BaseModel):
    """How one CIM field fared over the events of a dataset."""

    type: str
    checked: int = 0
    present: int = 0
    valid: int = 0
    problems: dict[str, int] = Field(default_factory=dict)
    bad_values: list[str] = Field(default_factory=list)


class DatasetSummary(BaseModel):
    """CIM compliance of the events of one tags.conf stanza within one dataset."""

    stanza: str
    model: str
    dataset: str
    events: int = 0
    compliant_events: int = 0
    fields: dict[str, FieldTally] = Field(default_factory=dict)
    cluster_problems: dict[str, int] = Field(default_factory=dict)
    not_allowed: dict[str, int] = Field(default_factory=dict)


@dataclass
class ComplianceTally:
    """Accumulates :class:`DatasetCheck` results into per-stanza, per-dataset summaries."""

    max_examples: int = 5
    summaries: dict[tuple[str, str], DatasetSummary] = field(default_factory=dict)
    tagged_events: int = 0
    compliant_events: int = 0
    multi_model_events: int = 0

    def add(self, checks: Sequence[DatasetCheck], *, models: Sequence[str]) -> None:
        if not checks:
            return
        self.tagged_events += 1
        self.compliant_events += all(check.compliant for check in checks)
        self.multi_model_events += len(set(models)) > 1
        for check in checks:
            summary = self.summaries.setdefault(
                (check.stanza, check.path),
                DatasetSummary(stanza=check.stanza, model=check.model, dataset=check.path),
            )
            summary.events += 1
            summary.compliant_events += check.compliant
            failing = {issue.field: issue for issue in check.issues}
            for item in check.checked_fields:
                tally = summary.fields.setdefault(item.name, FieldTally(type=item.type))
                tally.checked += 1
                tally.present += item.name in check.present
                issue = failing.get(item.name)
                if issue is None:
                    tally.valid += 1
                    continue
                tally.problems[issue.problem] = tally.problems.get(issue.problem, 0) + 1
                if (
                    issue.value
                    and len(tally.bad_values) < self.max_examples
                    and issue.value not in tally.bad_values
                ):
                    tally.bad_values.append(issue.value)
            for issue in check.issues:
                if issue.problem == "cluster":
                    summary.cluster_problems[issue.field] = (
                        summary.cluster_problems.get(issue.field, 0) + 1
                    )
                elif issue.problem == "not_allowed":
                    summary.not_allowed[issue.field] = summary.not_allowed.get(issue.field, 0) + 1

    @property
    def ratio(self) -> float:
        """Share of CIM-mapped events that pass every check (1.0 when none is mapped)."""
        return self.compliant_events / self.tagged_events if self.tagged_events else 1.0

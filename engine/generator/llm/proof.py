"""Proof before shipping: a proposal is kept only if the sandbox shows it harms nothing and
improves what it targets.

Each proposal is checked statically first (its regexes compile under PCRE2, its names are field
names, it refers to what was listed), then applied to the current draft and run in the sandbox
on the samples. It is kept only if, against the current draft, no event changes, no more
timestamps fail, no event loses its fields, CIM compliance does not fall, no configuration,
lint or regex-limit error appears, and its own target improved. Kept proposals become the
current draft, so each later one is measured against everything kept before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.conf.parse import ConfRenderError
from engine.conf.ta import InvalidTAError
from engine.generator.llm.material import MAX_CAPTURED, EventCapture, SeenEvent
from engine.generator.llm.transcript import ProposalVerdict
from engine.generator.repair import Draft, failing_keys
from engine.sandbox.pipeline import EventSink
from engine.sandbox.report import ValidationReport


class DraftSandbox(Protocol):
    """Runs a draft's TA over the samples (as the self-check does) and reports."""

    def __call__(
        self, draft: Draft, *, max_events: int, sinks: Sequence[EventSink]
    ) -> ValidationReport: ...


@dataclass(frozen=True)
class Metrics:
    """What a proof compares, read off a sandbox report."""

    events: int
    timestamps: int
    """Events whose time was read from their text (none under DATETIME_CONFIG=CURRENT, which
    stamps every event with the time it arrives)."""
    events_with_fields: int
    field_values: int
    """(event, field) pairs: how much the TA extracts in all."""
    cim_tagged: int
    cim_compliant: int
    errors: int
    """Configuration, lint and index-time regex errors, and keys stopped by the PCRE limits."""
    truncated: int
    fields: Mapping[str, int]
    """Events each field was extracted in."""

    @classmethod
    def of(cls, report: ValidationReport, *, reads_time: bool = True) -> Metrics:
        lint_errors = sum(1 for item in report.lint if item.severity == "error")
        return cls(
            events=report.events,
            timestamps=report.timestamps.parsed if reads_time else 0,
            events_with_fields=report.events_with_fields,
            field_values=sum(item.events for item in report.fields),
            cim_tagged=report.cim.tagged_events,
            cim_compliant=report.cim.compliant_events,
            errors=len(report.config_errors)
            + lint_errors
            + report.index_regex_errors
            + len(failing_keys(report)),
            truncated=report.truncated_events,
            fields={item.name: item.events for item in report.fields},
        )

    @property
    def cim_ratio(self) -> float:
        return self.cim_compliant / self.cim_tagged if self.cim_tagged else 1.0

    def losses(self, base: Metrics) -> list[str]:
        """What is worse than ``base``, each named with both figures."""
        found = []
        if self.events != base.events:
            found.append(f"the events changed ({base.events} -> {self.events})")
        if self.timestamps < base.timestamps:
            found.append(f"timestamps parsed fell ({base.timestamps} -> {self.timestamps})")
        if self.events_with_fields < base.events_with_fields:
            found.append(
                f"events with fields fell ({base.events_with_fields} -> {self.events_with_fields})"
            )
        if self.cim_ratio < base.cim_ratio:
            found.append(f"CIM compliance fell ({base.cim_ratio:.1%} -> {self.cim_ratio:.1%})")
        if self.errors > base.errors:
            found.append(f"errors rose ({base.errors} -> {self.errors})")
        if self.truncated > base.truncated:
            found.append(f"truncated events rose ({base.truncated} -> {self.truncated})")
        return found


@dataclass(frozen=True)
class Run:
    """One sandbox run of a draft: its report, metrics and (a bounded capture of) events."""

    draft: Draft
    report: ValidationReport
    metrics: Metrics
    events: tuple[SeenEvent, ...]


class Proposal(Protocol):
    """One change a model proposed, as the proof handles it."""

    @property
    def kind(self) -> str: ...

    @property
    def target(self) -> str:
        """What it changes (a key and field, an event group, a data model...)."""
        ...

    def record(self) -> dict[str, Any]:
        """The proposal as JSON, for the transcript."""
        ...

    def problem(self, run: Run) -> str | None:
        """Why it cannot even be tried (does not compile, names nothing listed...)."""
        ...

    def apply(self, before: Run) -> Draft:
        """The current draft with the proposal in (``before`` is its run)."""
        ...

    def shortfall(self, before: Run, after: Run) -> str | None:
        """Why it did not improve what it targets (None: it did)."""
        ...

    def finish(self, after: Run) -> Draft:
        """The accepted draft: ``after.draft`` with what the run showed (examples, counts)."""
        ...

    def note(self) -> str:
        """What it changed, for the TA's README."""
        ...


class Prover:
    """Holds the current (proven) draft and judges proposals against it."""

    def __init__(self, sandbox: DraftSandbox, draft: Draft, *, max_events: int) -> None:
        self._sandbox = sandbox
        self.max_events = max_events
        self.current = self.run(draft)
        self.notes: list[str] = []

    def run(self, draft: Draft, *, max_events: int | None = None) -> Run:
        capture = EventCapture(MAX_CAPTURED)
        report = self._sandbox(draft, max_events=max_events or self.max_events, sinks=(capture,))
        plan = draft.timestamps
        reads_time = plan.time_format is not None or plan.automatic
        return Run(draft, report, Metrics.of(report, reads_time=reads_time), tuple(capture.events))

    def judge(self, proposal: Proposal) -> ProposalVerdict:
        """Prove ``proposal``; when it holds, it becomes part of the current draft."""
        before = self.current
        reason = proposal.problem(before)
        if reason is None:
            candidate = proposal.apply(before)
            if candidate == before.draft:
                reason = "it changes nothing"
            else:
                reason = self._prove(proposal, before, candidate)
        return ProposalVerdict(
            kind=proposal.kind,
            target=proposal.target,
            proposal=proposal.record(),
            accepted=reason is None,
            reason=reason or f"proven ({_changes(before.metrics, self.current.metrics)})",
        )

    def _prove(self, proposal: Proposal, before: Run, candidate: Draft) -> str | None:
        """Run ``candidate``; None (and it becomes current) when it holds, else why not."""
        try:
            after = self.run(candidate)
        except (ConfRenderError, InvalidTAError) as exc:
            return f"a TA cannot hold it: {exc}"
        losses = after.metrics.losses(before.metrics)
        reason = "; ".join(losses) if losses else proposal.shortfall(before, after)
        if reason is None:
            self.current = Run(proposal.finish(after), after.report, after.metrics, after.events)
            self.notes.append(proposal.note())
        return reason


def _changes(before: Metrics, after: Metrics) -> str:
    parts = [
        f"{label} {a} -> {b}"
        for label, a, b in (
            ("timestamps", before.timestamps, after.timestamps),
            ("field values", before.field_values, after.field_values),
            ("events with fields", before.events_with_fields, after.events_with_fields),
            ("CIM-compliant events", before.cim_compliant, after.cim_compliant),
        )
        if a != b
    ]
    return ", ".join(parts) or "no figure changed"

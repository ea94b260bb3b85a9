"""The planner seam: who proposes each plan of a TA.

:class:`RulePlanner` is the deterministic default (no network, no model).
:class:`engine.generator.llm.planner.LlmPlanner` implements the same :class:`Planner` protocol:
it plans with the rules, then :meth:`Planner.refine` proposes changes to the assembled draft,
each proven in the sandbox. Whatever a planner proposes then goes through the same self-check
and repair in :mod:`engine.generator.generate`, so a bad proposal is dropped or replaced, never
shipped unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.generator.breaking import plan_breaking
from engine.generator.cim_mapping import map_cim
from engine.generator.fields import infer_fields
from engine.generator.formats import detect_format
from engine.generator.model import (
    AnalysisContext,
    BreakingPlan,
    CimPlan,
    FieldPlan,
    FormatGuess,
    TimestampPlan,
)
from engine.generator.repair import Draft
from engine.generator.timestamps import infer_timestamps
from engine.samples import SampleSet

if TYPE_CHECKING:
    from engine.generator.llm.proof import DraftSandbox
    from engine.generator.llm.transcript import Transcript


@dataclass(frozen=True)
class Refinement:
    """A planner's second look at the assembled draft: the draft to check, the README's
    description of the source and notes on what changed (empty when nothing did), and the
    transcript of the model's session (None for the rules)."""

    draft: Draft
    about: str = ""
    notes: tuple[str, ...] = ()
    transcript: Transcript | None = None


class Planner(Protocol):
    """Proposes the plans of one sourcetype from the analysed samples."""

    name: str

    def detect_format(self, sample: SampleSet) -> FormatGuess: ...

    def plan_breaking(self, sample: SampleSet, fmt: FormatGuess) -> BreakingPlan: ...

    def plan_timestamps(
        self, events: Sequence[str], *, default_tz: str, fmt: FormatGuess | None = None
    ) -> TimestampPlan: ...

    def plan_fields(self, context: AnalysisContext) -> FieldPlan: ...

    def plan_cim(self, context: AnalysisContext, fields: FieldPlan) -> CimPlan: ...

    def refine(
        self, draft: Draft, *, context: AnalysisContext, sandbox: DraftSandbox, check_events: int
    ) -> Refinement:
        """Changes to the assembled draft, proven with ``sandbox`` (the self-check's run, on
        ``check_events`` events at most)."""
        ...


class RulePlanner:
    """Deterministic rules: format families, learned event starts, timestamp catalogue, fields."""

    name = "rules"

    def detect_format(self, sample: SampleSet) -> FormatGuess:
        return detect_format(sample.text, sample.lines)

    def plan_breaking(self, sample: SampleSet, fmt: FormatGuess) -> BreakingPlan:
        return plan_breaking(sample.lines, fmt)

    def plan_timestamps(
        self, events: Sequence[str], *, default_tz: str, fmt: FormatGuess | None = None
    ) -> TimestampPlan:
        if fmt is None or not fmt.header:
            return infer_timestamps(events, default_tz=default_tz)
        return infer_timestamps(
            events, default_tz=default_tz, columns=fmt.header, delimiter=fmt.delimiter
        )

    def plan_fields(self, context: AnalysisContext) -> FieldPlan:
        return infer_fields(context.events, context.format, knowledge=context.knowledge)

    def plan_cim(self, context: AnalysisContext, fields: FieldPlan) -> CimPlan:
        return map_cim(
            fields,
            context.events,
            wanted=True,
            sourcetype=context.sourcetype,
            vendor_product=context.source_system,
        )

    def refine(
        self, draft: Draft, *, context: AnalysisContext, sandbox: DraftSandbox, check_events: int
    ) -> Refinement:
        return Refinement(draft)
